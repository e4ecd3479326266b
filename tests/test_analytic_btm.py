"""Tests of mtj_kwant.analytic.btm: the Bardeen transfer-matrix model, Eqs. (3)–(13)."""

import doctest
import math
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.constants as sc
from scipy import integrate
from scipy.special import expit

from mtj_kwant.analytic import btm as btm_module
from mtj_kwant.analytic.btm import (
    BTM_PREFACTOR,
    BTMElectrode,
    BTMModel,
    FreeElectronBTM,
    btm_conductance,
    btm_current,
    btm_from_junction,
    btm_torques,
    free_electron_btm,
    symmetric_form_torques,
)
from mtj_kwant.analytic.slonczewski import (
    HBAR2_OVER_2ME,
    FreeElectronElectrode,
    conductance_per_area,
    out_of_plane_factor,
    polarization,
    spin_wavevectors,
)

from .test_analytic_slonczewski import spinor_channel_spin_current, thick_window_torque

RNG_SEED = 424242
K = BTM_PREFACTOR


def linear_electrode(r0, r1, d0, d1, phase=0.0, bottom=-5.0, ef=0.0):
    """ρ = r0 + r1 (ε − E_F), Δρ = d0 + d1 (ε − E_F) above `bottom`, constant phase."""
    return BTMElectrode(
        dos=lambda e: (r0 + r1 * (e - ef)) if e >= bottom else 0.0,
        dos_difference=lambda e: (d0 + d1 * (e - ef)) if e >= bottom else 0.0,
        phase=phase,
        band_bottom=bottom,
    )


def ramp_electrode(a, b, phase, bottom):
    """ρ = a (ε − bottom), Δρ = b (ε − bottom) for ε ≥ bottom (vanish at the band bottom)."""
    return BTMElectrode(
        dos=lambda e: a * max(e - bottom, 0.0),
        dos_difference=lambda e: b * max(e - bottom, 0.0),
        phase=phase,
        band_bottom=bottom,
    )


# ------------------------------------------------------------------------------------------
# normalisation and the spin trace
# ------------------------------------------------------------------------------------------
def test_prefactor_is_two_pi_e_over_hbar():
    # 2πe/ħ with ħ in eV·s equals 4π² e²/h in A/eV (CODATA via scipy.constants).
    assert BTM_PREFACTOR == pytest.approx(4 * math.pi**2 * sc.e**2 / sc.h, rel=1e-14)


def test_currents_and_torques_follow_the_spin_trace_of_eq3():
    # Constant ingredients, ϕ = 0, T = 0: every integrand is constant over the window of width
    # V, so J = K V Tr[½{ρ̂L, ρ̂R}] and T = K V Tr[σ ½{ρ̂L, ρ̂R}]·e with 2x2 matrices built here
    # (p rotated by θ in the frame of m).  T∥/J(π/2) = P_L.  Tolerance 1e-12 (quadrature of a
    # constant is exact up to rounding).
    rl, dl, rr, dr = 1.3, 0.4, 0.9, -0.2
    el, er = (BTMElectrode(dos=rl, dos_difference=dl, band_bottom=-3.0),
              BTMElectrode(dos=rr, dos_difference=dr, band_bottom=-3.0))
    model = BTMModel(left=el, right=er, fermi_energy=0.0)
    sx, sy, sz = np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.diag([1.0, -1.0])
    for theta in (0.3, math.pi / 2, 2.5):
        p = np.array([math.sin(theta), 0.0, math.cos(theta)])
        rho_l = 0.5 * (rl * np.eye(2) + dl * (p[0] * sx + p[1] * sy + p[2] * sz))
        rho_r = 0.5 * (rr * np.eye(2) + dr * sz)
        anti = 0.5 * (rho_l @ rho_r + rho_r @ rho_l)
        v = 0.2
        res = btm_torques(model, v, theta)
        assert res.current_density[0] == pytest.approx(K * v * np.trace(anti).real, rel=1e-12)
        spin = np.array([np.trace(s @ anti).real for s in (sx, sy, sz)])
        e_par = np.array([1.0, 0.0, 0.0])  # m×(p×m)/|...| for p_x > 0
        assert res.torque_parallel[0] == pytest.approx(K * v * spin @ e_par, rel=1e-12)
        assert res.torque_perpendicular[0] == pytest.approx(
            0.0, abs=1e-12 * abs(res.torque_parallel[0]))
    res = btm_torques(model, 0.2, math.pi / 2)
    assert res.torque_parallel[0] / res.current_density[0] == pytest.approx(dl / rl, rel=1e-12)


