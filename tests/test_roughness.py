"""The roughness study (issue 15 item 4): quick run end to end, and its pure helpers."""

import csv
import json
import math

import numpy as np
import pytest

from mtj_kwant.studies import roughness as ro
from mtj_kwant.study import run_study


# -- pure helpers ------------------------------------------------------------------------------
def test_amplitude_of_an_alternating_curve():
    """T = c ± a alternating on an even grid: A = a exactly; equal errors σ give
    σ_A = σ/√n and the noise floor σ √(1 − 1/n)."""
    n, c, a, sig = 6, -100.0, 20.0, 1.5
    values = c + a * (-1.0) ** np.arange(n)
    r = ro.interference_amplitude(values, np.full(n, sig))
    assert r["amplitude"] == pytest.approx(a)
    assert r["mean"] == pytest.approx(c)
    assert r["mean_error"] == pytest.approx(sig / math.sqrt(n))
    assert r["error"] == pytest.approx(sig / math.sqrt(n))
    assert r["noise_floor"] == pytest.approx(sig * math.sqrt(1 - 1 / n))
    assert r["corrected"] == pytest.approx(math.sqrt(a ** 2 - sig ** 2 * (1 - 1 / n)))
    assert r["resolved"] and "resolved" in r["statement"]
    assert r["relative"] == pytest.approx(a / abs(c))
    assert r["points"] == n


def test_amplitude_of_a_cosine_and_error_propagation():
    """A cosine over whole periods has rms a/√2; the linear error propagation matches a
    finite-difference derivative of A with respect to each point."""
    n, a = 12, 3.0
    d = np.arange(n)
    values = 5.0 + a * np.cos(2 * np.pi * d / n)
    errors = 0.01 * (1 + d)
    r = ro.interference_amplitude(values, errors)
    assert r["amplitude"] == pytest.approx(a / math.sqrt(2))
    h = 1e-6
    grad = []
    for i in range(n):
        v = values.copy()
        v[i] += h
        grad.append((ro.interference_amplitude(v, errors)["amplitude"] - r["amplitude"]) / h)
    assert r["error"] == pytest.approx(math.sqrt(np.sum((np.array(grad) * errors) ** 2)),
                                       rel=1e-4)


def test_amplitude_of_pure_noise_is_not_resolved():
    """A flat curve: A = 0, not resolved, the bound is twice the noise floor; a curve whose
    variation is within its errors is reported as comparable to its error."""
    r = ro.interference_amplitude([2.0, 2.0, 2.0, 2.0], [0.5, 0.5, 0.5, 0.5])
    assert r["amplitude"] == 0 and not r["resolved"]
    assert r["error"] == pytest.approx(r["noise_floor"])
    assert r["upper_bound"] == pytest.approx(2 * 0.5 * math.sqrt(0.75))
    r = ro.interference_amplitude([1.0, 1.3, 0.8, 1.1], [0.4, 0.4, 0.4, 0.4])
    assert not r["resolved"] and "comparable to its error" in r["statement"]
    assert r["corrected"] == 0.0
    assert r["upper_bound"] > r["amplitude"]
    with pytest.raises(ValueError):
        ro.interference_amplitude([1.0], [0.1])


def test_agreement_check():
    c = ro.agreement_check(10.0, 0.5, 11.0, 1.5)
    assert c["difference"] == pytest.approx(1.0)
    assert c["difference_in_errors"] == pytest.approx(0.5) and c["within_error"]
    assert not ro.agreement_check(10.0, 0.1, 11.0, 0.1)["within_error"]


def test_helpers_of_the_cases():
    assert ro.case_name("clean", 0.0) == "clean_layered"
    assert ro.case_name("mixing", 0.25) == "mixing_p0.25"
    assert ro.case_name("anderson", 2.0) == "anderson_W2"
    assert ro.effective_monolayers(4, "mixing", 0.5) == 4.5
    assert ro.effective_monolayers(4, "anderson", 3.0) == 4.0
    assert ro.seeds_of(4) != ro.seeds_of(5)
    assert ro.expected_cost([2, 7], range(2), 3, {2: 1.0, 7: 2.0}) == pytest.approx(18.0)


