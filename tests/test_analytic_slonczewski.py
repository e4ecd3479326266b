"""Tests of mtj_kwant.analytic.slonczewski: Slonczewski's free-electron limits.

References used here are independent of the module: a scalar wave-matching solve for the
rectangular barrier, an exact spinor (non-collinear) scattering solution for one transverse
channel, and brute-force k∥ quadrature.
"""

import doctest
import math

import numpy as np
import pytest

from mtj_kwant.analytic import slonczewski as sl
from mtj_kwant.analytic.slonczewski import (
    CONDUCTANCE_QUANTUM,
    HBAR2_OVER_2ME,
    FreeElectronElectrode,
    angular_conductance,
    barrier_decay_constant,
    conductance_per_area,
    inplane_torkance,
    out_of_plane_factor,
    polarization,
    rectangular_barrier_transmission,
    slonczewski_per_area,
    spin_wavevectors,
    thick_barrier_transmission,
)

RNG_SEED = 20240611


# ------------------------------------------------------------------------------------------
# independent references
# ------------------------------------------------------------------------------------------
def wave_matching_transmission(kl, kap, kr, d, ml, mb, mr):
    """Scalar transmission by solving the 4x4 matching problem (ψ and ψ'/m continuous)."""
    # unknowns: r, A (e^{-κx}), B (e^{κ(x-d)}), t ; incoming e^{i kl x}
    x = math.exp(-kap * d)
    m = np.array(
        [
            [1, -1, -x, 0],
            [-1j * kl / ml, kap / mb, -kap / mb * x, 0],
            [0, x, 1, -1],
            [0, -kap / mb * x, kap / mb, -1j * kr / mr],
        ],
        dtype=complex,
    )
    rhs = np.array([-1, -1j * kl / ml, 0, 0], dtype=complex)
    r, a, b, t = np.linalg.solve(m, rhs)
    return (kr / mr) / (kl / ml) * abs(t) ** 2


def spinor_window_spin_current(e, left, right, ub, d, theta, mb=1.0):
    """Exact single-channel (k∥ = 0) F/I/F scattering for electrons incoming from the left.

    Left magnetization p = (sin θ, 0, cos θ), right m = z.  Returns the charge and the spin
    current (x, y, z) at the right interface, summed over both incoming spins and normalised
    per unit incoming flux (i.e. transmission probabilities), from j = Im(ψ† σ ψ')/m.
    """
    c0 = HBAR2_OVER_2ME
    kap = math.sqrt(mb * (ub - e) / c0)

    def k(el, bottom):
        return math.sqrt(el.mass * (e - bottom) / c0)

    kl = {+1: k(left, left.majority_bottom), -1: k(left, left.minority_bottom)}
    kr = {+1: k(right, right.majority_bottom), -1: k(right, right.minority_bottom)}
    c, s = math.cos(theta / 2), math.sin(theta / 2)
    chil = {+1: np.array([c, s]), -1: np.array([-s, c])}
    chir = {+1: np.array([1.0, 0.0]), -1: np.array([0.0, 1.0])}
    x = math.exp(-kap * d)
    ml, mr = left.mass, right.mass
    sig = [np.eye(2), np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]),
           np.diag([1.0, -1.0])]
    total = np.zeros(4)
    for sp in (+1, -1):
        mat = np.zeros((8, 8), complex)
        rhs = np.zeros(8, complex)
        for a in range(2):  # unknowns: r+, r-, A(2), B(2), t+, t-
            mat[a, 0], mat[a, 1] = chil[+1][a], chil[-1][a]
            mat[a, 2 + a], mat[a, 4 + a] = -1, -x
            rhs[a] = -chil[sp][a]
            mat[2 + a, 0] = -1j * kl[+1] / ml * chil[+1][a]
            mat[2 + a, 1] = -1j * kl[-1] / ml * chil[-1][a]
            mat[2 + a, 2 + a], mat[2 + a, 4 + a] = kap / mb, -kap / mb * x
            rhs[2 + a] = -1j * kl[sp] / ml * chil[sp][a]
            mat[4 + a, 2 + a], mat[4 + a, 4 + a] = x, 1
            mat[4 + a, 6], mat[4 + a, 7] = -chir[+1][a], -chir[-1][a]
            mat[6 + a, 2 + a], mat[6 + a, 4 + a] = -kap / mb * x, kap / mb
            mat[6 + a, 6] = -1j * kr[+1] / mr * chir[+1][a]
            mat[6 + a, 7] = -1j * kr[-1] / mr * chir[-1][a]
        sol = np.linalg.solve(mat, rhs)
        amp_a, amp_b = sol[2:4], sol[4:6]
        psi = amp_a * x + amp_b
        dpsi = kap * (amp_b - amp_a * x)
        total += [np.vdot(psi, sg @ dpsi).imag / mb / (kl[sp] / ml) for sg in sig]
    return total, kap