def test_torques_vanish_for_collinear_magnetizations():
    # T ∝ sin θ: zero (to rounding, sin π ≈ 1e-16) at θ = 0 and π.
    model = free_electron_btm(1.5, 0.0, 2.0, 0.0, 2.0, 2.6, 1.0, barrier_mass=0.4)
    ref = btm_torques(model, 0.1, math.pi / 2)
    for theta in (0.0, math.pi):
        res = btm_torques(model, 0.1, theta)
        scale = abs(ref.torque_perpendicular[0]) + abs(ref.torque_parallel[0])
        assert abs(res.torque_parallel[0]) <= 1e-15 * scale
        assert abs(res.torque_perpendicular[0]) <= 1e-15 * scale


# ------------------------------------------------------------------------------------------
# bias dependence and parity, Eqs. (9)–(13)
# ------------------------------------------------------------------------------------------
def test_separately_shifted_dos_gives_a_V2_term_in_T_parallel():
    # Symmetric junction, linear DOS, ϕ = 0, T = 0.  With ρ_R(ε) = ρ(ε+u), Δρ_L(ε) = Δρ(ε−u),
    # u = V/2, Eq. (7) is ½K ∫_{−u}^{u} (r0 + r1(s+u))(d0 + d1(s−u)) ds
    #   = ½K [2u r0 d0 + 2u² (r1 d0 − r0 d1) − (4/3) u³ r1 d1]   (exact cubic),
    # so a V² term a2 = ½K (r1 d0 − r0 d1)/2 appears whenever the DOS depend on energy.
    # Tolerance 1e-10 (quadrature of a polynomial).
    r0, r1, d0, d1 = 1.0, 0.15, 0.4, -0.05
    el = linear_electrode(r0, r1, d0, d1)
    model = BTMModel(left=el, right=el, fermi_energy=0.0)
    v = np.linspace(-0.4, 0.4, 9)
    u = v / 2
    exact = 0.5 * K * (2 * u * r0 * d0 + 2 * u**2 * (r1 * d0 - r0 * d1) - (4 / 3) * u**3 * r1 * d1)
    res = btm_torques(model, v, math.pi / 2)
    assert np.allclose(res.torque_parallel, exact, rtol=1e-10, atol=1e-12 * np.max(np.abs(exact)))
    even = 0.5 * (res.torque_parallel + res.torque_parallel[::-1])
    assert np.max(np.abs(even)) > 1e-3 * np.max(np.abs(res.torque_parallel))  # not odd
    # with energy-independent DOS the V² term is absent (odd to rounding)
    flat = btm_torques(BTMModel(left=linear_electrode(r0, 0, d0, 0),
                                right=linear_electrode(r0, 0, d0, 0),
                                fermi_energy=0.0), v, math.pi / 2).torque_parallel
    assert np.allclose(flat, -flat[::-1], rtol=0, atol=1e-13 * np.max(np.abs(flat)))


def test_symmetric_free_electron_junction_has_even_T_perp():
    # L↔R mirror + V → −V maps a symmetric junction onto itself (the linear drop mirrors, each
    # electrode shifts rigidly), and Eq. (8) is symmetric under that map: T⊥(−V) = T⊥(V) to the
    # quadrature tolerance (1e-9 relative).  T∥ is not odd (V² term, previous test).
    model = free_electron_btm(1.5, 0.0, 2.0, 0.0, 2.0, 2.6, 1.0, barrier_mass=0.4)
    v = np.array([0.05, 0.15, 0.3])
    pos, neg = btm_torques(model, v), btm_torques(model, -v)
    assert np.allclose(pos.torque_perpendicular, neg.torque_perpendicular, rtol=1e-8)
    odd_violation = np.abs(pos.torque_parallel + neg.torque_parallel)
    assert np.max(odd_violation) > 1e-3 * np.max(np.abs(pos.torque_parallel))


