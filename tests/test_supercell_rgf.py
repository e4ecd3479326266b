"""The block recursive Green's functions of supercells (issue 15 item 2, reference version):
against the layered chain solver, Kwant's scattering matrix and wave functions, and the
invariants (current on every bond, spin-current divergence = exchange torque per layer)."""

import kwant
import pytest
import numpy as np

import mtj_kwant as mk
from mtj_kwant.solvers import ChainSolver
from mtj_kwant.supercell import make_supercell_system, window_blocks

E, THETA, BIAS = -2.5, 1.1, 0.1


def test_clean_1x1_equals_the_layered_solver():
    """A 1 × 1 supercell at (k_y, k_z) is the layered chain at ε∥ = −2t(cos k_y a + cos k_z a):
    bond currents and site densities equal ChainSolver.bond_window to round-off (measured
    5e-16 and 5e-15 absolute; tolerances 1e-13 of the bonds' round-off scale and 1e-12 of
    the largest density)."""
    j = mk.load_junction("tb_fif")
    ss = make_supercell_system(j, (1, 1))
    ky, kz = 0.7, -1.3
    w = window_blocks(ss, E, theta=THETA, bias=BIAS, k_y=ky, k_z=kz)
    js = mk.make_system(j)
    cs = ChainSolver(js, theta=THETA, bias=BIAS)
    a, t = j.lattice_constant, j.hopping
    eps = -2 * t * (np.cos(ky * a) + np.cos(kz * a))
    b, s, scale = cs.bond_window(0, np.array([E]), np.array([eps]),
                                 np.arange(js.chain.n_sites - 1), sites=True, scale=True)
    # tunnelling currents are differences of numbers of the bond scale (~1 here): their
    # round-off is relative to that scale (integrate.ROUNDOFF), not to the current (3e-4)
    assert np.abs(w["bond"] - b[0]).max() <= 1e-13 * scale.max()
    assert np.abs(w["site"].reshape(-1, 4) - s[0]).max() <= 1e-12 * np.abs(s).max()


def test_disordered_supercell_against_kwant_and_invariants():
    """A disordered 3 × 3 supercell (Anderson W = 1 eV and interface mixing 0.3 in the
    barrier): the particle current on every bond is Kwant's transmission (1e-10 relative;
    measured 3e-15), the site densities are Σ_modes |ψ|² of Kwant's wave functions
    (1e-10; measured 1e-15), and I_{j−1} − I_j = Σ_layer Δ m × s for the spin currents
    (1e-12 of the largest; measured 3e-15)."""
    j = mk.junction_with(mk.load_junction("tb_fif"),
                         {"supercell.size": [3, 3], "layer[0].disorder.onsite": 1.0,
                          "layer[0].disorder.interface_mixing": 0.3})
    ss = make_supercell_system(j, seed=3)
    ky, kz = 0.3, 0.2
    w = window_blocks(ss, E, theta=THETA, bias=BIAS, k_y=ky, k_z=kz)
    params = ss.params(THETA, 0.0, BIAS, ky, kz)
    trans = kwant.smatrix(ss.fsyst, E, params=params).transmission(1, 0)
    assert np.abs(w["bond"][:, 0] - trans).max() <= 1e-10 * trans
    psi = kwant.wave_function(ss.fsyst, E, params=params)(0)
    psi = psi.reshape(psi.shape[0], -1, 2)
    dens = np.einsum("msa,msa->s", psi.conj(), psi).real[ss.order.reshape(-1)]
    assert np.abs(w["site"][..., 0].reshape(-1) - dens).max() <= 1e-10 * dens.max()
    div = w["bond"][:-1, 1:] - w["bond"][1:, 1:]
    torque = w["torque"].sum(axis=(1, 2))[1:-1]
    assert np.abs(div - torque).max() <= 1e-12 * np.abs(div).max()


def test_clean_supercell_window_equals_the_layered_result():
    """Per area at 0.1 V: a clean 2 × 2 supercell on a 4 × 4 grid of its zone samples the
    same layered momenta as a 1 × 1 supercell on 8 × 8 (folding): equal to round-off
    (1e-9 relative); both equal the layered junction's bias_point (E_x reduction, rtol
    1e-8) within their error estimate (k grid + energy quadrature; measured: J off by
    1.9e-3 relative against an estimate of 1.8e-2 at 16 × 16)."""
    from mtj_kwant.integrate import bias_point
    from mtj_kwant.supercell import supercell_window

    j = mk.load_junction("tb_fif")
    ref = bias_point(mk.make_system(j), theta=THETA, bias=BIAS, rtol=1e-8)
    one = supercell_window(mk.junction_with(j, {"supercell.size": [1, 1]}), theta=THETA,
                           bias=BIAS, k_points=(8, 8))
    two = supercell_window(mk.junction_with(j, {"supercell.size": [2, 2]}), theta=THETA,
                           bias=BIAS, k_points=(4, 4))
    assert two.current_density == pytest.approx(one.current_density, rel=1e-9)
    assert np.allclose(two.torque, one.torque, rtol=1e-9, atol=1e-9 * np.abs(one.torque).max())
    assert abs(two.current_density - ref.current_density) <= two.errors["current_density"]
    assert np.all(np.abs(two.torque - ref.torque) <= two.errors["torque"])


