"""Macrospin LLGS dynamics (mtj_kwant.dynamics): analytic limits, thermal escape, cmtj, export.

The independent routes are written here: the angular-momentum balance of the free layer,
Sun's closed-form critical currents (with the field-like term), the exact mean first-passage
time of the axially symmetric Fokker–Planck equation (erfi quadrature), and the torque
equations of mumax3, OOMMF, ubermag and cmtj transcribed from their sources.
"""

import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.constants as C
from scipy.integrate import quad
from scipy.special import erfi

import mtj_kwant as mk
import mtj_kwant.dynamics as dyn
from mtj_kwant.dynamics import (ConstantTorque, DynamicsError, Macrospin, PolynomialTorque,
                                SlonczewskiTorque, TabulatedTorque)

MU0, HBAR, E, KB = C.mu_0, C.hbar, C.e, C.k


def in_plane(**kw):
    """Thin-film in-plane free layer, easy axis and p along x."""
    base = dict(Ms=8e5, thickness=2.0, area=50 * 100, alpha=0.05, Ku=4e4,
                easy_axis=(1, 0, 0), p=(1, 0, 0), H_applied=(1e4, 0, 0))
    return Macrospin(**{**base, **kw})


def perpendicular(**kw):
    """Thin-film perpendicular free layer, easy axis and p along z."""
    base = dict(Ms=1e6, thickness=1.2, area=40 * 40, alpha=0.05, Ku=1.0e6,
                H_applied=(0, 0, -2e4))
    return Macrospin(**{**base, **kw})


# ---------------------------------------------------------------------------------------------
# conventions
# ---------------------------------------------------------------------------------------------

def test_importing_the_package_does_not_import_cmtj():
    code = "import sys, mtj_kwant, mtj_kwant.dynamics; print('cmtj' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_spin_torque_is_the_absorbed_angular_momentum_and_turns_m_toward_p():
    """(M_s V/γ) dm/dt = (ħ/2e) T A with T = a m×(p×m) + b m×p (DESIGN §1), no field, α = 0."""
    from mtj_kwant.scan import torque_components

    fl = Macrospin(Ms=1.1e6, thickness=1.7, area=900, alpha=0.0, demag_factors=(0, 0, 0),
                   p=(0.3, -0.2, 0.9))
    p = np.asarray(fl.p)
    rng = np.random.default_rng(3)
    torque = ConstantTorque(eta_par=0.6, eta_perp=-0.25, b0=3e9)
    J = 7e10
    for m in rng.normal(size=(5, 3)):
        m /= np.linalg.norm(m)
        a, b = 0.6 * J, 3e9 - 0.25 * J
        T = a * np.cross(m, np.cross(p, m)) + b * np.cross(m, p)     # (ħ/2e) A/m²
        spin_rate = fl.Ms * fl.volume / fl.gamma * dyn.dm_dt(fl, torque, m, J)
        np.testing.assert_allclose(spin_rate, HBAR / (2 * E) * T * fl.area * 1e-18,
                                   rtol=1e-12, atol=1e-12 * np.abs(spin_rate).max())
        # the package's components of this vector: T∥ = a sin θ, T⊥ = b sin θ
        tpar, tperp = torque_components(T, m, p)
        sin = np.linalg.norm(np.cross(m, p))
        np.testing.assert_allclose([tpar, tperp], [a * sin, b * sin], rtol=1e-12)
        np.testing.assert_allclose(torque.components(J, math.acos(m @ p)), [a * sin, b * sin],
                                   rtol=1e-12)
        # T∥ > 0 turns m toward p
        assert dyn.dm_dt(fl, ConstantTorque(eta_par=0.6), m, J) @ p > 0
        assert dyn.dm_dt(fl, ConstantTorque(eta_par=0.6), m, -J) @ p < 0


def test_positive_bias_with_positive_a1_drives_the_free_layer_toward_p():
    """DESIGN §1: V > 0 drives electrons from the pinned into the free layer; T∥ > 0 → m → p."""
    fl = perpendicular(alpha=0.02, H_applied=(0, 0, 0))
    torque = PolynomialTorque(a1=2e12)
    m0 = dyn.tilted(-np.asarray(fl.p), 0.05)                        # antiparallel state
    tr = dyn.integrate(fl, torque, +0.5, 5e-9, m0=m0, stop_on_switch=True, switch_axis=fl.p)
    assert np.isfinite(tr.switching_time) and tr.m[-1] @ np.asarray(fl.p) > 0
    tr = dyn.integrate(fl, torque, -0.5, 5e-9, m0=m0, switch_axis=fl.p)
    assert np.isnan(tr.switching_time) and tr.m[-1] @ np.asarray(fl.p) < -0.999


# ---------------------------------------------------------------------------------------------
# deterministic integrators
# ---------------------------------------------------------------------------------------------

def test_energy_is_conserved_without_damping_and_torque():
    fl = in_plane(alpha=0.0, H_applied=(2e4, 1e4, 0))
    m0 = dyn.tilted((1, 0, 0), 1.0, toward=(0, 1, 1))
    tr = dyn.integrate(fl, ConstantTorque(eta_par=0.0), 0.0, 20e-9, m0=m0, rtol=1e-12, atol=0)
    my = tr.m[:, 1] - tr.m[:, 1].mean()
    precessions = np.count_nonzero(np.diff(np.sign(my))) / 2
    drift = np.max(np.abs(tr.energy - tr.energy[0])) / abs(tr.energy[0])
    assert precessions > 300
    assert drift < 1e-8, drift                                     # measured 1.8e-9
    assert np.max(np.abs(np.linalg.norm(tr.m, axis=1) - 1)) < 1e-14


def test_heun_converges_at_second_order():
    """Deterministic Heun (T = 0) against rk45 at rtol 1e-14: error ratio 4 per halving."""
    fl = in_plane(alpha=0.02, H_applied=(2e4, 1e4, 0))
    torque = ConstantTorque(eta_par=0.4, eta_perp=0.1)
    m0 = dyn.tilted((1, 0, 0), 1.0, toward=(0, 1, 1))
    ref = dyn.integrate(fl, torque, -5e10, 0.2e-9, m0=m0, rtol=1e-14, atol=0).m[-1]
    errs = [np.linalg.norm(dyn.integrate(fl, torque, -5e10, 0.2e-9, m0=m0, method="heun",
                                         dt=dt).m[-1] - ref)
            for dt in (5e-14, 2.5e-14, 1.25e-14)]
    order = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(np.abs(order - 2) < 0.1), order                  # measured 2.065, 2.034


def test_stochastic_heun_keeps_unit_norm_and_is_reproducible():
    fl = perpendicular(temperature=300.0)
    kw = dict(method="heun", dt=2e-13, seed=11)
    a = dyn.integrate(fl, ConstantTorque(eta_par=0.5), 1e10, 0.5e-9, **kw)
    b = dyn.integrate(fl, ConstantTorque(eta_par=0.5), 1e10, 0.5e-9, **kw)
    assert np.max(np.abs(np.linalg.norm(a.m, axis=1) - 1)) < 1e-14
    np.testing.assert_array_equal(a.m, b.m)
    assert np.std(a.m[:, 0]) > 1e-3                                # it does fluctuate


# ---------------------------------------------------------------------------------------------
# critical currents (Sun, PRB 62, 570 (2000), with the field-like term of the Gilbert form)
# ---------------------------------------------------------------------------------------------

def sun_critical_current(fl, eta_par, eta_perp, b0, hbar_field, s):
    """s(a − αb) = −(2e/ħ)αμ₀M_s d H̄ with a = η∥J, b = b₀ + η⊥J, solved for J."""
    k0 = 2 * E / HBAR * fl.alpha * MU0 * fl.Ms * fl.thickness * 1e-9 * hbar_field
    return (fl.alpha * b0 - s * k0) / (eta_par - fl.alpha * eta_perp)


@pytest.mark.parametrize("state,s", [("parallel", 1), ("antiparallel", -1)])
def test_critical_current_of_an_in_plane_macrospin_with_field_like_term(state, s):
    fl = in_plane()
    torque = ConstantTorque(eta_par=0.4, eta_perp=-0.8, b0=-2e10)   # α η⊥/η∥ = −10 %
    h_k = 2 * fl.Ku / (MU0 * fl.Ms)
    hbar_field = s * fl.H_applied[0] + h_k + fl.Ms / 2               # H + H_K + M_s/2
    jc = sun_critical_current(fl, 0.4, -0.8, -2e10, hbar_field, s)
    assert dyn.critical_drive(fl, torque, state=state) == pytest.approx(jc, rel=1e-12)
    th = dyn.switching_threshold(fl, torque, state=state, t_end=50e-9, criterion="instability",
                                 rtol=2e-3)
    assert th.drive == pytest.approx(jc, rel=0.01)                  # measured 1e-4
    without_field_like = sun_critical_current(fl, 0.4, 0.0, 0.0, hbar_field, s)
    assert abs(jc / without_field_like - 1) > 0.05                  # the term matters here


@pytest.mark.parametrize("state,s", [("parallel", 1), ("antiparallel", -1)])
def test_critical_switching_current_of_a_perpendicular_macrospin(state, s):
    fl = perpendicular()
    torque = ConstantTorque(eta_par=0.5, eta_perp=2.0, b0=1e10)
    hbar_field = 2 * fl.Ku / (MU0 * fl.Ms) - fl.Ms + s * fl.H_applied[2]   # H_K − M_s + H
    jc = sun_critical_current(fl, 0.5, 2.0, 1e10, hbar_field, s)
    assert dyn.critical_drive(fl, torque, state=state) == pytest.approx(jc, rel=1e-12)
    th = dyn.switching_threshold(fl, torque, state=state, t_end=100e-9, criterion="switch",
                                 rtol=1e-3)
    assert th.drive == pytest.approx(jc, rel=0.01)                  # measured 3e-3 (t_end)
    assert abs(jc / sun_critical_current(fl, 0.5, 0.0, 1e10, hbar_field, s) - 1) > 0.05


def test_critical_switching_voltage_of_a_polynomial_torque():
    """T∥ = (a1V + a2V²) sin θ, T⊥ = (b0 + b1V + b2V²) sin θ: a quadratic in V."""
    fl = perpendicular()
    co = dict(a1=4e11, a2=-1.5e11, b0=5e9, b1=1e11, b2=-6e11)
    torque = PolynomialTorque(**co, current=(1e12, 0.0, 2e11))
    hbar_field = 2 * fl.Ku / (MU0 * fl.Ms) - fl.Ms + fl.H_applied[2]
    k0 = 2 * E / HBAR * fl.alpha * MU0 * fl.Ms * fl.thickness * 1e-9 * hbar_field
    # (a1 − αb1)V + (a2 − αb2)V² − αb0 + k0 = 0, the root closest to 0
    al = fl.alpha
    roots = np.roots([co["a2"] - al * co["b2"], co["a1"] - al * co["b1"], k0 - al * co["b0"]])
    vc = min(roots.real[np.abs(roots.imag) < 1e-12], key=abs)
    assert dyn.critical_drive(fl, torque) == pytest.approx(vc, rel=1e-10)
    th = dyn.switching_threshold(fl, torque, t_end=100e-9, rtol=1e-3)
    assert th.drive == pytest.approx(vc, rel=0.01)
    jc = dyn.critical_current(fl, torque)
    assert jc == pytest.approx(1e12 * vc + 2e11 * vc**3, rel=1e-12)


# ---------------------------------------------------------------------------------------------
# thermal switching (Néel–Brown)
# ---------------------------------------------------------------------------------------------

def exact_escape_time(sigma, h, tau_n, z1):
    """Mean first-passage time from z = m·u = 1 to z1 for βU(z) = −σ(z² + 2hz).

    Brown's axially symmetric Fokker–Planck equation, 2τ_N ∂W/∂t = ∂_z[(1−z²)(∂_zW + WU')],
    has the backward equation e^U ∂_z[(1−z²)e^{−U}∂_zT] = −2τ_N with T(z1) = 0 and a
    reflecting z = 1, so T(1) = 2τ_N ∫_{z1}^1 dz e^{U}/(1−z²) ∫_z^1 e^{−U} dz'.
    """
    r = math.sqrt(sigma)

    def inner(z):      # ∫_z^1 exp(σ(z'² + 2hz')) dz'
        return (math.exp(-sigma * h * h) * math.sqrt(math.pi / sigma) / 2
                * (erfi(r * (1 + h)) - erfi(r * (z + h))))

    def f(z):
        if 1 - z < 1e-12:
            return 0.5
        return math.exp(-sigma * (z * z + 2 * h * z)) / (1 - z * z) * inner(z)

    return 2 * tau_n * quad(f, z1, 1, limit=400, epsabs=0, epsrel=1e-11)[0]


def thermal_layer(sigma, temperature=300.0, keff=2e5):
    """Perpendicular macrospin with K_eff V/k_BT = sigma, α = 1 (fastest diffusion)."""
    ku = keff + 0.5 * MU0 * 1e6**2
    volume = sigma * KB * temperature / keff
    return Macrospin(Ms=1e6, thickness=1.0, area=volume / 1e-9 * 1e18, alpha=1.0, Ku=ku,
                     temperature=temperature)