def test_different_electrodes_give_a_linear_term_in_T_perp():
    # DOS vanishing linearly at a common band bottom b, constant phases, T = 0.  Differentiating
    # Eq. (8) (substituting ε' = ε ∓ u in the two terms) gives
    #   b1 = dT⊥/dV|0 = (K sin θ / 2) (E_F − b)²/2 [A_R B_L sin ϕ_L − A_L B_R sin ϕ_R],
    # zero for identical electrodes.  Central difference with h = 1e-3 V has relative error
    # (2/3) u_h²/(E_F − b)² ~ 1e-8 (exact piecewise cubic); tolerance 1e-6.
    b, ef = -2.0, 0.0
    el = ramp_electrode(1.0, 0.3, 0.2, b)
    er = ramp_electrode(0.6, 0.25, -0.1, b)
    h = 1e-3
    res = btm_torques(BTMModel(left=el, right=er, fermi_energy=ef), [-h, h], math.pi / 2,
                      rtol=1e-12)
    b1 = (res.torque_perpendicular[1] - res.torque_perpendicular[0]) / (2 * h)
    expected = (0.5 * K * (ef - b) ** 2 / 2
                * (0.6 * 0.3 * math.sin(0.2) - 1.0 * 0.25 * math.sin(-0.1)))
    assert b1 == pytest.approx(expected, rel=1e-6)
    same = btm_torques(BTMModel(left=el, right=el, fermi_energy=ef), [-h, h], math.pi / 2,
                       rtol=1e-12)
    slope = (same.torque_perpendicular[1] - same.torque_perpendicular[0]) / (2 * h)
    assert abs(slope) < 1e-9 * abs(expected)


def test_bias_dependent_transmission_gives_a_linear_term_in_T_perp():
    # Asymmetric barrier modelled by |T|²(ε, V) = 1 + γV: T⊥(V) = (1 + γV) T⊥sym(V) with T⊥sym
    # even, hence b1 = γ b0 (central difference; T⊥sym'' h² ~ 1e-7 relative; tolerance 1e-6).
    gamma = 0.8
    el = ramp_electrode(1.0, 0.3, 0.2, -2.0)
    model = BTMModel(left=el, right=el, fermi_energy=0.0, transmission=lambda e, v: 1.0 + gamma * v)
    h = 1e-3
    res = btm_torques(model, [-h, 0.0, h], math.pi / 2, rtol=1e-12)
    b1 = (res.torque_perpendicular[2] - res.torque_perpendicular[0]) / (2 * h)
    assert b1 == pytest.approx(gamma * res.torque_perpendicular[1], rel=1e-6)


def test_trapezoidal_barrier_breaks_the_parity_of_T_perp():
    # Free-electron junction with symmetric electrodes: a rectangular barrier keeps T⊥ even
    # (1e-8), a trapezoid (2.4 → 2.8 eV) adds an odd part far above that.
    v = np.array([0.1, 0.2])
    sym = free_electron_btm(1.5, 0.0, 2.0, 0.0, 2.0, 2.6, 1.0, barrier_mass=0.4)
    asym = free_electron_btm(1.5, 0.0, 2.0, 0.0, 2.0, (2.4, 2.8), 1.0, barrier_mass=0.4)
    for model, small in ((sym, True), (asym, False)):
        pos = btm_torques(model, v).torque_perpendicular
        neg = btm_torques(model, -v).torque_perpendicular
        odd = np.max(np.abs(pos - neg)) / np.max(np.abs(pos))
        assert (odd < 1e-8) if small else (odd > 1e-3)


def test_symmetric_form_is_exactly_odd_and_even_for_any_tau():
    # Eqs. (10)–(13): random smooth spectral torques (seeded Gaussians + a Fermi step), random
    # fixed ranges (τ ≠ 0 at the ends, where the bias dependence of this form lives).  Parity to
    # 1e-12 of the scale; the end-point implementation is checked
    # against direct quadrature of the full integrand over [a, b] (1e-8), and the result is
    # not trivially constant.
    rng = np.random.default_rng(RNG_SEED)
    for _ in range(5):
        c = rng.normal(size=4)
        mu = rng.uniform(-2, 2, 4)
        w = rng.uniform(0.3, 1.0, 4)
        kt = rng.uniform(0.005, 0.05)

        def tau(e, c=c, mu=mu, w=w, kt=kt):
            return float(np.sum(c * np.exp(-((e - mu) / w) ** 2)) + 0.3 * expit(-e / kt))

        a, b = -rng.uniform(1.0, 2.0), rng.uniform(0.5, 1.5)
        v = np.array([0.05, 0.2, 0.5])
        tp, tq = symmetric_form_torques(tau, tau, v, energy_range=(a, b))
        tpn, tqn = symmetric_form_torques(tau, tau, -v, energy_range=(a, b))
        scale = np.max(np.abs(tq))
        assert np.allclose(tpn, -tp, rtol=0, atol=1e-12 * scale)
        assert np.allclose(tqn, tq, rtol=0, atol=1e-12 * scale)
        for vv, t1, t2 in zip(v, tp, tq):
            u = vv / 2
            kw = dict(epsabs=1e-13, limit=200)
            direct_par = integrate.quad(lambda e: tau(e - u) - tau(e + u), a, b, **kw)[0]
            direct_perp = integrate.quad(lambda e: tau(e - u) + tau(e + u), a, b, **kw)[0]
            assert t1 == pytest.approx(direct_par, rel=1e-8, abs=1e-11)
            assert t2 == pytest.approx(direct_perp, rel=1e-8, abs=1e-11)
        assert np.min(np.abs(tp)) > 0 and np.ptp(tq) > 1e-6 * scale


