"""Invariants of the scattering states at single (E, ε∥) points, and Kwant vs batched solver."""

import numpy as np
import pytest

from mtj_kwant.model import magnetization_direction
from mtj_kwant.solvers import ChainSolver, KwantSolver
from mtj_kwant.system import make_system

from .conftest import fifn, random_junction


def random_setting(rng, junction):
    theta, phi = rng.uniform(0.1, np.pi - 0.1), rng.uniform(0, 2 * np.pi)
    bias = rng.uniform(-0.3, 0.3)
    if junction.model == "free-electron":
        energy, eps = junction.fermi_energy + rng.uniform(-0.2, 0.2), rng.uniform(0.0, 1.0)
    else:
        energy, eps = junction.fermi_energy + rng.uniform(-0.2, 0.2), rng.uniform(-3.5, -1.0)
    return dict(theta=theta, phi=phi, bias=bias), energy, eps


@pytest.mark.parametrize("model", ["free-electron", "tight-binding"])
@pytest.mark.parametrize("seed", range(4))
def test_batched_solver_equals_kwant_scattering_states(model, seed):
    """Two independent routes to the same observables, agreeing to 1e-9.

    Both are exact up to round-off.  Fluxes (current, spin current, torque) are compared on the
    scale of the incident flux (1 per mode in Kwant's normalisation): a tunnelling current of
    1e-7 is a difference of amplitudes of order 1, so its relative round-off is ~1e-16/1e-7."""
    rng = np.random.default_rng(seed)
    j = random_junction(rng, model)
    js = make_system(j)
    settings, energy, eps = random_setting(rng, j)
    kw = KwantSolver(js, **settings).incoming(0, [energy], [eps])
    ba = ChainSolver(js, **settings).incoming(0, [energy], [eps])
    for key in kw:
        scale = np.abs(kw[key]).max()
        if key in ("current", "spin_current", "torque"):
            scale = max(scale, 1.0)
        np.testing.assert_allclose(ba[key], kw[key], rtol=0, atol=1e-9 * scale, err_msg=key)
    kw1 = KwantSolver(js, **settings).incoming(1, [energy], [eps])
    ba1 = ChainSolver(js, **settings).incoming(1, [energy], [eps])
    np.testing.assert_allclose(ba1["spin_density"], kw1["spin_density"],
                               atol=1e-9 * np.abs(kw1["spin_density"]).max())


