"""Tests of mtj_kwant.analytic.fits: polynomial bias fits with uncertainties."""

import dataclasses
import doctest

import numpy as np
import pytest

from mtj_kwant.analytic import fits
from mtj_kwant.analytic.fits import (PolynomialFit, fit_bias_polynomial, fit_inplane, fit_outofplane,
                                     fit_with_errors)

RNG_SEED = 2718


def test_exact_polynomials_are_recovered():
    # Noise-free data of degree n are reproduced by a degree-n fit (and by a degree n+1 fit with
    # a zero top coefficient) to 1e-10 of the coefficient scale, over very different bias scales
    # (the design matrix is built in V/max|V|).
    rng = np.random.default_rng(RNG_SEED)
    for degree in range(5):
        for vmax in (1e-3, 0.5, 50.0):
            c = rng.normal(size=degree + 1)
            v = np.linspace(-vmax, 0.7 * vmax, 17)
            y = np.polynomial.polynomial.polyval(v, c)
            scale = np.abs(c) * vmax ** np.arange(degree + 1)
            for extra in (0, 1):
                fit = fit_bias_polynomial(v, y, degree + extra)
                got = np.array(fit.coefficients) * vmax ** np.arange(degree + 1 + extra)
                ref = np.append(c * vmax ** np.arange(degree + 1), [0.0] * extra)
                assert np.allclose(got, ref, rtol=0, atol=1e-10 * scale.max())
                assert fit.rms_residual <= 1e-12 * np.abs(y).max()


def test_straight_line_uncertainty_matches_the_textbook_formula():
    # With absolute sigma, var(c1) = σ²/Σ(V − V̄)² and var(c0) = σ²(1/N + V̄²/Σ(V − V̄)²)
    # (rounding tolerance 1e-12).
    v = np.array([0.0, 0.1, 0.25, 0.4, 0.6])
    sigma = 0.02
    fit = fit_bias_polynomial(v, 3 * v + 1, 1, sigma=sigma)
    sxx = np.sum((v - v.mean()) ** 2)
    assert fit.stderr[1] == pytest.approx(sigma / np.sqrt(sxx), rel=1e-12)
    assert fit.stderr[0] == pytest.approx(sigma * np.sqrt(1 / v.size + v.mean() ** 2 / sxx), rel=1e-12)
    assert fit.chi2_reduced == pytest.approx(0.0, abs=1e-20)


def test_uncertainties_have_nominal_coverage_on_noisy_data():
    # 500 seeded trials of T(V) = b0 + b1 V + b2 V² + N(0, σ_i) with per-point σ_i given to the
    # fit.  For a correct covariance, |ĉ_k − c_k| ≤ stderr_k in 68.27 % of trials; binomial sd
    # for 500 trials is 2.1 %, so we accept [0.61, 0.76] (±3.5 sd).  Same for the
    # residual-scatter estimate (no sigma) on homoscedastic noise — the case it assumes —
    # where |t₁₈| ≤ 1 has probability 66.9 %.  The mean reduced χ² must be 1 within
    # 3.5 sd (sd = sqrt(2/dof/trials) = 0.015).  Also the empirical spread of ĉ_k matches the
    # mean stderr within 12 % (sd of a sample sd: 1/sqrt(2·500) = 3.2 %).
    rng = np.random.default_rng(RNG_SEED + 1)
    true = np.array([0.3, -1.2, 2.5])
    v = np.linspace(-0.5, 0.5, 21)
    sig = 0.02 * (1 + np.abs(v))
    inside_abs, inside_res, chi2, est, err = [], [], [], [], []
    for _ in range(500):
        exact = np.polynomial.polynomial.polyval(v, true)
        f_abs = fit_outofplane(v, exact + rng.normal(size=v.size) * sig, sigma=sig)
        f_res = fit_outofplane(v, exact + rng.normal(size=v.size) * 0.02)
        inside_abs.append(np.abs(np.array(f_abs.coefficients) - true) <= np.array(f_abs.stderr))
        inside_res.append(np.abs(np.array(f_res.coefficients) - true) <= np.array(f_res.stderr))
        chi2.append(f_abs.chi2_reduced)
        est.append(f_abs.coefficients)
        err.append(f_abs.stderr)
    for inside in (inside_abs, inside_res):
        cover = np.mean(inside, axis=0)
        assert np.all((cover > 0.61) & (cover < 0.76)), cover
    assert abs(np.mean(chi2) - 1) < 3.5 * np.sqrt(2 / 18 / 500)
    spread = np.std(est, axis=0, ddof=1) / np.mean(err, axis=0)
    assert np.all(np.abs(spread - 1) < 0.12), spread