def test_junctions_of_the_cases():
    import mtj_kwant as mk

    base = mk.load_junction(ro.BASE)
    j = ro.junction_for(base, 5, "mixing", 0.25, 2)
    assert j.layers[1].thickness == 5 and tuple(j.supercell.size) == (2, 2)
    assert j.layers[2].disorder.interface_mixing == 0.25
    assert j.layers[2].disorder.onsite == 0
    j = ro.junction_for(base, 3, "anderson", 2.0, 2)
    assert j.layers[1].disorder.onsite == 2.0 and j.layers[2].disorder is None
    assert ro.junction_for(base, 3).supercell is None
    with pytest.raises(ValueError):
        ro.junction_for(base, 3, "tilt", 1.0, 2)


def test_axes_of_the_study_geometry():
    import mtj_kwant as mk

    m, p, e_par, e_perp = ro.axes_of(mk.load_junction(ro.BASE))
    assert np.allclose(m, [1, 0, 0]) and np.allclose(p, [0, 0, 1])
    assert np.allclose(e_par, [0, 0, 1]) and np.allclose(e_perp, [0, -1, 0])


def test_full_mixing_is_a_thicker_clean_free_layer():
    """p = 1 turns the cap's first monolayer into free-layer material, free and counted in the
    torque: the clean junction with d + 1 (what the study's d_eff = d + p assumes)."""
    import mtj_kwant as mk
    from mtj_kwant.supercell import supercell_window

    base = mk.load_junction(ro.BASE)
    kw = dict(theta=ro.THETA, linear_response=True, rtol=5e-2, configurations=1, seed=1)
    mixed = supercell_window(ro.junction_for(base, 3, "mixing", 1.0, 2), **kw)
    clean = supercell_window(ro.junction_for(base, 4, "clean", 0.0, 2), **kw)
    assert mixed.current_density == pytest.approx(clean.current_density, rel=1e-9)
    assert np.allclose(mixed.torque, clean.torque, rtol=1e-9,
                       atol=1e-9 * np.abs(clean.torque).max())


# -- the quick run -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("roughness")
    paths = run_study("roughness", out, quick=True, progress=False, executor="serial")
    return out, paths


def test_quick_run_writes_files_with_units(quick):
    out, paths = quick
    names = {p.name for p in paths}
    assert {"roughness.png", "thickness.csv", "amplitudes.csv", "clean_check.csv",
            "configurations.csv", "provenance.json"} <= names
    assert (out / "summary.json").exists()
    for p in paths:
        assert p.exists() and p.stat().st_size > 0
    record = json.loads((out / "provenance.json").read_text())
    for p in paths:
        if p.suffix == ".csv":
            header = next(csv.reader(p.open()))
            assert set(header) <= set(record["units"][p.name]), p.name
    for fig in record["figures"].values():
        assert fig["layout_defects"] == []
        assert all(ax["xlabel"] and ax["ylabel"] for ax in fig["axes"])
    # resumable stores: one per disordered (case, d) and the clean check
    stores = list((out / "points").glob("*.csv"))
    assert any(p.name.startswith("mixing_") for p in stores)
    assert any(p.name.startswith("anderson_") for p in stores)
    assert any(p.name.startswith("clean_supercell_") for p in stores)


def test_quick_run_summary(quick):
    out, _ = quick
    summary = json.loads((out / "summary.json").read_text())
    for key in ("settings", "clean_supercell_check", "cases", "converged", "not_converged",
                "timings", "expected_full_cost", "n_k"):
        assert key in summary
    assert summary["timings"]["total_s"] > 0
    assert summary["expected_full_cost"]["serial_s"] > 0
    cases = summary["cases"]
    assert {"clean_layered", "mixing_p0.5", "anderson_W3"} <= set(cases)
    for name, rec in cases.items():
        for comp in ("T_par", "T_perp"):
            a = rec[comp]
            for k in ("amplitude", "error", "noise_floor", "mean", "mean_error", "upper_bound"):
                assert np.isfinite(a[k]), (name, comp, k)
            assert a["error"] > 0 and a["amplitude"] >= 0
            assert isinstance(a["resolved"], bool) and a["statement"]
            if not a["resolved"]:
                assert "comparable to its error" in a["statement"]
    # the clean layered curve interferes: its amplitude is far above its (tiny) error
    assert cases["clean_layered"]["T_par"]["resolved"]
    if not summary["converged"]:
        assert summary["not_converged"]


