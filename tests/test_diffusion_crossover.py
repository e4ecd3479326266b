"""The diffusion_crossover study (issue 14): quick run end to end, and its pure helpers."""

import csv
import json
import math

import numpy as np
import pytest

from mtj_kwant.studies import diffusion_crossover as dc
from mtj_kwant.study import run_study


# -- pure helpers ------------------------------------------------------------------------------
def test_project_takes_the_component_and_a_conservative_error():
    v, e = dc.project([1.0, 2.0, 3.0], [0.1, 0.2, 0.3], np.array([0.0, 0.6, 0.8]))
    assert v == pytest.approx(0.6 * 2 + 0.8 * 3)
    assert e == pytest.approx(0.6 * 0.2 + 0.8 * 0.3)


def test_odd_coefficient_of_a_polynomial():
    f = lambda v: 3.0 + 2.0 * v + 5.0 * v ** 2  # noqa: E731
    b1, err = dc.odd_coefficient(f(0.1), f(-0.1), 3e-3, 4e-3, 0.1)
    assert b1 == pytest.approx(2.0) and err == pytest.approx(5e-3 / 0.2)


def test_axes_of_the_study_geometry():
    m, p, e_par, e_perp = dc.axes_of()
    assert np.allclose(m, [1, 0, 0]) and np.allclose(p, [0, 0, 1])
    assert np.allclose(e_par, [0, 0, 1]) and np.allclose(e_perp, [0, -1, 0])


def test_agreement_numbers():
    a = dc.agreement([1.0, 2.0, -4.0], [0.1, 0.1, 0.5], [1.1, 2.0, -3.0])
    assert a["max_relative_deviation"] == pytest.approx(0.25)
    assert a["median_relative_deviation"] == pytest.approx(0.1)
    assert a["max_deviation_in_error_bars"] == pytest.approx(2.0)
    assert a["points"] == 3


def test_sharvin_eta_and_the_ballistic_limit():
    assert dc.cap_eta_sharvin(math.inf, 1.0 + 1.0j, 1.0) == complex(math.inf)
    assert dc.cap_eta_sharvin(2.0, 0.5 + 0.5j, 4.0) == pytest.approx(1.0 + 1.0j)


def test_eq23_factor_limits():
    """A thick layer absorbs the injected spin current (M → L²/L0², → 1 without spin flip)."""
    j = dc.junction_for(0.05, 2.0, 0.05, 0.01)
    par, v_n = dc.lengths_of(j, 0.05, 0.0)
    m, eta = dc.eq23_factor(np.array([200.0]), par, v_n)
    assert abs(m[0] - 1) < 1e-6 and eta.real > 0
    ballistic, _ = dc.lengths_of(j, 0.0, 0.0)
    m, eta = dc.eq23_factor(np.array([1.0, 50.0]), ballistic, v_n)
    assert math.isinf(eta.real)
    assert m == pytest.approx([1.0, 1.0])  # D_F = inf: the cap counts as insulating, M = 1
    m, _ = dc.eq23_factor(np.array([1.0, 50.0]), ballistic, v_n, sink=True)
    # ballistic limit of Eq. 23 with a perfect sink: 1 − 1/cosh(d/λ_φ)
    assert m == pytest.approx(1 - 1 / np.cosh(np.array([1.0, 50.0]) / ballistic.lambda_phi))


def test_ballistic_point_is_the_plain_ballistic_junction():
    """Rates 0: no scattering, the ballistic route, equal to fifn_2nm at the same lattice."""
    import mtj_kwant as mk
    from mtj_kwant.integrate import bias_point

    jsys, r = dc.compute(0.05, 2.0, 0.0, 0.0, 0.1, 1e-3)
    assert not jsys.junction.has_scattering and r.scba is None
    plain = mk.make_system(mk.load_junction("fifn_2nm").at_spacing(0.05))
    ref = bias_point(plain, theta=math.pi / 2, bias=0.1, rtol=1e-3, parts="window")
    assert r.current_density == pytest.approx(ref.current_density, rel=1e-12)
    assert np.allclose(r.torque, ref.torque, rtol=1e-12, atol=1e-9 * np.abs(ref.torque).max())


# -- the quick run -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("diffusion_crossover")
    paths = run_study("diffusion_crossover", out, quick=True, progress=False, executor="serial")
    return out, paths


def test_quick_run_writes_files_with_units(quick):
    out, paths = quick
    names = {p.name for p in paths}
    assert {"thickness.png", "linear_perpendicular.png", "profiles.png", "thickness.csv",
            "thickness_agreement.csv", "linear_perpendicular.csv",
            "provenance.json"} <= names
    for p in paths:
        assert p.exists() and p.stat().st_size > 0
    record = json.loads((out / "provenance.json").read_text())
    assert "FIXED LATTICE" in record["settings"]["lattice"]
    for p in paths:
        if p.suffix == ".csv":
            header = next(csv.reader(p.open()))
            assert set(header) <= set(record["units"][p.name]), p.name
    for fig in record["figures"].values():
        assert fig["layout_defects"] == []


def test_quick_run_records_the_agreement(quick):
    out, _ = quick
    record = json.loads((out / "provenance.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    for key in ("agreement_eq23_thickness", "agreement_eq26_27_b1", "agreement_profiles"):
        assert key in record["errors"]
    thick = summary["thickness"]
    for entry in thick.values():
        for comp in ("T_par", "T_perp"):
            assert np.isfinite(entry[comp]["max_relative_deviation"])
    b1 = summary["linear_perpendicular"]
    assert b1["cases"] and all(np.isfinite(c["b1_pred"]) and np.isfinite(c["b1"])
                               for c in b1["cases"])
    # the sum rule of the SCBA continuity equation closes on every point
    rows = list(csv.DictReader((out / "thickness.csv").open()))
    assert max(float(r["sum_rule_residual"]) for r in rows) < 1e-6


def test_quick_run_ballistic_rows_equal_bias_point(quick):
    out, _ = quick
    rows = [r for r in csv.DictReader((out / "thickness.csv").open())
            if float(r["momentum_eV"]) == 0]
    assert rows
    r = rows[0]
    _, res = dc.compute(0.0125, float(r["thickness_nm"]), 0.0, 0.0, dc.BIAS, 1e-3)
    s = dc.summarise(res)
    for key in ("torque_par", "torque_perp", "current_density", "interfacial_par"):
        assert float(r[key]) == pytest.approx(s[key], rel=1e-12, abs=1e-6)