# ------------------------------------------------------------------------------------------
# free-electron parameterisation
# ------------------------------------------------------------------------------------------
def test_free_electron_ingredients_are_slonczewski_P_and_Q():
    # At V = 0: Δρ/ρ = P (Slonczewski), tan(−ϕ_L) = Q_R and tan(−ϕ_R) = Q_L, i.e. the window
    # part of Eq. (8) with phase_factors="thick_barrier" gives T⊥ = −Q_R T∥, the thick-barrier
    # result established in test_analytic_slonczewski against spinor scattering.  All channels
    # are open at these energies (closed ones: next test).  Rounding tolerance.
    model = free_electron_btm(
        1.2, 0.0, 1.6, 0.2, 1.0, 2.5, 1.0, left_mass=0.8, right_mass=1.1, barrier_mass=0.5
    )
    ing = model.ingredients(0.0)
    left = dict(electrode_mass=0.8, barrier_mass=0.5)
    right = dict(electrode_mass=1.1, barrier_mass=0.5)
    for e in (0.9, 1.2, 1.5):
        kap = math.sqrt(0.5 * (2.5 - e) / HBAR2_OVER_2ME)
        kl = spin_wavevectors(e, 0.0, 1.6, 0.8)
        kr = spin_wavevectors(e, 0.2, 1.0, 1.1)
        p_l, p_r = polarization(*kl, kap, **left), polarization(*kr, kap, **right)
        q_l, q_r = out_of_plane_factor(*kl, kap, **left), out_of_plane_factor(*kr, kap, **right)
        assert ing.drho_l(e) / ing.rho_l(e) == pytest.approx(p_l, rel=1e-12)
        assert ing.drho_r(e) / ing.rho_r(e) == pytest.approx(p_r, rel=1e-12)
        assert math.tan(-ing.phi_l(e)) == pytest.approx(q_r, rel=1e-12)
        assert math.tan(-ing.phi_r(e)) == pytest.approx(q_l, rel=1e-12)
    # window ratio at small bias → −Q_R(E_F) (O(V) drift; V = 1e-4 → 1e-3 tolerance)
    res = btm_torques(model, 1e-4, math.pi / 2, phase_factors="thick_barrier")
    kap = math.sqrt(0.5 * (2.5 - 1.2) / HBAR2_OVER_2ME)
    q_r = out_of_plane_factor(*spin_wavevectors(1.2, 0.2, 1.0, 1.1), kap, **right)
    ratio = res.torque_perpendicular_window[0] / res.torque_parallel_window[0]
    assert ratio == pytest.approx(-q_r, rel=1e-3)


