"""The Fermi-sea (equilibrium) torque through thick barriers: no cancellation (DESIGN.md §3a).

Through a barrier the equilibrium torque is ∝ e^{−2κd}.  As a difference of
O(1) spin currents it drowns in their round-off beyond ~2 nm (issue 11 found
"0.0 ± 0.0, converged" at 2.25 nm); the package computes it from the coupling
determinant of the two halves of the junction instead
(:func:`mtj_kwant._rgf.coupling`).  The tests compare it with

- the continuum interlayer-exchange formula for a rectangular barrier
  between identical free-electron ferromagnets (below, written from the
  interface reflection amplitudes alone: nothing of the package's physics),
  over 1–4 nm, where the torque falls by 24 orders of magnitude;
- the spin-current route where that one is accurate (thin barriers, any
  bias, temperature, masses, tight binding, F/I/F/N);
- the grand potential Ω(θ) from the same closed form.
"""

import math
import warnings

import numpy as np
import pytest
import scipy.constants as sc
from scipy.integrate import quad

import mtj_kwant as mk
from mtj_kwant.continuum import lattice_point
from mtj_kwant.integrate import bias_point, grand_potential_difference
from mtj_kwant.model import magnetization_direction
from mtj_kwant.solvers import ChainSolver
from mtj_kwant.sweep import torque_components

from .conftest import REFERENCE, SYSTEMS

C = sc.hbar**2 / (2 * sc.m_e) / sc.e * 1e18  # ħ²/2m_e, eV nm²
TORQUE = 4 * math.pi * sc.e**2 / sc.h * 1e18  # (2e/ħ): (ħ/2e) A/m² per eV/nm²

# Fe-like electrodes (E_F 2.62 eV above the spin-averaged band bottom, Δ = 3.86 eV, m = m_e)
# and a barrier 3 eV above E_F: the junction of issue 11, item 1.
FERMI, DELTA, BARRIER = 2.62, 3.86, 5.62


def coupling_formula(d, thetas, *, fermi=FERMI, delta=DELTA, barrier=BARRIER, rtol=1e-11):
    """Ω(θ) − Ω(θ₀) and T⊥(θ) at V = 0, T = 0 for a rectangular barrier in the continuum.

    Multiple reflections in the barrier (P. Bruno, Phys. Rev. B 52, 411 (1995),
    Eq. (11); J. C. Slonczewski, Phys. Rev. B 39, 6995 (1989)): per transverse
    energy the θ-dependent part of log det(z − H) is log det(1 − R_A R_B e^{2iqd}),
    R = ρ + δ n·σ the 2×2 reflection amplitude at an interface from inside the
    barrier, r_s = (q − k_s)/(q + k_s) (ψ and ψ' continuous, one mass),
    k_s² = (z − V_s)/C, q² = (z − U)/C, both with Im > 0 for Im z > 0, and
    V_s = ∓Δ/2 (majority, minority).  Pauli algebra gives
    det(1 − x R_A R_B) = D0 − 2x δ² cos θ (x = e^{2iqd}, identical electrodes).
    With the E_x reduction (weight μ − z per m/2πħ²),

        Ω(θ) = (m/2πħ²)(1/π) Im ∫_C (μ − z) log det(1 − x R_A R_B) dz,
        T⊥ = (2e/ħ) ∂Ω/∂θ,

    C the upper semicircle from below the spectrum to μ.  Returns the list of
    (Ω(θ) − Ω(θ₀) in eV/nm², T⊥(θ) in (ħ/2e) A/m²) for θ in ``thetas`` (θ₀ the
    first one) and the largest quadrature error estimate relative to the values.
    """
    vs = (-0.5 * delta, 0.5 * delta)
    e_min = min(*vs, barrier) - 1.0
    c, r = 0.5 * (e_min + fermi), 0.5 * (fermi - e_min)

    def parts(z):
        k = [np.sqrt((z - v) / C + 0j) for v in vs]
        q = np.sqrt((z - barrier) / C + 0j)
        ru, rd = [(q - kk) / (q + kk) for kk in k]
        rho, dl = 0.5 * (ru + rd), 0.5 * (ru - rd)
        x = np.exp(2j * q * d)
        d0 = (1 - x * rho * rho) ** 2 - 2 * x * x * rho * rho * dl * dl + x * x * dl**4
        return d0, 2 * x * dl * dl

    def contour(g):
        def f(phi):
            z = c + r * np.exp(1j * phi)
            return -((fermi - z) * g(z) * 1j * r * np.exp(1j * phi)).imag
        val, err = quad(f, 0, math.pi, epsabs=0, epsrel=rtol, limit=500)
        return val / (4 * math.pi**2 * C), err / (4 * math.pi**2 * C)

    out, worst = [], 0.0
    for theta in thetas:
        def dlog(z, theta=theta):
            d0, w = parts(z)
            return w * math.sin(theta) / (d0 - w * math.cos(theta))

        def log_ratio(z, theta=theta):
            d0, w = parts(z)
            y = -w * (math.cos(theta) - math.cos(thetas[0])) / (d0 - w * math.cos(thetas[0]))
            # log(1 + y) for tiny complex y (np.log1p loses Re y: it forms 1 + y first)
            return 0.5 * np.log1p(2 * y.real + abs(y) ** 2) + 1j * np.arctan2(y.imag, 1 + y.real)
        omega, e1 = contour(log_ratio)
        dodt, e2 = contour(dlog)
        out.append((omega, TORQUE * dodt))
        worst = max(worst, e1 / abs(omega) if omega else 0.0, e2 / abs(dodt) if dodt else 0.0)
    return out, worst