def stt_pseudo_field(fl, torque, drive):
    """h = s_c(a − αb)/(αγ₀H_K,eff), the spin torque as a field along p (Li & Zhang 2004)."""
    a, b = (float(v) for v in torque.coefficients(drive, 0.0))
    hk = 2 * fl.effective_anisotropy / (MU0 * fl.Ms)
    return fl.spin_torque_rate * (a - fl.alpha * b) / (fl.alpha * fl.gamma0 * hk)


def test_neel_brown_switching_time_at_subcritical_current():
    """I = 0.3 I_c: Δ(1 − I/I_c)² = 5; 1000 samples against the exact first-passage time."""
    h = -0.3
    fl = thermal_layer(5.0 / (1 + h) ** 2)
    torque = ConstantTorque(eta_par=0.5, eta_perp=0.1)
    hk = 2 * fl.effective_anisotropy / (MU0 * fl.Ms)
    # drive with h_stt = −0.3: s(η∥ − αη⊥)J = h αγ₀H_K
    J = h * fl.alpha * fl.gamma0 * hk / (fl.spin_torque_rate * (0.5 - fl.alpha * 0.1))
    assert stt_pseudo_field(fl, torque, J) == pytest.approx(h, rel=1e-12)
    assert J / dyn.critical_current(fl, torque) == pytest.approx(0.3, rel=1e-12)
    tau = exact_escape_time(fl.stability_factor, h, dyn.relaxation_time(fl), -0.5)
    ens = dyn.ensemble(fl, torque, J, 40 * tau, n=1000, dt=4e-13, seed=2024,
                       switch_axis=(0, 0, 1), switch_threshold=-0.5)
    assert ens.status() == "ok"
    mean, se = ens.mean_switching_time()
    assert abs(mean - tau) < 3 * se, (mean / tau - 1, se / tau)    # z = −0.2 (4000 samples:
    # −0.4 % ± 1.5 % at dt = 4e-13 s, +3.9 % at 8e-13 s: the step bias is below the noise)


def test_neel_brown_formula_approaches_the_exact_escape_time_for_high_barriers():
    """Brown's asymptotic 1/k against the exact time to reach the other well (z = −0.9):
    relative error O(1/σ_eff), σ_eff = σ(1 + h)² (measured −1.0/σ_eff to −1.46/σ_eff)."""
    for sigma in (40.0, 160.0):
        for h in (0.0, -0.3, 0.2):
            fl = thermal_layer(sigma)
            torque = ConstantTorque(eta_par=0.5)
            hk = 2 * fl.effective_anisotropy / (MU0 * fl.Ms)
            J = h * fl.alpha * fl.gamma0 * hk / (fl.spin_torque_rate * 0.5)
            exact = exact_escape_time(sigma, h, dyn.relaxation_time(fl), -0.9)
            err = dyn.neel_brown_time(fl, torque, J) / exact - 1
            assert abs(err) * sigma * (1 + h) ** 2 < 2.0, (sigma, h, err)


# ---------------------------------------------------------------------------------------------
# cmtj
# ---------------------------------------------------------------------------------------------

@pytest.fixture
def cmtj():
    mod = pytest.importorskip("cmtj")
    yield mod
    mod.constants.PhysicalConstants.resetToDefaults()


def cmtj_switching_time(junction, t_end, dt, p):
    """First crossing of m·p = 0 in cmtj's log.  cmtj labels the state after step i with the
    time i·Δt (``runSimulation``: t = i·timeStep, step, then log), so Δt is added back."""
    junction.runSimulation(t_end, dt, dt)
    log = junction.getLog()
    t = np.asarray(log["time"]) + dt
    g = np.stack([log["free_mx"], log["free_my"], log["free_mz"]], axis=1) @ np.asarray(p)
    cross = np.nonzero((g >= 0) != (g[0] >= 0))[0]
    if cross.size == 0:
        return math.nan
    i = cross[0]
    return t[i - 1] + (t[i] - t[i - 1]) * g[i - 1] / (g[i - 1] - g[i])


@pytest.mark.parametrize("geometry", ["perpendicular", "in-plane"])
def test_switching_time_agrees_with_cmtj_for_constant_coefficients(cmtj, geometry):
    if geometry == "perpendicular":
        fl, tilt, factor = perpendicular(), 0.05, 2.0
    else:
        fl, tilt, factor = in_plane(), 0.05, 2.0
    torque = ConstantTorque(eta_par=0.5, eta_perp=0.25, b0=1e10)
    J = factor * dyn.critical_drive(fl, torque)
    m0 = dyn.tilted(fl.p, tilt)
    ours = dyn.integrate(fl, torque, J, 20e-9, m0=m0, switch_axis=fl.p, rtol=1e-11, atol=0,
                         stop_on_switch=True).switching_time
    assert np.isfinite(ours)
    exported = dyn.export_parameters(torque, "cmtj", macrospin=fl, drive=J)
    theirs = cmtj_switching_time(dyn.cmtj_junction(exported, m0=m0), 1.5 * ours, 2e-14, fl.p)
    assert theirs == pytest.approx(ours, rel=0.01)                  # measured < 1e-6


# ---------------------------------------------------------------------------------------------
# export (sign conventions of the target codes)
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("v_sign,state", [(-1, "parallel"), (+1, "antiparallel")])
def test_exported_cmtj_parameters_drive_the_same_switching(cmtj, v_sign, state):
    """The exported names go straight into cmtj: same switch, same time, same direction."""
    fl = perpendicular()
    torque = PolynomialTorque(a1=6e11, a2=1e11, b0=4e9, b1=5e10, b2=-2e11,
                              current=(2e12, 0.0, 4e11))
    s = 1.0 if state == "parallel" else -1.0
    vc = dyn.critical_drive(fl, torque, state=state)
    assert np.sign(vc) == v_sign
    m0 = dyn.tilted(s * np.asarray(fl.p), 0.05)
    ex = dyn.export_parameters(torque, "cmtj", macrospin=fl, drive=[1.5 * vc, -1.5 * vc])
    pc = cmtj.constants.PhysicalConstants
    for name, setter in (("gyromagnetic_ratio", pc.set_gyromagnetic_ratio),
                         ("magnetic_permeability", pc.set_magnetic_permeability),
                         ("hbar", pc.set_hbar), ("elementary_charge", pc.set_elementary_charge)):
        setter(ex.parameters[name])
    for k, v in enumerate((1.5 * vc, -1.5 * vc)):
        q = ex.at(k)
        layer = cmtj.Layer.createSTTLayer(
            "free", cmtj.CVector(*m0), cmtj.CVector(*q["anis"]), q["Ms"], q["thickness"],
            q["cellSurface"], [cmtj.CVector(*row) for row in q["demagTensor"]],
            damping=q["damping"],
            SlonczewskiSpacerLayerParameter=q["SlonczewskiSpacerLayerParameter"],
            beta=q["beta"], spinPolarisation=q["spinPolarisation"])
        layer.setReferenceLayer(cmtj.CVector(*q["reference"]))
        junction = cmtj.Junction([layer])
        junction.setLayerAnisotropyDriver("free", cmtj.constantDriver(q["K"]))
        junction.setLayerCurrentDriver("free", cmtj.constantDriver(q["current"]))
        junction.setLayerExternalFieldDriver("free", cmtj.AxialDriver(*q["H"]))
        ours = dyn.integrate(fl, torque, v, 10e-9, m0=m0, switch_axis=fl.p, rtol=1e-11, atol=0,
                             stop_on_switch=True)
        theirs = cmtj_switching_time(junction, 10e-9 if k else 1.5 * ours.switching_time,
                                     2e-14, fl.p)
        if k == 0:      # beyond the threshold: both switch out of the state, at the same time
            assert theirs == pytest.approx(ours.switching_time, rel=0.01)
            assert np.sign(ours.m[-1] @ np.asarray(fl.p)) == -s
        else:           # the opposite polarity stabilises the state in both
            assert math.isnan(ours.switching_time) and math.isnan(theirs)


def mumax3_dmdt(m, H, q, gamma_ll, alpha, ms):
    """mumax3: cuda/lltorque2.cu + cuda/slonczewski2.cu (FixedLayerPosition top), times γ_LL.

    B in T; torque = −1/(1+α²)(m×B + α m×(m×B)) + Slonczewski term."""
    B = MU0 * H + np.asarray(q["B_ext"]) - MU0 * H_ext_of(q)
    mxB = np.cross(m, B)
    tq = -1 / (1 + alpha**2) * (mxB + alpha * np.cross(m, mxB))
    p = np.asarray(q["FixedLayer"])
    beta = (HBAR / E) * (q["J"] / (q["FreeLayerThickness"] * ms))
    l2 = q["Lambda"] ** 2
    eps = q["Pol"] * l2 / ((l2 + 1) + (l2 - 1) * (p @ m))
    A, Bc = beta * eps, beta * q["EpsilonPrime"]
    gilb = 1 / (1 + alpha**2)
    pxm = np.cross(p, m)
    tq = tq + gilb * (A + alpha * Bc) * np.cross(m, pxm) + gilb * (Bc - alpha * A) * pxm
    return gamma_ll * tq


def H_ext_of(q):     # the applied part already in the macrospin field H (see the test)
    return np.asarray(q["_H_applied"])


def oommf_dmdt(m, H, q, alpha, ms):
    """OOMMF Oxs_SpinXferEvolve::Calculate_dm_dt (fixed mp, Lambda_fixed = Lambda_free)."""
    H = H + np.asarray(q["H_b0"])
    gamma_ll = q["gamma_G"] / (1 + alpha**2)
    beta = q["J"] * abs(HBAR / (MU0 * E)) / q["thickness"]
    l2 = q["Lambda"] ** 2
    p = np.asarray(q["mp"])
    A, Bq = l2 + 1, (l2 - 1) * (m @ p)
    beta_q_plus = beta * l2 * q["P"]                                # 2 · ½β Λ² P
    betaeps = beta_q_plus / (A + Bq) / ms
    betaepsp = q["eps_prime"] * beta / ms
    coef1 = alpha * betaeps - betaepsp
    coef2 = alpha * betaepsp + betaeps
    mxH = np.cross(m, H)
    mxp = np.cross(m, p)
    scratch = np.cross(alpha * mxH + coef2 * mxp, m) + coef1 * mxp - mxH
    return gamma_ll * scratch


def ubermag_dmdt(m, H, q, alpha, ms):
    """micromagneticmodel: Precession + Damping (Gilbert) + Slonczewski (docstring)."""
    H = H + np.asarray(q["H_b0"])
    p = np.asarray(q["mp"])
    beta = abs(HBAR / (MU0 * E)) * q["J"] / (q["_t"] * ms)
    l2 = q["Lambda"] ** 2
    eps = q["P"] * l2 / ((l2 + 1) + (l2 - 1) * (m @ p))
    g0 = q["gamma0"]
    tau = g0 * beta * eps * np.cross(m, np.cross(p, m)) - g0 * beta * q["eps_prime"] * np.cross(m, p)
    # Gilbert: dm/dt = −γ₀ m×H + α m×dm/dt + τ, solved explicitly
    ll = -g0 * np.cross(m, H) + tau
    return (ll + alpha * np.cross(m, ll)) / (1 + alpha**2)


def cmtj_dmdt(m, H_layer, q):
    """cmtj core/junction.hpp Layer::solveLLG (STT branch, κ = 1)."""
    g0, ms_t = q["gyromagnetic_ratio"], q["Ms"]
    H = H_layer + np.asarray(q["H"])
    mxH = np.cross(m, H)
    dmdt = mxH + np.cross(m, mxH) * q["damping"]
    p = np.asarray(q["reference"])
    aj = q["hbar"] * q["current"] / (q["elementary_charge"] * ms_t * q["thickness"])
    l2 = q["SlonczewskiSpacerLayerParameter"] ** 2
    eta = q["spinPolarisation"] * l2 / (l2 + 1 + (l2 - 1) * (m @ p))
    stt = g0 * aj * eta
    fl_ = np.cross(m, p)
    dl = np.cross(m, fl_)
    return (-g0 * dmdt - stt * dl + stt * q["beta"] * fl_) / (1 + q["damping"] ** 2)


@pytest.mark.parametrize("target", ["mumax3", "oommf", "ubermag", "cmtj"])
@pytest.mark.parametrize("source", ["polynomial", "slonczewski"])
def test_exported_parameters_give_the_same_dm_dt_in_the_target_equations(target, source):
    fl = Macrospin(Ms=9e5, thickness=1.3, area=2000, alpha=0.03, Ku=3e5,
                   easy_axis=(0.6, 0, 0.8), H_applied=(1e4, -2e4, 3e4), p=(0.2, 0.5, -0.84))
    if source == "polynomial":
        torque = PolynomialTorque(a1=-3e11, a2=8e11, b0=-2e9, b1=4e10, b2=-3e11,
                                  current=(1.5e12, 1e10, 3e11))
        drives = [-0.4, 0.3]
    else:
        torque = SlonczewskiTorque(P=0.6, Lambda=1.0 if target == "cmtj" else 1.7,
                                   epsilon_prime=0.15)
        drives = [-2e11, 5e10]
    ex = dyn.export_parameters(torque, target, macrospin=fl, drive=drives)
    rng = np.random.default_rng(5)
    for k, x in enumerate(drives):
        q = dict(ex.at(k), _H_applied=fl.H_applied, _t=fl.thickness * 1e-9)
        for m in rng.normal(size=(4, 3)):
            m /= np.linalg.norm(m)
            ours = dyn.dm_dt(fl, torque, m, x)
            H_mag = fl.effective_field(m)                            # applied + anisotropy + demag
            if target == "mumax3":
                theirs = mumax3_dmdt(m, H_mag, q, q["GammaLL"], q["alpha"], q["Msat"])
            elif target == "oommf":
                theirs = oommf_dmdt(m, H_mag, q, q["alpha"], q["Ms"])
            elif target == "ubermag":
                theirs = ubermag_dmdt(m, H_mag, q, q["alpha"], q["Ms"])
            else:
                H_layer = H_mag - np.asarray(fl.H_applied)            # cmtj's H holds the applied part
                theirs = cmtj_dmdt(m, H_layer, q)
            np.testing.assert_allclose(theirs, ours, rtol=1e-9, atol=1e-9 * np.abs(ours).max())