def test_configurations_are_averaged_with_their_standard_error():
    """Two disorder configurations (seeds 7, 8): the mean of the per-configuration values,
    their standard error in the reported error, and the same numbers again from the seeds."""
    from mtj_kwant.supercell import supercell_window

    j = mk.junction_with(mk.load_junction("tb_fif"),
                         {"supercell.size": [2, 1], "supercell.seed": 7,
                          "layer[0].disorder.onsite": 1.5})
    r = supercell_window(j, theta=THETA, bias=BIAS, k_points=(2, 2), configurations=2)
    per = [c["current_density"] for c in r.per_configuration]
    assert r.seeds == [7, 8] and per[0] != per[1]
    assert r.current_density == pytest.approx(np.mean(per), rel=1e-14)
    # the standard error × Student's t (1 degree of freedom, 68.27 %: 1.8373)
    stderr = np.std(per, ddof=1) / np.sqrt(2) * 1.8373
    assert r.parts["configurations"][0] == pytest.approx(stderr, rel=1e-4)
    assert r.errors["current_density"] >= stderr
    again = supercell_window(j, theta=THETA, bias=BIAS, k_points=(2, 2), configurations=2)
    assert again.current_density == r.current_density
    one = supercell_window(j, theta=THETA, bias=BIAS, k_points=(2, 2), configurations=1)
    assert np.isinf(one.errors["current_density"])  # one disordered configuration: unknown


def test_plane_wave_lead_self_energies_equal_kwants():
    """Clean wrapped leads are diagonal in the supercell's transverse plane waves: Σ built
    from the layered lead at the folded momenta equals Kwant's selfenergy of the M-orbital
    lead (1e-12 of its size; measured 4e-15), for 1 × 1, 2 × 3 and 3 × 3."""
    from mtj_kwant.supercell import lead_self_energies, lead_self_energies_planewave

    j = mk.load_junction("tb_fif")
    for size in ((1, 1), (2, 3), (3, 3)):
        ss = make_supercell_system(j, size, seed=1)
        kw = dict(theta=THETA, phi=0.3, bias=BIAS, k_y=0.3, k_z=-0.2)
        for ref, pw in zip(lead_self_energies(ss, E, ss.params(**kw)),
                           lead_self_energies_planewave(ss, E, **kw)):
            assert np.abs(ref - pw).max() <= 1e-12 * np.abs(ref).max()


def test_states_from_the_right_lead():
    """lead=1: the bond current is Kwant's transmission from the right and the densities are
    those of Kwant's right-incoming wave functions (1e-10 relative; the mirrored chain)."""
    j = mk.junction_with(mk.load_junction("tb_fif"),
                         {"supercell.size": [2, 2], "layer[0].disorder.onsite": 1.0})
    ss = make_supercell_system(j, seed=4)
    w = window_blocks(ss, E, theta=THETA, bias=BIAS, k_y=0.1, k_z=0.4, lead=1)
    params = ss.params(THETA, 0.0, BIAS, 0.1, 0.4)
    trans = kwant.smatrix(ss.fsyst, E, params=params).transmission(0, 1)
    assert np.abs(-w["bond"][:, 0] - trans).max() <= 1e-10 * trans
    psi = kwant.wave_function(ss.fsyst, E, params=params)(1)
    psi = psi.reshape(psi.shape[0], -1, 2)
    dens = np.einsum("msa,msa->s", psi.conj(), psi).real[ss.order.reshape(-1)]
    assert np.abs(w["site"][..., 0].reshape(-1) - dens).max() <= 1e-10 * dens.max()


def test_configurations_serial_pool_dask_and_resume(tmp_path):
    """The configurations are runner points: a process pool and a dask LocalCluster give the
    serial numbers bit for bit, and a run with more configurations resumes from the store
    (the seeds already there are not recomputed: their rows are read back)."""
    import csv

    from mtj_kwant.supercell import supercell_window

    j = mk.junction_with(mk.load_junction("tb_fif"),
                         {"supercell.size": [2, 1], "supercell.seed": 11,
                          "layer[0].disorder.onsite": 1.0})
    kw = dict(theta=THETA, bias=BIAS, k_points=(2, 2), configurations=2)
    serial = supercell_window(j, **kw)
    pool = supercell_window(j, executor=2, **kw)
    assert pool.current_density == serial.current_density
    assert np.array_equal(pool.torque, serial.torque)
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        remote = supercell_window(j, executor=client.get_executor(), **kw)
    assert remote.current_density == serial.current_density
    store = tmp_path / "configs.csv"
    supercell_window(j, store=store, **kw)
    more = supercell_window(j, store=store, **dict(kw, configurations=3))
    rows = list(csv.DictReader(store.open()))
    assert [int(float(r["seed"])) for r in rows] == [11, 12, 13]
    first = [c["current_density"] for c in more.per_configuration[:2]]
    assert first == [c["current_density"] for c in serial.per_configuration]