def spinor_channel_spin_current(kx2_left, kx2_right, kappa, d, theta, ml=1.0, mb=1.0, mr=1.0):
    """Exact spinor scattering at one transverse wavevector k∥, open or evanescent channels.

    ``kx2_left``, ``kx2_right``: (majority, minority) squared longitudinal wavevectors
    k_x² = m(E − U_σ)/(ħ²/2m_e) − k∥² in the left (p = (sin θ, 0, cos θ)) and right (m = z)
    electrodes, arrays of shape (n,) or scalars; negative for an evanescent channel, whose
    outgoing wave is e^{q x} on the left and e^{−q (x−d)} on the right (q = √(−k_x²)).
    ``kappa``: decay constant in the barrier (k∥ included).  Electrons come in from the left
    in each open spin channel; the 8 matching conditions (ψ and ψ'/m continuous at x = 0 and
    x = d, barrier wave A e^{−κx} + B e^{κ(x−d)}) are solved without approximation.  Returns
    the charge and spin currents (x, y, z) in the right electrode at x = d, summed over the
    incoming spins per unit incoming flux (transmission probabilities), shape (n, 4).
    """
    kl2 = [np.atleast_1d(np.asarray(k, float)) for k in kx2_left]
    kr2 = [np.atleast_1d(np.asarray(k, float)) for k in kx2_right]
    kap = np.atleast_1d(np.asarray(kappa, float))
    n = max(a.size for a in (*kl2, *kr2, kap))
    kl2, kr2 = [np.broadcast_to(a, n) for a in kl2], [np.broadcast_to(a, n) for a in kr2]
    kap = np.broadcast_to(kap, n)

    def c(k2):  # outgoing waves: e^{i c (x − d)} on the right, e^{−i c x} on the left
        return np.where(k2 >= 0, np.sqrt(np.abs(k2)) + 0j, 1j * np.sqrt(np.abs(k2)))

    cl, cr = [c(k) for k in kl2], [c(k) for k in kr2]
    ch, sh = math.cos(theta / 2), math.sin(theta / 2)
    chil = (np.array([ch, sh]), np.array([-sh, ch]))  # majority / minority along p
    x = np.exp(-kap * d)
    sig = [np.eye(2), np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]),
           np.diag([1.0, -1.0])]
    total = np.zeros((n, 4))
    for sp in (0, 1):
        mat = np.zeros((n, 8, 8), complex)
        rhs = np.zeros((n, 8), complex)
        for a in range(2):  # unknowns: r_maj, r_min, A (2), B (2), t_maj, t_min (m frame)
            mat[:, a, 0], mat[:, a, 1] = chil[0][a], chil[1][a]
            mat[:, a, 2 + a], mat[:, a, 4 + a] = -1, -x
            rhs[:, a] = -chil[sp][a]
            mat[:, 2 + a, 0] = -1j * cl[0] / ml * chil[0][a]
            mat[:, 2 + a, 1] = -1j * cl[1] / ml * chil[1][a]
            mat[:, 2 + a, 2 + a], mat[:, 2 + a, 4 + a] = kap / mb, -kap / mb * x
            rhs[:, 2 + a] = -1j * cl[sp] / ml * chil[sp][a]
            mat[:, 4 + a, 2 + a], mat[:, 4 + a, 4 + a] = x, 1
            mat[:, 4 + a, 6 + a] = -1
            mat[:, 6 + a, 2 + a], mat[:, 6 + a, 4 + a] = -kap / mb * x, kap / mb
            mat[:, 6 + a, 6 + a] = -1j * cr[a] / mr
        t = np.linalg.solve(mat, rhs[..., None])[:, 6:8, 0]
        dt = 1j * np.stack(cr, axis=1) / mr * t  # ψ'/m on the right of x = d
        flux = np.where(kl2[sp] > 0, np.sqrt(np.abs(kl2[sp])) / ml, np.inf)  # closed: no flux
        for i, s in enumerate(sig):
            total[:, i] += np.einsum("na,ab,nb->n", t.conj(), s, dt).imag / flux
    return total

def thick_window_torque(kx2_left, kx2_right, kappa, d, theta, ml=1.0, mb=1.0, mr=1.0):
    """Thick-barrier prediction T∥ + iT⊥ (window, one channel) and the scale of its error.

    Returns ``(pred, scale)``: pred = ½(ρ_L↑ − ρ_L↓) e^{−2κd} sin θ · η_R (module's
    collector_spin_factor), and scale = ½(ρ_L↑ + ρ_L↓) e^{−2κd} sin θ |η_R|, the size of the
    contribution of one emitted spin, against which the O(e^{−2κd}) corrections (multiple
    reflections neglected on each side) are measured: the spin sum cancels in
    ρ_L↑ − ρ_L↓, the corrections do not.
    """
    kappa = np.asarray(kappa, float)
    kt = kappa / mb

    def rho(k2):
        k = np.sqrt(np.maximum(k2, 0.0)) / ml
        return 4 * kt * k / (kt * kt + k * k)

    x = np.exp(-2 * kappa * d)
    eta = sl.collector_spin_factor(*kx2_right, kappa, electrode_mass=mr, barrier_mass=mb)
    rl = [rho(k2) for k2 in kx2_left]
    pred = 0.5 * (rl[0] - rl[1]) * x * math.sin(theta) * eta
    return pred, 0.5 * (rl[0] + rl[1]) * x * math.sin(theta) * np.abs(eta)


def transverse(j):
    """T∥ + iT⊥ from the spin currents (x, y, z) = j[..., 1:4], for m = z, p = (sin θ, 0, cos θ).

    For 0 < θ < π, e∥ = m×(p×m)/|…| = x and e⊥ = m×p/|…| = y.
    """
    return j[..., 1] + 1j * j[..., 2]