def test_export_keeps_ubermag_polarization_positive_and_writes_scripts():
    fl = perpendicular()
    torque = PolynomialTorque(a1=-3e11, b1=1e10, current=(1e12, 0, 0))
    ex = dyn.export_parameters(torque, "ubermag", macrospin=fl, drive=[0.2])
    assert ex.at(0)["P"] > 0 and ex.at(0)["J"] < 0
    assert any("P > 0" in n for n in ex.notes)
    for target in dyn.export.TARGETS:
        text = dyn.export_parameters(torque, target, macrospin=fl, drive=0.2).script()
        assert text and "nan" not in text.lower()


# ---------------------------------------------------------------------------------------------
# torque models
# ---------------------------------------------------------------------------------------------

def test_tabulated_torque_reproduces_a_smooth_table_through_theta_0_and_pi():
    v = np.linspace(-0.5, 0.5, 9)
    th = np.radians([0, 30, 60, 90, 120, 150, 180])
    V, TH = np.meshgrid(v, th, indexing="ij")
    tpar = (1e11 * V + 4e11 * V**2) * np.sin(TH) + 2e10 * V * np.sin(2 * TH)
    tperp = (-1e9 + 3e11 * V**2) * np.sin(TH)
    J = 1e12 * V * (1 + 0.3 * np.cos(TH))
    tab = TabulatedTorque(v, th, tpar, tperp, J)
    assert tab.angular_residual < 1e-12
    for x in (-0.43, 0.07, 0.5):
        for t in (0.0, 0.4, math.pi / 2, 2.9, math.pi):
            a, b = tab.coefficients(x, math.cos(t))
            # a = T∥/sin θ = (a1V + a2V²) + 2·2e10 V cos θ (smooth at 0, π)
            assert a == pytest.approx(1e11 * x + 4e11 * x**2 + 4e10 * x * math.cos(t), rel=1e-9)
            assert b == pytest.approx(-1e9 + 3e11 * x**2, rel=1e-9)
            assert tab.current_density(x, math.cos(t)) == pytest.approx(
                1e12 * x * (1 + 0.3 * math.cos(t)), rel=1e-9)
    with pytest.raises(DynamicsError, match=r"drive 0\.6 V outside the model's range"):
        dyn.integrate(perpendicular(), tab, 0.6, 1e-9)


def test_tabulated_and_polynomial_models_give_the_same_switching():
    poly = PolynomialTorque(a1=6e11, a2=1e11, b0=4e9, b1=5e10, b2=-2e11, current=(2e12, 0, 4e11))
    v = np.linspace(-1, 1, 6)
    th = np.radians([20, 60, 90, 130])
    a, b = poly.coefficients(v[:, None], np.cos(th)[None, :])
    tab = TabulatedTorque(v, th, a * np.sin(th), b * np.sin(th),
                          poly.current_density(v[:, None], np.cos(th)[None, :]))
    fl = perpendicular()
    vc = dyn.critical_drive(fl, poly)
    assert dyn.critical_drive(fl, tab) == pytest.approx(vc, rel=1e-9)
    kw = dict(m0=dyn.tilted(fl.p, 0.05), switch_axis=fl.p, stop_on_switch=True)
    t1 = dyn.integrate(fl, poly, 1.5 * vc, 10e-9, **kw)
    t2 = dyn.integrate(fl, tab, 1.5 * vc, 10e-9, **kw)
    assert t2.switching_time == pytest.approx(t1.switching_time, rel=1e-9)
    np.testing.assert_allclose(t2.current_density, t1.current_density, rtol=1e-9)


def test_polynomial_torque_from_a_sweep_divides_by_sin_theta():
    from mtj_kwant.sweep import SweepResult

    v = np.linspace(-0.3, 0.3, 7)
    s = math.sin(math.radians(60))
    res = SweepResult(bias_V=v.tolist(), theta_deg=60.0, phi_deg=0.0, temperature_K=0.0,
                      current_density=(2e12 * v + 1e11 * v**3).tolist(),
                      torque_inplane_window=[0.0] * 7, torque_outofplane_window=[0.0] * 7,
                      errors={}, converged=[True] * 7, n_eval=[1] * 7, parts="total",
                      torque_inplane_total=((3e11 * v + 5e11 * v**2) * s).tolist(),
                      torque_outofplane_total=((-2e9 + 1e10 * v + 7e11 * v**2) * s).tolist())
    t = PolynomialTorque.from_sweep(res)
    assert (t.a1, t.a2, t.b0, t.b1, t.b2) == pytest.approx((3e11, 5e11, -2e9, 1e10, 7e11),
                                                            rel=1e-9, abs=1e-3)
    assert t.current == pytest.approx((2e12, 0.0, 1e11), rel=1e-9, abs=1.0)
    tab = TabulatedTorque.from_sweep(res)
    assert tab.coefficients(0.2, 0.3)[0] == pytest.approx(3e11 * 0.2 + 5e11 * 0.04, rel=1e-9)


def test_slonczewski_torque_angular_dependence():
    t = SlonczewskiTorque(P=0.4, Lambda=2.0, epsilon_prime=0.05)
    for c in (-1.0, -0.3, 0.0, 0.8, 1.0):
        eps = 0.4 * 4 / (5 + 3 * c)
        a, b = t.coefficients(1e11, c)
        assert a == pytest.approx(2e11 * eps, rel=1e-13)
        assert b == pytest.approx(-2e11 * 0.05, rel=1e-13)


# ---------------------------------------------------------------------------------------------
# bad input: one line, naming the parameter and the fix
# ---------------------------------------------------------------------------------------------

BASE = dict(Ms=1e6, thickness=1.0, area=1000.0, alpha=0.01)


@pytest.mark.parametrize("kwargs,pattern", [
    (dict(BASE, Ms=0.0), r"Macrospin: `Ms` must be > 0 A/m, got 0\.0"),
    (dict(BASE, Ms=-8e5), r"`Ms` must be > 0 A/m, got -800000\.0"),
    (dict(BASE, alpha=-0.01), r"`alpha` must be >= 0, got -0\.01"),
    (dict(BASE, alpha=0.0, temperature=300), r"`alpha` = 0 with `temperature` > 0.*give alpha > 0"),
    (dict(BASE, thickness=float("nan")), r"`thickness` must be finite"),
    (dict(BASE, Msat=1e6), r"unknown parameter 'Msat'; did you mean 'Ms'\?"),
    (dict(BASE, demag_factors=(0.2, 0.2, 0.2)), r"`demag_factors` must sum to 1"),
    (dict(BASE, p=(0, 0, 0)), r"`p` is a direction and cannot be the zero vector"),
    (dict(BASE, temperature=-1), r"`temperature` must be >= 0 K"),
])
def test_bad_macrospin_input_is_one_line(kwargs, pattern):
    with pytest.raises(DynamicsError, match=pattern) as err:
        Macrospin(**kwargs)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("call,pattern", [
    (lambda: ConstantTorque(eta=0.5), r"ConstantTorque: unknown parameter 'eta'; did you mean"),
    (lambda: PolynomialTorque(a1=1.0, a3=2.0), r"unknown parameter 'a3'.*valid parameters: a1"),
    (lambda: PolynomialTorque(a1=1.0, current=(1, 2)), r"`current` must be \(c1, c2, c3\)"),
    (lambda: SlonczewskiTorque(P=0.5, Lambda=0), r"`Lambda` must be > 0"),
    (lambda: dyn.integrate(Macrospin(**BASE), ConstantTorque(eta_par=1), 0, 1e-9,
                           method="euler"), r"`method` must be one of rk45, heun"),
    (lambda: dyn.integrate(Macrospin(**BASE, temperature=300), ConstantTorque(eta_par=1), 0,
                           1e-9), r"method 'rk45' is deterministic; use method='heun'"),
    (lambda: dyn.integrate(Macrospin(**BASE), ConstantTorque(eta_par=1), 0, 1e-9,
                           method="heun"), r"method 'heun' needs a fixed time step `dt`"),
    (lambda: dyn.export_parameters(ConstantTorque(eta_par=1), "vampire",
                                   macrospin=Macrospin(**BASE), drive=1e10),
     r"unknown target 'vampire'; choose one of mumax3, oommf, ubermag, cmtj"),
    (lambda: dyn.export_parameters(PolynomialTorque(a1=1e11), "mumax3",
                                   macrospin=Macrospin(**BASE), drive=0.1),
     r"has no current density.*PolynomialTorque\(current="),
    (lambda: dyn.export_parameters(SlonczewskiTorque(P=0.5, Lambda=2, epsilon_prime=0.1),
                                   "cmtj", macrospin=Macrospin(**BASE), drive=1e10),
     r"cmtj cannot represent Lambda != 1 together with epsilon_prime != 0"),
])
def test_bad_dynamics_input_is_one_line(call, pattern):
    with pytest.raises(DynamicsError, match=pattern) as err:
        call()
    assert "\n" not in str(err.value)


# ---------------------------------------------------------------------------------------------
# the rest of the API
# ---------------------------------------------------------------------------------------------

def test_tabulated_torque_from_a_scan_grid():
    from mtj_kwant.scan import ScanResult

    v, th = np.linspace(-0.2, 0.2, 5), np.array([30.0, 90.0, 150.0])
    V, TH = (g.ravel() for g in np.meshgrid(v, th, indexing="ij"))
    s = np.sin(np.radians(TH))
    cols = dict(bias_V=V.tolist(), theta_deg=TH.tolist(), phi_deg=[0.0] * V.size,
                temperature_K=[0.0] * V.size,
                torque_inplane_total=((2e11 * V + 3e11 * V**2) * s).tolist(),
                torque_outofplane_total=((-1e9 + 4e11 * V**2) * s).tolist(),
                current_density=(1e12 * V).tolist())
    scan = ScanResult(parameters=["bias_V", "theta_deg", "phi_deg", "temperature_K"],
                      columns=cols, settings={})
    tab = TabulatedTorque.from_scan(scan)
    a, b = tab.coefficients(0.13, -0.4)
    assert (a, b) == pytest.approx((2e11 * 0.13 + 3e11 * 0.13**2, -1e9 + 4e11 * 0.13**2),
                                   rel=1e-9)
    with pytest.raises(DynamicsError, match="no column 'torque_inplane_window'"):
        TabulatedTorque.from_scan(scan, part="window")


def test_a_current_pulse_switches_only_when_long_enough():
    fl = perpendicular()
    torque = ConstantTorque(eta_par=0.5)
    J = 3 * dyn.critical_drive(fl, torque)
    kw = dict(m0=dyn.tilted(fl.p, 0.05), switch_axis=fl.p)
    t_sw = dyn.integrate(fl, torque, J, 5e-9, stop_on_switch=True, **kw).switching_time

    def pulse(width):
        return ([0.0, width, width + 1e-12], [J, J, 0.0])

    long = dyn.integrate(fl, torque, pulse(1.3 * t_sw), 5e-9, **kw)
    short = dyn.integrate(fl, torque, pulse(0.5 * t_sw), 5e-9, **kw)
    assert long.m[-1] @ np.asarray(fl.p) < -0.99                    # switched and relaxed
    assert short.m[-1] @ np.asarray(fl.p) > 0.99                     # relaxed back
    assert long.switching_time == pytest.approx(t_sw, rel=1e-6)
    assert short.drive[-1] == 0.0 and short.drive[0] == J
    np.testing.assert_allclose(long.current_density, long.drive)      # J = drive (current model)


def test_ensemble_reports_censored_switching_times_and_trajectories_save(tmp_path):
    import json

    fl = thermal_layer(8.0)
    ens = dyn.ensemble(fl, ConstantTorque(eta_par=0.5), 0.0, 0.2e-9, n=20, dt=4e-13, seed=1,
                       switch_axis=(0, 0, 1), save_every=4e-12)
    assert math.isnan(ens.mean_switching_time()[0])
    assert ens.status().startswith(f"{ens.n - int(np.isfinite(ens.switching_times).sum())} of 20")
    assert ens.trajectories.shape == (20, 51, 3)
    again = dyn.ensemble(fl, ConstantTorque(eta_par=0.5), 0.0, 0.2e-9, n=20, dt=4e-13, seed=1,
                         switch_axis=(0, 0, 1))
    np.testing.assert_array_equal(again.m_final, ens.m_final)
    tr = dyn.integrate(perpendicular(), ConstantTorque(eta_par=0.5), 0.0, 1e-10)
    data = json.loads(tr.save(tmp_path / "tr.json").read_text())
    assert data["switching_time"] is None and len(data["t"]) == len(tr.t)
    # the results layer: kind, status and message in the file; load_result rebuilds it
    assert (data["kind"], data["status"], data["message"]) == ("trajectory", 0, "reached t_end")
    back = mk.load_result(tmp_path / "tr.json")
    assert isinstance(back, dyn.Trajectory) and back.success and math.isnan(back.switching_time)
    np.testing.assert_array_equal(back.m, tr.m)
    assert back.settings == json.loads(json.dumps(tr.to_dict()["settings"]))
    fl2 = perpendicular()
    tr2 = dyn.integrate(fl2, ConstantTorque(eta_par=0.5), 3 * dyn.critical_drive(
        fl2, ConstantTorque(eta_par=0.5)), 5e-9, m0=dyn.tilted(fl2.p, 0.05), switch_axis=fl2.p)
    assert dyn.switching_time(tr2) == pytest.approx(tr2.switching_time, rel=1e-3)