def test_free_electron_phases_with_closed_minority_channels_match_exact_spinor_scattering():
    # Per energy at k∥ = 0 and V = 0, the thick-barrier f_L (window) and f_R (sea) terms of
    # Eq. (8), ½ρ_RΔρ_L tan ϕ_L e^{−2κd} and ½ρ_LΔρ_R tan ϕ_R e^{−2κd}, against the exact
    # spinor solution of the rectangular barrier (θ = π/2; right-emitted electrons by
    # mirroring x, as in test_analytic_slonczewski), at energies where both minority channels
    # are closed (1.2 eV), only the right one, i.e. the collector of the window term
    # (1.55 eV), and none (1.8 eV).  Tolerance 10 e^{−2κd} × scale (κd = 3.6–5.0; see
    # thick_window_torque).  The k↓ = 0 phase, arctan(k̃↑/κ̃) − arctan(0/κ̃), for a closed
    # minority channel misses by 55 (1.55 eV, q small) to 1200 times the tolerance.  The
    # small-bias window ratio of btm_torques then equals the exact T⊥/T∥ at E_F = 1.2 eV
    # (O(V) drift; V = 1e-4: tolerance 1e-3).
    ml, mr, mb, ub, d = 0.9, 0.7, 0.5, 2.5, 1.2
    model = free_electron_btm(1.2, 0.0, 3.0, 0.3, 2.6, ub, d, left_mass=ml, right_mass=mr,
                              barrier_mass=mb)
    ing = model.ingredients(0.0)
    c0 = HBAR2_OVER_2ME
    closed = 0
    for e in (1.2, 1.55, 1.8):
        kap = math.sqrt(mb * (ub - e) / c0)
        x = math.exp(-2 * kap * d)
        kl2 = [ml * (e - b) / c0 for b in (-1.5, 1.5)]
        kr2 = [mr * (e - b) / c0 for b in (-1.0, 1.6)]
        for (ke, kc, me, mc, theta), phi, rho_c, drho_e in (
            ((kl2, kr2, ml, mr, math.pi / 2), ing.phi_l, ing.rho_r, ing.drho_l),
            ((kr2, kl2, mr, ml, -math.pi / 2), ing.phi_r, ing.rho_l, ing.drho_r),  # mirrored
        ):
            j = spinor_channel_spin_current(ke, kc, kap, d, theta, me, mb, mc)[0]
            scale = abs(thick_window_torque(ke, kc, kap, d, theta, me, mb, mc)[1])
            t_perp = j[2] * np.sign(theta)  # T⊥ on m: y spin current, flipped by the mirror
            btm = 0.5 * rho_c(e) * drho_e(e) * math.tan(phi(e)) * x
            assert abs(btm - t_perp) <= 10 * x * scale
            if kc[1] < 0:  # collector minority channel closed
                closed += 1
                kt, ku = kap / mb, math.sqrt(kc[0]) / mc
                old = 0.5 * rho_c(e) * drho_e(e) * math.tan(-math.atan2(ku, kt)) * x
                assert abs(old - t_perp) > 20 * 10 * x * scale
    assert closed == 3
    kap = math.sqrt(mb * (ub - 1.2) / c0)
    kl2 = [ml * (1.2 - b) / c0 for b in (-1.5, 1.5)]
    kr2 = [mr * (1.2 - b) / c0 for b in (-1.0, 1.6)]
    exact = spinor_channel_spin_current(kl2, kr2, kap, d, math.pi / 2, ml, mb, mr)[0]
    res = btm_torques(model, 1e-4, math.pi / 2, phase_factors="thick_barrier")
    ratio = res.torque_perpendicular_window[0] / res.torque_parallel_window[0]
    assert ratio == pytest.approx(exact[2] / exact[1], rel=1e-3)


def test_free_electron_current_matches_exact_per_area_conductance_to_first_order():
    # The per-area BTM replaces ∫d²k∥/(2π)² F(k∥²) e^{−2κd} by F(0) e^{−2κ0 d} κ0/(4πd).
    # Expanding κ = κ0 + s/2κ0 − s²/8κ0³ (s = k∥²) and F = F0 + F1 s gives
    #   G_exact/G_BTM = 1 + δ + O((κ0 d)^-2),  δ = (F1/F0) κ0/d + 1/(2 κ0 d).
    # Test: the remainder G_exact/G_BTM − 1 − δ falls by 4 (±12%) when d doubles, and is below
    # 2/(κ0 d)² (the constant is ~1.4 for these parameters).
    ef, ub, mb, dx, mf = 1.5, 3.5, 0.5, 1.0, 1.0
    el = FreeElectronElectrode(band_bottom=0.0, exchange=dx, mass=mf)
    kap0 = math.sqrt(mb * (ub - ef) / HBAR2_OVER_2ME)

    def f_of_s(s):
        kt = math.sqrt(kap0**2 + s) / mb
        ks = [math.sqrt(mf * (ef - b) / HBAR2_OVER_2ME - s) / mf
              for b in (el.majority_bottom, el.minority_bottom)]
        rho = [4 * kt * k / (kt**2 + k**2) for k in ks]
        return rho[0] ** 2 + rho[1] ** 2  # parallel alignment

    h = 1e-4
    f1_over_f0 = (f_of_s(h) - f_of_s(-h)) / (2 * h) / f_of_s(0.0)
    remainders = []
    for d in (4.0, 8.0):
        model = free_electron_btm(ef, 0.0, dx, 0.0, dx, ub, d, left_mass=mf, right_mass=mf,
                                  barrier_mass=mb)
        g_btm = btm_conductance(model, 0.0, theta=0.0)[0]
        g_exact = conductance_per_area(ef, el, el, ub, d, barrier_mass=mb)
        delta = f1_over_f0 * kap0 / d + 1 / (2 * kap0 * d)
        remainders.append(g_exact / g_btm - 1 - delta)
        assert abs(remainders[-1]) < 2 / (kap0 * d) ** 2
    assert remainders[0] / remainders[1] == pytest.approx(4.0, rel=0.12)


