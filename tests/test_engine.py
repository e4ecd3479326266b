"""The engine's seams: the solver protocol, lead objects and transverse models.

Integration (:func:`mtj_kwant.integrate.bias_point`) sees a solver only through the protocol of
:class:`mtj_kwant.solvers.Solver`; these tests check that a second implementation (Kwant's
scattering states with a NumPy log-determinant) plugs in without the batched solver, and that
the pieces the protocol is made of agree with independent routes.
"""

import math

import numpy as np
import pytest
from scipy.integrate import quad

import mtj_kwant.integrate as integrate
from mtj_kwant.integrate import bias_point
from mtj_kwant.solvers import ChainSolver, KwantSolver, Lead, block_log_det
from mtj_kwant.system import make_system
from mtj_kwant.transverse import (ContinuumTransverse, SquareLatticeTransverse, tb_dos,
                                  transverse_model)

from .conftest import SYSTEMS, fif, fifn


def test_kwant_solver_runs_the_window_without_the_batched_solver(monkeypatch):
    """solver='kwant', window part: no ChainSolver is built (the protocol is enough), and the
    result equals the batched solver's to the agreement of the two solvers per point (1e-12,
    see tests/test_solvers.py), with the same evaluations (same breakpoints and resonances)."""
    js = make_system(fifn(free_thickness=0.5, spacing=0.025))
    ref = bias_point(js, theta=1.1, bias=0.2, rtol=1e-4)

    def refuse(*args, **kw):
        raise AssertionError("bias_point built a ChainSolver for a Kwant window")
    monkeypatch.setattr(integrate, "ChainSolver", refuse)
    kw = bias_point(js, theta=1.1, bias=0.2, rtol=1e-4, solver="kwant")
    assert kw.n_eval == ref.n_eval
    assert kw.current_density == pytest.approx(ref.current_density, rel=1e-11)
    np.testing.assert_allclose(kw.torque, ref.torque, rtol=0, atol=1e-11 * np.abs(ref.torque).max())
    np.testing.assert_array_equal(kw.resonances.shape, ref.resonances.shape)