# ---------------------------------------------------------------------------------------------
# command line: mtj-kwant export (DESIGN §4)
# ---------------------------------------------------------------------------------------------

EXPORT_LAYER = ["--Ms", "8e5", "--thickness", "1.7", "--alpha", "0.02", "--area", "3000",
                "--Ku", "4e5", "--p", "0", "0", "-1", "--H-applied", "-2e4", "0", "1e3"]


@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory):
    """A real sweep of the bundled symmetric junction, written by the command line."""
    from mtj_kwant.cli import main

    from .conftest import SYSTEMS

    path = tmp_path_factory.mktemp("export") / "sweep.json"
    assert main(["sweep", str(SYSTEMS / "fe_mgo_fe.toml"), "--bias", "-0.2:0.2:5", "--parts",
                 "both", "--output", str(path), "--quiet"]) == 0
    return path


def _expected_export(sweep_path, target, Ms=8e5, d=1.7e-9, alpha=0.02, p=(0, 0, -1),
                     H=(-2e4, 0, 1e3)):
    """The sign table of DESIGN §10 applied by hand to the sweep's own numbers (θ = 90°)."""
    import json

    data = json.loads(Path(sweep_path).read_text())
    v = np.asarray(data["bias_V"])
    a = np.asarray(data["torque_inplane_total"])
    b = np.asarray(data["torque_outofplane_total"])
    J = np.asarray(data["current_density"])
    b0 = b[np.argmin(np.abs(v))]
    keep = v != 0
    a, bb, J = a[keep], b[keep] - b0, J[keep]
    h_b = -HBAR * b0 / (2 * E * MU0 * Ms * d) * np.asarray(p, float)
    if target in ("mumax3", "oommf"):
        out = {"J": J, "P": a / J, "eps": -bb / (2 * J)}
    elif target == "ubermag":
        s = np.sign(a / J)
        out = {"J": s * J, "P": np.abs(a / J), "eps": -s * bb / (2 * J)}
    else:
        ll_a = a - alpha * bb
        out = {"J": J, "P": ll_a / J, "beta": (bb + alpha * a) / ll_a}
    out["field"] = h_b
    out["B_ext"] = MU0 * (np.asarray(H, float) + h_b)
    out["H"] = np.asarray(H, float) + h_b
    out["bias"] = v[keep]
    return out


NAMES = {"mumax3": ("J", "Pol", "EpsilonPrime"), "oommf": ("J", "P", "eps_prime"),
         "ubermag": ("J", "P", "eps_prime"), "cmtj": ("current", "spinPolarisation", "beta")}