def test_equilibrium_inplane_torque():
    # DESIGN §1: T∥(V=0) = 0.  With phase_factors="thick_barrier" (cos ϕ → 1) the Fermi-sea term
    # of Eq. (7) vanishes identically, also for different electrodes (exact 0).  The paper's
    # form keeps ρ_RΔρ_L(cos ϕ_L − cos ϕ_R) f_R, which is non-zero when ϕ_L ≠ ϕ_R — documented
    # caveat, checked here so that it cannot change silently (> 1 % of T∥ at 0.1 V).
    model = free_electron_btm(1.5, 0.0, 2.0, 0.0, 1.0, 2.6, 1.0, barrier_mass=0.4)
    exact = btm_torques(model, [0.0, 0.1], phase_factors="thick_barrier")
    paper = btm_torques(model, [0.0, 0.1])
    assert exact.torque_parallel[0] == 0.0 and exact.torque_parallel[1] > 0
    assert abs(paper.torque_parallel[0]) > 0.01 * abs(paper.torque_parallel[1])
    symmetric = free_electron_btm(1.5, 0.0, 2.0, 0.0, 2.0, 2.6, 1.0, barrier_mass=0.4)
    assert btm_torques(symmetric, 0.0).torque_parallel[0] == 0.0  # ϕ_L = ϕ_R at V = 0


def test_finite_temperature():
    # (i) constant ingredients: ∫(f_L − f_R) dε = V at any T, so J is T-independent (1e-9);
    # (ii) free electrons: 1 K differs from 0 K by O((k_B T)²) ~ 1e-8 relative (tolerance 1e-6);
    # (iii) 300 K raises the current (thermally assisted tunnelling: the weight e^{-2κd} grows
    # with energy, so the thermal tail above μ_L outweighs the one below μ_R).
    el = BTMElectrode(dos=1.0, dos_difference=0.5, band_bottom=-5.0)
    model = BTMModel(left=el, right=el, fermi_energy=0.0)
    j0 = btm_current(model, 0.1)
    for temp in (10.0, 300.0):
        assert btm_current(model, 0.1, temperature=temp) == pytest.approx(j0, rel=1e-9)
    fe = free_electron_btm(1.5, 0.0, 2.0, 0.0, 2.0, 2.6, 1.0, barrier_mass=0.4)
    r0, r1 = btm_torques(fe, 0.1), btm_torques(fe, 0.1, temperature=1.0)
    for name in ("current_density", "torque_parallel", "torque_perpendicular"):
        assert getattr(r1, name)[0] == pytest.approx(getattr(r0, name)[0], rel=1e-6)
    assert btm_current(fe, 0.1, temperature=300.0)[0] > btm_current(fe, 0.1)[0]


def test_conductance_is_the_derivative_of_the_current():
    # btm_conductance (4th-order stencil) vs a Richardson-free check: J(V) is linear for
    # constant ingredients, G = ½K(ρLρR + ΔρLΔρR cos θ) exactly (rounding tolerance 1e-9).
    el = BTMElectrode(dos=1.0, dos_difference=0.5, band_bottom=-5.0)
    g = btm_conductance(BTMModel(left=el, right=el, fermi_energy=0.0), [0.0, 0.3], theta=0.4)
    assert np.allclose(g, 0.5 * K * (1.0 + 0.25 * math.cos(0.4)), rtol=1e-9)


# ------------------------------------------------------------------------------------------
# btm_from_junction
# ------------------------------------------------------------------------------------------
def layer(kind, thickness, potential, exchange=0.0, effective_mass=None):
    return SimpleNamespace(kind=kind, thickness=thickness, potential=potential, exchange=exchange,
                           effective_mass=effective_mass)