# ------------------------------------------------------------------------------------------
# wavevectors, P, Q
# ------------------------------------------------------------------------------------------
def test_spin_wavevectors_follow_the_parabolic_bands():
    # k² = m (E − U ± Δ/2)/(ħ²/2m_e); closed channels give 0.  Tolerance: rounding.
    ku, kd = spin_wavevectors(1.0, 0.5, 2.0, mass=0.7)
    assert ku == pytest.approx(math.sqrt(0.7 * 1.5 / HBAR2_OVER_2ME), rel=1e-14)
    assert kd == 0.0  # minority bottom at 1.5 eV > E
    ku2, _ = spin_wavevectors(1.0, 0.5, 2.0, mass=0.7, k_parallel=1.0)
    assert ku2 == pytest.approx(math.sqrt(ku**2 - 1.0), rel=1e-14)


def test_polarization_vanishes_linearly_as_exchange_goes_to_zero():
    # P(Δ) = (k↑−k↓)/(k↑+k↓)·(...) with k↑−k↓ ∝ Δ: P(0) = 0 exactly and P/Δ tends to a finite
    # limit; halving Δ halves P up to O(Δ²) (relative change of P/Δ below 1e-3 at Δ = 1e-3 eV).
    kap = barrier_decay_constant(1.0, 3.0)  # κ² = 2 k², away from the sign change of P
    p0 = polarization(*spin_wavevectors(1.0, 0.0, 0.0), kap)
    assert p0 == 0.0
    slopes = [float(polarization(*spin_wavevectors(1.0, 0.0, dl), kap)) / dl for dl in (2e-3, 1e-3)]
    assert slopes[0] != 0.0
    assert slopes[1] == pytest.approx(slopes[0], rel=1e-3)


def test_polarization_changes_sign_at_kappa2_equal_kup_kdown():
    # Slonczewski's sign change: P > 0 for κ² > k↑k↓, P < 0 below, 0 at equality (to rounding).
    ku, kd = 9.0, 4.0
    k_star = math.sqrt(ku * kd)
    assert polarization(ku, kd, 1.01 * k_star) > 0
    assert polarization(ku, kd, 0.99 * k_star) < 0
    assert abs(polarization(ku, kd, k_star)) < 1e-15
    # the same with masses: κ̃² = k̃↑k̃↓ with k̃ = k/m_F, κ̃ = κ/m_b
    k_star_m = math.sqrt(ku * kd) / 0.8 * 0.4
    assert abs(polarization(ku, kd, k_star_m, electrode_mass=0.8, barrier_mass=0.4)) < 1e-15


def test_half_metal_has_unit_polarization():
    # closed minority channel (k↓ = 0): P = 1 exactly.
    assert polarization(3.0, 0.0, 5.0) == 1.0


def test_Q_is_the_tangent_of_the_transmission_phase_difference():
    # Q = tan(arg t↑ − arg t↓) with t = 2κ̃/(κ̃ − i k̃) (evanescent wave into the electrode).
    rng = np.random.default_rng(RNG_SEED)
    for _ in range(20):
        ku, kd, kap = rng.uniform(0.1, 10, 3)
        me, mb = rng.uniform(0.3, 1.5, 2)
        kt = kap / mb

        def t(k):
            return 2 * kt / (kt - 1j * k / me)

        phase = np.angle(t(ku)) - np.angle(t(kd))
        q = out_of_plane_factor(ku, kd, kap, electrode_mass=me, barrier_mass=mb)
        assert q == pytest.approx(math.tan(phase), rel=1e-12, abs=1e-14)


def test_Q_of_a_closed_minority_channel_is_the_phase_of_the_interface_spin_current():
    # For k↓ = iq the transverse spin current in the collector is (k̃↑ + iq̃) t↑* t↓ with
    # t↑ = 2κ̃/(κ̃ − ik̃↑), t↓ = 2κ̃/(κ̃ + q̃) (written out here), so that
    # −arctan(T⊥/T∥) = arctan(k̃↑/κ̃) − arctan(q̃/k̃↑); Q = tan of it and = −Im η/Re η.
    # q → 0 gives back the open formula at k↓ = 0.  Rounding tolerance.
    rng = np.random.default_rng(RNG_SEED + 7)
    for _ in range(20):
        ku, q, kap = rng.uniform(0.1, 10, 3)
        me, mb = rng.uniform(0.3, 1.5, 2)
        kt, kut, qt = kap / mb, ku / me, q / me
        current = (kut + 1j * qt) * np.conj(2 * kt / (kt - 1j * kut)) * 2 * kt / (kt + qt)
        got = out_of_plane_factor(ku, 0.0, kap, electrode_mass=me, barrier_mass=mb,
                                  minority_decay=q)
        assert got == pytest.approx(-current.imag / current.real, rel=1e-12, abs=1e-14)
        assert got == pytest.approx(math.tan(math.atan(kut / kt) - math.atan(qt / kut)),
                                    rel=1e-12, abs=1e-14)
        eta = sl.collector_spin_factor(ku**2, -(q**2), kap, electrode_mass=me, barrier_mass=mb)
        assert got == pytest.approx(-eta.imag / eta.real, rel=1e-12, abs=1e-14)
    tiny = out_of_plane_factor(3.0, 0.0, 5.0, minority_decay=1e-9)
    assert tiny == pytest.approx(out_of_plane_factor(3.0, 0.0, 5.0), rel=1e-8)
    with pytest.raises(ValueError, match="`minority_decay` must be 0 where `k_down` > 0"):
        out_of_plane_factor(3.0, 1.0, 5.0, minority_decay=1.0)
    with pytest.raises(ValueError, match="`minority_decay` must be >= 0"):
        out_of_plane_factor(3.0, 0.0, 5.0, minority_decay=-1.0)
    with pytest.raises(ValueError, match="needs an open majority channel"):
        out_of_plane_factor(0.0, 0.0, 5.0, minority_decay=1.0)