def junction(d):
    """systems/fe_mgo_fe.toml with the barrier at ``BARRIER`` and ``d`` nm thick (continuum)."""
    return mk.junction_with(mk.load_junction(SYSTEMS / "fe_mgo_fe.toml"),
                            {"layer[0].thickness": d, "layer[0].potential": BARRIER})


def tperp(vec, theta=math.pi / 2, phi=0.0):
    return torque_components(vec, magnetization_direction(theta, phi), np.array([0, 0, 1.0]))


@pytest.mark.parametrize("d", [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0])
def test_sea_torque_follows_the_continuum_coupling_formula_over_24_decades(d):
    """T⊥_sea(V = 0, θ = 90°) of the continuum junction vs the closed form, 1–4 nm.

    The value falls from −3.7e5 to −9.6e−20 (ħ/2e) A/m².  At rtol 1e-6 the
    package's error estimate (quadrature + continuum extrapolation) must cover
    the difference from the closed form (whose own quadrature error is
    ≤ 1e-10 relative) and meet the tolerance; T∥_sea vanishes (equilibrium).
    Measured: agreement to ≤ 5e-8 relative at every thickness.
    """
    (_, exact), = coupling_formula(d, [math.pi / 2])[0]
    r = lattice_point(junction(d), theta=math.pi / 2, bias=0.0, rtol=1e-6, parts="total")
    tpar, tp = tperp(r.torque_sea)
    error = np.abs(r.errors["torque_sea"]).max()
    assert r.converged
    assert error <= 1e-6 * abs(exact)
    assert abs(tp - exact) <= error + 1e-10 * abs(exact)
    assert abs(tpar) <= 1e-12 * abs(tp)


def test_sea_torque_decays_as_the_barrier_attenuation():
    """b0(d) ∝ e^{−2κd} d^{−n}: the local decay rate approaches 2κ at E_F from above, smoothly.

    κ = √((U − E_F)/C) = 8.87 /nm.  Between successive half-nanometres the
    logarithmic slope −d ln|b0|/dd exceeds 2κ by the power-law prefactor only,
    n/d with 0 < n < 4 (Slonczewski's stationary-phase estimate gives n ≈ 2),
    and decreases monotonically (no floor, no jump).
    """
    kappa = math.sqrt((BARRIER - FERMI) / C)
    ds = np.arange(1.0, 4.01, 0.5)
    values = []
    for d in ds:
        r = lattice_point(junction(d), theta=math.pi / 2, bias=0.0, rtol=1e-6, parts="total")
        values.append(tperp(r.torque_sea)[1])
    values = np.array(values)
    assert np.all(values < 0)
    slope = -np.diff(np.log(np.abs(values))) / np.diff(ds)
    excess = (slope - 2 * kappa) * 0.5 * (ds[1:] + ds[:-1])  # ≈ n
    assert np.all(excess > 0) and np.all(excess < 4)
    assert np.all(np.diff(slope) < 0)


def test_grand_potential_through_a_thick_barrier_matches_the_closed_form():
    """Ω(90°) − Ω(0) at 3 nm (−3e−26 eV/nm², was exactly 0): lattice → continuum vs closed form.

    Two lattices (a, a/2) extrapolated in a² (the lattice model is O(a²));
    the extrapolated value must match the closed form to the Richardson
    estimate |f(a/2) − f(a)|/3 (plus the contours' rtol 1e-9).
    """
    pair, _ = coupling_formula(3.0, [0.0, math.pi / 2])
    exact = pair[1][0]
    j = junction(3.0)
    f = [grand_potential_difference(mk.make_system(j.at_spacing(a)), math.pi / 2, 0.0,
                                    rtol=1e-10)[0] for a in (0.01, 0.005)]
    extrapolated = (4 * f[1] - f[0]) / 3
    assert exact < 0 and f[0] < 0
    assert abs(extrapolated - exact) <= abs(f[1] - f[0]) / 3 + 1e-9 * abs(exact)