def junction(layers, **kw):
    base = dict(
        fermi_energy=1.5, effective_mass=0.8,
        left=SimpleNamespace(potential=0.0, exchange=2.0, effective_mass=None),
        right=SimpleNamespace(potential=0.0, exchange=2.0, effective_mass=None),
        layers=tuple(layers),
    )
    base.update(kw)
    return SimpleNamespace(**base)


def test_btm_from_junction_reproduces_the_plain_parameterisation():
    # The reference junction fif_mass_public.toml (DESIGN §2 attributes) gives the same model as
    # free_electron_btm with the same plain parameters: identical results (exact equality).
    j = junction([layer("barrier", 0.9, 2.6, effective_mass=0.4)])
    a = btm_from_junction(j)
    b = free_electron_btm(
        1.5, 0.0, 2.0, 0.0, 2.0, 2.6, 0.9, left_mass=0.8, right_mass=0.8, barrier_mass=0.4
    )
    assert a == b
    ra, rb = btm_torques(a, [-0.1, 0.2]), btm_torques(b, [-0.1, 0.2])
    assert np.array_equal(ra.torque_perpendicular, rb.torque_perpendicular)


def test_btm_from_junction_layers():
    # F/I/F/N: the free metal layer next to the barrier is the right BTM electrode; a
    # trapezoidal barrier keeps its edges; a two-layer barrier is split into two segments
    # (potential continuous, same mass: the WKB weight equals that of one layer, 1e-12).
    j = junction([layer("barrier", 1.0, (2.4, 2.8), effective_mass=0.4),
                  layer("metal", 2.0, 0.1, exchange=1.5, effective_mass=0.9)],
                 right=SimpleNamespace(potential=0.0, exchange=0.0, effective_mass=1.0))
    m = btm_from_junction(j)
    assert m.right == FreeElectronElectrode(band_bottom=0.1, exchange=1.5, mass=0.9)
    assert m.left.mass == 0.8
    assert (m.barrier[0].potential_left, m.barrier[0].potential_right) == (2.4, 2.8)
    one = btm_from_junction(junction([layer("barrier", 1.0, 2.6, effective_mass=0.4)]))
    two = btm_from_junction(junction([layer("barrier", 0.3, 2.6, effective_mass=0.4),
                                      layer("barrier", 0.7, 2.6, effective_mass=0.4)]))
    for v in (0.0, 0.2):
        w1, w2 = one.ingredients(v).weight, two.ingredients(v).weight
        for e in (0.5, 1.5):
            assert w2(e) == pytest.approx(w1(e), rel=1e-12)


def test_btm_from_junction_errors():
    good = [layer("barrier", 1.0, 2.6)]
    with pytest.raises(ValueError, match="no layer of kind 'barrier'"):
        btm_from_junction(junction([layer("metal", 1.0, 0.0)]))
    with pytest.raises(ValueError, match="'metal' layer inside the barrier stack"):
        btm_from_junction(junction([layer("barrier", 1.0, 2.6), layer("metal", 1.0, 0.0),
                                    layer("barrier", 1.0, 2.6)]))
    with pytest.raises(ValueError, match="spin filter"):
        btm_from_junction(junction([layer("barrier", 1.0, 2.6, exchange=0.1)]))
    with pytest.raises(ValueError, match="needs a free-electron junction"):
        btm_from_junction(junction(good, model="tight-binding"))
    with pytest.raises(TypeError, match="junction has no attribute `fermi_energy`"):
        btm_from_junction(SimpleNamespace(effective_mass=1.0, layers=good))
    with pytest.raises(TypeError, match=r"junction.layers\[0\] has no attribute `thickness`"):
        no_thickness = SimpleNamespace(kind="barrier", potential=2.6, exchange=0.0,
                                       effective_mass=None)
        btm_from_junction(junction([no_thickness]))
    with pytest.raises(ValueError, match="potential must be a number for a BTM electrode"):
        trapezoid = SimpleNamespace(potential=(0.0, 0.1), exchange=2.0, effective_mass=None)
        btm_from_junction(junction(good, left=trapezoid))