# ------------------------------------------------------------------------------------------
# transmissions
# ------------------------------------------------------------------------------------------
def test_rectangular_transmission_matches_wave_matching():
    # Closed form vs a direct linear solve of the matching conditions; both are exact, so only
    # rounding remains (1e-10 relative, the 4x4 solve loses a few digits for thick barriers).
    rng = np.random.default_rng(RNG_SEED + 1)
    for _ in range(30):
        kl, kr = rng.uniform(0.2, 8, 2)
        kap = rng.uniform(0.5, 8)
        d = rng.uniform(0.05, 2.0)
        ml, mb, mr = rng.uniform(0.3, 1.5, 3)
        ref = wave_matching_transmission(kl, kap, kr, d, ml, mb, mr)
        got = rectangular_barrier_transmission(kl, kap, kr, d, left_mass=ml, barrier_mass=mb,
                                               right_mass=mr)
        assert got == pytest.approx(ref, rel=1e-10)


def test_transmission_is_reciprocal_and_reduces_to_the_step():
    # T(L→R) = T(R→L); for d = 0 the step result 4 k̃L k̃R/(k̃L + k̃R)² (rounding tolerance).
    kw = dict(left_mass=0.7, barrier_mass=0.4, right_mass=1.2)
    kw_rev = dict(left_mass=1.2, barrier_mass=0.4, right_mass=0.7)
    assert rectangular_barrier_transmission(3.0, 4.0, 6.0, 0.7, **kw) == pytest.approx(
        rectangular_barrier_transmission(6.0, 4.0, 3.0, 0.7, **kw_rev), rel=1e-14
    )
    a, b = 3.0 / 0.7, 6.0 / 1.2
    assert rectangular_barrier_transmission(3.0, 4.0, 6.0, 0.0, **kw) == pytest.approx(
        4 * a * b / (a + b) ** 2, rel=1e-14
    )
    assert rectangular_barrier_transmission(0.0, 4.0, 6.0, 0.5) == 0.0  # closed channel


def test_thick_barrier_asymptote_within_derived_bound():
    # T_exact = T_thick/(1 + δ) with |δ| ≤ 2x + x², x = e^{-2κd} (docstring derivation), so
    # |T_exact/T_thick − 1| ≤ (2x + x²)/(1 − 2x − x²).  Checked for κd in [6, 12]; the bound is
    # not vacuous: the deviation grows by e^{2κΔd} when the barrier is thinned (for κ̃² = k̃L k̃R,
    # i.e. B = 0, the O(x) term of δ is 2x; at A = B it would vanish).
    rng = np.random.default_rng(RNG_SEED + 2)
    for _ in range(40):
        kl, kr, kap = rng.uniform(0.2, 8, 3)
        ml, mb, mr = rng.uniform(0.3, 1.5, 3)
        d = rng.uniform(6, 12) / kap
        kw = dict(left_mass=ml, barrier_mass=mb, right_mass=mr)
        x = math.exp(-2 * kap * d)
        bound = (2 * x + x * x) / (1 - 2 * x - x * x)
        ratio = rectangular_barrier_transmission(kl, kap, kr, d, **kw) / thick_barrier_transmission(
            kl, kap, kr, d, **kw
        )
        assert abs(ratio - 1) <= bound * (1 + 1e-9) + 1e-14
    dev = [
        abs(rectangular_barrier_transmission(2.0, 1.0, 0.5, dd)
            / thick_barrier_transmission(2.0, 1.0, 0.5, dd) - 1)
        for dd in (3.0, 4.0)
    ]
    assert dev[0] / dev[1] == pytest.approx(math.exp(2.0), rel=0.02)  # O(x) corrections: x = e^-6


def test_single_channel_conductance_has_the_slonczewski_angular_form():
    # Per channel, thick barrier: T_P = G0(1 + PL PR), T_AP = G0(1 − PL PR) with
    # G0 = (T_P + T_AP)/2 — an algebraic identity (rounding tolerance).
    rng = np.random.default_rng(RNG_SEED + 3)
    for _ in range(20):
        klu, kld, kru, krd, kap = rng.uniform(0.2, 8, 5)
        ml, mb, mr = rng.uniform(0.3, 1.5, 3)
        kw = dict(left_mass=ml, barrier_mass=mb, right_mass=mr)
        d = 1.0
        tp = (thick_barrier_transmission(klu, kap, kru, d, **kw)
              + thick_barrier_transmission(kld, kap, krd, d, **kw))
        tap = (thick_barrier_transmission(klu, kap, krd, d, **kw)
               + thick_barrier_transmission(kld, kap, kru, d, **kw))
        pl = polarization(klu, kld, kap, electrode_mass=ml, barrier_mass=mb)
        pr = polarization(kru, krd, kap, electrode_mass=mr, barrier_mass=mb)
        g0 = 0.5 * (tp + tap)
        assert angular_conductance(0.0, g0, pl, pr) == pytest.approx(tp, rel=1e-12)
        assert angular_conductance(math.pi, g0, pl, pr) == pytest.approx(tap, rel=1e-12)


