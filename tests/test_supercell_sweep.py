"""Sweeps of supercell junctions (issue 15): the API and command line dispatch a junction with a
``[supercell]`` table to the supercell solver; JSON round trip; one-line refusals.

Tolerance: a clean 1 × 1 supercell is the layered junction, so the layered sweep (rtol 1e-6)
must lie within the sum of both reported errors (the claim under test).
"""

import json
import subprocess
import sys

import numpy as np
import pytest

import mtj_kwant as mk


@pytest.fixture(scope="module")
def both():
    j = mk.load_junction("tb_fif")
    cell = mk.junction_with(j, {"supercell.size": [1, 1]})
    ours = mk.sweep(cell, [0.0, 0.1], parts="both", rtol=2e-2, progress=False,
                    executor="serial")
    ref = mk.sweep(j, [0.0, 0.1], parts="both", rtol=1e-6, progress=False, executor="serial")
    return ours, ref


def test_clean_supercell_sweep_equals_the_layered_sweep(both):
    ours, ref = both
    assert ours.solver == "supercell" and ours.supercell["size"] == [1, 1]
    assert all(ours.converged)
    for key in ("current_density", "torque_inplane_window", "torque_outofplane_window",
                "torque_inplane_sea", "torque_outofplane_sea", "torque_inplane_total",
                "torque_outofplane_total"):
        a, b = np.asarray(getattr(ours, key)), np.asarray(getattr(ref, key))
        tol = np.asarray(ours.errors[key]) + np.asarray(ref.errors[key])
        assert np.all(np.abs(a - b) <= tol), key


def test_zero_bias_window_is_exactly_zero_and_the_sea_is_the_equilibrium_torque(both):
    ours, _ = both
    assert ours.current_density[0] == 0.0 and ours.errors["current_density"][0] == 0.0
    assert ours.torque_inplane_window[0] == 0.0 and ours.torque_outofplane_window[0] == 0.0
    # the equilibrium (interlayer exchange) torque is out of plane and nonzero beyond its error
    assert abs(ours.torque_outofplane_sea[0]) > 3 * ours.errors["torque_outofplane_sea"][0]


def test_round_trip_keeps_the_configurations(both, tmp_path):
    ours, _ = both
    path = tmp_path / "s.json"
    ours.save(path)
    back = mk.load_result(path)
    assert back.supercell["seeds"] == ours.supercell["seeds"]
    assert back.supercell["per_configuration"][1][0]["current_density"] == pytest.approx(
        ours.current_density[1], rel=1e-12)
    data = json.loads(path.read_text())
    assert data["solver"] == "supercell" and "current_density_error" in data


def test_disordered_sweep_resumes_from_its_store(tmp_path):
    """Two configurations of a disordered 2 × 1 supercell: the configurations' standard error
    enters the errors; a rerun with the same store computes nothing and returns the same."""
    j = mk.junction_with(mk.load_junction("tb_fif"), {
        "supercell.size": [2, 1], "supercell.configurations": 2, "supercell.seed": 4,
        "layer[0].disorder.onsite": 1.0})
    store = tmp_path / "points.csv"
    a = mk.sweep(j, [0.1], rtol=0.1, progress=False, executor="serial", store=store)
    b = mk.sweep(j, [0.1], rtol=0.1, progress=False, executor="serial", store=store)
    assert a.current_density == b.current_density
    per = [c["current_density"] for c in a.supercell["per_configuration"][0]]
    assert len(per) == 2 and per[0] != per[1]
    conf = a.supercell["error_parts"][0]["configurations"][0]
    # the standard error × Student's t (1 degree of freedom, 68.27 %: 1.8373)
    assert conf == pytest.approx(np.std(per, ddof=1) / np.sqrt(2) * 1.8373, rel=1e-4)
    assert a.errors["current_density"][0] >= conf


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "mtj_kwant.cli", *args], capture_output=True,
                          text=True, cwd=cwd)


@pytest.mark.parametrize("extra, key", [(["--temperature", "300"], "--temperature"),
                                        (["--solver", "kwant"], "--solver")])
def test_cli_refuses_in_one_line(tmp_path, extra, key):
    from mtj_kwant.model import BUNDLED_DIR

    path = tmp_path / "cell.toml"
    path.write_text((BUNDLED_DIR / "tb_fif.toml").read_text() + "\n[supercell]\nsize = [1, 1]\n")
    out = _cli("sweep", str(path), "--bias", "0.1", *extra, cwd=tmp_path)
    assert out.returncode != 0
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and key.lstrip("-") in lines[0] and "Traceback" not in out.stderr


def _fif(extra):
    return mk.junction_with(mk.load_junction("tb_fif"), {"supercell.size": [2, 1], **extra})


def test_one_disordered_configuration_has_infinite_not_nan_errors():
    j = _fif({"layer[0].disorder.onsite": 1.0, "supercell.configurations": 1})
    with pytest.warns(UserWarning, match="configurations >= 2"):
        r = mk.sweep(j, [0.1], rtol=0.2, progress=False, executor="serial")
    for key, err in r.errors.items():
        assert np.isinf(err[0]), key


def test_identical_configurations_give_no_configuration_error():
    """interface_mixing = 1 mixes every site whatever the seed: the configurations coincide,
    their spread (0) says nothing, and the error is inf with a warning."""
    j = _fif({"layer[0].disorder.interface_mixing": 1.0, "supercell.configurations": 2})
    with pytest.warns(UserWarning, match="identical"):
        r = mk.sweep(j, [0.1], rtol=0.2, progress=False, executor="serial")
    assert np.isinf(r.errors["current_density"][0])


def test_a_store_resumes_when_configurations_are_added(tmp_path):
    import warnings

    store = tmp_path / "s.csv"
    two = _fif({"layer[0].disorder.onsite": 1.0, "supercell.configurations": 2})
    a = mk.sweep(two, [0.1], rtol=0.2, progress=False, executor="serial", store=store)
    three = mk.junction_with(two, {"supercell.configurations": 3})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "starting afresh" would be a warning
        b = mk.sweep(three, [0.1], rtol=0.2, progress=False, executor="serial", store=store)
    first = [c["current_density"] for c in a.supercell["per_configuration"][0]]
    again = [c["current_density"] for c in b.supercell["per_configuration"][0]][:2]
    assert first == again and len(b.supercell["seeds"]) == 3


def test_clean_supercell_is_computed_once_and_bad_angles_are_named():
    from mtj_kwant.supercell import supercell_point

    j = _fif({"supercell.configurations": 3})
    r = supercell_point(j, theta=1.0, bias=0.1, rtol=0.2)
    assert len(r.seeds) == 1 and r.parts["configurations"][0] == 0.0
    with pytest.raises(ValueError, match="theta"):
        supercell_point(j, theta=float("nan"), bias=0.1)
    with pytest.raises(ValueError, match="theta"):
        supercell_point(j, theta="90", bias=0.1)