@pytest.mark.parametrize("seed", range(3))
def test_charge_current_is_equal_on_every_bond(seed):
    rng = np.random.default_rng(100 + seed)
    j = random_junction(rng)
    js = make_system(j)
    settings, energy, eps = random_setting(rng, j)
    for solver in (KwantSolver(js, **settings), ChainSolver(js, **settings)):
        for lead in (0, 1):
            cur = solver.incoming(lead, [energy], [eps])["current"][0]
            np.testing.assert_allclose(cur, cur[0], rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("seed", range(3))
def test_scattering_matrix_is_unitary_and_matches_current(seed):
    rng = np.random.default_rng(200 + seed)
    j = random_junction(rng)
    js = make_system(j)
    settings, energy, eps = random_setting(rng, j)
    kw = KwantSolver(js, **settings)
    t_kwant, smat = kw.transmission(energy, eps)
    s = smat.data
    np.testing.assert_allclose(s.conj().T @ s, np.eye(len(s)), atol=1e-10)
    cur = kw.incoming(0, [energy], [eps])["current"][0, 0]
    t_rgf = ChainSolver(js, **settings).transmission([energy], eps)[0]
    assert cur == pytest.approx(t_kwant, rel=1e-9, abs=1e-14)
    assert t_rgf == pytest.approx(t_kwant, rel=1e-9, abs=1e-14)


@pytest.mark.parametrize("seed", range(3))
def test_spin_current_divergence_equals_exchange_torque(seed):
    """Site by site: J_s(j−1 → j) − J_s(j → j+1) = Δ_j m_j × s_j (steady state, ħ = 1)."""
    rng = np.random.default_rng(300 + seed)
    j = random_junction(rng)
    js = make_system(j)
    settings, energy, eps = random_setting(rng, j)
    for lead in (0, 1):
        o = ChainSolver(js, **settings).incoming(lead, [energy], [eps])
        jsc, tq = o["spin_current"][0], o["torque"][0]
        div = jsc[:-1] - jsc[1:]  # inflow − outflow at sites 1..N−2
        np.testing.assert_allclose(div, tq[1:-1], atol=1e-10 * np.abs(jsc).max())


def test_longitudinal_spin_current_is_conserved_in_free_layer():
    """Inside the free layer m is uniform, so J_s·m is constant from bond to bond."""
    j = fifn(free_thickness=1.0)
    js = make_system(j)
    theta, phi = 1.1, 0.4
    o = ChainSolver(js, theta=theta, phi=phi, bias=0.1).incoming(0, [3.0, 2.5], [0.3, 0.9])
    m = magnetization_direction(theta, phi)
    bi, bo = js.chain.free_bonds
    along = o["spin_current"][:, bi:bo + 1] @ m
    np.testing.assert_allclose(along, np.broadcast_to(along[:, :1], along.shape), rtol=1e-9, atol=1e-14)
    transverse = o["spin_current"][:, bi:bo + 1] - along[..., None] * m
    assert np.ptp(np.linalg.norm(transverse, axis=-1)) > 1e-3 * np.abs(transverse).max(), \
        "the transverse part is absorbed (varies), so the test can tell the two apart"


@pytest.mark.parametrize("theta", [0.0, np.pi])
def test_no_exchange_torque_for_collinear_states(theta):
    j = fifn()
    js = make_system(j)
    o = ChainSolver(js, theta=theta, bias=0.2).incoming(0, [3.0], [0.5])
    assert np.abs(o["torque"]).max() <= 1e-12 * np.abs(o["spin_density"]).max()


def test_kwant_current_operator_orientation():
    """For left-incoming states in a biased junction the particle current flows toward +x."""
    js = make_system(fifn())
    cur = KwantSolver(js, theta=1.0, bias=0.1).incoming(0, [3.0], [0.2])["current"][0]
    assert np.all(cur > 0)
    cur_r = KwantSolver(js, theta=1.0, bias=0.1).incoming(1, [3.0], [0.2])["current"][0]
    assert np.all(cur_r < 0)


@pytest.mark.parametrize("model", ["free-electron", "tight-binding"])
@pytest.mark.parametrize("seed", range(3))
def test_compiled_kernels_at_complex_energy_equal_dense_inversion(model, seed):
    """Fermi-sea kernel and log det against G = (z − H − Σ_L − Σ_R)⁻¹ by dense inversion.

    H comes from Kwant's ``hamiltonian_submatrix``, Σ from the NumPy lead
    self-energy: nothing shared with the compiled recursion.  For a bond the
    sea quantity is −2t Tr[O(G_{j,j+1} − G_{j+1,j})], for a site 2i Tr[O G_jj];
    Re log det equals log|det| and Im log det ≡ arg det (mod 2π).  Agreement to
    1e-9 of the largest element (round-off of the 2N×2N inversion).
    """
    rng = np.random.default_rng(100 + seed)
    j = random_junction(rng, model)
    js = make_system(j)
    settings, energy, eps = random_setting(rng, j)
    z = energy + 1j * rng.uniform(0.01, 0.5)
    cs = ChainSolver(js, **settings)
    n = cs.chain.n_sites
    a = z * np.eye(2 * n) - js.hamiltonian(js.params(eps_par=eps, **settings))
    sl, sr = cs.self_energies_at(np.array([z]), np.array([eps]))
    a[:2, :2] -= sl[0]
    a[-2:, -2:] -= sr[0]
    g = np.linalg.inv(a).reshape(n, 2, n, 2).transpose(0, 2, 1, 3)
    paulis = [np.eye(2), np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]),
              np.diag([1.0, -1.0])]
    bond_h, site_h = cs.bond_sea([z], [eps], np.arange(n - 1), sites=True)
    idx = np.arange(n - 1)
    diff = g[idx, idx + 1] - g[idx + 1, idx]
    expect_bond = np.stack([-2 * cs.t * np.einsum("ab,jba->j", o, diff) for o in paulis], -1)
    expect_site = np.stack([2j * np.einsum("ab,jba->j", o, g[np.arange(n), np.arange(n)])
                            for o in paulis], -1)
    for got, want in ((bond_h[0], expect_bond), (site_h[0], expect_site)):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9 * np.abs(want).max())
    sign, logabs = np.linalg.slogdet(a)
    ld = cs.log_det([z], [eps])[0]
    assert ld.real == pytest.approx(logabs, abs=1e-9 * abs(logabs))
    assert np.exp(1j * ld.imag) == pytest.approx(sign, abs=1e-9)


# -- lead band edges on the Kwant path (issue 11, item 4) --------------------------------------