# ------------------------------------------------------------------------------------------
# per-area integrals
# ------------------------------------------------------------------------------------------
FE = dict(energy=1.5, barrier_height=2.6)


def test_per_area_conductance_matches_brute_force_kpar_integral():
    # (e²/h) Σσ ∫ d²k/(2π)² T = (e²/h)(1/2π) Σσ ∫ k dk T, evaluated on a fine uniform k grid
    # (trapezoid, 200001 points; the √ end point limits it to ~1e-7), unit conversion nm⁻² → m⁻².
    left = FreeElectronElectrode(band_bottom=0.0, exchange=2.0, mass=0.8)
    right = FreeElectronElectrode(band_bottom=0.3, exchange=1.0, mass=1.1)
    d, mb = 0.8, 0.4
    got = conductance_per_area(1.5, left, right, 2.6, d, barrier_mass=mb)
    total = 0.0
    pairs = ((left.majority_bottom, right.majority_bottom),
             (left.minority_bottom, right.minority_bottom))
    for ul, ur in pairs:
        kl0 = math.sqrt(left.mass * (1.5 - ul) / HBAR2_OVER_2ME)
        kr0 = math.sqrt(right.mass * (1.5 - ur) / HBAR2_OVER_2ME)
        k = np.linspace(0.0, min(kl0, kr0), 200001)
        kl = np.sqrt(np.maximum(kl0**2 - k**2, 0))
        kr = np.sqrt(np.maximum(kr0**2 - k**2, 0))
        kap = np.sqrt(mb * (2.6 - 1.5) / HBAR2_OVER_2ME + k**2)
        t = rectangular_barrier_transmission(kl, kap, kr, d, left_mass=0.8, barrier_mass=mb,
                                             right_mass=1.1)
        total += np.trapezoid(k * t, k) / (2 * math.pi)
    assert got == pytest.approx(CONDUCTANCE_QUANTUM * total * 1e18, rel=1e-6)


def test_per_area_G_parallel_antiparallel_reach_the_thick_barrier_values():
    # For κ0 d ≥ 6 the exact per-area G_P, G_AP agree with the thick-barrier integrals
    # G0(1 ± <PL PR>) within the per-channel bound (2x + x²)/(1 − 2x − x²), x = e^{-2κ0 d}
    # (κ ≥ κ0 for every k∥, so normal incidence is the worst channel), plus the quadrature
    # tolerance 1e-9.
    left = FreeElectronElectrode(band_bottom=0.0, exchange=2.0, mass=0.8)
    right = FreeElectronElectrode(band_bottom=0.1, exchange=1.5, mass=0.8)
    mb, eb = 0.5, 2.6
    kap0 = float(barrier_decay_constant(1.5, eb, mb))
    for kd in (6.0, 9.0):
        d = kd / kap0
        x = math.exp(-2 * kd)
        tol = (2 * x + x * x) / (1 - 2 * x - x * x) + 1e-9
        coeff = slonczewski_per_area(1.5, left, right, eb, d, barrier_mass=mb)
        gp = conductance_per_area(1.5, left, right, eb, d, barrier_mass=mb, alignment="parallel")
        gap = conductance_per_area(1.5, left, right, eb, d, barrier_mass=mb,
                                   alignment="antiparallel")
        assert gp == pytest.approx(coeff.conductance(0.0), rel=tol)
        assert gap == pytest.approx(coeff.conductance(math.pi), rel=tol)
        assert gp != pytest.approx(gap, rel=1e-3)  # the junction does have a TMR


def test_inplane_torkance_helpers():
    # (ħ/2e) PL G0 sin θ and G0 (1 + PL PR cos θ), vectorised (rounding tolerance).
    th = np.linspace(0, np.pi, 5)
    assert np.allclose(inplane_torkance(th, 2.0, 0.3), 0.6 * np.sin(th), rtol=1e-15)
    assert np.allclose(angular_conductance(th, 2.0, 0.3, -0.5), 2.0 * (1 - 0.15 * np.cos(th)),
                       rtol=1e-15)