@pytest.mark.parametrize("target", ["mumax3", "oommf", "ubermag", "cmtj"])
def test_export_command_round_trip_from_a_sweep(small_sweep, tmp_path, capsys, target):
    """sweep JSON -> `mtj-kwant export` (stdout and JSON) -> the numbers of the sign table,
    computed here by hand from the sweep's torques at its own biases (the table model is exact
    there), for every target; the stdout snippets carry the same numbers as the JSON."""
    import json

    from mtj_kwant.cli import main

    args = ["export", str(small_sweep), "--format", target, *EXPORT_LAYER]
    if target in dyn.export.ONE_RUN_PER_FILE:
        # a .mif / .mx3 file holds one operating point: standard output refuses the sweep's
        # four in one line, --output writes one complete file per operating point
        assert main(args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "one file per operating point" in err[0]
        ext = {"oommf": ".mif", "mumax3": ".mx3"}[target]
        assert main(args + ["--output", str(tmp_path / f"x{ext}")]) == 0
        assert "4 files, one per operating point" in capsys.readouterr().out
        files = [tmp_path / f"x_{v}V{ext}" for v in ("-0.2", "-0.1", "0.1", "0.2")]
        texts = [f.read_text() for f in files]
        if target == "oommf":    # OOMMF reads a MIF file only if this is its first line
            assert all(t.startswith("# MIF 2.1\n") and t.count("# MIF") == 1 for t in texts)
        text = "\n".join(texts)
    else:
        assert main(args) == 0
        text = capsys.readouterr().out
    out = tmp_path / "e.json"
    assert main(args + ["--output", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    data = json.loads(out.read_text())
    expected = _expected_export(small_sweep, target)
    np.testing.assert_allclose(data["drive"], expected["bias"], atol=1e-12)
    q = data["parameters"]
    kj, kp, k3 = NAMES[target]
    np.testing.assert_allclose(q[kj], expected["J"], rtol=1e-9)
    np.testing.assert_allclose(q[kp], expected["P"], rtol=1e-9)
    np.testing.assert_allclose(q[k3], expected["beta" if target == "cmtj" else "eps"],
                               rtol=1e-9, atol=1e-12)
    field = {"mumax3": ("B_ext", "B_ext"), "oommf": ("H_b0", "field"),
             "ubermag": ("H_b0", "field"), "cmtj": ("H", "H")}[target]
    np.testing.assert_allclose(q[field[0]], expected[field[1]], rtol=1e-9, atol=1e-12)
    assert data["units"] and data["notes"] and data["convention"]["their_torque"]
    # the text: header with the sign-table row of this target, a table, one snippet per point
    comment = "//" if target == "mumax3" else "#"
    header = [line for line in text.splitlines() if line.startswith(comment)]
    assert any("T = a m×(p×m) + b m×p" in line for line in header)
    assert any(line.startswith(f"{comment} exported:") for line in header)
    assert text.count("--- operating point") == len(expected["bias"])
    fmt = lambda x: f"{x:.10g}"  # noqa: E731  (the snippets' number format)
    for k in range(len(expected["bias"])):
        assert fmt(q[kp][k]) in text and fmt(q[kj][k]) in text
    assert "nan" not in text.lower()


def test_export_command_fit_model_matches_the_library(small_sweep, tmp_path):
    """--model fit: the numbers of export_parameters on the sweep path (quadratic fits)."""
    import json

    from mtj_kwant.cli import main

    out = tmp_path / "fit.json"
    assert main(["export", str(small_sweep), "--format", "mumax3", "--model", "fit",
                 "--bias", "-0.15", "0.1", *EXPORT_LAYER, "--output", str(out)]) == 0
    q = json.loads(out.read_text())["parameters"]
    fl = Macrospin(Ms=8e5, thickness=1.7, area=3000, alpha=0.02, Ku=4e5, p=(0, 0, -1),
                   H_applied=(-2e4, 0, 1e3))
    ex = dyn.export_parameters(str(small_sweep), "mumax3", macrospin=fl, drive=[-0.15, 0.1])
    for key in ("J", "Pol", "EpsilonPrime", "B_ext"):
        np.testing.assert_allclose(q[key], ex.parameters[key], rtol=1e-12)


def test_export_sign_table_has_a_row_for_every_target():
    from mtj_kwant.cli import _sign_table

    rows = _sign_table()
    assert set(rows) == set(dyn.export.TARGETS)
    assert "FixedLayer" in rows["mumax3"][1] and "EpsilonPrime" in rows["mumax3"][2]
    assert "Oxs_SpinXferEvolve" in rows["oommf"][0] and "spinPolarisation" in rows["cmtj"][2]


@pytest.fixture(scope="module")
def bad_inputs(small_sweep, tmp_path_factory):
    import json

    folder = tmp_path_factory.mktemp("bad")
    (folder / "text.json").write_text("not json at all")
    (folder / "other.json").write_text(json.dumps({"x_nm": [0, 1], "bias_V": 0.1}))
    data = json.loads(small_sweep.read_text())
    data["torque_inplane_total"] = data["torque_outofplane_total"] = None
    (folder / "window.json").write_text(json.dumps(data))
    return folder


def _export_errors(sweep, bad):
    layer = ["--Ms", "1e6", "--thickness", "1.5", "--alpha", "0.01"]
    return [
        (["export", str(bad / "missing.json"), "--format", "mumax3", *layer],
         r"missing\.json: no such sweep file; write one with 'mtj-kwant sweep"),
        (["export", str(bad / "text.json"), "--format", "oommf", *layer],
         r"text\.json: not a sweep result \(not JSON"),
        (["export", str(bad / "other.json"), "--format", "oommf", *layer],
         r"other\.json: not a sweep result \(no theta_deg, current_density"),
        (["export", str(bad / "window.json"), "--format", "cmtj", *layer, "--area", "100"],
         r"window\.json: the sweep has no 'total' torques; rerun it with --parts total"),
        (["export", str(sweep), "--format", "mumax4", *layer],
         r"argument --format: invalid choice: 'mumax4' \(choose from 'mumax3', 'oommf'"),
        (["export", str(sweep), "--format", "mumax3", "--Ms", "-1e6", "--thickness", "1",
          "--alpha", "0.01"], r"--Ms: must be a finite number of A/m > 0, got -1e\+06"),
        (["export", str(sweep), "--format", "mumax3", "--Ms", "0", "--thickness", "1",
          "--alpha", "0.01"], r"--Ms: must be a finite number of A/m > 0, got 0$"),
        (["export", str(sweep), "--format", "ubermag", "--thickness", "1", "--alpha", "0.01"],
         r"the following arguments are required: --Ms"),
        (["export", str(sweep), "--format", "mumax3", "--Ms", "1e6", "--thickness", "nan",
          "--alpha", "0.01"], r"--thickness: must be a finite number of nm > 0, got nan"),
        (["export", str(sweep), "--format", "cmtj", *layer],
         r"--area: cmtj needs the junction area in nm\^2"),
        (["export", str(sweep), "--format", "mumax3", *layer, "--bias", "0.5"],
         r"--bias: 0\.5 V lies outside the sweep's biases \[-0\.2, 0\.2\] V"),
        (["export", str(sweep), "--format", "mumax3", *layer, "--p", "0", "1"],
         r"--p: give three numbers X Y Z, got 2"),
    ]


def test_export_command_errors_are_one_line(small_sweep, bad_inputs, capsys):
    import re

    from mtj_kwant.cli import main

    for args, pattern in _export_errors(small_sweep, bad_inputs):
        code = main(args)
        err = capsys.readouterr().err
        assert code != 0, args
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("mtj-kwant: error: "), err
        assert re.search(pattern, lines[0]), (pattern, lines[0])
        assert "Traceback" not in err


def test_export_command_without_traceback_from_the_shell(bad_inputs):
    proc = subprocess.run([sys.executable, "-m", "mtj_kwant.cli", "export",
                           str(bad_inputs / "text.json"), "--format", "mumax3", "--Ms", "1e6",
                           "--thickness", "1", "--alpha", "0.01"],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("mtj-kwant: error: ") and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


# ---- review fixes: Heun step bound, Néel–Brown validity, thresholds, exports ------------------

def _review_layer(**kw):
    """The fresh-user review's perpendicular layer: M_s = 1e6 A/m, K_u = 1e6 J/m³, α = 0.01."""
    return Macrospin(**{**dict(Ms=1e6, thickness=1.5, area=1600, alpha=0.01, Ku=1e6), **kw})


def test_heun_refuses_a_step_that_gives_garbage():
    """dt = 5e-12 (γ₀|H_eff|dt = 0.65) ended at m_z = 0.751 with the energy rising and
    success=True; the bound min(0.2, (0.8α)^(1/3)) on ω_max·dt now refuses it."""
    fl = _review_layer()
    torque = ConstantTorque(eta_par=0.0)
    m0 = dyn.tilted((0, 0, 1), 0.1)
    dmax = dyn.heun_max_dt(fl, torque)
    assert dmax == pytest.approx(0.2 / (fl.gamma0 * (fl.anisotropy_field - fl.Ms)), rel=1e-9)
    for dt in (5e-12, 1e-10):
        with pytest.raises(DynamicsError, match=r"^integrate: `dt` = .* use dt <= 1\.53e-12 s"):
            dyn.integrate(fl, torque, 0.0, 5e-9, m0=m0, method="heun", dt=dt)
    with pytest.raises(DynamicsError, match=r"^ensemble: `dt` = 2e-11 s is too large"):
        dyn.ensemble(fl.with_(temperature=300.0), torque, 0.0, 5e-9, n=4, dt=2e-11)
    tr = dyn.integrate(fl, torque, 0.0, 5e-9, m0=m0, method="heun", dt=dmax)
    assert tr.m[-1, 2] > 0.9999 and np.all(np.diff(tr.energy) <= 1e-30)
    # the anti-damping θ³/8 of the Heun step forces a smaller θ at small α; α = 0: rk45 only
    assert dyn.heun_max_dt(fl.with_(alpha=0.001), torque) == pytest.approx(
        (0.8e-3) ** (1 / 3) / 0.2 * dmax, rel=1e-9)
    with pytest.raises(DynamicsError, match=r"alpha = 0 .* use method='rk45'"):
        dyn.integrate(fl.with_(alpha=0.0), torque, 0.0, 1e-9, method="heun", dt=1e-14)
    # the spin torque's precession rate counts too
    assert dyn.heun_max_dt(fl, ConstantTorque(eta_par=0.5), 1e13) < 0.5 * dmax


def test_heun_ends_exactly_at_t_end():
    """dt = 6e-10 and t_end = 1e-9 ended at 1.2e-9 while reporting "reached t_end"."""
    fl = in_plane(alpha=0.5, Ku=0.0, H_applied=(1e3, 0, 0))
    torque = ConstantTorque(eta_par=0.0)
    dt = 0.9 * dyn.heun_max_dt(fl, torque)
    t_end = 2.5 * dt
    tr = dyn.integrate(fl, torque, 0.0, t_end, method="heun", dt=dt, m0=(0, 1, 0))
    assert tr.t[-1] == pytest.approx(t_end, rel=1e-12)
    assert tr.settings["dt"] == pytest.approx(t_end / 3, rel=1e-12)


def test_neel_brown_time_is_nan_with_a_reason_outside_its_validity():
    """Δ = 41.5, η∥ = 0.5: I/I_c = 0.8, 0.9, 0.99, 1.0 gave 8.0e-8, 8.7e-8, 5.5e-6, 4.4e22 s
    (non-monotonic), above 1 gave 0.0; NaN drive gave inf; a TabulatedTorque extrapolated."""
    fl = thermal_layer(41.5).with_(alpha=0.01)
    torque = ConstantTorque(eta_par=0.5)
    ic = dyn.critical_drive(fl, torque)
    taus = [dyn.neel_brown_time(fl, torque, r * ic) for r in (0.0, 0.3)]
    for r, error in ((0.6, "15 to 23 %"), (0.65, "20 to 30 %")):   # barrier 6.64, 5.08
        with pytest.warns(dyn.DynamicsWarning, match=f"short by about {error}"):
            taus.append(dyn.neel_brown_time(fl, torque, r * ic))
    assert np.all(np.diff(taus) < 0) and np.all(np.isfinite(taus))
    # 41.5 × 0.3² = 3.735: printed 3.73 or 3.74 depending on the last bit
    for r, why in ((0.7, r"barrier sigma\*\(1\+h\)\^2 = 3\.7[34] < 5"), (0.99, "< 5"),
                   (1.0, "returning NaN"), (1.2, r"h = -1\.2 <= -1, the state is unstable")):
        with pytest.warns(dyn.DynamicsWarning, match=why):
            assert math.isnan(dyn.neel_brown_time(fl, torque, r * ic))
    with pytest.warns(dyn.DynamicsWarning, match="no second well"):
        assert math.isnan(dyn.neel_brown_time(fl.with_(H_applied=(0, 0, 3e6))))
    with pytest.raises(DynamicsError, match="the drive must be finite"):
        dyn.neel_brown_time(fl, torque, math.nan)
    with pytest.raises(DynamicsError, match=r"`drive` must be a number"):
        dyn.neel_brown_time(fl, torque, [1e11, 2e11])
    v = np.linspace(-0.3, 0.3, 5)
    th = np.radians([30, 90, 150])
    V, TH = np.meshgrid(v, th, indexing="ij")
    tab = TabulatedTorque(v, th, 1e11 * V * np.sin(TH), 0 * V, 1e12 * V + 0 * TH)
    msg = r"drive 0\.5 V outside the model's range \[-0\.3, 0\.3\] V"
    with pytest.raises(DynamicsError, match=msg):
        dyn.neel_brown_time(fl, tab, 0.5)
    with pytest.raises(DynamicsError, match=msg):
        dyn.integrate(fl.with_(temperature=0.0), tab, 0.5, 1e-9)


def test_switch_threshold_outside_the_range_of_m_dot_axis_is_refused():
    """switch_threshold = 5 was accepted and gave a NaN switching time."""
    with pytest.raises(DynamicsError, match=r"^integrate: `switch_threshold` .* \(-1, 1\), got 5\.0"):
        dyn.integrate(perpendicular(), ConstantTorque(eta_par=0.5), 0.0, 1e-9,
                      switch_threshold=5)


def test_from_scan_names_the_right_constructor_for_a_sweep():
    """A SweepResult (one θ) given to TabulatedTorque.from_scan: one line naming from_sweep."""
    from mtj_kwant.sweep import SweepResult

    sweep = SweepResult.__new__(SweepResult)
    with pytest.raises(DynamicsError, match="from_sweep"):
        TabulatedTorque.from_scan(sweep)
    with pytest.raises(DynamicsError, match="expected a ScanResult"):
        TabulatedTorque.from_scan(42)


# ---- review fixes (2): complete snippets, honest b0, one-line errors, sampling, knots ----------

def _snippet_layer():
    """Every macrospin parameter away from its default, so that a snippet that drops one fails."""
    return Macrospin(Ms=9e5, thickness=1.3, area=2000, alpha=0.03, Ku=3e5, easy_axis=(0.6, 0, 0.8),
                     demag_factors=(0.1, 0.2, 0.7), H_applied=(1e4, -2e4, 3e4),
                     p=(0.2, 0.5, -0.84), temperature=300.0, gamma=1.8e11)


def _fmt(x):
    return f"{float(x) + 0.0:.10g}"


@pytest.mark.parametrize("target", ["mumax3", "oommf", "ubermag", "cmtj"])
def test_export_snippet_carries_the_whole_macrospin(target):
    """Ms, thickness and cell, Ku and its axis, N, H_applied and the b0 field, alpha, gamma,
    temperature, m0 and the torque all appear in the snippet with their exported values, and
    the snippet says how to add a field of one's own (the reviewer found Ku, H, T, m0 missing)."""
    fl = _snippet_layer()
    torque = PolynomialTorque(a1=-3e11, a2=8e11, b0=-2e9, b1=4e10, b2=-3e11,
                              current=(1.5e12, 1e10, 3e11))
    m0 = dyn.tilted(fl.p, 0.3)
    ex = dyn.export_parameters(torque, target, macrospin=fl, drive=[-0.4, 0.3], m0=m0)
    text = ex.script(1)
    q = ex.at(1)
    L, d = math.sqrt(fl.area) * 1e-9, fl.thickness * 1e-9
    ms_value = MU0 * fl.Ms if target == "cmtj" else fl.Ms
    expected = [ms_value, d, fl.Ku, fl.alpha, fl.temperature, *m0, *(np.asarray(fl.easy_axis))]
    if target == "mumax3":
        expected += [L, fl.gamma, *q["B_ext"], *(-MU0 * fl.Ms * np.asarray(fl.demag_factors))]
    elif target in ("oommf", "ubermag"):
        expected += [L, fl.gamma0, *fl.H_applied, *q["H_b0"]]
        expected += [-0.5 * MU0 * fl.Ms**2 * n for n in fl.demag_factors]
    else:
        expected += [fl.gamma0, *q["H"], fl.area * 1e-18, *fl.demag_factors]
    torque_keys = {"mumax3": ("J", "Pol", "EpsilonPrime"), "oommf": ("J", "P", "eps_prime"),
                   "ubermag": ("J", "P", "eps_prime"),
                   "cmtj": ("current", "spinPolarisation", "beta")}[target]
    expected += [q[k] for k in torque_keys]
    missing = [x for x in expected if _fmt(x) not in text]
    assert not missing, (missing, text)
    how = {"mumax3": "B_ext is one quantity", "oommf": "one more Oxs_FixedZeeman",
           "ubermag": "one more mm.Zeeman", "cmtj": "one external-field driver per layer"}
    assert how[target] in text
    assert "interlayer exchange" not in text          # a model's b0 is not called that
    assert "nan" not in text.lower()


def test_exported_cmtj_snippet_runs_and_switches_like_integrate(cmtj):
    """The cmtj snippet, executed as it is, builds the junction that switches at our time."""
    fl = perpendicular()
    torque = ConstantTorque(eta_par=0.5, eta_perp=0.25, b0=1e10)
    J = 2.0 * dyn.critical_drive(fl, torque)
    m0 = dyn.tilted(fl.p, 0.05)
    ours = dyn.integrate(fl, torque, J, 20e-9, m0=m0, switch_axis=fl.p, rtol=1e-11, atol=0,
                         stop_on_switch=True).switching_time
    scope = {}
    exec(dyn.export_parameters(torque, "cmtj", macrospin=fl, drive=J, m0=m0).script(), scope)
    theirs = cmtj_switching_time(scope["junction"], 1.5 * ours, 2e-14, fl.p)
    assert theirs == pytest.approx(ours, rel=0.01)    # as the cmtj_junction test: measured < 1e-6


def _synthetic_sweep(path, bias, theta_deg=90.0, b0=-1.5e8):
    """A sweep JSON with known torques (parts both): window T⊥ vanishes at V = 0, total has b0."""
    from mtj_kwant.sweep import SweepResult

    v = np.asarray(bias, float)
    s = math.sin(math.radians(theta_deg))
    tpar = (1e8 * v + 3e8 * v**2) * s
    twin = -2e8 * v**2 * s
    n = v.size
    res = SweepResult(bias_V=v.tolist(), theta_deg=theta_deg, phi_deg=0.0, temperature_K=0.0,
                      current_density=(1e10 * v).tolist(), torque_inplane_window=tpar.tolist(),
                      torque_outofplane_window=twin.tolist(), errors={}, converged=[True] * n,
                      n_eval=[1] * n, parts="both", torque_inplane_total=tpar.tolist(),
                      torque_outofplane_total=(twin + b0 * s).tolist())
    res.save(path)
    return path


def test_b0_is_called_interlayer_exchange_only_for_the_total_torque_at_v_zero(tmp_path, capsys):
    """A window-only fit constant was printed as "b0 (interlayer exchange)"."""
    import json

    from mtj_kwant.cli import main

    fl = perpendicular()
    no_zero = _synthetic_sweep(tmp_path / "nozero.json", [-0.3, -0.2, -0.1, 0.1, 0.2, 0.3])
    with_zero = _synthetic_sweep(tmp_path / "zero.json", [-0.2, -0.1, 0.0, 0.1, 0.2])
    ex = dyn.export_parameters(str(no_zero), "mumax3", macrospin=fl, drive=0.1, part="window")
    assert ex.b0_meaning.startswith("fit constant, window part only; not the interlayer exchange")
    assert not any("(interlayer exchange" in n for n in ex.notes)
    ex = dyn.export_parameters(str(with_zero), "mumax3", macrospin=fl, drive=0.1, part="total")
    assert ex.b0_meaning.startswith("interlayer exchange")
    assert ex.b0 == pytest.approx(-1.5e8, rel=1e-6)  # the exact quadratic: fit = data
    ex = dyn.export_parameters(str(no_zero), "mumax3", macrospin=fl, drive=0.1, part="total")
    assert "no V = 0 point" in ex.b0_meaning and "not a computed one" in ex.b0_meaning
    layer = ["--Ms", "1e6", "--thickness", "1.2", "--alpha", "0.05", "--bias", "0.1"]
    for sweep, part, model, phrase in (
            (no_zero, "window", "fit", "(fit constant, window part only; not the interlayer"),
            (with_zero, "window", "table", "window part only, zero up to the integration error"),
            (with_zero, "total", "table", "(interlayer exchange: the total (Fermi-sea) torque"),
            (no_zero, "total", "table", "(b(V = 0) of the total torque, interpolated"),
            (no_zero, "total", "fit", "(fit constant of the total torque; the sweep has no")):
        out = tmp_path / f"{part}_{model}_{sweep.stem}.json"
        assert main(["export", str(sweep), "--format", "oommf", "--part", part, "--model",
                     model, *layer, "--output", str(out)]) == 0
        data = json.loads(out.read_text())
        assert phrase.strip("(") in data["b0_meaning"], (phrase, data["b0_meaning"])
        assert main(["export", str(sweep), "--format", "oommf", "--part", part, "--model",
                     model, *layer]) == 0
        text = capsys.readouterr().out
        header = " ".join(line[2:] for line in text.splitlines() if line.startswith("# "))
        if "interlayer exchange:" not in phrase:
            assert "(interlayer exchange)" not in header and "b0 (interlayer" not in header


@pytest.mark.parametrize("theta", [0.0, 180.0])
def test_export_from_a_collinear_sweep_is_refused_in_one_line(tmp_path, capsys, theta):
    """At θ = 0 or 180° the torques vanish by symmetry: nothing to export."""
    from mtj_kwant.cli import main

    path = _synthetic_sweep(tmp_path / "collinear.json", [-0.2, -0.1, 0.0, 0.1, 0.2],
                            theta_deg=theta)
    fl = perpendicular()
    for call in (lambda: dyn.export_parameters(str(path), "mumax3", macrospin=fl, drive=0.1),
                 lambda: TabulatedTorque.from_sweep(str(path))):
        with pytest.raises(DynamicsError, match=r"rerun the sweep at theta = 90 deg") as err:
            call()
        assert "\n" not in str(err.value)
    for model in ("table", "fit"):
        code = main(["export", str(path), "--format", "mumax3", "--model", model, "--Ms", "1e6",
                     "--thickness", "1", "--alpha", "0.01"])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 1 and len(err) == 1
        assert re.search(rf"theta = {theta:g} deg, .* rerun the sweep at theta = 90 deg", err[0])


def test_export_output_into_a_new_folder_says_what_it_wrote(tmp_path, capsys):
    """--output a/b/c.mx3 creates the folders, as sweep/scan/profile --output do, and says so."""
    from mtj_kwant.cli import main

    sweep = _synthetic_sweep(tmp_path / "s.json", [-0.2, -0.1, 0.0, 0.1, 0.2])
    out = tmp_path / "new" / "dir" / "torque.py"
    assert main(["export", str(sweep), "--format", "ubermag", "--Ms", "1e6", "--thickness", "1",
                 "--alpha", "0.01", "--output", str(out)]) == 0
    said = capsys.readouterr().out.strip().splitlines()
    assert out.is_file() and len(said) == 1
    assert said[0] == (f"wrote {out} (ubermag, 4 operating points; created the folder "
                       f"{tmp_path / 'new'})")
    assert main(["export", str(sweep), "--format", "ubermag", "--Ms", "1e6", "--thickness", "1",
                 "--alpha", "0.01", "--output", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out} (ubermag, 4 operating points)"
    for extra, pattern in ((["--temperature", "300"], r"--area: a run at --temperature > 0"),
                           (["--m0", "0", "0", "0"], r"--m0: the initial magnetisation is a "
                                                     r"direction")):
        assert main(["export", str(sweep), "--format", "oommf", "--Ms", "1e6", "--thickness",
                     "1", "--alpha", "0.01", *extra]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and re.search(pattern, err[0]), err


_FL = dict(Ms=1e6, thickness=1.0, area=1000.0, alpha=0.01)


def _export_one(**kw):
    return dyn.export_parameters(ConstantTorque(eta_par=0.5), kw.pop("target", "mumax3"),
                                 macrospin=Macrospin(**_FL), **kw)


@pytest.mark.parametrize("call,pattern", [
    (lambda: _export_one(drive=[]), r"^export_parameters: `drive` is empty; give at least one "
                                    r"operating point in A/m\^2"),
    (lambda: _export_one(drive="1e11"), r"`drive` must be a number or a list of numbers "
                                        r"\(current densities \(A/m\^2\)"),
    (lambda: _export_one(drive=["a"]), r"`drive` must be a number or a list of numbers"),
    (lambda: _export_one(drive=1e11, target=5), r"unknown target 5; choose one of mumax3"),
    (lambda: _export_one(drive=1e11).script(5), r"^ExportedParameters.script: `index` = 5 is out "
                                                r"of range: there is 1 operating point"),
    (lambda: _export_one(drive=1e11).script("oommf"), r"index of an operating point \(0 to 0\), "
                                                      r"not a target.*'mumax3'.*'oommf'"),
    (lambda: _export_one(drive=1e11).script(0.5), r"`index` must be an integer \(0 to 0\), got 0.5"),
    (lambda: _export_one(drive=1e11, m0=(0, 0, 0)), r"`m0` is a direction"),
    (lambda: SlonczewskiTorque(P=2), r"^SlonczewskiTorque: `P` is a spin polarization and must "
                                     r"lie in \[-1, 1\].*got 2\.0"),
    (lambda: SlonczewskiTorque(P=-1.01), r"must lie in \[-1, 1\]"),
    (lambda: dyn.tilted((0, 0, 1), math.nan), r"^tilted: `angle` must be finite, got nan"),
    (lambda: dyn.tilted((0, 0, 1), -math.inf), r"^tilted: `angle` must be finite, got -inf"),
    (lambda: dyn.tilted((0, 0, 1), "0.1"), r"^tilted: `angle` must be a number rad, got '0.1'"),
    (lambda: dyn.tilted((0, 0, 1), 0.1, toward=(math.nan, 0, 0)), r"`toward` must be finite"),
    (lambda: dyn.integrate(Macrospin(**_FL), ConstantTorque(eta_par=1), 0, 1e-10, seed=-1),
     r"^integrate: `seed` must be an integer >= 0.*got -1; e.g. seed=1"),
    (lambda: dyn.integrate(Macrospin(**_FL), ConstantTorque(eta_par=1), 0, 1e-10, seed=1.5),
     r"^integrate: `seed` must be an integer >= 0 \(numpy.random.default_rng\) or None.*got 1\.5"),
    (lambda: dyn.ensemble(Macrospin(**_FL, temperature=300), ConstantTorque(eta_par=1), 0, 1e-12,
                          n=2, dt=1e-13, seed=-1), r"^ensemble: `seed` must be an integer >= 0"),
    (lambda: dyn.ensemble(Macrospin(**_FL, temperature=300), ConstantTorque(eta_par=1), 0, 1e-12,
                          n=2, dt=1e-13, seed=1.5), r"^ensemble: `seed` .* got 1\.5"),
    (lambda: dyn.ensemble(Macrospin(**_FL, temperature=300), ConstantTorque(eta_par=1), 0, 1e-12,
                          n=2, dt=1e-13, seed=True), r"^ensemble: `seed` .* got True"),
    (lambda: dyn.ensemble(Macrospin(**_FL, temperature=300), ConstantTorque(eta_par=1), 0, 1e-12,
                          n=2, dt=1e-13, save_every=-1e-12), r"^ensemble: `save_every` must be >= 0"),
])
def test_bad_input_of_the_review_is_one_line(call, pattern):
    with pytest.raises(DynamicsError, match=pattern) as err:
        call()
    assert "\n" not in str(err.value)


def test_seed_none_draws_a_fresh_seed_and_records_it():
    fl = Macrospin(**_FL, temperature=300)
    ens = dyn.ensemble(fl, ConstantTorque(eta_par=1), 0, 2e-12, n=3, dt=1e-13, seed=None)
    again = dyn.ensemble(fl, ConstantTorque(eta_par=1), 0, 2e-12, n=3, dt=1e-13, seed=ens.seed)
    assert ens.seed >= 0
    np.testing.assert_array_equal(again.m_final, ens.m_final)


def test_integrate_stores_a_bounded_number_of_points_by_default():
    """A run of ~10⁵ rk45 steps stored every step (a 1 ms run: 2.1 GB); by default at most
    DEFAULT_SAMPLES + 2 points are kept, the final state among them, and the switching time,
    found at every step, is bit-identical to the run that stores every step."""
    fl = perpendicular()
    torque = ConstantTorque(eta_par=0.5)
    J = 1.5 * dyn.critical_drive(fl, torque)
    kw = dict(m0=dyn.tilted(fl.p, 0.05), switch_axis=fl.p, rtol=1e-7, atol=1e-9)
    every = dyn.integrate(fl, torque, J, 2e-6, save_every=0, **kw)
    default = dyn.integrate(fl, torque, J, 2e-6, **kw)
    assert every.n_steps > 5 * (dyn.solve.DEFAULT_SAMPLES + 2)
    assert len(every.t) == every.n_steps - every.n_rejected + 1
    assert len(default.t) <= dyn.solve.DEFAULT_SAMPLES + 2
    assert default.m.nbytes + default.t.nbytes <= 32 * (dyn.solve.DEFAULT_SAMPLES + 2)
    assert default.switching_time == every.switching_time and np.isfinite(every.switching_time)
    assert default.t[-1] == every.t[-1] == 2e-6
    np.testing.assert_array_equal(default.m[-1], every.m[-1])
    # Heun: the last step (25) is not a multiple of the stride (10), and is stored all the same
    tr = dyn.integrate(fl, torque, 0.0, 25e-14, method="heun", dt=1e-14, save_every=1e-13,
                       m0=kw["m0"])
    assert tr.t.tolist() == pytest.approx([0.0, 1e-13, 2e-13, 2.5e-13], rel=1e-12)
    full = dyn.integrate(fl, torque, 0.0, 25e-14, method="heun", dt=1e-14, save_every=0,
                         m0=kw["m0"])
    np.testing.assert_array_equal(tr.m[-1], full.m[-1])


def test_rk45_steps_onto_waveform_knots_instead_of_capping_every_step():
    """A 20 ns pulse with 1 ps edges capped every step at 0.5 ps (≥ 60 000 steps over 30 ns;
    measured 60 003).  Now the steps end on the knots only: far fewer steps, and the same
    result as integrating each linear piece of the waveform on its own (no knot inside a run)."""
    fl = perpendicular()
    torque = ConstantTorque(eta_par=0.5)
    J = 1.5 * dyn.critical_drive(fl, torque)
    T, edge, t_end = 20e-9, 1e-12, 30e-9
    m0 = dyn.tilted(fl.p, 0.05)
    kw = dict(switch_axis=fl.p, rtol=1e-9, atol=0)
    tr = dyn.integrate(fl, torque, ([0.0, edge, T, T + edge], [0.0, J, J, 0.0]), t_end, m0=m0,
                       **kw)
    assert tr.n_steps < 6000                          # measured 3251; the old cap: >= 60 000
    m, t_sw = m0, math.nan
    for a, b, xa, xb in ((0, edge, 0, J), (edge, T, J, J), (T, T + edge, J, 0),
                         (T + edge, t_end, 0, 0)):
        piece = dyn.integrate(fl, torque, ([0.0, b - a], [xa, xb]), b - a, m0=m, **kw)
        if math.isnan(t_sw) and np.isfinite(piece.switching_time):
            t_sw = a + piece.switching_time
        m = piece.m[-1]
    # tolerances: the global error of rk45 at rtol 1e-9 amplified by the instability
    # (measured 1e-10 relative in the switching time, 7e-10 in m; 7.7e-8 against rtol 1e-12)
    assert tr.switching_time == pytest.approx(t_sw, rel=1e-6)
    np.testing.assert_allclose(tr.m[-1], m, atol=1e-7)
    assert tr.m[-1] @ np.asarray(fl.p) < -0.999       # switched, and relaxed after the pulse


# ---- review fixes (3): file formats, malformed sweeps, units, early stops, doubtful numbers ----

_CLI_LAYER = ["--Ms", "1e6", "--thickness", "1.2", "--alpha", "0.05"]


def _one_line_error(capsys, args, code=None):
    """Run `mtj-kwant` and return its one error line (asserting one line, non-zero exit)."""
    from mtj_kwant.cli import main

    status = main(args)
    err = capsys.readouterr().err.strip().splitlines()
    assert status != 0 and (code is None or status == code), (status, err)
    assert len(err) == 1 and err[0].startswith("mtj-kwant: error: "), err
    return err[0]


def test_oommf_snippet_is_a_mif_file_and_one_file_holds_one_operating_point(tmp_path, capsys):
    """A MIF file must start with "# MIF 2.1" (OOMMF user guide, MIF 2.1 file overview); the
    snippet started with an export comment, and several operating points were written into one
    .mif (or .mx3, where the second `B_N :=` stops mumax3) file."""
    from mtj_kwant.cli import main

    ex = dyn.export_parameters(ConstantTorque(eta_par=0.5, b0=1e9), "oommf",
                               macrospin=perpendicular(), drive=[1e11, 2e11])
    for i in (0, 1):
        lines = ex.script(i).splitlines()
        assert lines[0] == "# MIF 2.1" and sum(x.startswith("# MIF") for x in lines) == 1
    sweep = _synthetic_sweep(tmp_path / "s.json", [-0.2, -0.1, 0.0, 0.1, 0.2])
    args = ["export", str(sweep), *_CLI_LAYER]
    for fmt, ext in (("oommf", ".mif"), ("mumax3", ".mx3")):
        line = _one_line_error(capsys, args + ["--format", fmt], code=2)
        assert re.search(rf"--format {fmt}: .* there are 4 operating points; give one --bias, "
                         rf"or --output FILE\{ext} for one file per operating point", line)
        out = tmp_path / fmt / f"a{ext}"
        assert main(args + ["--format", fmt, "--output", str(out), "--bias", "0.1", "-0.2"]) == 0
        said = capsys.readouterr().out
        files = [out.with_name(f"a_0.1V{ext}"), out.with_name(f"a_-0.2V{ext}")]
        assert "2 files, one per operating point" in said and not out.exists()
        for f, v in zip(files, ("0.1", "-0.2")):
            text = f.read_text()
            assert text.count("--- operating point") == 1 and f"V = {v} V ---" in text
            if fmt == "oommf":
                assert text.startswith("# MIF 2.1\n") and text.count("# MIF") == 1
            else:
                assert text.count("B_N :=") == 1
    # one operating point (a repeated --bias counts once) goes to standard output as one file
    assert main(args + ["--format", "oommf", "--bias", "0.1", "0.1"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# MIF 2.1\n") and text.count("--- operating point 1 of 1") == 1


def _malformed(tmp_path, name, edit):
    import json

    path = _synthetic_sweep(tmp_path / f"{name}.json", [-0.2, -0.1, 0.0, 0.1, 0.2])
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    return path


_MALFORMED = [
    ("short", lambda d: d["bias_V"].pop(),
     r"`torque_inplane_total` has 5 entries but `bias_V` has 4; the file is damaged"),
    ("null", lambda d: d["torque_outofplane_total"].__setitem__(1, None),
     r"`torque_outofplane_total` at bias -0\.1 V is null \(NaN\), not a finite number"),
    ("text", lambda d: d["torque_inplane_total"].__setitem__(4, "x"),
     r"`torque_inplane_total` at bias 0\.2 V is 'x', not a number"),
    ("inf", lambda d: d["current_density"].__setitem__(0, "inf"),
     r"`current_density` at bias -0\.2 V is inf, not a finite number"),
    ("repeated", lambda d: d["bias_V"].__setitem__(4, 0.1), r"`bias_V` repeats 0\.1 V"),
    ("flags", lambda d: d["converged"].pop(),
     r"`converged` has 4 entries but `bias_V` has 5"),
]


@pytest.mark.parametrize("name,edit,pattern", _MALFORMED, ids=[m[0] for m in _MALFORMED])
def test_malformed_sweep_is_refused_in_one_line_naming_file_key_and_bias(tmp_path, capsys, name,
                                                                          edit, pattern):
    """Lists of other lengths went through (zip truncated them), null and text gave
    "could not convert string to float" or "`y` must contain only finite values", repeated
    biases a singular fit: one check (torques.sweep_data) now names file, key and bias, for the
    command line (both models) and for export_parameters / from_sweep."""
    path = _malformed(tmp_path, name, edit)
    for model in ("table", "fit"):
        line = _one_line_error(capsys, ["export", str(path), "--format", "cmtj", "--area", "100",
                                        "--model", model, *_CLI_LAYER], code=1)
        assert re.search(re.escape(str(path)) + ": " + pattern, line), line
    for call in (lambda: dyn.export_parameters(str(path), "mumax3", macrospin=perpendicular(),
                                               drive=0.1),
                 lambda: TabulatedTorque.from_sweep(str(path)),
                 lambda: PolynomialTorque.from_sweep(str(path))):
        with pytest.raises(DynamicsError, match=re.escape(str(path)) + ": " + pattern) as err:
            call()
        assert "\n" not in str(err.value)


def test_unconverged_sweep_points_are_named_in_a_warning(tmp_path, capsys):
    """A sweep with converged false (status 1) was exported without a word."""
    from mtj_kwant.cli import main

    path = _malformed(tmp_path, "unconverged",
                      lambda d: d.update(converged=[True, False, True, True, False]))
    with pytest.warns(dyn.DynamicsWarning, match=r"2 of 5 bias points did not reach the "
                                                 r"tolerance \(converged false: bias -0\.1, "
                                                 r"0\.2 V\)"):
        dyn.export_parameters(str(path), "mumax3", macrospin=perpendicular(), drive=0.1)
    with pytest.warns(dyn.DynamicsWarning, match=re.escape(str(path)) + r": 2 of 5 bias points "
                                                 r".*bias -0\.1, 0\.2 V"):
        assert main(["export", str(path), "--format", "ubermag", *_CLI_LAYER]) == 0
    assert capsys.readouterr().err == ""


def test_export_refuses_to_extrapolate_a_sweep_in_python_as_on_the_command_line(tmp_path,
                                                                                capsys):
    """drive=[0.5] on a ±0.2 V sweep was extrapolated by the fit in Python, refused by the CLI;
    a three-bias sweep asked the user to lower a `degree` that export_parameters does not have."""
    sweep = _synthetic_sweep(tmp_path / "s.json", [-0.2, -0.1, 0.0, 0.1, 0.2])
    text = (r"0\.5 V lies outside the sweep's biases \[-0\.2, 0\.2\] V; the export does not "
            r"extrapolate")
    with pytest.raises(DynamicsError, match=r"^export_parameters: `drive` " + text):
        dyn.export_parameters(str(sweep), "mumax3", macrospin=perpendicular(), drive=[0.1, 0.5])
    assert PolynomialTorque.from_sweep(str(sweep)).drive_range == (-0.2, 0.2)
    line = _one_line_error(capsys, ["export", str(sweep), "--format", "mumax3", "--bias", "0.5",
                                    *_CLI_LAYER], code=2)
    assert re.search(r"--bias: " + text + "$", line), line
    three = _synthetic_sweep(tmp_path / "three.json", [0.1, 0.2, 0.3])
    with pytest.raises(DynamicsError, match=r"the sweep has 3 biases \(0\.1, 0\.2, 0\.3 V\); "
                                            r"export_parameters needs at least 4") as err:
        dyn.export_parameters(str(three), "mumax3", macrospin=perpendicular(), drive=0.2)
    assert "degree" not in str(err.value)


def test_lengths_in_metres_are_refused_with_the_unit(capsys):
    """thickness=1.5e-9, area=1.6e-15 (metres) gave J_c = -135 A/m^2 and a switch in 1e-18 s;
    M_s = 1e300 an OverflowError inside the integrator."""
    base = dict(Ms=1e6, thickness=1.5, area=1600, alpha=0.02)
    for key, value, pattern in (
            ("thickness", 1.5e-9, r"`thickness` is in nm, got 1\.5e-09: did you give metres\?"),
            ("area", 1.6e-15, r"`area` is in nm\^2, got 1\.6e-15: did you give m\^2\?"),
            ("Ms", 1e300, r"`Ms` = 1e\+300 A/m is above any material's magnetisation "
                          r"\(plausible 1e3 to 1e7 A/m"),
            ("Ms", 1.2, r"`Ms` is in A/m, got 1\.2: .*from mu0\*Ms in T multiply by 7\.958e5"),
            ("Ku", 1e300, r"`Ku` = 1e\+300 J/m\^3 is beyond any material's"),
            ("H_applied", (0, 0, 1e300), r"`H_applied` has \|H\| = 1e\+300 A/m")):
        with pytest.raises(DynamicsError, match=r"^Macrospin: " + pattern) as err:
            Macrospin(**{**base, key: value})
        assert err.value.parameter == key and "\n" not in str(err.value)
    line = _one_line_error(capsys, ["export", "missing.json", "--format", "mumax3", "--Ms", "1e6",
                                    "--thickness", "1.5e-9", "--alpha", "0.01"], code=2)
    assert re.search(r"--thickness: `thickness` is in nm, got 1\.5e-09: did you give metres\?",
                     line), line


def test_a_run_that_exhausts_max_steps_keeps_its_last_state():
    """max_steps=1000 with save_every=1e-9 returned t = [0.] only (the state reached was lost);
    max_steps=-1 was accepted."""
    fl = perpendicular()
    torque = ConstantTorque(eta_par=0.5)
    J = 3 * dyn.critical_drive(fl, torque)
    m0 = dyn.tilted(fl.p, 0.05)
    tr = dyn.integrate(fl, torque, J, 5e-9, m0=m0, max_steps=100, save_every=1e-9)
    assert tr.status == 2 and not tr.success and tr.n_steps == 100
    assert len(tr.t) == 2 and 0 < tr.t[-1] < 5e-9
    assert re.search(rf"max_steps = 100 exhausted at t = {tr.t[-1]:.4g} s of t_end = 5e-09 s",
                     tr.message)
    # the stored state is the state at t[-1]: a run to exactly that time ends there too
    ref = dyn.integrate(fl, torque, J, float(tr.t[-1]), m0=m0, rtol=1e-12, atol=0)
    np.testing.assert_allclose(tr.m[-1], ref.m[-1], atol=1e-6)    # rtol 1e-9 run vs 1e-12
    assert np.linalg.norm(tr.m[-1] - m0) > 1e-3
    for bad in (-1, 0, 2.5, True):
        with pytest.raises(DynamicsError, match=r"`max_steps` must be an integer >= 1"):
            dyn.integrate(fl, torque, J, 5e-9, max_steps=bad)


def test_ensemble_refuses_runs_that_would_exhaust_memory_or_never_end():
    """n = 1000, t_end = 1 us, save_every = dt asked for 56 GiB; t_end = 1 s at dt = 4e-13
    (2.5e12 steps) started a run of days.  Both are refused up front, naming the fix."""
    fl = Macrospin(Ms=1e6, thickness=1.2, area=225, alpha=0.05, Ku=1e6, temperature=300)
    torque = ConstantTorque(eta_par=0.5)
    with pytest.raises(DynamicsError, match=r"^ensemble: storing 1000 trajectories of 2500001 "
                                            r"points .* needs 55\.9 GiB, above the 2 GiB limit; "
                                            r"store less: a larger save_every \(>= 1\.2e-11 s"):
        dyn.ensemble(fl, torque, 0.0, 1e-6, n=1000, dt=4e-13, save_every=4e-13)
    with pytest.raises(DynamicsError, match=r"^ensemble: t_end/dt = 2\.5e\+12 steps per sample "
                                            r"exceeds max_steps = 20000000"):
        dyn.ensemble(fl, torque, 0.0, 1.0, n=10, dt=4e-13)
    with pytest.raises(DynamicsError, match=r"^ensemble: t_end/dt = 5 steps .* max_steps = 4"):
        dyn.ensemble(fl, torque, 0.0, 2e-12, n=2, dt=4e-13, max_steps=4)
    # stored points at a stride longer than a noise chunk: the last one is the final state
    ens = dyn.ensemble(fl, torque, 0.0, 4e-12, n=3, dt=4e-13, save_every=2e-12, seed=2,
                       stop_on_switch=False)
    assert ens.trajectories.shape == (3, 3, 3)
    np.testing.assert_array_equal(ens.trajectories[:, -1], ens.m_final)


def test_scan_table_csv_is_read_by_from_scan(tmp_path):
    """`mtj-kwant scan --output x.csv` writes a CSV and x.csv.meta.json: from_scan reads the
    CSV; given the metadata file it says which file to give."""
    from mtj_kwant.scan import ScanResult

    v, th = np.linspace(-0.2, 0.2, 5), np.array([30.0, 90.0, 150.0])
    V, TH = (g.ravel() for g in np.meshgrid(v, th, indexing="ij"))
    s = np.sin(np.radians(TH))
    cols = dict(bias_V=V.tolist(), theta_deg=TH.tolist(), phi_deg=[0.0] * V.size,
                torque_inplane_total=((2e11 * V) * s).tolist(),
                torque_outofplane_total=((-1e9 + 4e11 * V**2) * s).tolist(),
                current_density=(1e12 * V).tolist(), converged=[True] * V.size)
    scan = ScanResult(parameters=["bias_V", "theta_deg", "phi_deg"], columns=cols, settings={})
    scan.save(tmp_path / "x.csv")
    tab = TabulatedTorque.from_scan(tmp_path / "x.csv")
    np.testing.assert_allclose(tab.coefficients(0.1, 0.3), (2e10, -1e9 + 4e9), rtol=1e-9)
    with pytest.raises(DynamicsError, match=r"x\.csv\.meta\.json is the metadata beside a scan "
                                            r"table; give the table itself, .*x\.csv\.$"):
        TabulatedTorque.from_scan(str(tmp_path / "x.csv.meta.json"))


def test_doubtful_numbers_come_with_a_warning():
    """critical_drive of a table that stays stable returned NaN silently; a negative
    stability factor (a hard axis) was returned as a number."""
    fl = perpendicular(H_applied=(0, 0, 0))
    v = np.linspace(-0.3, 0.3, 7)
    tab = TabulatedTorque(v, [math.pi / 2], (1e9 * v)[:, None], 0 * v[:, None],
                          (1e10 * v)[:, None])
    with pytest.warns(dyn.DynamicsWarning, match=r"the parallel state stays stable for every "
                                                 r"drive in the model's range \[-0\.3, 0\.3\] V"):
        assert math.isnan(dyn.critical_drive(fl, tab, state="parallel"))
    with pytest.warns(dyn.DynamicsWarning, match=r"stays stable for every positive drive "
                                                 r"\(neither"):
        assert math.isnan(dyn.critical_drive(fl, ConstantTorque(eta_par=0.5), direction=1))
    soft = Macrospin(Ms=1e6, thickness=1.5, area=1600, alpha=0.02, Ku=1e5, temperature=300)
    with pytest.warns(dyn.DynamicsWarning, match=r"K_eff = -5\.283e\+05 J/m\^3 < 0, so easy_axis "
                                                 r"\(0\.0, 0\.0, 1\.0\) is a hard axis"):
        assert math.isnan(soft.stability_factor)
    # an in-plane thin film: unequal transverse factors, not supported: say what to use
    flat = in_plane(temperature=300)
    for call in (lambda: flat.stability_factor, lambda: dyn.neel_brown_time(flat)):
        with pytest.raises(DynamicsError, match=r"unequal transverse demagnetising factors 0 "
                                                r"and 1 \(an in-plane thin film\).*not supported: "
                                                r"use ensemble\(\)"):
            call()


def test_undamped_layer_has_critical_drive_zero_and_negative_alpha_is_refused():
    """alpha = 0 (the undamped limit, kept for the energy-conservation check) was reported as
    "unstable already at zero drive"; it is marginally stable: critical drive 0."""
    fl = perpendicular(alpha=0.0)
    with pytest.warns(dyn.DynamicsWarning, match=r"alpha = 0 \(undamped\): the parallel state is "
                                                 r"marginally stable .* critical drive is 0"):
        assert dyn.critical_drive(fl, ConstantTorque(eta_par=0.5)) == 0.0
    for bad, pattern in ((-0.01, r"`alpha` must be >= 0, got -0\.01"),
                         (math.nan, r"`alpha` must be finite, got nan")):
        with pytest.raises(DynamicsError, match=r"^Macrospin: " + pattern):
            perpendicular(alpha=bad)


@pytest.mark.parametrize("call,pattern", [
    (lambda: dyn.integrate(perpendicular(), ConstantTorque(eta_par=0.5), "1e11", 1e-9),
     r"`drive` must be a number \(A/m\^2\) or a pair \(times_s, values\), got '1e11'"),
    (lambda: dyn.integrate(perpendicular(), ConstantTorque(eta_par=0.5),
                           ([0, 1e-9, 1e-9, 2e-9], [0, 0, 1e11, 1e11]), 3e-9),
     r"the time 1e-09 s is repeated \(a jump\); give the edge a short rise time instead, "
     r"e\.g\. 1e-09 and 1e-09 \+ 1e-12 s"),
    (lambda: dyn.dm_dt(perpendicular(), ConstantTorque(eta_par=0.5), [0, 0, 0], 1e11),
     r"^dm_dt: `m` must be unit vectors .* got \|m\| = 0;"),
    (lambda: dyn.dm_dt(perpendicular(), ConstantTorque(eta_par=0.5), [[0, 0, 1], [0, 0, 2]],
                       1e11), r"^dm_dt: `m` must be unit vectors .* got \|m\| = 2;"),
    (lambda: TabulatedTorque([0, 1], [1.0], [[1], [2]], [[1], [2]], foo=1),
     r"^TabulatedTorque: unknown parameter 'foo'; valid parameters: bias, theta"),
])
def test_small_input_mistakes_are_one_line(call, pattern):
    with pytest.raises(DynamicsError, match=pattern) as err:
        call()
    assert "\n" not in str(err.value)


def test_export_messages_name_the_right_reason_and_option(tmp_path, capsys):
    """--part window on a sweep with V = 0 said "the model is not defined at V = 0"; the
    ubermag run comment used oommfc without importing it; an unwritable --output printed
    "[Errno 2] No such file or directory" without naming the option."""
    from mtj_kwant.cli import main

    sweep = _synthetic_sweep(tmp_path / "s.json", [-0.2, -0.1, 0.0, 0.1, 0.2])
    assert main(["export", str(sweep), "--format", "ubermag", "--part", "window",
                 *_CLI_LAYER]) == 0
    text = capsys.readouterr().out
    flat = " ".join(line.lstrip("# ") for line in text.splitlines())     # unwrapped comments
    assert "not defined at V = 0" not in flat
    assert re.search(r"no b0 field: all of b is exported as a bias-dependent efficiency "
                     r"\(b\(V = 0\) of the window part only, zero", flat)
    code = [line for line in text.splitlines() if "oommfc." in line]
    assert code and all("import oommfc" in line for line in code)
    nz = _synthetic_sweep(tmp_path / "nz.json", [0.1, 0.2, 0.3])
    assert main(["export", str(nz), "--format", "cmtj", "--area", "100", *_CLI_LAYER]) == 0
    assert re.search(r"no b0 field: .*\(the model is defined for V in \[0\.1, 0\.3\] only, not "
                     r"at 0", " ".join(capsys.readouterr().out.split()))
    line = _one_line_error(capsys, ["export", str(sweep), "--format", "mumax3", "--bias", "0.1",
                                    "--output", "/proc/x.mx3", *_CLI_LAYER])
    assert re.search(r"--output /proc/x\.mx3: cannot write", line), line


# ---------------------------------------------------------------------------------------------
# re-review: bounds, raw errors, table range, sweep/scan checks, bias 0, --output -
# ---------------------------------------------------------------------------------------------

def _hot_layer():
    return Macrospin(Ms=1e6, thickness=1.5, area=1600, alpha=0.01, Ku=1e6, temperature=300.0)


def test_ensemble_save_every_zero_stores_every_step_as_integrate_does():
    """save_every=0 stored nothing in ensemble but every step in integrate."""
    fl, tq = _hot_layer(), ConstantTorque(eta_par=0.1)
    ens = dyn.ensemble(fl, tq, 1e11, 1e-11, n=3, dt=4e-13, save_every=0, seed=1,
                       stop_on_switch=False)
    assert ens.trajectories is not None and ens.trajectories.shape == (3, 26, 3)
    np.testing.assert_array_equal(ens.trajectories[:, -1], ens.m_final)
    assert dyn.ensemble(fl, tq, 1e11, 1e-11, n=3, dt=4e-13, seed=1).trajectories is None


def test_ensemble_refuses_too_many_total_steps_and_unallocatable_sizes():
    """n = 1e5 at 2.5e6 steps each (hours) was accepted; n = 1e12 gave a raw MemoryError."""
    fl, tq = _hot_layer(), ConstantTorque(eta_par=0.1)
    with pytest.raises(DynamicsError, match=r"^ensemble: n × t_end/dt = 100000 × 2500000 = "
                                            r"2\.5e\+11 Heun steps exceeds max_total_steps = "
                                            r"1e\+10 .*raise max_total_steps\.$"):
        dyn.ensemble(fl, tq, 1e11, 1e-6, n=100000, dt=4e-13)
    with pytest.raises(DynamicsError, match=r"max_total_steps"):
        dyn.ensemble(fl, tq, 1e11, 1e-9, n=10**12, dt=4e-13)
    with pytest.raises(DynamicsError, match=r"^ensemble: n = 1000000000000 samples need .* GiB "
                                            r"of working state .*use at most n = 16777216"):
        dyn.ensemble(fl, tq, 1e11, 1e-9, n=10**12, dt=4e-13, max_total_steps=1e20)
    ens = dyn.ensemble(fl, tq, 1e11, 2e-12, n=2, dt=4e-13, max_total_steps=10, seed=1)
    assert ens.n == 2
    with pytest.raises(DynamicsError, match=r"n × t_end/dt = 2 × 5 = 10 .* max_total_steps = 9"):
        dyn.ensemble(fl, tq, 1e11, 2e-12, n=2, dt=4e-13, max_total_steps=9)


def test_tabulated_torque_public_methods_refuse_biases_outside_the_table():
    """components(5.0, pi/2) extrapolated silently although integrate refused 5 V."""
    v, th = np.linspace(-0.2, 0.2, 5), np.radians([30.0, 90.0, 150.0])
    tpar = np.outer(2e11 * v, np.sin(th))
    tab = TabulatedTorque(bias=v, theta=th, torque_inplane=tpar, torque_outofplane=-tpar,
                          current_density=np.outer(1e12 * v, np.ones(3)))
    assert np.isfinite(tab.components(0.2, math.pi / 2)[0])
    for call in (lambda: tab.components(5.0, math.pi / 2), lambda: tab.coefficients(-0.3, 0.0),
                 lambda: tab.current_density([0.1, 0.25], 0.0)):
        with pytest.raises(DynamicsError, match=r"^TabulatedTorque: drive .* V outside the "
                                                r"model's range \[-0\.2, 0\.2\] V"):
            call()


@pytest.mark.parametrize("gamma", [0.0, -1.76e11, math.inf, math.nan, 1.76e11 * MU0, 5e13])
def test_macrospin_gamma_outside_physical_ratios_is_refused(gamma):
    with pytest.raises(DynamicsError, match=r"^Macrospin: `gamma` "):
        Macrospin(**BASE, gamma=gamma)
    assert Macrospin(**BASE, gamma=1.76e11 * 2.0023 / 2).gamma > 0


def test_integrate_max_steps_and_m0_errors_are_one_line():
    fl, tq = perpendicular(), ConstantTorque(eta_par=0.1)
    with pytest.raises(DynamicsError, match=r"^integrate: `max_steps` = 1e\+30 exceeds the "
                                            r"largest 64-bit step count"):
        dyn.integrate(fl, tq, 1e11, 1e-10, max_steps=10**30)
    with pytest.raises(DynamicsError, match=r"^`m0` must be three numbers \[x, y, z\]"):
        dyn.integrate(fl, tq, 1e11, 1e-10, m0="z")


@pytest.mark.parametrize("name,edit,pattern", [
    ("nested", lambda d: d["torque_inplane_total"].__setitem__(4, [1, 2]),
     r"`torque_inplane_total` at bias 0\.2 V is \[1, 2\], not a number"),
    ("convtext", lambda d: d["converged"].__setitem__(3, "no"),
     r"`converged` at bias 0\.1 V is 'no', not true or false"),
    ("convnull", lambda d: d["converged"].__setitem__(1, None),
     r"`converged` at bias -0\.1 V is .*, not true or false"),
])
def test_malformed_sweep_entries_of_the_re_review(tmp_path, name, edit, pattern):
    path = _malformed(tmp_path, name, edit)
    with pytest.raises(DynamicsError, match=re.escape(str(path)) + ": " + pattern):
        TabulatedTorque.from_sweep(path)


def test_from_scan_names_file_and_column_of_a_bad_csv_cell_and_missing_files(tmp_path):
    from mtj_kwant.scan import ScanResult

    v, th = np.linspace(-0.2, 0.2, 3), np.array([30.0, 90.0, 150.0])
    V, TH = (g.ravel() for g in np.meshgrid(v, th, indexing="ij"))
    cols = dict(bias_V=V.tolist(), theta_deg=TH.tolist(), phi_deg=[0.0] * V.size,
                torque_inplane_total=(1e11 * V).tolist(),
                torque_outofplane_total=(1e10 * V).tolist(),
                current_density=(1e12 * V).tolist(), converged=[True] * V.size)
    ScanResult(parameters=["bias_V", "theta_deg", "phi_deg"], columns=cols,
               settings={}).save(tmp_path / "x.csv")
    lines = (tmp_path / "x.csv").read_text().splitlines()
    header = lines[0].split(",")
    k = header.index("current_density")
    for cell in ("abc", ""):
        row = lines[2].split(",")
        row[k] = cell
        (tmp_path / "bad.csv").write_text("\n".join([lines[0], lines[1], ",".join(row),
                                                     *lines[3:]]) + "\n")
        (tmp_path / "bad.csv.meta.json").write_text((tmp_path / "x.csv.meta.json").read_text())
        with pytest.raises(DynamicsError, match=r"bad\.csv: column 'current_density' has a "
                                                r"non-numeric entry " + repr(cell)):
            TabulatedTorque.from_scan(tmp_path / "bad.csv")
    with pytest.raises(DynamicsError, match=r"nosuch\.csv: no such file\.$"):
        TabulatedTorque.from_scan(tmp_path / "nosuch.csv")
    sweep = _synthetic_sweep(tmp_path / "s.json", [-0.2, -0.1, 0.0, 0.1, 0.2])
    with pytest.raises(DynamicsError, match=r"s\.json is a sweep .*use "
                                            r"TabulatedTorque\.from_sweep"):
        TabulatedTorque.from_scan(sweep)


def test_bias_zero_exports_alike_with_the_table_and_the_fit(tmp_path, capsys):
    """The table wrote Pol = 0 at V = 0 (J = 0) with a note; the fit refused the point."""
    from mtj_kwant.cli import main

    def offset(d):       # an in-plane torque left at V = 0 (J = 0), as a fit constant is
        d["torque_inplane_total"] = [t + 3e6 for t in d["torque_inplane_total"]]

    sweep = _malformed(tmp_path, "offset", offset)
    fl = Macrospin(Ms=1e6, thickness=1.0, area=1000.0, alpha=0.01)
    for src in (TabulatedTorque.from_sweep(sweep), PolynomialTorque.from_sweep(sweep), sweep):
        ex = dyn.export_parameters(src, "mumax3", macrospin=fl, drive=[0.0, 0.1])
        assert ex.parameters["Pol"][0] == 0 and ex.parameters["EpsilonPrime"][0] == 0
        assert ex.parameters["Pol"][1] != 0
        assert any(n.startswith("J = 0 at some operating points: their efficiencies are set "
                                "to 0") for n in ex.notes)
    for model in ("table", "fit"):
        assert main(["export", str(sweep), "--format", "mumax3", "--bias", "0", "--model", model,
                     *_CLI_LAYER]) == 0
        out = capsys.readouterr().out
        assert "J = 0 at some operating points" in out and "\nPol = 0\n" in out


def test_export_output_dash_is_standard_output_and_outside_drive_has_its_digits(tmp_path,
                                                                                  capsys,
                                                                                  monkeypatch):
    monkeypatch.chdir(tmp_path)
    sweep = _synthetic_sweep(tmp_path / "s.json", [-0.2, -0.1, 0.0, 0.1, 0.2])
    err = _one_line_error(capsys, ["export", str(sweep), "--format", "mumax3", "--bias", "0.1",
                                   "0.2", "--output", "-", *_CLI_LAYER])
    assert "give one --bias, or --output FILE.mx3" in err
    assert not list(tmp_path.glob("-*"))
    from mtj_kwant.cli import main
    assert main(["export", str(sweep), "--format", "mumax3", "--bias", "0.1", "--output", "-",
                 *_CLI_LAYER]) == 0
    assert capsys.readouterr().out.startswith("// mtj-kwant export --format mumax3")
    assert not list(tmp_path.glob("-*"))
    err = _one_line_error(capsys, ["export", str(sweep), "--format", "mumax3", "--bias",
                                   "0.2000001", *_CLI_LAYER])
    assert "--bias: 0.2000001 V lies outside the sweep's biases [-0.2, 0.2] V" in err
