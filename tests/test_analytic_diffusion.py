"""Tests of mtj_kwant.analytic.diffusion: spin diffusion in free layer + cap, Eqs. (20)–(25)."""

import doctest
import math

import numpy as np
import pytest
from scipy import integrate

from mtj_kwant.analytic import diffusion
from mtj_kwant.analytic.diffusion import (
    FIGURE4_PARAMETERS,
    cap_eta,
    diffusion_torque,
    figure4_profiles,
    inverse_lengths,
    mixing_coefficients,
    solve_diffusion_bvp,
    spin_accumulation_profile,
    thick_layer_limit,
)

RNG_SEED = 31415


def paper_eq23(j0, d, lj, lp, ls, eta):
    """Eq. (23) written out directly with cosh/sinh (independent of the module's stable form)."""
    inv_l0 = complex(-1j / lj**2 + 1 / lp**2)
    inv_l2 = inv_l0 + 1 / ls**2
    k = np.sqrt(inv_l2)
    if k.real < 0:
        k = -k
    c, s = np.cosh(d * k), np.sinh(d * k)
    return j0 / d * (inv_l0 / inv_l2) * (c + eta * s - 1) / (c + eta * s)


def random_parameters(rng):
    return dict(
        J0=complex(rng.normal(), rng.normal()),
        d=rng.uniform(0.3, 6.0),
        lambda_J=rng.uniform(0.3, 3.0),
        lambda_phi=rng.uniform(0.3, 3.0),
        lambda_sf=rng.uniform(1.0, 20.0),
        lambda_N=rng.uniform(0.5, 15.0),
        diffusion_ratio=rng.uniform(0.1, 5.0),
    )


def test_closed_form_matches_solve_bvp():
    # Eq. (23) vs an independent solve_bvp solution of the real vector equations (20)–(21)
    # (cross products with m = z, no complex reduction), both layers coupled, cap truncated at
    # 30 λ_N (error e^-30).  Required agreement 1e-6 relative (solve_bvp tol 1e-9); the
    # profiles agree to 1e-6 of their maximum.
    rng = np.random.default_rng(RNG_SEED)
    cases = [random_parameters(rng) for _ in range(3)]
    p = FIGURE4_PARAMETERS
    cases += [dict(J0=p["J0"], d=p["d"], lambda_J=p["lambda_J"], lambda_sf=p["lambda_sf"],
                   diffusion_ratio=p["diffusion_ratio"], **case) for case in p["cases"].values()]
    for c in cases:
        args = tuple(c[k] for k in ("J0", "d", "lambda_J", "lambda_phi", "lambda_sf", "lambda_N",
                                    "diffusion_ratio"))
        sol = solve_diffusion_bvp(*args)
        assert sol.success, sol.message
        eta = cap_eta(c["lambda_J"], c["lambda_phi"], c["lambda_sf"], c["lambda_N"], c["diffusion_ratio"])
        closed = diffusion_torque(c["J0"], c["d"], c["lambda_J"], c["lambda_phi"], c["lambda_sf"], eta)
        assert abs(sol.torque - closed) <= 1e-6 * abs(closed)
        prof = spin_accumulation_profile(sol.profile.x, *args)
        for name in ("accumulation", "spin_current"):
            a, b = getattr(prof, name), getattr(sol.profile, name)
            assert np.max(np.abs(a - b)) <= 1e-6 * np.max(np.abs(a))


def test_diffusion_torque_matches_independent_eq23():
    # Seeded random parameters, complex J0 and η = D_F λ_N/(D_N L), vectorised over d:
    # the module's overflow-free form equals the plain cosh/sinh form to 1e-9 relative.
    rng = np.random.default_rng(RNG_SEED + 1)
    for _ in range(50):
        c = random_parameters(rng)
        eta = complex(rng.uniform(0.01, 5), rng.uniform(-2, 2))
        d = np.array([0.2, c["d"], 3 * c["d"]])
        got = diffusion_torque(J0=c["J0"], d=d, lambda_J=c["lambda_J"], lambda_phi=c["lambda_phi"],
                               lambda_sf=c["lambda_sf"], eta=eta)
        ref = [paper_eq23(c["J0"], dd, c["lambda_J"], c["lambda_phi"], c["lambda_sf"], eta) for dd in d]
        assert np.allclose(got, ref, rtol=1e-9, atol=0)