def minority_bottom_at_fermi_energy():
    """F/I/F whose electrodes' minority band bottom U + Δ/2 lies exactly on E_F."""
    from mtj_kwant.model import Electrode, Junction, Layer

    return Junction(fermi_energy=0.1, lattice_spacing=0.05,
                    left=Electrode(potential=0.0, exchange=0.2, magnetization=(0, 0, 1)),
                    layers=[Layer(kind="barrier", thickness=0.5, potential=1.1)],
                    right=Electrode(potential=0.0, exchange=0.2, free=True))


@pytest.mark.parametrize("eps", [0.0, 0.05])
def test_kwant_solver_on_every_lead_band_edge_equals_batched(eps):
    """Exactly on a band edge Kwant's mode solver fails ("singular matrix"); the solver moves
    the energy 2·EDGE_WINDOW·s off the edge.  Against the batched solver at the edge itself the
    values then differ by about √(EDGE_WINDOW): measured ≤ 2e-7 (currents, torques) and 8e-6
    (densities, which diverge as the inverse square root on the electrode sites), hence 3e-5."""
    js = make_system(minority_bottom_at_fermi_energy())
    settings = dict(theta=1.0, phi=0.3, bias=-0.02)
    ks, cs = KwantSolver(js, **settings), ChainSolver(js, **settings)
    edges = np.concatenate(ks.band_edges(eps)[0])
    edges = edges[np.abs(edges) < 5]  # the band bottoms (the tops lie ~60 eV up)
    assert len(edges) == 4
    for lead in (0, 1):
        kw = ks.incoming(lead, edges, np.full(4, eps))
        ba = cs.incoming(lead, edges, np.full(4, eps))
        for key in kw:
            scale = max(1.0, np.abs(ba[key]).max())
            np.testing.assert_allclose(kw[key], ba[key], rtol=0, atol=3e-5 * scale, err_msg=key)


def test_kwant_path_equals_batched_path_with_a_band_edge_on_the_fermi_energy(monkeypatch):
    """The sweep that ended in Kwant's LinAlgError: minority band bottom on E_F, V = −0.02 V.

    The energy quadrature has a breakpoint at the left lead's band edge and one at μ_L, equal
    up to rounding (1e-17 eV apart): the nodes of that interval sit on the edge.  After the
    move off the edge the integrated Kwant path equals the batched one; measured 6.5e-15
    relative (J and the larger torque component), asserted 1e-12."""
    from mtj_kwant import solvers
    from mtj_kwant.integrate import bias_point

    moved = []
    original = solvers._off_edges

    def spy(energy, edges, scales):
        out = original(energy, edges, scales)
        if out != energy:
            moved.append(energy)
        return out

    monkeypatch.setattr(solvers, "_off_edges", spy)
    js = make_system(minority_bottom_at_fermi_energy())
    kw = dict(theta=np.pi / 2, bias=-0.02, rtol=1e-3)
    ref = bias_point(js, solver="batched", **kw)
    got = bias_point(js, solver="kwant", **kw)
    assert moved and np.allclose(moved, 0.09, rtol=0, atol=1e-12)  # the test reaches the edge
    assert got.converged and got.n_eval == ref.n_eval
    assert abs(got.current_density - ref.current_density) <= 1e-12 * abs(ref.current_density)
    scale = np.abs(ref.torque).max()
    np.testing.assert_allclose(got.torque, ref.torque, rtol=0, atol=1e-12 * scale)


def test_kwant_point_that_cannot_be_computed_names_bias_energy_and_edge(monkeypatch):
    import pickle

    import kwant

    from mtj_kwant.solvers import KwantPointError

    def singular(*args, **kwargs):
        raise np.linalg.LinAlgError("A singular matrix detected: slice(s) [0] are singular.")

    monkeypatch.setattr(kwant, "wave_function", singular)
    ks = KwantSolver(make_system(minority_bottom_at_fermi_energy()), theta=1.0, bias=-0.02)
    with pytest.raises(KwantPointError) as info:
        ks.incoming(0, [0.0900001], [0.0])
    message = str(info.value)
    assert message == (
        "Kwant scattering states failed at bias -0.02 V, energy 0.0900001 eV, transverse "
        "energy 0 eV; the nearest lead band edge is the left electrode's at 0.09 eV (+1e-07 eV "
        "away): A singular matrix detected: slice(s) [0] are singular. (use --solver batched, "
        "which copes with band edges)")
    err = info.value
    assert (err.bias, err.energy, err.eps_par) == (-0.02, 0.0900001, 0.0)
    assert err.edge == pytest.approx(0.09, abs=1e-12)
    again = pickle.loads(pickle.dumps(err))  # travels from worker processes intact
    assert str(again) == message and again.edge == err.edge