def test_quick_run_clean_supercell_equals_layered(quick):
    out, _ = quick
    check = json.loads((out / "summary.json").read_text())["clean_supercell_check"]
    assert check["passes"]
    for key in ("current_density", "T_par", "T_perp"):
        c = check[key]
        assert abs(c["difference"]) <= c["error"] + c["reference_error"]
        assert c["error"] > 0


def test_quick_run_rows_are_consistent(quick):
    out, _ = quick
    rows = list(csv.DictReader((out / "thickness.csv").open()))
    summary = json.loads((out / "summary.json").read_text())
    grid = summary["settings"]["thickness_grid_ML"]
    for name, rec in summary["cases"].items():
        sel = [r for r in rows if r["case"] == name]
        assert [int(r["thickness_ML"]) for r in sel] == grid
        t = [float(r["T_par"]) for r in sel]
        e = [float(r["T_par_error"]) for r in sel]
        assert rec["T_par"]["amplitude"] == pytest.approx(
            ro.interference_amplitude(t, e)["amplitude"], rel=1e-12)
    # the configuration means of the stored per-configuration values are the table's values
    conf = list(csv.DictReader((out / "configurations.csv").open()))
    r = next(r for r in rows if r["case"] == "anderson_W3" and r["thickness_ML"] == "4")
    vals = [float(c["T_par"]) for c in conf
            if c["case"] == "anderson_W3" and c["thickness_ML"] == "4"]
    assert len(vals) == int(r["configurations"])
    assert float(r["T_par"]) == pytest.approx(np.mean(vals), rel=1e-9)


def test_quick_run_resumes_from_its_stores(quick):
    """A rerun into the same folder takes every configuration from the stores: same numbers,
    the stores unchanged, the disordered cases cost (almost) nothing."""
    out, _ = quick
    before = json.loads((out / "summary.json").read_text())
    stores = {p.name: p.read_text() for p in (out / "points").glob("*.csv")}
    run_study("roughness", out, quick=True, progress=False, executor="serial")
    after = json.loads((out / "summary.json").read_text())
    for name in before["cases"]:
        assert after["cases"][name]["T_par"] == before["cases"][name]["T_par"]
    assert {p.name: p.read_text() for p in (out / "points").glob("*.csv")} == stores
    for name in ("mixing_p0.5", "anderson_W3"):
        assert after["timings"][name] < 0.2 * before["timings"][name] + 0.5


def test_a_point_not_converged_is_said_so(tmp_path, monkeypatch):
    """SupercellPoint.converged False on one point: summary, notes, figure legend say so."""
    real = ro.supercell_point

    def flaky(base, thickness, family, strength, size, **kw):
        row, per = real(base, thickness, family, strength, size, **kw)
        if family == "anderson" and thickness == 4:
            row = dict(row, converged=False)
        return row, per

    monkeypatch.setattr(ro, "supercell_point", flaky)
    out = tmp_path / "r"
    run_study("roughness", out, quick=True, progress=False, executor="serial")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["converged"] is False
    assert {"case": "anderson_W3", "thickness_ML": 4} in summary["not_converged"]
    assert summary["cases"]["anderson_W3"]["not_converged_thickness_ML"] == [4]
    assert summary["cases"]["mixing_p0.5"]["converged"]
    record = json.loads((out / "provenance.json").read_text())
    assert any("NOT converged" in n for n in record["notes"])
    titles = [ax["title"] for ax in record["figures"]["roughness"]["axes"]]
    assert any("NOT converged" in t for t in titles)
    assert record["figures"]["roughness"]["layout_defects"] == []