def test_ballistic_limit_alpha_one_beta_zero():
    # d → ∞ and λ_sf → ∞: d·T → J0 (α → 1, β → 0).  For λ_sf = ∞ the deviation of d·T/J0 from
    # 1 is the term 2e^{-z}/[(1+e^{-2z}) + η(1−e^{-2z})], z = d/L (docstring), < 3|e^{-z}| for
    # Re η ≥ 0; at d = 40/Re(1/L) that is < 1e-16.  With finite λ_sf, α → 1 as λ_sf grows.
    lj, lp = 1.0, 1.5
    eta = cap_eta(lj, lp, np.inf, 2.0, 1.0)
    inv_l = inverse_lengths(lj, lp, np.inf)[2]
    for d in (5.0, 10.0, 40.0 / inv_l.real):
        alpha, beta = mixing_coefficients(d, lj, lp, np.inf, eta)
        bound = 3 * math.exp(-d * inv_l.real)
        assert abs(alpha - 1) <= bound + 1e-15 and abs(beta) <= bound + 1e-15
    d_big = 60.0
    devs = [abs(float(mixing_coefficients(d_big, lj, lp, ls, eta)[0]) - 1) for ls in (10.0, 100.0, 1000.0)]
    assert devs[0] > devs[1] > devs[2] and devs[2] < 1e-5


def test_insulating_cap_without_spin_flip_absorbs_everything():
    # η = ∞ (no current into the cap) and λ_sf = ∞: all injected transverse spin current is
    # absorbed as torque, d·T = J0 exactly, for any thickness (1e-12).
    j0 = 0.3 - 0.7j
    for d in (0.1, 1.0, 7.0):
        assert d * diffusion_torque(j0, d, 1.0, 2.0, np.inf, np.inf) == pytest.approx(j0, rel=1e-12)


def test_perfect_spin_sink_limit():
    # η = 0 (s(d) = 0): d·T = J0 (L²/L0²)(1 − 1/cosh(d/L)) (Eq. 23 with η = 0), 1e-12.
    lj, lp, ls = 1.0, 0.7, 4.0
    inv_l0, inv_l2, inv_l = inverse_lengths(lj, lp, ls)
    for d in (0.5, 2.0):
        expected = (inv_l0 / inv_l2) * (1 - 1 / np.cosh(d * inv_l))
        assert d * diffusion_torque(1.0, d, lj, lp, ls, 0.0) == pytest.approx(expected, rel=1e-12)


def test_thickness_dependence_tends_to_the_one_over_d_law():
    # T(d)/T_thick(d) − 1 = −2e^{-z}/D (z = d/L): exponentially small in d, equality to 1e-12.
    lj, lp, ls = 1.0, 1.5, 5.0
    eta = cap_eta(lj, lp, ls, 1.0, 1.0)
    inv_l = inverse_lengths(lj, lp, ls)[2]
    d = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    ratio = diffusion_torque(1.0, d, lj, lp, ls, eta) / thick_layer_limit(1.0, d, lj, lp, ls)
    z = d * inv_l
    expected = 1 - 2 * np.exp(-z) / ((1 + np.exp(-2 * z)) + eta * (1 - np.exp(-2 * z)))
    assert np.allclose(ratio, expected, rtol=1e-12)
    dev = np.abs(ratio - 1)
    assert np.all(np.diff(dev) < 0) and dev[-1] < 1e-4 and dev[0] > 0.1


def test_mixing_coefficients_reproduce_eqs_24_25():
    # d T∥ = α J∥ + β J⊥, d T⊥ = −β J∥ + α J⊥ for random J0 (rounding), and β > 0 in the
    # thick-layer limit with precession and spin flip (sign derived in the docstring).
    rng = np.random.default_rng(RNG_SEED + 2)
    lj, lp, ls, d = 1.0, 1.5, 5.0, 3.0
    eta = cap_eta(lj, lp, ls, 2.0, 0.5)
    alpha, beta = mixing_coefficients(d, lj, lp, ls, eta)
    for _ in range(10):
        jp, jq = rng.normal(size=2)
        t = d * diffusion_torque(jp + 1j * jq, d, lj, lp, ls, eta)
        assert t.real == pytest.approx(alpha * jp + beta * jq, rel=1e-12, abs=1e-14)
        assert t.imag == pytest.approx(-beta * jp + alpha * jq, rel=1e-12, abs=1e-14)
    _, beta_thick = mixing_coefficients(50.0, lj, lp, ls, eta)
    assert beta_thick > 0