def test_relative_sigma_rescales_by_reduced_chi2():
    # absolute_sigma=False: covariance = (AᵀWA)⁻¹ χ²_red; rounding tolerance.
    rng = np.random.default_rng(RNG_SEED + 2)
    v = np.linspace(-1, 1, 11)
    y = 1 + v + rng.normal(size=v.size) * 0.1
    a = fit_bias_polynomial(v, y, 1, sigma=0.05)
    r = fit_bias_polynomial(v, y, 1, sigma=0.05, absolute_sigma=False)
    assert np.allclose(r.covariance, a.covariance * a.chi2_reduced, rtol=1e-12)


def test_exact_points_and_extreme_scales_do_not_overflow_the_weights():
    """An exactly-zero point reports an error ~1e-291 (the package's underflow floor): its
    weight is floored at SIGMA_ROUNDOFF of the data scale instead of overflowing the normal
    equations (was: inf/NaN covariance).  The fit equals the one with that floor given
    explicitly (to 1e-12), and the whole fit is invariant under scaling the data by 1e-300."""
    v = np.array([-0.2, -0.1, 0.0, 0.1, 0.2])
    y = 3e8 * v + 5e8 * v**2
    sig = np.array([1e3, 1e3, 1e-291, 1e3, 1e3])
    f = fit_bias_polynomial(v, y, 2, sigma=sig)
    assert np.all(np.isfinite(f.coefficients)) and np.all(np.isfinite(f.covariance))
    floored = np.where(sig < 1e3, fits.SIGMA_ROUNDOFF * np.abs(y).max(), sig)
    g = fit_bias_polynomial(v, y, 2, sigma=floored)
    np.testing.assert_allclose(f.coefficients, g.coefficients, rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(f.stderr, g.stderr, rtol=1e-9)
    tiny = fit_bias_polynomial(v, y * 1e-300, 2, sigma=sig * 1e-300 + 1e-320)
    np.testing.assert_allclose(np.array(tiny.coefficients) * 1e300, f.coefficients, rtol=1e-9,
                               atol=1e-3)


def test_names_str_and_evaluation():
    # fit_inplane names a0.., fit_outofplane b0..; __str__ shows names, ± and the bias range;
    # the fit is callable; the result is frozen and its covariance read-only.
    v = np.linspace(-0.4, 0.4, 9)
    fa = fit_inplane(v, 2 * v + 0.5 * v**2 + 0.01 * np.cos(40 * v))
    fb = fit_outofplane(v, 1 - v**2)
    assert list(fa.named()) == ["a0", "a1", "a2"] and list(fb.named()) == ["b0", "b1", "b2"]
    assert fb["b0"][0] == pytest.approx(1.0, rel=1e-12)
    text = str(fa)
    assert "a1 = " in text and "±" in text and "[-0.4, 0.4] V" in text and "9 points" in text
    assert np.allclose(fb(v), 1 - v**2, atol=1e-12)
    with pytest.raises(KeyError, match="no coefficient 'a1'; this fit has b0, b1, b2"):
        fb["a1"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        fa.degree = 3
    with pytest.raises(ValueError):
        fa.covariance[0, 0] = 1.0
    assert isinstance(fa, PolynomialFit)


def test_exact_interpolation_has_undetermined_uncertainty():
    # N = degree + 1 and no sigma: no residual degrees of freedom → stderr NaN (documented).
    fit = fit_bias_polynomial([0.0, 1.0, 2.0], [1.0, 2.0, 5.0], 2)
    assert np.allclose(fit.coefficients, [1.0, 0.0, 1.0], atol=1e-12)
    assert all(np.isnan(fit.stderr))


def test_error_messages_name_the_argument():
    v = np.linspace(0, 1, 5)
    with pytest.raises(ValueError, match="degree-5 fit needs at least 6 points, got 5"):
        fit_bias_polynomial(v, v, 5)
    with pytest.raises(ValueError, match="`degree` must be >= 0"):
        fit_bias_polynomial(v, v, -1)
    with pytest.raises(TypeError, match="`degree` must be an integer"):
        fit_bias_polynomial(v, v, 2.0)
    with pytest.raises(ValueError, match="`bias` and `values` must be 1-D arrays of the same length"):
        fit_bias_polynomial(v, v[:-1])
    with pytest.raises(ValueError, match="`sigma` must be > 0 for every point"):
        fit_bias_polynomial(v, v, 1, sigma=np.zeros(5))
    with pytest.raises(ValueError, match="`sigma` must be a scalar or have the shape of `bias`"):
        fit_bias_polynomial(v, v, 1, sigma=np.ones(3))
    with pytest.raises(ValueError, match="`values` must be finite"):
        fit_bias_polynomial(v, np.full(5, np.nan), 1)
    with pytest.raises(ValueError, match="at least 3 distinct bias values, got 2"):
        fit_bias_polynomial([0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 2.0, 2.0], 2)


def test_docstring_examples_run():
    result = doctest.testmod(fits, extraglobs={"np": np})
    assert result.failed == 0 and result.attempted > 0


# ------------------------------------------------------------------------------------------
# fits that mean nothing are flagged, not printed as numbers (issue 11, item 8)
# ------------------------------------------------------------------------------------------
def test_three_points_for_three_coefficients_is_flagged_not_meaningful():
    """The quick bias study printed a0, a1, a2 with uncertainties NaN from 3 points."""
    fit = fit_bias_polynomial([-0.17, 0.0, 0.17], [1.0, 0.0, 2.0], 2, sigma=0.1,
                              absolute_sigma=False)
    assert not fit.meaningful and fit.status.startswith("not meaningful: 3 points for 3")
    assert "not meaningful" in str(fit)
    # with absolute sigma the uncertainties are finite, but it is still an interpolation
    exact = fit_bias_polynomial([-0.17, 0.0, 0.17], [1.0, 0.0, 2.0], 2, sigma=0.1)
    assert all(np.isfinite(exact.stderr)) and not exact.meaningful
    ok = fit_bias_polynomial([-0.2, -0.1, 0.0, 0.1], [1.0, 0.2, 0.0, 0.3], 2)
    assert ok.meaningful and ok.status == "ok" and "not meaningful" not in str(ok)


def test_fit_status_reasons():
    assert fits.fit_status(10, 2, [0.1, 0.2]) == "ok"
    assert "cannot be estimated" in fits.fit_status(10, 2, [0.1, float("nan")])
    assert "cannot be estimated" in fits.fit_status(10, 2, [float("inf"), 0.1])
    assert fits.fit_status(10, 2, [0.1, 0.1], "a negative decay length") == (
        "not meaningful: a negative decay length")
    assert fits.fit_status(2, 2).startswith(fits.NOT_MEANINGFUL)


def _spin_profiles():
    from mtj_kwant.studies import spin_profiles

    return spin_profiles


def test_growing_envelope_gives_no_decay_length():
    """The quick spin_profiles study printed a -94 nm decay length for a growing envelope."""
    sp = _spin_profiles()
    x = np.linspace(0.005, 7.995, 800)
    q = 2 * np.pi / 0.9
    bump = 1 + 0.5 * np.exp(-(((x - 1) / 0.3) ** 2))  # maximum near 1 nm, then growth
    grow = sp._analyse(x, bump * np.exp(0.05 * x) * np.exp(1j * q * x), 8.0)
    assert grow["decay_status"].startswith("not meaningful: the envelope grows")
    assert np.isnan(grow["decay_length"]) and np.isnan(grow["power_exponent"])
    assert grow["precession_status"] == "ok"
    assert grow["period_precession"] == pytest.approx(0.9, rel=1e-6)
    decay = sp._analyse(x, np.exp(-x / 0.35) * np.exp(1j * q * x), 8.0)
    assert decay["decay_status"] == "ok" and decay["decay_length"] == pytest.approx(0.35,
                                                                                     rel=1e-6)
    assert decay["decay_length_error"] < 1e-6
    assert sp._length_text(decay) == "ℓ = 0.35 nm"


def test_flat_envelope_gives_a_bound_and_a_short_range_is_flagged():
    sp = _spin_profiles()
    x = np.linspace(0.005, 7.995, 800)
    # a range shorter than one precession period: the envelope fit means nothing
    short = sp._analyse(x, np.exp(-x / 3) * np.exp(2j * np.pi * x / 20.0), 8.0)
    assert "shorter than one precession period" in short["decay_status"]
    # zero decay rate within its uncertainty: infinite decay length, with a lower bound
    steady = sp._analyse(x, np.exp(2j * np.pi * x / 0.9), 8.0)
    assert steady["decay_status"].startswith("no decay resolved")
    assert steady["decay_length_bound"] > 100 and np.isnan(steady["decay_length"])
    assert "no decay resolved" in sp._length_text(steady)


def test_thickness_fit_components_beyond_nyquist_or_growing_are_flagged():
    from mtj_kwant.studies import thickness_interference as ti
    from mtj_kwant.ratios import ratio

    d = np.round(np.arange(0.2, 5.0 + 0.1, 0.2), 6)  # the quick grid: Nyquist pi/0.2 nm
    period = ratio(2 * np.pi, 0.0, 23.4, 0.2, den_sign=1)
    aliased = ti._component_status(d, 23.4, 0.2, 1.5, 0.2, period, n_components=5)
    assert aliased.startswith("not meaningful") and "Nyquist" in aliased
    ok_period = ratio(2 * np.pi, 0.0, 6.7, 0.02, den_sign=1)
    assert ti._component_status(d, -6.7, 0.02, 0.08, 0.02, ok_period, n_components=5) == "ok"
    long_period = ratio(2 * np.pi, 0.0, 0.5, 0.02, den_sign=1)  # 12.6 nm > 4.8 nm record
    assert "exceeds" in ti._component_status(d, 0.5, 0.02, 0.1, 0.02, long_period, 1)
    assert ti._damping_status(-0.198, 0.018).startswith("not meaningful: the amplitude grows")
    assert ti._damping_status(0.01, 0.02).startswith("no damping resolved")
    assert ti._damping_status(1.9, 0.17) == "ok"


def test_bias_study_notes_say_when_a_fit_is_not_meaningful():
    from mtj_kwant.studies import bias_dependence as bd

    three = fit_inplane([-0.17, 0.0, 0.17], [1e8, 0.0, 2e8], 2, sigma=1e5, absolute_sigma=False)
    note = bd._fit_note("symmetric", "torque_inplane_total", three)
    assert "not meaningful: 3 points for 3 parameters" in note and "a1 =" not in note
    v = np.linspace(-0.3, 0.3, 5)
    five = fit_with_errors(fit_inplane, v, 1e8 * v + 5e8 * v**2, 2, np.full(5, 1e5))
    assert five.meaningful and "a1 = 1e+08 +-" in bd._fit_note("s", "torque_inplane_total", five)
    rows = {"slope_eV": [-0.6, 0.0, 0.6], "b1": [-1e8, 10.0, 1e8], "b1_stderr": [1e5] * 3,
            "fit_status": ["ok", "not meaningful: x", "ok"]}
    assert "not fitted" in bd._slope_note(rows)
    rows["fit_status"] = ["ok"] * 3
    assert "zero within its uncertainty" in bd._slope_note(rows)