def test_slonczewski_torkance_and_Q_match_exact_spinor_scattering():
    # One transverse channel (k∥ = 0), non-collinear exact solution vs Slonczewski:
    #   charge   = Σσσ' T_σσ' |<σ|σ'>|² = G0 (1 + PL PR cos θ)       (per e²/h)
    #   T∥       = PL G0 sin θ  (in-plane torkance (ħ/2e) PL G0 sin θ)
    #   T⊥ (window, electrons from L) = −Q_R T∥.
    # Neglected growing-wave amplitudes are O(e^{-2κd}) relative with |r| ≤ 1 at each of two
    # interfaces; we allow 10 e^{-2κd}.
    cases = [
        # (E, left, right, U_b, d, θ, m_b)
        (1.0, FreeElectronElectrode(band_bottom=0.0, exchange=1.2),
         FreeElectronElectrode(band_bottom=0.2, exchange=0.8, mass=0.7), 2.5, 2.2, 1.0, 0.4),
        (2.62, FreeElectronElectrode(band_bottom=0.0, exchange=3.86),
         FreeElectronElectrode(band_bottom=0.0, exchange=3.86), 3.62, 2.0, 2.0, 0.4),
        (2.0, FreeElectronElectrode(band_bottom=0.0, exchange=2.5),
         FreeElectronElectrode(band_bottom=0.0, exchange=2.5), 3.0, 1.5, math.pi / 2, 1.0),
    ]
    for e, left, right, ub, d, theta, mb in cases:
        j, kap = spinor_window_spin_current(e, left, right, ub, d, theta, mb)
        tol = 10 * math.exp(-2 * kap * d)
        kl = spin_wavevectors(e, left.band_bottom, left.exchange, left.mass)
        kr = spin_wavevectors(e, right.band_bottom, right.exchange, right.mass)
        masses = dict(left_mass=left.mass, barrier_mass=mb, right_mass=right.mass)
        tp = sum(thick_barrier_transmission(a, kap, b, d, **masses) for a, b in zip(kl, kr))
        tap = sum(thick_barrier_transmission(a, kap, b, d, **masses) for a, b in zip(kl, kr[::-1]))
        g0 = 0.5 * (tp + tap)
        pl = polarization(*kl, kap, electrode_mass=left.mass, barrier_mass=mb)
        pr = polarization(*kr, kap, electrode_mass=right.mass, barrier_mass=mb)
        qr = out_of_plane_factor(*kr, kap, electrode_mass=right.mass, barrier_mass=mb)
        m, p = np.array([0, 0, 1.0]), np.array([math.sin(theta), 0, math.cos(theta)])
        e_par = np.cross(m, np.cross(p, m))
        e_par /= np.linalg.norm(e_par)
        e_perp = np.cross(m, p) / np.linalg.norm(np.cross(m, p))
        t_par, t_perp = j[1:] @ e_par, j[1:] @ e_perp
        assert j[0] == pytest.approx(angular_conductance(theta, g0, pl, pr), rel=tol)
        assert t_par == pytest.approx(inplane_torkance(theta, g0, pl), rel=tol)
        assert t_perp == pytest.approx(-qr * t_par, rel=tol)


def test_right_emitted_states_give_the_fermi_sea_terms_of_eq8():
    # Electrons incoming from the right (obtained from the same solver by mirroring x and
    # rotating the spin frame so that the new right electrode is along z): per channel,
    # T∥ = −PL G0 sin θ (cancels the left-emitted term at equilibrium) and T⊥ = −Q_L PR G0 sin θ,
    # i.e. the f_R terms of Eqs. (7)–(8) with cos ϕ_R → 1, tan ϕ_R = −Q_L.  Tolerance 10 e^{-2κd}.
    e, mb, ub, d, theta = 1.0, 0.4, 2.5, 2.2, 1.0
    left = FreeElectronElectrode(band_bottom=0.0, exchange=1.2)
    right = FreeElectronElectrode(band_bottom=0.2, exchange=0.8, mass=0.7)
    j, kap = spinor_window_spin_current(e, right, left, ub, d, -theta, mb)  # mirrored problem
    c, s = math.cos(theta), math.sin(theta)
    spin = -np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]) @ j[1:]  # back to the frame m = z, +x
    tol = 10 * math.exp(-2 * kap * d)
    kl = spin_wavevectors(e, left.band_bottom, left.exchange, left.mass)
    kr = spin_wavevectors(e, right.band_bottom, right.exchange, right.mass)
    masses = dict(left_mass=left.mass, barrier_mass=mb, right_mass=right.mass)
    g0 = 0.5 * sum(thick_barrier_transmission(a, kap, b, d, **masses) for a in kl for b in kr)
    pl = polarization(*kl, kap, electrode_mass=left.mass, barrier_mass=mb)
    pr = polarization(*kr, kap, electrode_mass=right.mass, barrier_mass=mb)
    ql = out_of_plane_factor(*kl, kap, electrode_mass=left.mass, barrier_mass=mb)
    # frame m = z, p = (sin θ, 0, cos θ): e∥ = x, e⊥ = y
    assert spin[0] == pytest.approx(-pl * g0 * s, rel=tol)
    assert spin[1] == pytest.approx(-ql * pr * g0 * s, rel=tol)


