"""The free-electron lattice model converges to the exact continuum model as O(a²).

The reference is ``tests/continuum_exact.py``: an independent exact solution of the
continuum Hamiltonian of DESIGN.md §1/§3 (ψ and ψ'/m continuous, per-layer masses,
non-collinear exchange; stable scattering-matrix composition), with its own
quadrature.  It shares no physics code with the package.

Tests, in order: the exact route itself (quadrature rule, flux conservation,
analytic single-barrier formula including a 5 nm barrier, collinear limits, spin
current constant in non-magnetic regions, an independent 1D E_x reduction of its
k∥ quadrature); per-(E, k∥) transmission eigenvalues of the Kwant lattice system
against it; integrated conductances, window torkances and finite-bias window
values of the package against it, with the error ratio per halving of the lattice
step and the Richardson extrapolation.

The measured error tables are in the docstrings of the convergence tests; every
tolerance is stated next to the measurement it is based on.
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import pytest
from scipy import integrate

from mtj_kwant.model import Electrode, Junction, JunctionWarning, Layer

from . import continuum_exact as ce

pytestmark = pytest.mark.filterwarnings("ignore::mtj_kwant.model.JunctionWarning")

E_F = 2.25


# ----------------------------------------------------------------------------- junctions
def _pinned(mass=1.0):
    return Electrode(potential=0.0, exchange=2.15, magnetization=(0, 0, 1), effective_mass=mass)


def fif(a=0.01, barrier=1.0):
    """CoFeB-like F/I/F, semi-infinite free electrode; barrier mass 0.4, electrodes 1."""
    return Junction(
        name="CoFeB-like F/I/F", fermi_energy=E_F, lattice_spacing=a, left=_pinned(),
        layers=[Layer(kind="barrier", thickness=barrier, potential=3.05, effective_mass=0.4)],
        right=Electrode(potential=0.0, exchange=2.15, free=True, effective_mass=1.0))


def fif_thick(a=0.01):
    """The same with a 5 nm barrier (κd ≈ 14.5 at k∥ = 0, up to ≈ 45 at large k∥)."""
    return fif(a, barrier=5.0)


def fifn(a=0.01):
    """F/I/F/N: 0.8 nm free layer of mass 0.7 under a normal cap of mass 1.

    The cap (band bottom −0.5 eV) is open wherever the free layer's majority band
    is (q ≤ 72 vs 61 nm⁻² at E_F), so there are no quasi-bound free-layer states
    (narrow resonances) in the k∥ integrand.
    """
    return Junction(
        name="F/I/F/N with per-layer masses", fermi_energy=E_F, lattice_spacing=a,
        left=_pinned(),
        layers=[Layer(kind="barrier", thickness=1.0, potential=3.05, effective_mass=0.4),
                Layer(kind="metal", thickness=0.8, potential=0.0, exchange=2.15,
                      effective_mass=0.7, free=True)],
        right=Electrode(potential=-0.5, exchange=0.0, effective_mass=1.0))


def trapezoid(a=0.01):
    """Two barriers (one trapezoidal) around a magnetic spacer, free layer, cap: five masses."""
    return Junction(
        name="double barrier with a trapezoid", fermi_energy=E_F, lattice_spacing=a,
        left=_pinned(),
        layers=[Layer(kind="barrier", thickness=0.6, potential=(3.4, 2.9), effective_mass=0.5),
                Layer(kind="metal", thickness=0.4, potential=0.2, exchange=1.5,
                      effective_mass=0.8, magnetization=(1, 0, 1)),
                Layer(kind="barrier", thickness=0.4, potential=3.2, effective_mass=0.45),
                Layer(kind="metal", thickness=0.8, potential=0.0, exchange=2.15,
                      effective_mass=0.7, free=True)],
        right=Electrode(potential=-0.5, exchange=0.0, effective_mass=1.2))


def fif_uniform(a=0.01):
    """One mass everywhere (for the E_x reduction check of the exact route)."""
    return Junction(
        name="uniform-mass F/I/F", fermi_energy=E_F, lattice_spacing=a, effective_mass=1.0,
        left=Electrode(potential=0.0, exchange=2.15, magnetization=(0, 0, 1)),
        layers=[Layer(kind="barrier", thickness=0.6, potential=3.6)],
        right=Electrode(potential=0.0, exchange=1.5, free=True))


JUNCTIONS = {f.__name__: f for f in (fif, fif_thick, fifn, trapezoid)}


@functools.lru_cache(maxsize=None)
def lattice_system(name, a):
    from mtj_kwant.system import make_system

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JunctionWarning)
        return make_system(JUNCTIONS[name](a))


def lattice_eigenvalues(name, a, energy, k_par, theta, phi, bias):
    """Transmission eigenvalues (descending) of the Kwant lattice system at (E, k∥)."""
    import kwant

    js = lattice_system(name, a)
    params = js.params(theta=theta, phi=phi, bias=bias, eps_par=ce.HBAR2_2ME * k_par**2)
    t = kwant.smatrix(js.fsyst, energy, params=params).submatrix(1, 0)
    return np.sort(np.linalg.svd(t, compute_uv=False) ** 2)[::-1]


def ratios_and_richardson(errors):
    """Error ratios e(a)/e(a/2) and |Richardson error| / |e(a_min)| along the last axis 0."""
    e = np.asarray(errors)
    ratios = e[:-1] / e[1:]
    rich = (4 * e[-1] - e[-2]) / 3
    return ratios, np.abs(rich) / np.abs(e[-1])


# ----------------------------------------------------------------------------- exact route
def test_gauss_kronrod_rule_integrates_polynomials_exactly():
    """K21 is exact to degree 31 and the embedded G10 to degree 19 (round-off 1e-15)."""
    for d in range(32):
        exact = (1 - (-1) ** (d + 1)) / (d + 1)
        assert abs(np.dot(ce.GK21_WEIGHTS, ce.GK21_NODES**d) - exact) < 1e-14
        if d < 20:
            assert abs(np.dot(ce.G10_WEIGHTS, ce.GK21_NODES**d) - exact) < 1e-14


POINTS = [  # (E eV, k∥ 1/nm, θ, φ, bias V): open/closed channels, bias on and off
    (E_F, 0.4, 1.1, 0.3, 0.0),
    (E_F, 3.0, 2.0, 0.0, 0.0),
    (2.1, 5.0, 0.7, 1.0, 0.4),
    (2.4, 6.5, 2.5, -0.5, -0.3),
    (E_F, 8.8, 1.3, 0.2, 0.1),  # left minority closed, right open: one incoming channel
]


@pytest.mark.parametrize("name", list(JUNCTIONS))
@pytest.mark.parametrize("point", POINTS, ids=lambda p: "E{}-k{}-V{}".format(p[0], p[1], p[4]))
def test_exact_route_conserves_flux(name, point):
    """T + R = 1 per open incoming channel, and the particle flux at every cut equals T.

    Measured over all junctions and points: |T + R − 1| ≤ 1.5e-15 (also for the 5 nm
    barrier, where T ~ 1e-13 ... 1e-32, which a product of transfer matrices could not
    give); assert 1e-12.  The flux at a cut is Im ψ†ψ'/m of the local wave function:
    right of the last barrier it equals T to 2.4e-14 relative (assert 1e-10; where
    T = 0, a closed cap, it is 4e-25: assert 1e-20 absolute); left of it ψ = O(1) and
    Im ψ†ψ'/m is a difference of O(1) numbers, exact to 9e-16 absolute (assert 1e-12
    absolute).
    """
    junction = JUNCTIONS[name]()
    x_barrier_end = max(sum(lay.thickness for lay in junction.layers[:i + 1])
                        for i, lay in enumerate(junction.layers) if lay.kind == "barrier")
    r = ce.exact_point(junction, *point, positions=[0.1, x_barrier_end - 0.05])
    ol = r["open_left"]
    assert ol.any()
    np.testing.assert_allclose((r["transmission"] + r["reflection"])[ol], 1, rtol=0, atol=1e-12)
    # (closed incoming channels: _observables masks them to T = 0, nothing to test there)
    flux = r["currents"][:, 0, :]  # (cut, channel)
    right = r["cut_x"] >= x_barrier_end - 1e-12
    for s in np.flatnonzero(ol):
        np.testing.assert_allclose(flux[right, s], r["transmission"][s], rtol=1e-10, atol=1e-20)
        np.testing.assert_allclose(flux[~right, s], r["transmission"][s], rtol=0, atol=1e-12)


def _analytic_barrier(k1, m1, kappa, mb, k3, m3, d):
    """Rectangular barrier between two media, BenDaniel-Duke matching (one spin channel).

    T = 4 K1 K3 Q² / [Q² (K1 + K3)² cosh²(κd) + (Q² − K1 K3)² sinh²(κd)], K = k/m, Q = κ/m_b.
    Written with e^{−2κd} so that it stays exact for thick barriers.
    """
    K1, K3, Q = k1 / m1, k3 / m3, kappa / mb
    e = math.exp(-2 * kappa * d)
    ch2 = ((1 + e) / 2) ** 2  # cosh²(κd) e^{−2κd}
    sh2 = ((1 - e) / 2) ** 2
    return 4 * K1 * K3 * Q**2 * e / (Q**2 * (K1 + K3) ** 2 * ch2 + (Q**2 - K1 * K3) ** 2 * sh2)


@pytest.mark.parametrize("thickness, height, mass", [(1.0, 3.05, 0.4), (5.0, E_F + 3.0, 1.0)])
@pytest.mark.parametrize("theta", [0.0, math.pi])
def test_exact_route_matches_the_analytic_barrier(thickness, height, mass, theta):
    """Collinear, rectangular barrier: each spin channel has the textbook transmission.

    Electrodes with different exchange (2.15 / 1.5 eV) so that k1 ≠ k3; θ = π makes the
    left majority the right minority.  The 5 nm barrier 3 eV above E_F with m = 1 has
    κd = 44 at k∥ = 0 (T ~ 1e-38) and κd = 49 at k∥ = 4/nm (T ~ 1e-42).  Measured
    agreement: 1.8e-14 relative for 1 nm, 1.2e-13 for 5 nm; assert 1e-10.
    """
    junction = Junction(
        fermi_energy=E_F, lattice_spacing=0.01,
        left=Electrode(potential=0.0, exchange=2.15, magnetization=(0, 0, 1)),
        layers=[Layer(kind="barrier", thickness=thickness, potential=height,
                      effective_mass=mass)],
        right=Electrode(potential=0.1, exchange=1.5, free=True, effective_mass=0.9))
    c = ce.HBAR2_2ME
    for energy, k_par in [(E_F, 0.0), (E_F, 4.0), (1.9, 2.5)]:
        q = k_par**2
        r = ce.exact_point(junction, energy, k_par, theta)
        for s, sign in enumerate((+1, -1)):  # left majority (spin up), minority (down)
            k1 = math.sqrt(max(0.0, (energy + sign * 2.15 / 2) / c - q))
            sign3 = sign if theta == 0 else -sign  # spin up is the right minority at θ = π
            k3sq = 0.9 * (energy - 0.1 + sign3 * 1.5 / 2) / c - q
            kappa = math.sqrt(mass * (height - energy) / c + q)
            expected = _analytic_barrier(k1, 1.0, kappa, mass, math.sqrt(k3sq), 0.9, thickness) \
                if k1 > 0 and k3sq > 0 else 0.0
            assert r["transmission"][s] == pytest.approx(expected, rel=1e-10, abs=1e-300)
            # collinear: no spin flip, the spin current is along z
            np.testing.assert_allclose(r["currents"][:, 1:3, s], 0, atol=1e-15)


@pytest.mark.parametrize("name", ["fif", "fifn", "trapezoid"])
def test_spin_current_is_constant_where_there_is_no_exchange(name):
    """In a barrier the spin current of each channel is the same at every x; in the free
    layer its component along m is (the exchange torque is ⟂ m).

    Measured: constant to 1.6e-13 of the flux scale (the larger T), m-component of the
    torque 1e-15 of it; assert 1e-11.
    """
    junction = JUNCTIONS[name]()
    d0 = junction.layers[0].thickness
    theta, phi = 1.3, 0.4
    r = ce.exact_point(junction, 2.3, 2.2, theta, phi, 0.0,
                       positions=[0.2 * d0, 0.5 * d0, 0.9 * d0])
    inside = r["cut_x"] <= d0 + 1e-12
    scale = r["transmission"].max()
    spin = r["currents"][inside, 1:, :]
    np.testing.assert_allclose(spin - spin[:1], 0, atol=1e-11 * scale)
    m = np.array([math.sin(theta) * math.cos(phi), math.sin(theta) * math.sin(phi),
                  math.cos(theta)])
    along = np.einsum("i,is->s", m, r["torque"])
    np.testing.assert_allclose(along, 0, atol=1e-11 * scale)


@pytest.mark.parametrize("name", ["fif", "fifn"])
def test_collinear_magnetizations_give_no_torque(name):
    """θ = 0 and π: no torque per point and after integration.

    The natural scales are T per point and G integrated (DESIGN.md §3a).  At θ = π the
    floating-point m has an x component sin(π) = 1.2e-16, which gives a genuine torque
    of that relative order.  Measured: per point ≤ 2.6e-15 of T, transverse spin
    current ≤ 3.5e-19 (flux units), integrated ≤ 2.7e-16 of G; assert 1e-12, 1e-14 and
    1e-12.
    """
    junction = JUNCTIONS[name]()
    for theta in (0.0, math.pi):
        for point in POINTS[:3]:
            r = ce.exact_point(junction, point[0], point[1], theta, 0.0, point[4])
            np.testing.assert_allclose(r["torque"], 0, atol=1e-12 * r["transmission"].max())
            np.testing.assert_allclose(r["currents"][:, 1:3, :], 0, atol=1e-14)
        lr = ce.exact_linear_response(junction, theta)
        assert lr["converged"]
        np.testing.assert_allclose(lr["torkance"], 0, atol=1e-12 * lr["conductance"])


@pytest.mark.parametrize("name", ["fif", "fifn", "trapezoid"])
def test_integrated_flux_is_conserved(name):
    """G + reflected = incoming flux: (e²/h)/(4π) Σ_s q_s with q_s = m(E_F − V + sΔ/2)/C the
    open-channel areas of the left electrode (analytic).  Measured: ≤ 7e-16 relative;
    assert 1e-10 (the quadrature rtol)."""
    junction = JUNCTIONS[name]()
    lr = ce.exact_linear_response(junction, 1.0, 0.5)
    q_open = [max(0.0, (E_F + s * 2.15 / 2) / ce.HBAR2_2ME) for s in (+1, -1)]
    incoming = ce.E2_H * ce.PER_NM2 / (4 * math.pi) * sum(q_open)
    assert lr["conductance"] + lr["reflected"] == pytest.approx(incoming, rel=1e-10)


def test_k_quadrature_agrees_with_the_longitudinal_energy_reduction():
    """Uniform mass: ∫ dq/(4π) F(E_F, q) = (m/4πC) ∫ dE_x F(E_x, k∥ = 0) (DESIGN.md §5).

    The right side is integrated with scipy.integrate.quad with breakpoints at the band
    bottoms (an independent quadrature).  Measured: 2.7e-13 relative on G, ≤ 1.3e-13 on
    each torkance component relative to the larger; assert 1e-9.
    """
    junction = fif_uniform()
    theta = 1.1
    lr = ce.exact_linear_response(junction, theta)

    def f(ex, column):
        r = ce.exact_point(junction, ex, 0.0, theta)
        return r["transmission"].sum() if column < 0 else r["torque"][column].sum()

    lo = -2.15 / 2  # lowest band bottom of the left electrode
    pts = sorted({-2.15 / 2, 2.15 / 2, -1.5 / 2, 1.5 / 2})
    pref = ce.E2_H * ce.PER_NM2 / (4 * math.pi) / ce.HBAR2_2ME
    opts = dict(points=[p for p in pts if lo < p < E_F], limit=400, epsabs=0, epsrel=1e-12)
    g = pref * integrate.quad(f, lo, E_F, args=(-1,), **opts)[0]
    tk = np.array([pref * integrate.quad(f, lo, E_F, args=(i,), **opts)[0] for i in range(3)])
    assert lr["conductance"] == pytest.approx(g, rel=1e-9)
    np.testing.assert_allclose(lr["torkance"], tk, rtol=0, atol=1e-9 * np.abs(tk).max())


# ----------------------------------------------------------------------------- per point
LATTICE_POINTS = {
    "fif": POINTS[1:4],
    "fif_thick": POINTS[1:4],
    "fifn": POINTS[1:4],
    "trapezoid": POINTS[1:2] + POINTS[3:4],
}


@pytest.mark.parametrize("name, point", [(n, p) for n, ps in LATTICE_POINTS.items() for p in ps],
                         ids=lambda v: v if isinstance(v, str) else "E{}-k{}-V{}".format(
                             v[0], v[1], v[4]))
def test_lattice_transmission_eigenvalues_converge_as_a_squared(name, point):
    """Kwant's transmission eigenvalues at fixed (E, k∥) → the continuum ones, O(a²).

    a = 0.04, 0.02, 0.01 nm.  Measured relative errors at a = 0.01: 6.8e-4 ... 1.6e-2
    (the largest for the 5 nm barrier at k∥ = 6.5/nm, T ~ 1e-31); ratios per halving
    3.98 ... 4.38 (0.04 → 0.02; the spread is the a⁴ term) and 3.99 ... 4.09
    (0.02 → 0.01); the Richardson value (4 f(a/2) − f(a))/3 is 1e-3 ... 3.1e-2 of the
    a = 0.01 error.  Assert ratios in [3.3, 4.8] and Richardson
    below 0.1 of the finest error.  The exact side (slices Richardson-extrapolated) is
    good to ~1e-9 relative, far below the lattice errors.
    """
    exact = ce.exact_transmission(JUNCTIONS[name](), *point)
    errors = []
    for a in (0.04, 0.02, 0.01):
        ev = lattice_eigenvalues(name, a, *point)
        assert ev.shape == exact.shape
        errors.append((ev - exact) / exact)
    ratios, rich = ratios_and_richardson(errors)
    assert np.all((ratios > 3.3) & (ratios < 4.8)), (errors, ratios)
    assert np.all(rich < 0.1), (errors, rich)


# ----------------------------------------------------------------------------- integrated
SPACINGS = (0.02, 0.01, 0.005)
BIAS_STEP = 1e-3  # V, the ±δV of mtj_kwant.sweep.conductance


@functools.lru_cache(maxsize=None)
def lattice_linear_response(name, a):
    """Package values: G_P, G_AP (θ = 0, π) and the window torkance at θ = 90°, by the
    central difference at ±1 mV of bias_point (rtol 1e-8), with quadrature errors."""
    from mtj_kwant.integrate import bias_point

    js = lattice_system(name, a)
    out, err = {}, {}
    for key, theta in (("G_P", 0.0), ("G_AP", math.pi), ("T90", math.pi / 2)):
        rs = [bias_point(js, theta=theta, bias=s * BIAS_STEP, rtol=1e-8) for s in (1, -1)]
        assert all(r.converged for r in rs)
        if key == "T90":
            out[key] = (rs[0].torque - rs[1].torque) / (2 * BIAS_STEP)
            err[key] = (rs[0].errors["torque"] + rs[1].errors["torque"]) / (2 * BIAS_STEP)
        else:
            out[key] = (rs[0].current_density - rs[1].current_density) / (2 * BIAS_STEP)
            err[key] = (rs[0].errors["current_density"]
                        + rs[1].errors["current_density"]) / (2 * BIAS_STEP)
    return out, err


@functools.lru_cache(maxsize=None)
def exact_linear(name):
    junction = JUNCTIONS[name]()
    res = {"G_P": ce.exact_linear_response(junction, 0.0),
           "G_AP": ce.exact_linear_response(junction, math.pi),
           "T90": ce.exact_linear_response(junction, math.pi / 2)}
    assert all(r["converged"] for r in res.values())
    return res


@pytest.mark.parametrize("name", ["fif", "fifn"])
@pytest.mark.parametrize("key", ["G_P", "G_AP"])
def test_conductance_converges_to_the_continuum_as_a_squared(name, key):
    """G_P and G_AP per area (S/m²), lattice a = 0.02, 0.01, 0.005 nm against the exact
    continuum linear response.

    Measured relative errors (a = 0.04, 0.02, 0.01, 0.005; ratio per halving):
      fif  G_P : 6.99e-3, 1.785e-3 (3.92), 4.489e-4 (3.98), 1.127e-4 (3.98)
      fif  G_AP: 7.12e-3, 1.817e-3 (3.92), 4.569e-4 (3.98), 1.147e-4 (3.98)
      fifn G_P : 1.026e-2, 2.585e-3 (3.97), 6.479e-4 (3.99), 1.625e-4 (3.99)
      fifn G_AP: 9.90e-3, 2.488e-3 (3.98), 6.233e-4 (3.99), 1.563e-4 (3.99)
    Richardson (a = 0.01, 0.005): 6e-3 of the a = 0.005 error.  Assert ratios in [3.3, 4.8]
    and Richardson below 0.05 of the finest error.  Error budget far below the a = 0.005
    lattice error (≥ 1.1e-4): exact quadrature ~1e-14, package quadrature ~1e-12
    (rtol 1e-8, asserted below 1e-2 of the lattice error), and the central difference at
    ±1 mV, which differs from dJ/dV by 4.6e-7 relative (measured with the exact route,
    test_central_difference_matches_linear_response): 0.4 % of the finest lattice error.
    """
    exact = exact_linear(name)[key]
    errors = []
    for a in SPACINGS:
        val, qerr = lattice_linear_response(name, a)
        errors.append(val[key] - exact["conductance"])
        assert qerr[key] < 1e-2 * abs(errors[-1])
    assert exact["conductance_error"] < 1e-6 * abs(errors[-1])
    ratios, rich = ratios_and_richardson(errors)
    assert np.all((ratios > 3.3) & (ratios < 4.8)), (errors, ratios)
    assert rich < 0.05, (errors, rich)


def test_package_conductance_function_is_the_linear_response_of_the_central_difference():
    """mtj_kwant.sweep.conductance (rtol 1e-8, exact dJ/dV at V = 0) equals the ±1 mV central
    difference used above to its O(δV²) bias: measured 4.6e-7 relative, bound 2e-6."""
    from mtj_kwant.sweep import conductance

    g = conductance(JUNCTIONS["fifn"](0.02), rtol=1e-8, system=lattice_system("fifn", 0.02))
    val, _ = lattice_linear_response("fifn", 0.02)
    assert g.G_P == pytest.approx(val["G_P"], rel=2e-6)
    assert g.G_AP == pytest.approx(val["G_AP"], rel=2e-6)


@pytest.mark.parametrize("name", ["fif", "fifn"])
def test_window_torkance_converges_to_the_continuum_as_a_squared(name):
    """dT_window/dV at V = 0, θ = 90° (m = x, p = z: T∥ = T_z, T⊥ = −T_y), lattice
    a = 0.02, 0.01, 0.005 nm against the exact continuum.

    Measured errors relative to the component (a = 0.04, 0.02, 0.01, 0.005; ratio):
      fif  T_y: 5.54e-3, 9.84e-4 (5.63), 2.224e-4 (4.42), 5.45e-5 (4.08)
      fif  T_z: 3.15e-2, 7.49e-3 (4.20), 1.850e-3 (4.05), 4.61e-4 (4.01)
      fifn T_y: 2.93,    7.22e-1 (4.05), 1.800e-1 (4.01), 4.50e-2 (4.00)
      fifn T_z: 2.73e-2, 6.40e-3 (4.26), 1.575e-3 (4.06), 3.92e-4 (4.01)
    (fifn T_y is 160× smaller than T_z, so its relative error is large; relative to T_z
    it is 1.1e-4 at a = 0.01.)  The a = 0.04 → 0.02 ratio of fif T_y, 5.6, shows the a⁴
    term, hence the spacings 0.02 ... 0.005.  Richardson: 3e-3 ... 3e-2 of the finest
    error.  Assert ratios in [3.3, 4.8], Richardson below 0.1 of the finest error, and
    T_x (along m) zero to 1e-12 of |T| (measured 1e-16).  Quadrature and ±1 mV
    central-difference errors as in the conductance test.
    """
    exact = exact_linear(name)["T90"]
    big = np.abs(exact["torkance"]).max()
    errors = []
    for a in SPACINGS:
        val, qerr = lattice_linear_response(name, a)
        errors.append(val["T90"] - exact["torkance"])
        assert np.all(qerr["T90"][1:] < 1e-2 * np.abs(errors[-1][1:]))
        assert abs(val["T90"][0]) < 1e-12 * big
    assert np.all(exact["torkance_error"] < 1e-6 * np.abs(errors[-1]).max())
    ratios, rich = ratios_and_richardson(np.array(errors)[:, 1:])
    assert np.all((ratios > 3.3) & (ratios < 4.8)), (errors, ratios)
    assert np.all(rich < 0.1), (errors, rich)


@pytest.mark.parametrize("name", ["fifn", pytest.param("trapezoid", marks=pytest.mark.slow)])
def test_finite_bias_window_converges_to_the_continuum_as_a_squared(name):
    """Window current density and torque at V = 0.3 V, θ = 90°: bias_point (rtol 1e-8) on
    a = 0.02, 0.01, 0.005 nm against exact_window (slices of 0.01/0.005 nm, Richardson;
    full (E, k∥) integral).

    Measured errors at a = 0.04, 0.02, 0.01, 0.005 (J relative; torque components
    relative to the larger; ratio per halving):
      fifn J  : +8.75e-3, +2.234e-3 (3.92), +5.61e-4 (3.98), +1.405e-4 (4.00)
      fifn T_y: +1.75e-2, +4.30e-3 (4.07), +1.069e-3 (4.02), +2.67e-4 (4.00)
      fifn T_z: -8.26e-3, -1.79e-3 (4.60), -4.32e-4 (4.15), -1.07e-4 (4.04)
      trap J  : -5.04e-3, -1.244e-3 (4.05), -3.10e-4 (4.01), -7.75e-5 (4.00)
      trap T_y: -1.12e-2, -2.70e-3 (4.14), -6.68e-4 (4.03), -1.67e-4 (4.01)
      trap T_z: -8.08e-3, -2.03e-3 (3.97), -5.09e-4 (3.99), -1.27e-4 (4.00)
    Richardson (0.01, 0.005): 5e-4 ... 1.3e-2 of the a = 0.005 error.
    Exact side: quadrature error ≤ 1e-10 relative; the slicing error of the h/2 value
    (exact_window's ``slicing_error``, a generous bound on that of the Richardson value
    it returns) is ≤ 5.4 % of the finest lattice error (fifn T_z; trapezoid ≤ 2 % with
    its finer slices); the Richardson value itself is good to ~1e-9 (the trapezoid's
    moves by 2.4e-10 between slices of 0.01 and 0.005 nm; see also
    test_exact_window_slicing_is_converged).
    Assert ratios in [3.3, 4.8], Richardson below 0.1 of the finest error, quadrature
    errors (package and exact) below 1e-2 of the finest lattice error and the slicing
    bound below 0.1 of it.

    The same for the interfacial spin current (PointResult.interfacial, the input of the
    diffusion comparison) against the exact one at the barrier/free-layer interface
    (errors relative to its larger component; fifn x (along m), y, z):
      +1.100e-1, +2.750e-2 (4.00), +6.87e-3 (4.00), +1.718e-3 (4.00)
      +2.13e-3,  +5.37e-4 (3.96),  +1.34e-4 (4.00), +3.36e-5 (4.00)
      −1.20e-2,  −2.78e-3 (4.33),  −6.81e-4 (4.08), −1.69e-4 (4.02)
    Richardson 9e-5 ... 7e-3 of the finest error.  The spin current on the bond leaving
    the free layer instead differs by O(1).
    """
    from mtj_kwant.integrate import bias_point

    bias, theta = 0.3, math.pi / 2
    # Slices of 0.01/0.005 nm (fifn: only the bias drop) and 0.005/0.0025 nm (trapezoid,
    # whose slicing bound at 0.01 nm would be 8 % of its finest lattice error).
    slice_width = 0.005 if name == "trapezoid" else 0.01
    ex = ce.exact_window(JUNCTIONS[name](), bias, theta, slice_width=slice_width)
    assert ex["converged"]
    exact = np.r_[ex["current_density"], ex["torque"][1:]]
    exact_err = np.r_[ex["current_density_error"], ex["torque_error"][1:]]
    slicing_err = np.r_[ex["slicing_error"]["current_density"], ex["slicing_error"]["torque"][1:]]
    errors, inter = [], []
    for a in SPACINGS:
        r = bias_point(lattice_system(name, a), theta=theta, bias=bias, rtol=1e-8)
        assert r.converged
        errors.append(np.r_[r.current_density, r.torque[1:]] - exact)
        inter.append(r.interfacial - ex["interfacial"])
        qerr = np.r_[r.errors["current_density"], r.errors["torque"][1:]]
        assert np.all(qerr < 1e-2 * np.abs(errors[-1])), (qerr, errors[-1])
        assert np.all(r.errors["interfacial"] < 1e-2 * np.abs(inter[-1])), inter[-1]
    assert np.all(exact_err < 1e-2 * np.abs(errors[-1])), (exact_err, errors[-1])
    assert np.all(ex["interfacial_error"] < 1e-2 * np.abs(inter[-1])), inter[-1]
    assert np.all(slicing_err < 0.1 * np.abs(errors[-1])), (slicing_err, errors[-1])
    for e in (errors, inter):
        ratios, rich = ratios_and_richardson(e)
        assert np.all((ratios > 3.3) & (ratios < 4.8)), (e, ratios)
        assert np.all(rich < 0.1), (e, rich)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["fif", "fifn"])
def test_central_difference_matches_linear_response(name):
    """exact_window at ±1 mV, central difference, against exact_linear_response.

    Two routes of the exact module (finite-bias (E, k∥) integral with the sliced bias
    drop vs the E_F integrand): they differ by the O(δV²) term of the central
    difference.  Measured: fif G 4.6e-7, T_y 5.2e-7, T_z 1.9e-7 relative; fifn T_y 6.7e-6
    of T_y = 4.2e-8 of the larger component T_z.  Assert 2e-6 on G and 2e-6 of the
    larger torkance component.  This is the size of the ±1 mV bias in the lattice
    comparisons above.
    """
    junction = JUNCTIONS[name]()
    theta = math.pi / 2
    lr = ce.exact_linear_response(junction, theta)
    wp = ce.exact_window(junction, BIAS_STEP, theta)
    wm = ce.exact_window(junction, -BIAS_STEP, theta)
    g = (wp["current_density"] - wm["current_density"]) / (2 * BIAS_STEP)
    tk = (wp["torque"] - wm["torque"]) / (2 * BIAS_STEP)
    assert g == pytest.approx(lr["conductance"], rel=2e-6)
    np.testing.assert_allclose(tk, lr["torkance"], rtol=0,
                               atol=2e-6 * np.abs(lr["torkance"]).max())


@pytest.mark.slow
def test_exact_window_slicing_is_converged():
    """The Richardson-extrapolated slicing at h = 0.02/0.01 and 0.01/0.005 nm agree.

    Trapezoid at 0.3 V (sliced trapezoid barrier, bias drop across a magnetic spacer).
    Measured difference: 3.9e-9 relative on J, 4e-9 of the larger torque component
    (without Richardson, h = 0.01 nm alone is off by 2.6e-5 and 3e-5); assert 1e-8."""
    junction = trapezoid()
    a = ce.exact_window(junction, 0.3, math.pi / 2, slice_width=0.02)
    b = ce.exact_window(junction, 0.3, math.pi / 2, slice_width=0.01)
    assert a["current_density"] == pytest.approx(b["current_density"], rel=1e-8)
    np.testing.assert_allclose(a["torque"], b["torque"], atol=1e-8 * np.abs(b["torque"]).max())