def test_kwant_solver_needs_the_batched_solver_for_the_sea():
    """The Kwant solver has no complex energies (has_sea False): the sea comes from the batched
    solver, and the total equals the batched route's."""
    assert not KwantSolver.has_sea and ChainSolver.has_sea
    js = make_system(fif(barrier=0.5, spacing=0.025))
    a = bias_point(js, theta=1.0, bias=0.1, rtol=1e-5, parts="both")
    b = bias_point(js, theta=1.0, bias=0.1, rtol=1e-5, parts="both", solver="kwant")
    np.testing.assert_allclose(b.torque_sea, a.torque_sea, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_numpy_log_det_equals_the_compiled_one_on_its_branch(seed):
    """block_log_det (NumPy, Kwant's blocks, Lead self-energies) = _rgf.log_det (numba), real and
    imaginary parts, along a line of energies crossing bands and resonances: the same
    continuous branch (Im jumps by π per state, never by 2π), to 1e-12 absolute."""
    rng = np.random.default_rng(seed)
    j = fifn(free_thickness=0.05 * rng.integers(6, 14), barrier=0.3, spacing=0.05)
    js = make_system(j)
    theta = rng.uniform(0, np.pi)
    cs, ks = ChainSolver(js, theta=theta, bias=0.1), KwantSolver(js, theta=theta, bias=0.1)
    energies = np.linspace(-1.0, 8.0, 4001)
    for eps in (0.0, 0.7):
        a = cs.log_det(energies, np.full(energies.shape, eps))
        b = ks.log_det(energies, np.full(energies.shape, eps))
        np.testing.assert_allclose(b.real, a.real, rtol=0, atol=1e-10)
        np.testing.assert_allclose(b.imag, a.imag, rtol=0, atol=1e-12)
        assert np.abs(np.diff(a.imag)).max() < 1.5 * np.pi  # a continuous branch
    # complex energies too (the Fermi-sea contours)
    z = energies + 0.3j
    np.testing.assert_allclose(block_log_det(cs.onsite, cs.slope_diag, cs.t, cs.leads, z,
                                             np.zeros(z.shape)), cs.log_det(z), atol=1e-10)


def test_log_det_is_the_dense_determinant():
    """block_log_det against numpy's slogdet of the dense matrix z − H − Σ_L − Σ_R (mod 2π)."""
    js = make_system(fifn(free_thickness=0.4, barrier=0.3, spacing=0.1))
    cs = ChainSolver(js, theta=0.7, bias=0.05)
    n = cs.chain.n_sites
    for z, eps in ((2.3 + 0.01j, 0.0), (4.1 + 1e-9j, 0.4)):
        h = np.zeros((2 * n, 2 * n), complex)
        for j in range(n):
            h[2 * j:2 * j + 2, 2 * j:2 * j + 2] = cs.onsite[j] + eps * cs.slope[j]
            if j + 1 < n:
                h[2 * j + 2:2 * j + 4, 2 * j:2 * j + 2] = -cs.t[j] * np.eye(2)
                h[2 * j:2 * j + 2, 2 * j + 2:2 * j + 4] = -cs.t[j] * np.eye(2)
        sl, sr = (lead.self_energy(np.array([z]), np.array([eps]))[0][0] for lead in cs.leads)
        h[:2, :2] += sl
        h[-2:, -2:] += sr
        sign, logabs = np.linalg.slogdet(z * np.eye(2 * n) - h)
        got = block_log_det(cs.onsite, cs.slope_diag, cs.t, cs.leads, np.array([z]),
                            np.array([eps]))[0]
        assert got.real == pytest.approx(logabs, abs=1e-10)
        assert np.exp(1j * got.imag) == pytest.approx(sign, abs=1e-10)


def test_lead_object_owns_its_bands_and_self_energy():
    """Lead.bands are where the self-energy's imaginary part is nonzero (a channel propagates);
    Σ = t λ with |λ| = 1 inside a band, |λ| < 1 outside (Kwant's chain lead, closed form)."""
    js = make_system(fif(barrier=0.5, spacing=0.05))
    lead = ChainSolver(js, theta=0.5).leads[0]
    assert isinstance(lead, Lead)
    bands = lead.bands(0.3)
    e = np.linspace(bands.min() - 1, bands[:, 0].max() + 1, 2001)
    sigma, prop = lead.self_energy(e, np.full(e.shape, 0.3))
    inside = ((e[:, None] > bands[:, 0]) & (e[:, None] < bands[:, 1])).sum(1)
    np.testing.assert_array_equal(prop, inside)
    gamma = np.linalg.eigvalsh(1j * (sigma - np.conj(np.swapaxes(sigma, -1, -2))))
    assert np.all(gamma > -1e-12)  # retarded: Γ = i(Σ − Σ†) ≥ 0
    lo, hi = lead.open_range(3.0)
    # at lo the highest band's top reaches E (every channel closed below it), at hi the
    # lowest band's bottom does (every channel closed above it)
    assert lead.bands(lo)[:, 1].max() == pytest.approx(3.0, abs=1e-12)
    assert lead.bands(hi)[:, 0].min() == pytest.approx(3.0, abs=1e-12)


def test_transverse_models_momenta_round_trip_and_densities():
    """ε∥ → Kwant momenta → ε∥; the square lattice's weight in its quadrature variable
    integrates to 1 (∫ ρ₂D dε∥ = 1, the Brillouin zone); the continuum's reduced weight at
    T = 0 is (μ_in − E_x)₊ − (μ_out − E_x)₊ (DESIGN.md §5)."""
    c = ContinuumTransverse(mass=1.0)
    for eps in (0.0, 0.3, 7.0):
        assert c.energy(c.momenta(eps)) == pytest.approx(eps, rel=1e-14, abs=1e-15)
    with pytest.raises(ValueError, match="eps_par"):
        c.momenta(-0.1)
    np.testing.assert_allclose(c.reduced_weight(np.array([1.0, 2.5, 4.0]), 3.0, 2.0, 0.0),
                               [1.0, 0.5, 0.0])
    s = SquareLatticeTransverse(t=1.2, a=0.3, t_par=1.2)
    for eps in (-4.8, -1.0, 0.0, 2.2, 4.8):
        assert s.energy(s.momenta(eps)) == pytest.approx(eps, abs=1e-12)
    with pytest.raises(ValueError, match="transverse band"):
        s.momenta(5.0)
    g = s.integrand(lambda eps: np.ones((len(eps), 1)))
    total = sum(quad(lambda v: g(np.array([v]))[0, 0], a, b, limit=200)[0]
                for a, b in ((-1, 0), (0, 1)))
    assert total == pytest.approx(1.0, abs=1e-9)
    assert quad(lambda e: tb_dos(np.array(e), 1.2), -4.8, 4.8, points=[0.0],
                limit=200)[0] == pytest.approx(1.0, abs=1e-7)


def test_transverse_model_of_the_bundled_junctions():
    """One mass → the E_x reduction (separable); per-layer masses → nested; tight binding →
    the square lattice with the junction's hopping and lattice constant."""
    import mtj_kwant as mk

    fe = transverse_model(mk.load_junction(SYSTEMS / "fe_mgo_fe.toml"))
    cofeb = transverse_model(mk.load_junction(SYSTEMS / "cofeb_mgo_cofeb.toml"))
    tb_junction = mk.load_junction(SYSTEMS / "tb_fif.toml")
    tb = transverse_model(tb_junction)
    assert isinstance(fe, ContinuumTransverse) and fe.separable and fe.contour_reduction
    assert isinstance(cofeb, ContinuumTransverse) and not cofeb.separable
    assert isinstance(tb, SquareLatticeTransverse) and not tb.contour_reduction
    assert (tb.t, tb.a) == (tb_junction.hopping, tb_junction.lattice_constant)
    assert fe.reduced_prefactor == pytest.approx(
        fe.mass * 9.1093837015e-31 / (2 * math.pi * 1.054571817e-34**2) * 1.602176634e-19
        * 1e-18, rel=1e-9)  # m/(2πħ²) in 1/(eV nm²), CODATA 2018


class _LorentzianPhase:
    """A stand-in solver whose log det has known resonances: Π (z − E_r + iγ_r) times a
    smooth background, so Φ = Im log det falls by π across each state (Lloyd's formula)."""

    def __init__(self, states):
        self.states = states

    def log_det(self, z, eps_par=0.0):
        z = np.asarray(z, complex)
        out = -0.3j * z.real  # a continuum's smooth phase
        with np.errstate(divide="ignore"):  # a bound state at a scanned energy: log 0
            for e_r, gamma in self.states:
                out = out + np.log(np.abs(z - e_r + 1j * gamma)) + 1j * np.angle(
                    z - e_r + 1j * gamma)
        return out


def test_resonance_finder_locates_known_states():
    """find_resonances on log dets with known states: a bound state (γ = 0), resonances from
    1e-13 to 1e-5 eV wide on a sloping background, and a pair closer than the scan step.
    An isolated state is the zero of det found by the complex secant, which stops at
    corrections below 1e-4 γ: centre and half width within 1e-3 γ plus 1e-14 eV (the
    ulp-level limit).  The close pair (a 2e-6 eV state 4e-4 eV from a 1e-4 eV one) is a
    background with curvature on the scale of the narrower one: within 30 % of γ.  Broader
    peaks (γ ≥ gamma_max) are left to the quadrature."""
    states = [(-0.731, 0.0), (0.2, 1e-13), (0.5, 1e-9), (0.8, 1e-5), (1.1, 1e-4),
              (1.1004, 2e-6), (1.6, 0.05)]
    found = integrate.find_resonances(_LorentzianPhase(states), -1.0, 2.0)
    expect = np.array([s for s in states if s[1] < 0.02])
    assert found.shape == expect.shape
    share = np.array([1e-3, 1e-3, 1e-3, 1e-3, 0.3, 0.3])
    gamma = expect[:, 1]
    assert np.all(np.abs(found[:, 0] - expect[:, 0]) <= 1e-14 + share * gamma)
    assert np.all(np.abs(found[:, 1] - gamma) <= 1e-14 + share * gamma)


def test_resonance_finder_resolves_a_cluster_of_states():
    """A comb of narrow states 3 meV apart (one of them exactly on a scan point, with a
    second state 0.1 meV above it, inside one scan step) beside a broad state, all in one
    cluster of the scan: each state once.  Comb: within 1e-3 γ (secant); the pair within
    30 % of γ (multisection, as in the test above); the broad state (γ = 3 meV, its
    neighbours 6 γ away curve the background on its scale) within 10 % of γ."""
    states = sorted([(0.3 + 0.003 * k, 1e-8 * (k + 1)) for k in range(5)]
                    + [(0.33, 3e-3), (0.3121, 1e-11)])
    found = integrate.find_resonances(_LorentzianPhase(states), 0.0, 1.0)
    expect = np.array(states)
    assert found.shape == expect.shape
    share = np.array([1e-3, 1e-3, 1e-3, 1e-3, 0.3, 0.3, 0.1])
    gamma = expect[:, 1]
    assert np.all(np.abs(found[:, 0] - expect[:, 0]) <= 1e-14 + share * gamma)
    assert np.all(np.abs(found[:, 1] - gamma) <= 1e-14 + share * gamma)


def test_resonance_scan_is_fine_only_near_states():
    """The coarse pass (every 25 steps) leaves the fine scan to the coarse intervals where Φ
    changes by more than π/4 and their neighbours: two isolated states on [0, 3] with the
    2 meV step cost ~61 coarse and ~2 × 76 fine evaluations plus the secants', not the full
    1501; both are found, as with the full scan."""
    calls = []

    class Counted(_LorentzianPhase):
        def log_det(self, z, eps_par=0.0):
            calls.append(np.size(z))
            return super().log_det(z, eps_par)

    states = [(0.5, 1e-9), (2.2, 1e-4)]
    found = integrate.find_resonances(Counted(states), 0.0, 3.0)
    assert found.shape == (2, 2)
    np.testing.assert_allclose(found[:, 0], [0.5, 2.2], rtol=0, atol=1e-3 * 1e-4)
    assert 61 <= sum(calls) <= 400


@pytest.mark.parametrize("name", sorted(p.stem for p in SYSTEMS.glob("*.toml")))
def test_chain_blocks_and_leads_equal_the_kwant_system(name):
    """The batched solvers' blocks and electrodes, assembled from the chain's site data, equal
    what the Kwant system of the same junction gives (every bundled layered junction, four
    random (θ, φ, V) and a transverse energy): 1e-13 of the blocks' scale (round-off), and
    the leads' cell Hamiltonians read by Kwant to 1e-13."""
    import mtj_kwant as mk
    from mtj_kwant.solvers import Lead

    j = mk.load_junction(name)
    if j.supercell is not None:
        pytest.skip("a supercell junction (its own Kwant system)")
    js = make_system(j.at_spacing(0.05) if j.model == "free-electron" else j)
    d_eps = 1.0 if j.model == "free-electron" else -j.hopping
    rng = np.random.default_rng(11)
    for _ in range(4):
        theta, phi, bias = rng.uniform(0, np.pi), rng.uniform(0, 2 * np.pi), rng.uniform(-1, 1)
        assert js.check_blocks(theta=theta, phi=phi, bias=bias) <= 1e-13
        p0 = js.params(theta=theta, phi=phi, bias=bias)
        p1 = js.params(theta=theta, phi=phi, bias=bias, eps_par=d_eps)
        for side, flead in enumerate(js.fsyst.leads):
            read = Lead.from_kwant(flead, p0, p1, d_eps)
            h, dh, t = js.lead_blocks(side, theta=theta, phi=phi, bias=bias)
            np.testing.assert_allclose(h, read.h, rtol=0, atol=1e-13 * max(1, abs(read.h).max()))
            np.testing.assert_allclose(dh, read.dh, rtol=0, atol=1e-13)
            assert t == pytest.approx(read.t, rel=1e-15)


def test_a_batched_sweep_does_not_import_kwant():
    """The batched route needs the chain only: Kwant (0.27 s of imports) is not loaded."""
    import subprocess
    import sys

    code = ("import sys, mtj_kwant as mk; mk.sweep('fe_mgo_fe', [0.1], parts='both', "
            "executor='serial', progress=False); print('kwant' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("name", ["fifn_2nm", "tb_fif"])
def test_blocks_assembled_from_the_affine_basis_equal_kwant_reads(name):
    """JunctionSystem.blocks (read from Kwant once, assembled in NumPy) equals a direct read of
    Kwant's Hamiltonian at other angles, biases and transverse energies, to 1e-13 of the
    blocks' scale (the assembly's round-off)."""
    import mtj_kwant as mk

    j = mk.load_junction(name)
    js = make_system(j.at_spacing(0.05) if j.model == "free-electron" else j)
    d_eps = 1.0 if j.model == "free-electron" else -j.hopping
    rng = np.random.default_rng(3)
    for _ in range(4):
        theta, phi, bias = rng.uniform(0, np.pi), rng.uniform(0, 2 * np.pi), rng.uniform(-1, 1)
        onsite, slope, hop, beyond = js.blocks(theta=theta, phi=phi, bias=bias, d_eps=d_eps)
        on0, hop0, _ = js.chain_blocks(js.params(theta=theta, phi=phi, bias=bias))
        on1, _, _ = js.chain_blocks(js.params(theta=theta, phi=phi, bias=bias, eps_par=d_eps))
        scale = np.abs(on0).max()
        np.testing.assert_allclose(onsite, on0, rtol=0, atol=1e-13 * scale)
        np.testing.assert_allclose(slope, (on1 - on0) / d_eps, rtol=0, atol=1e-13 * scale)
        np.testing.assert_array_equal(hop, hop0)
        assert beyond == 0