def test_evanescent_collector_minority_channel_matches_exact_spinor_scattering():
    # Transverse channels k∥ ≠ 0 of a junction whose collector minority channel is evanescent
    # there (k↓ = iq; the emitter's minority channel is open for k∥² < 10.5 nm⁻² and closed
    # above): the exact spinor solution vs T∥ = P_L G0 sin θ per channel and
    # T⊥ = −Q_R T∥ with the closed-channel Q_R (minority_decay = q).  κd = 4.8–6.0, so the
    # neglected multiple reflections are visible but small: |δ(T∥ + iT⊥)| ≤ 10 e^{−2κd} × scale
    # (thick_window_torque; measured ≤ 2.4 e^{−2κd} over 4000 random channels), hence
    # |δ(T⊥/T∥)| ≤ that × (1 + |T⊥/T∥|)/|T∥| (measured ≤ 0.04 of it).  The k↓ = 0 formula
    # (q → 0), which slonczewski_per_area used for every closed channel, misses by 60 to 5000
    # times that tolerance, with the wrong sign once q̃κ̃ > k̃↑² (T⊥/T∥ > 0).
    e, ub, d, theta, mb = 1.0, 2.5, 1.0, 1.0, 0.4
    left = FreeElectronElectrode(band_bottom=0.0, exchange=1.2)
    right = FreeElectronElectrode(band_bottom=0.2, exchange=0.8, mass=0.7)
    c0 = HBAR2_OVER_2ME

    def kx2(el, s):
        return [el.mass * (e - b) / c0 - s for b in (el.majority_bottom, el.minority_bottom)]

    n_sign_change = 0
    for s in (7.5, 8.0, 9.0, 12.0, 16.0, 20.0):  # collector minority closes at k∥² = 7.35
        kl2, kr2 = kx2(left, s), kx2(right, s)
        assert kr2[0] > 0 > kr2[1]
        kap = math.sqrt(mb * (ub - e) / c0 + s)
        x = math.exp(-2 * kap * d)
        j = transverse(spinor_channel_spin_current(kl2, kr2, kap, d, theta, 1.0, mb, 0.7)[0])
        pred, scale = thick_window_torque(kl2, kr2, kap, d, theta, 1.0, mb, 0.7)
        assert abs(j - pred) <= 10 * x * scale
        # the same through P_L, G0 and Q_R of the module
        kl = [math.sqrt(max(k, 0.0)) for k in kl2]
        ku_r, q_r = math.sqrt(kr2[0]), math.sqrt(-kr2[1])
        masses = dict(left_mass=1.0, barrier_mass=mb, right_mass=0.7)
        g0 = 0.5 * sum(thick_barrier_transmission(a, kap, ku_r, d, **masses) for a in kl)
        p_l = polarization(*kl, kap, barrier_mass=mb)
        q_closed = out_of_plane_factor(ku_r, 0.0, kap, electrode_mass=0.7, barrier_mass=mb,
                                       minority_decay=q_r)
        q_open_formula = out_of_plane_factor(ku_r, 0.0, kap, electrode_mass=0.7, barrier_mass=mb)
        t_par = inplane_torkance(theta, g0, p_l)
        assert abs(j.real - t_par) <= 10 * x * scale
        ratio, tol = j.imag / j.real, 10 * x * scale * (1 + abs(j.imag / j.real)) / abs(j.real)
        assert ratio == pytest.approx(-q_closed, abs=tol)
        assert abs(ratio + q_open_formula) > 50 * tol  # what the q → 0 formula gets
        n_sign_change += ratio > 0
    assert n_sign_change >= 1


def test_collector_spin_factor_matches_exact_spinor_scattering_in_every_regime():
    # Random channels (masses, κd in [3, 6], angle) with every combination of open and
    # evanescent channels in the emitter (majority open) and the collector, including a
    # collector without open channel (total reflection: T∥ = 0 but T⊥ ≠ 0).  Exact spinor
    # solution vs ½(ρ_L↑ − ρ_L↓) e^{−2κd} sin θ η_R; tolerance 10 e^{−2κd} × scale as above.
    rng = np.random.default_rng(RNG_SEED + 8)
    regimes = set()
    for n in range(48):
        kl2 = [rng.uniform(1, 60), rng.uniform(-30, 60)]
        kr2 = [rng.uniform(-30, 60), rng.uniform(-30, 60)]
        if n < 8:  # make sure that total reflection is well sampled
            kr2 = [-abs(k) for k in kr2]
        kap = rng.uniform(2, 10)
        ml, mb, mr = rng.uniform(0.3, 1.5, 3)
        d, theta = rng.uniform(3, 6) / kap, rng.uniform(0.2, 3.0)
        j = transverse(spinor_channel_spin_current(kl2, kr2, kap, d, theta, ml, mb, mr)[0])
        pred, scale = thick_window_torque(kl2, kr2, kap, d, theta, ml, mb, mr)
        assert abs(j - pred) <= 10 * math.exp(-2 * kap * d) * scale
        if max(kr2) < 0:
            assert pred.real == 0 and abs(j.real) <= 10 * math.exp(-2 * kap * d) * scale
            assert abs(j.imag) > 100 * math.exp(-2 * kap * d) * scale * abs(kr2[0] - kr2[1]) / 90
        regimes.add((kl2[1] > 0, kr2[0] > 0, kr2[1] > 0))
    assert len(regimes) == 8