def _spin_current_route(monkeypatch):
    monkeypatch.setattr(ChainSolver, "coupling_bond", lambda self: None)


@pytest.mark.parametrize("path, bias, temperature", [
    (SYSTEMS / "fifn_2nm.toml", 0.0, 0.0), (SYSTEMS / "fifn_2nm.toml", 0.3, 300.0),
    (SYSTEMS / "fe_mgo_fe_asym.toml", -0.2, 0.0), (REFERENCE / "fif_mass_public.toml", 0.2, 0.0),
    (REFERENCE / "fifn_public.toml", 0.2, 0.0), (SYSTEMS / "tb_fif.toml", 0.2, 300.0),
], ids=lambda v: getattr(v, "stem", str(v)))
def test_determinant_and_spin_current_routes_agree(monkeypatch, path, bias, temperature):
    """Thin barriers, where the spin currents are accurate: the two routes agree.

    At rtol 1e-8 the sea torques must agree within the sum of their error
    estimates (measured at rtol 1e-9: 1e-13 to 9e-10 relative, errors 2e-10
    to 1e-9).
    Covers the E_x reduction and the nested (masses, tight binding)
    quadratures, T > 0, and F/I/F/N with its bound state.
    """
    jsys = mk.make_system(mk.load_junction(path))
    kw = dict(theta=1.1, phi=0.7, bias=bias, temperature=temperature, rtol=1e-8, parts="total")
    det = bias_point(jsys, **kw)
    assert ChainSolver(jsys, theta=1.1, phi=0.7, bias=bias).coupling_bond() is not None
    _spin_current_route(monkeypatch)
    spin = bias_point(jsys, **kw)
    allowed = det.errors["torque_sea"] + spin.errors["torque_sea"]
    # + the spin-current route's round-off, ~1e-11 of the larger component (measured on
    # the component that vanishes: 1.2e-11 for fifn_public), not in its error estimate
    assert np.all(np.abs(det.torque_sea - spin.torque_sea) <= allowed + 1e-10 * np.abs(
        spin.torque_sea).max())
    assert np.abs(det.torque_sea).max() > 1e5  # a real torque, (ħ/2e) A/m²


def test_spin_current_route_loses_the_thick_barrier_torque(monkeypatch):
    """Why the determinant route exists: at 3 nm the spin currents cannot resolve 1e−11.

    The spin-current route's error estimate (or its deviation) is many orders
    of magnitude larger than the value the determinant route resolves to 1e-6.
    """
    jsys = mk.make_system(junction(3.0).at_spacing(0.01))
    det = bias_point(jsys, theta=math.pi / 2, bias=0.0, rtol=1e-6, parts="total")
    _spin_current_route(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spin = bias_point(jsys, theta=math.pi / 2, bias=0.0, rtol=1e-6, parts="total",
                          max_eval=20_000)
    value = np.abs(det.torque_sea).max()
    assert det.errors["torque_sea"].max() <= 1e-6 * value
    miss = max(np.abs(spin.torque_sea - det.torque_sea).max(), spin.errors["torque_sea"].max())
    assert miss > 1e3 * value


def test_issue_command_is_resolved_without_warnings():
    """Issue 11 item 1: V = 0.1 V, θ = 90°, parts both, 2.5 nm: sea resolved, converged, no warning.

    The sea's T⊥ (−9.3e−8) is larger than the window's (−3.3e−8); the total
    carries both and its error meets rtol 1e-4 of the larger part.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = lattice_point(junction(2.5), theta=math.pi / 2, bias=0.1, rtol=1e-4, parts="both")
    sea, window, total = (tperp(v)[1] for v in (r.torque_sea, r.torque, r.torque_total))
    assert r.converged
    assert sea < 0 and abs(sea) > abs(window) > 0
    assert total == pytest.approx(sea + window, rel=1e-12)
    assert np.abs(r.errors["torque_total"]).max() <= 1e-4 * abs(sea)


def test_lattice_level_functions_warn_on_a_continuum_junction():
    """bias_point / grand_potential_difference on make_system(continuum junction) compute on its
    base lattice (0.025 nm here): at 2 nm the grand potential is 10 % off the continuum and the
    window T∥ of fe_mgo_fe at 0.1 V has the wrong sign, with errors that leave this out.  They
    say so (LatticeWarning); on an explicit lattice they do not."""
    from mtj_kwant.integrate import LatticeWarning

    j = junction(2.0)
    with pytest.warns(LatticeWarning, match="continuum junction.*lattice_point"):
        grand_potential_difference(mk.make_system(j), math.pi / 2, 0.0)
    with pytest.warns(LatticeWarning, match="bias_point.*a = 0.025 nm"):
        bias_point(mk.make_system(j), theta=math.pi / 2, bias=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bias_point(mk.make_system(j.at_spacing(0.025)), theta=math.pi / 2, bias=0.1)