# ------------------------------------------------------------------------------------------
# errors
# ------------------------------------------------------------------------------------------
def test_error_messages_name_the_argument():
    el = BTMElectrode(dos=1.0, dos_difference=0.5, band_bottom=-5.0)
    model = BTMModel(left=el, right=el, fermi_energy=0.0)
    fe = free_electron_btm(1.5, 0.0, 2.0, 0.0, 2.0, 2.6, 1.0)
    with pytest.raises(ValueError, match="`energy` must be strictly increasing"):
        BTMElectrode.from_table([0.0, 0.0, 1.0], [1, 1, 1], [0, 0, 0])
    with pytest.raises(ValueError, match="`dos_difference` must have the shape of `energy`"):
        BTMElectrode.from_table([0.0, 1.0], [1, 1], [0, 0, 0])
    with pytest.raises(ValueError, match="`band_top` .* must be above `band_bottom`"):
        BTMElectrode(dos=1.0, dos_difference=0.0, band_bottom=1.0, band_top=0.0)
    with pytest.raises(TypeError, match="`left` must be a BTMElectrode"):
        BTMModel(left=1.0, right=el, fermi_energy=0.0)
    with pytest.raises(ValueError, match="`transmission` \\(\\|T\\|²\\) must be >= 0"):
        BTMModel(left=el, right=el, fermi_energy=0.0, transmission=-1.0)
    with pytest.raises(ValueError, match="`theta` must be finite"):
        btm_torques(model, 0.1, theta=np.nan)
    with pytest.raises(ValueError, match="`temperature` must be >= 0 K"):
        btm_torques(model, 0.1, temperature=-1.0)
    with pytest.raises(ValueError, match="`bias` must be a scalar or a 1-D array"):
        btm_torques(model, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="`phase_factors` must be 'paper' or 'thick_barrier'"):
        btm_torques(model, 0.1, phase_factors="exact")
    with pytest.raises(TypeError, match="`model` must be a BTMModel or FreeElectronBTM"):
        btm_torques("junction.toml", 0.1)
    with pytest.raises(ValueError, match="at or above the lowest barrier edge .* lower the bias"):
        btm_torques(fe, 2.5)
    table = BTMElectrode.from_table([-1.0, 0.0, 0.05], [1.0, 1.0, 1.0], [0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="top of an electrode table .* extend the table"):
        btm_torques(BTMModel(left=table, right=table, fermi_energy=0.0), 0.2)
    with pytest.raises(ValueError, match="`energy_range` must be \\(a, b\\) with a < b"):
        symmetric_form_torques(math.sin, math.sin, 0.1, energy_range=(1.0, 0.0))
    with pytest.raises(TypeError, match="`tau_parallel` must be a callable"):
        symmetric_form_torques(1.0, math.sin, 0.1, energy_range=(0.0, 1.0))
    with pytest.raises(TypeError, match="`barrier` must be a non-empty sequence of BarrierSegment"):
        FreeElectronBTM(fermi_energy=1.0, left=fe.left, right=fe.right, barrier=())
    with pytest.raises(ValueError,
                       match=r"`barrier_height` must be a number or a \(left_edge, right_edge\)"):
        free_electron_btm(1.5, 0.0, 2.0, 0.0, 2.0, (2.6, 2.6, 2.6), 1.0)


def test_table_electrode_interpolates_linearly():
    # from_table: piecewise-linear ρ, zero below the table (exact values at nodes/midpoints).
    el = BTMElectrode.from_table([0.0, 1.0, 2.0], [0.0, 2.0, 2.0], [0.0, 1.0, 0.0],
                                 phase=[0.1, 0.2, 0.3])
    assert el.dos(0.5) == pytest.approx(1.0) and el.dos(-0.1) == 0.0
    assert el.dos_difference(1.5) == pytest.approx(0.5)
    assert el.phase(0.25) == pytest.approx(0.125)
    assert el.nodes == (1.0,)


def test_analytic_package_does_not_import_kwant():
    # DESIGN §7: the analytic layer is NumPy/SciPy only.  Import every analytic module (and
    # the runner, which workers load) through the real package in a fresh interpreter where
    # `import kwant` fails: only building a Kwant system (make_system) imports Kwant.
    root = Path(__file__).resolve().parents[1]
    code = (
        "import sys\n"
        f"sys.path.insert(0, {str(root)!r})\n"
        "sys.modules['kwant'] = None\n"
        "import mtj_kwant.analytic as a\n"
        "from mtj_kwant.analytic import btm, slonczewski, inelastic, diffusion, fits\n"
        "import mtj_kwant.runner\n"
        "import mtj_kwant as mk\n"
        "mk.load_junction\n"
        "assert 'kwant' not in {m.split('.')[0] for m in sys.modules\n"
        "                       if sys.modules[m] is not None}\n"
        "print(len(a.__all__))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_docstring_examples_run():
    result = doctest.testmod(btm_module, extraglobs={"np": np})
    assert result.failed == 0 and result.attempted > 0