def test_profile_satisfies_boundary_conditions_and_torque_balance():
    # J(0) = J0; s and J continuous at d; s ∝ e^{-(x-d)/λN} in the cap; and the integrated
    # Eq. (22): d·T = J(0) − J(d) − (D_F/λ_sf²)∫_0^d s dx (Simpson on 4001 points, error
    # ~1e-13; tolerance 1e-9).
    c = dict(J0=0.8 + 0.3j, d=2.0, lambda_J=1.0, lambda_phi=0.8, lambda_sf=5.0, lambda_N=3.0,
             diffusion_ratio=0.7)
    args = tuple(c.values())
    eps = 1e-9
    x5 = np.array([0.0, c["d"] - eps, c["d"], c["d"] + eps, c["d"] + 1.0])
    prof = spin_accumulation_profile(x5, *args)
    assert prof.spin_current[0] == pytest.approx(c["J0"], rel=1e-13)
    assert prof.accumulation[1] == pytest.approx(prof.accumulation[3], rel=1e-7)
    assert prof.spin_current[1] == pytest.approx(prof.spin_current[3], rel=1e-7)
    decay = prof.accumulation[4] / prof.accumulation[2]
    assert decay == pytest.approx(math.exp(-1 / c["lambda_N"]), rel=1e-12)
    x = np.linspace(0, c["d"], 4001)
    p = spin_accumulation_profile(x, *args)
    int_s = integrate.simpson(p.accumulation, x=x)
    balance = (c["J0"] - p.spin_current[-1] - int_s / c["lambda_sf"] ** 2) / c["d"]
    eta = cap_eta(c["lambda_J"], c["lambda_phi"], c["lambda_sf"], c["lambda_N"], c["diffusion_ratio"])
    closed = diffusion_torque(c["J0"], c["d"], c["lambda_J"], c["lambda_phi"], c["lambda_sf"], eta)
    assert balance == pytest.approx(closed, rel=1e-9)


def test_figure4_profiles():
    # The three cases of Fig. 4: same injection, d = 2 nm; in the cap |s| decays as e^{-x/λN};
    # a shorter dephasing length absorbs more of the spin current in the free layer, so less
    # accumulation reaches the cap interface.  Tolerance: rounding (1e-12).
    prof = figure4_profiles()
    assert set(prof) == {"solid", "dashed", "dotted"}
    x = prof["solid"].x
    i_d, i_3 = np.searchsorted(x, 2.0), np.searchsorted(x, 3.0)
    for name, p in prof.items():
        ln = FIGURE4_PARAMETERS["cases"][name]["lambda_N"]
        decay = p.accumulation[i_3] / p.accumulation[i_d]
        assert decay == pytest.approx(math.exp(-(x[i_3] - x[i_d]) / ln), rel=1e-12)
        assert p.spin_current[0] == pytest.approx(1.0, rel=1e-12)
        assert np.any(p.out_of_plane != 0) and np.any(p.in_plane != 0)
    assert abs(prof["solid"].accumulation[i_d]) < abs(prof["dashed"].accumulation[i_d])


def test_error_messages_name_the_argument():
    with pytest.raises(ValueError, match="`d` must be > 0 nm"):
        diffusion_torque(1.0, 0.0, 1.0, 1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="at least one of `lambda_J`, `lambda_phi`, `lambda_sf`"):
        diffusion_torque(1.0, 1.0, np.inf, np.inf, np.inf, 1.0)
    with pytest.raises(ValueError, match="`lambda_phi` must be > 0 nm.*np.inf"):
        diffusion_torque(1.0, 1.0, 1.0, -1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="`eta` must have Re\\(eta\\) >= 0"):
        diffusion_torque(1.0, 1.0, 1.0, 1.0, 1.0, -1.0)
    with pytest.raises(ValueError, match="`J0` must be a finite"):
        diffusion_torque(np.nan, 1.0, 1.0, 1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="`x` must be >= 0 nm"):
        spin_accumulation_profile([-1.0], 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="`lambda_N` must be > 0 nm"):
        cap_eta(1.0, 1.0, 1.0, 0.0, 1.0)
    with pytest.raises(TypeError, match="`lambda_J` must be a real length in nm"):
        inverse_lengths("1 nm", 1.0, 1.0)


def test_docstring_examples_run():
    result = doctest.testmod(diffusion, extraglobs={"np": np})
    assert result.failed == 0 and result.attempted > 0