def test_per_area_window_torkances_match_brute_force_exact_spinor_integral():
    # Asymmetric junction in which, with growing k∥, the collector's minority channel closes
    # (k∥² = 1.44 nm⁻²), then its majority channel (5.77 nm⁻²: total reflection), then the
    # emitter's minority (10.5) and majority (52.5) channels.  slonczewski_per_area vs
    # (e²/h) ∫ k dk/2π of the exact spinor spin current at θ = π/2, κ0 d = 5 (trapezoid on
    # 50001 points, √ kinks: 1e-6 relative).  Error budget: per channel the thick-barrier
    # error is ≤ 10 e^{−2κd} × scale (thick_window_torque), with κ ≥ κ0, hence
    # 10 e^{−2κ0 d} ∫ scale = 4.1e-3 of T∥ and 1.0e-2 of T⊥ (a cancellation between
    # k∥ < 1.2 and k∥ > 1.2 makes T⊥ small); measured 1.8e-4 and 5e-5, falling as
    # e^{−2κ0 d} with d.  Integrating −Q_R(q → 0) T∥ and stopping where the collector's
    # majority channel closes, as the module did, gives an error of −143 % (wrong sign);
    # stopping there with the exact integrand still misses 47 % of T⊥.
    e, ub, mb, theta = 1.5, 2.6, 0.5, math.pi / 2
    left = FreeElectronElectrode(band_bottom=0.0, exchange=2.0, mass=0.8)
    right = FreeElectronElectrode(band_bottom=1.375, exchange=0.15, mass=1.1)
    c0 = HBAR2_OVER_2ME
    kap0 = math.sqrt(mb * (ub - e) / c0)
    d = 5.0 / kap0
    coef = slonczewski_per_area(e, left, right, ub, d, barrier_mass=mb)
    kl2 = [left.mass * (e - b) / c0 for b in (left.majority_bottom, left.minority_bottom)]
    kr2 = [right.mass * (e - b) / c0 for b in (right.majority_bottom, right.minority_bottom)]
    k = np.linspace(0.0, math.sqrt(kl2[0]), 50001)
    s = k * k
    kap = np.sqrt(kap0**2 + s)
    args = ([a - s for a in kl2], [a - s for a in kr2], kap, d, theta, left.mass, mb, right.mass)
    torque = transverse(spinor_channel_spin_current(*args))

    def per_area(f):
        return CONDUCTANCE_QUANTUM * np.trapezoid(k * f, k) / (2 * math.pi) * 1e18

    t_par, t_perp = per_area(torque.real), per_area(torque.imag)
    budget = 10 * math.exp(-10.0) * per_area(thick_window_torque(*args)[1])
    assert budget < 1.1e-2 * min(abs(t_par), abs(t_perp))
    assert abs(coef.inplane_torkance - t_par) <= budget + 1e-6 * abs(t_par)
    assert abs(coef.outofplane_window_torkance - t_perp) <= budget + 1e-6 * abs(t_perp)
    # what the previous integrand gave
    inside = s < kr2[0]
    ku = np.sqrt(np.where(inside, kr2[0] - s, 0.0)) / right.mass
    kd = np.sqrt(np.maximum(kr2[1] - s, 0.0)) / right.mass
    kt = kap / mb
    q_open = kt * (ku - kd) / (kt**2 + ku * kd)
    assert per_area(np.where(inside, -q_open * torque.real, 0.0)) / t_perp - 1 < -1.0
    assert per_area(np.where(inside, torque.imag, 0.0)) / t_perp - 1 < -0.4

# ------------------------------------------------------------------------------------------
# errors and examples
# ------------------------------------------------------------------------------------------
def test_error_messages_name_the_argument():
    with pytest.raises(ValueError, match="`exchange` must be >= 0"):
        FreeElectronElectrode(band_bottom=0.0, exchange=-1.0)
    with pytest.raises(ValueError, match="`mass` must be > 0"):
        FreeElectronElectrode(band_bottom=0.0, exchange=1.0, mass=0.0)
    with pytest.raises(ValueError, match="`band_bottom` must be finite"):
        FreeElectronElectrode(band_bottom=np.nan, exchange=1.0)
    with pytest.raises(ValueError, match="lies at or above the barrier top"):
        barrier_decay_constant(3.0, 2.0)
    with pytest.raises(ValueError, match="`k_up` \\+ `k_down` must be > 0"):
        polarization(0.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="kappa > 0"):
        rectangular_barrier_transmission(1.0, -1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="`thickness` must be >= 0"):
        rectangular_barrier_transmission(1.0, 1.0, 1.0, -1.0)
    el = FreeElectronElectrode(band_bottom=0.0, exchange=1.0)
    with pytest.raises(ValueError, match="`alignment` must be 'parallel' or 'antiparallel'"):
        conductance_per_area(1.0, el, el, 2.0, 1.0, alignment="P")
    with pytest.raises(ValueError, match="`method` must be 'exact' or 'thick'"):
        conductance_per_area(1.0, el, el, 2.0, 1.0, method="wkb")
    with pytest.raises(ValueError, match="`energy` .* must lie below `barrier_height`"):
        conductance_per_area(2.5, el, el, 2.0, 1.0)
    with pytest.raises(TypeError, match="`left` must be a FreeElectronElectrode"):
        slonczewski_per_area(1.0, (0.0, 1.0), el, 2.0, 1.0)
    with pytest.raises(ValueError, match="below the majority band bottom"):
        slonczewski_per_area(-1.0, el, el, 2.0, 1.0)


def test_docstring_examples_run():
    # the Examples sections must not go stale
    result = doctest.testmod(sl, extraglobs={"np": np})
    assert result.failed == 0 and result.attempted > 0
