"""Lateral tight-binding supercells (mtj_kwant.supercell, DESIGN.md §9, issue 15 item 1).

Tolerances: the supercell and the layered system are the same tight-binding problem, solved by
Kwant on different (wrapped vs. 1D) systems; round-off in Kwant's mode solver and LU is
~1e-14 relative (measured ≤ 2e-14 here).  The transmissions compared are ~1e-4 (tunnelling),
so equality is required to 1e-10 *relative* (a generous margin over round-off, far below any
modelling error such as a wrong hopping or folding: those change T at the 1e-2 level).
Unitarity of S is checked to 1e-10 absolute (measured ~1e-13).
"""

import math

import kwant
import numpy as np
import pytest

import mtj_kwant as mk
from mtj_kwant.model import Electrode, Junction, Layer, magnetization_direction
from mtj_kwant.supercell import SupercellSystem, make_supercell_system, tilt_frame
from mtj_kwant.system import SIGMA, make_system

from .conftest import fif

RTOL = 1e-10


def tb_fifn():
    """Tight-binding F/I/F/N with a finite free layer, a normal spacer layer and per-element
    (in-plane and interface) hoppings, so that t_j differs from site to site."""
    return Junction(
        name="tb F/I/F/N", model="tight-binding", fermi_energy=-2.5, hopping=1.0,
        lattice_constant=0.3,
        left=Electrode(potential=0.0, exchange=1.0, magnetization=(0, 0, 1)),
        layers=[
            Layer(kind="barrier", thickness=3, potential=4.5, hopping=0.8),
            Layer(kind="metal", thickness=3, potential=0.2, exchange=1.2, free=True,
                  hopping=1.1, interface_hopping=0.9),
            Layer(kind="metal", thickness=2, potential=0.1, exchange=0.0),
        ],
        right=Electrode(potential=0.0, exchange=0.0),
    )


@pytest.fixture(scope="module")
def fif_tb():
    return mk.load_junction("tb_fif")


@pytest.fixture(scope="module")
def fifn_tb():
    return tb_fifn()


def layered_T(lay, E, theta, phi, bias, k_y, k_z):
    p = dict(theta=theta, phi=phi, bias=bias, k_y=float(k_y), k_z=float(k_z))
    return kwant.smatrix(lay.fsyst, E, params=p).transmission(1, 0)


def supercell_T(sc, E, theta, phi, bias, k_y, k_z):
    params = sc.params(theta, phi, bias, k_y, k_z)
    return kwant.smatrix(sc.fsyst, E, params=params).transmission(1, 0)


@pytest.mark.parametrize("name", ["fif", "fifn"])
@pytest.mark.parametrize("theta, phi, bias, k_y, k_z",
                         [(0.4, 0.0, 0.0, 1.3, -2.1), (2.3, 0.7, 0.15, 0.4, 5.0)])
def test_clean_1x1_equals_layered(name, theta, phi, bias, k_y, k_z, fif_tb, fifn_tb):
    """1 × 1 supercell at (k_y, k_z) = layered system at ε∥ = −2t(cos k_y a + cos k_z a)."""
    junction = fif_tb if name == "fif" else fifn_tb
    E = junction.fermi_energy
    sc = make_supercell_system(junction, (1, 1))
    assert isinstance(sc, SupercellSystem) and sc.order.shape == (junction.chain().n_sites, 1, 1)
    t_layer = layered_T(make_system(junction), E, theta, phi, bias, k_y, k_z)
    t_super = supercell_T(sc, E, theta, phi, bias, k_y, k_z)
    assert t_layer > 1e-8  # a nontrivial (propagating) point
    assert t_super == pytest.approx(t_layer, rel=RTOL, abs=0)


@pytest.mark.parametrize("name, size", [("fif", (2, 2)), ("fifn", (2, 2)), ("fifn", (2, 3))])
def test_clean_supercell_is_folded_layered(name, size, fif_tb, fifn_tb):
    """Clean L_y × L_z supercell at K = sum of the layered T at the L_y L_z folded momenta."""
    junction = fif_tb if name == "fif" else fifn_tb
    E = 0.3  # eV, mid-band: every folded momentum has propagating states (not so at E_F = −2.5)
    theta, phi, bias = 1.1, 0.3, 0.1
    K = (0.37, -0.81)  # 1/nm, inside the supercell zone (π/(L a) ≥ 3.5 /nm)
    sc = make_supercell_system(junction, size)
    lay = make_system(junction)
    folded = sc.folded_momenta(*K)
    assert folded.shape == (size[0] * size[1], 2)
    parts = [layered_T(lay, E, theta, phi, bias, ky, kz) for ky, kz in folded]
    t_super = supercell_T(sc, E, theta, phi, bias, *K)
    assert t_super == pytest.approx(sum(parts), rel=RTOL, abs=0)
    assert sorted(parts)[-2] > 0.1 * max(parts)  # more than one folded momentum contributes


def disorder_all():
    return {0: dict(onsite=1.0, interface_mixing=0.4, magnetic_tilt=15.0),
            1: dict(onsite=0.5, interface_mixing=0.5, magnetic_tilt=30.0),
            2: dict(interface_mixing=0.6)}


def test_disordered_supercell_unitary_and_uses_its_arrays(fifn_tb):
    """S†S = SS† = 1 (rows: Σ_j |S_ij|² = 1) on a disordered 3 × 3 supercell, and Kwant's
    onsite blocks are the stored arrays: (ε + V b_j) − (Δ/2) m·σ, m from ``directions(θ, φ)``."""
    sc = make_supercell_system(fifn_tb, (3, 3), disorder=disorder_all(), seed=11)
    theta, phi, bias = 1.9, 0.6, 0.2
    assert sc.free.any() and not sc.free[-1].any()
    for E, k in [(fifn_tb.fermi_energy, (0.3, 1.7)), (-1.0, (-2.0, 0.5))]:
        smat = kwant.smatrix(sc.fsyst, E, params=sc.params(theta, phi, bias, *k))
        s = smat.data
        eye = np.eye(s.shape[0])
        assert s.shape[0] >= 2
        assert np.abs(s.conj().T @ s - eye).max() < 1e-10
        assert np.abs(s @ s.conj().T - eye).max() < 1e-10
        # two terminals: unitarity alone (no time reversal here) gives T_RL = T_LR
        t_lr, t_rl = smat.transmission(1, 0), smat.transmission(0, 1)
        assert t_lr > 1e-3 and t_rl == pytest.approx(t_lr, rel=RTOL, abs=0)

    params = sc.params(theta, phi, bias, 0.3, 1.7)
    mags = sc.directions(theta, phi)
    bp = sc.chain.bias_profile
    for (j, iy, iz), i in np.ndenumerate(sc.order):
        h = sc.fsyst.hamiltonian(i, i, params=params)
        m = mags[j, iy, iz]
        m_sigma = m[0] * SIGMA[1] + m[1] * SIGMA[2] + m[2] * SIGMA[3]
        expect = ((sc.onsite[j, iy, iz] + bias * bp[j]) * SIGMA[0]
                  - 0.5 * sc.delta[j, iy, iz] * m_sigma)
        assert np.abs(h - expect).max() < 1e-13


def test_seed_reproduces_configuration(fifn_tb):
    d = disorder_all()
    a = make_supercell_system(fifn_tb, (3, 2), disorder=d, seed=5)
    b = make_supercell_system(fifn_tb, (3, 2), disorder=d, seed=5)
    c = make_supercell_system(fifn_tb, (3, 2), disorder=d, seed=6)
    for name in ("onsite", "delta", "magnetization", "free"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.onsite, c.onsite)
    assert not np.array_equal(a.magnetization, c.magnetization)
    assert a.seed == 5
    # no seed: one is drawn and recorded, and rebuilds the configuration
    r = make_supercell_system(fifn_tb, (3, 2), disorder=d)
    again = make_supercell_system(fifn_tb, (3, 2), disorder=d, seed=r.seed)
    assert np.array_equal(r.onsite, again.onsite)
    # the same numbers whatever the strengths: doubling W doubles the onsite disorder
    only_w = make_supercell_system(fifn_tb, (3, 2), disorder={0: dict(onsite=1.0)}, seed=5)
    double = make_supercell_system(fifn_tb, (3, 2), disorder={0: dict(onsite=2.0)}, seed=5)
    clean = make_supercell_system(fifn_tb, (3, 2))
    np.testing.assert_allclose(double.onsite - clean.onsite, 2 * (only_w.onsite - clean.onsite),
                               rtol=0, atol=1e-14)


def test_zero_disorder_is_clean(fifn_tb):
    zero = {i: dict(onsite=0.0, interface_mixing=0.0, magnetic_tilt=0.0) for i in range(3)}
    a = make_supercell_system(fifn_tb, (2, 2), disorder=zero, seed=3)
    b = make_supercell_system(fifn_tb, (2, 2))
    for name in ("onsite", "delta", "magnetization", "free"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    chain = fifn_tb.chain()
    assert np.array_equal(b.onsite, np.broadcast_to(chain.onsite0[:, None, None], b.onsite.shape))
    E = fifn_tb.fermi_energy
    assert supercell_T(a, E, 0.9, 0.2, 0.1, 0.5, 0.2) == supercell_T(b, E, 0.9, 0.2, 0.1, 0.5, 0.2)


def test_disorder_bounds_and_mixing(fifn_tb):
    chain = fifn_tb.chain()
    li = chain.layer_index
    first = [int(np.flatnonzero(li == i)[0]) for i in range(3)]
    clean = make_supercell_system(fifn_tb, (4, 4))

    # Anderson: within ±W/2, only in the layer
    w = make_supercell_system(fifn_tb, (4, 4), disorder={1: dict(onsite=0.6)}, seed=2)
    diff = w.onsite - clean.onsite
    assert np.all(np.abs(diff[li == 1]) <= 0.3) and np.all(diff[li != 1] == 0)
    assert np.abs(diff[li == 1]).max() > 0.2

    # interface_mixing = 1: the whole first monolayer is its left neighbour's material
    for i in range(3):
        m = make_supercell_system(fifn_tb, (4, 4), disorder={i: dict(interface_mixing=1.0)},
                                  seed=2)
        left, j = first[i] - 1, first[i]
        assert np.all(m.onsite[j] == chain.onsite0[left])
        assert np.all(m.delta[j] == chain.delta[left])
        assert np.all(m.free[j] == chain.free[left])
        assert np.all(m.magnetization[j] == clean.magnetization[left])
        rest = np.arange(chain.n_sites) != j
        assert np.array_equal(m.onsite[rest], clean.onsite[rest])
    # the left neighbour's *material*, not its disordered site
    m = make_supercell_system(fifn_tb, (4, 4), seed=2, disorder={
        0: dict(onsite=1.0, magnetic_tilt=30.0), 1: dict(interface_mixing=1.0)})
    assert np.all(m.onsite[first[1]] == chain.onsite0[first[1] - 1])
    assert np.all(m.magnetization[first[1]] == chain.magnetization[first[1] - 1])
    assert not np.all(m.onsite[first[1] - 1] == chain.onsite0[first[1] - 1])
    # layer 2 (N) after the free layer: mixed sites become free sites
    m = make_supercell_system(fifn_tb, (4, 4), disorder={2: dict(interface_mixing=1.0)}, seed=2)
    assert m.free[first[2]].all() and not clean.free[first[2]].any()

    # mixing p: a fraction ~p of the first monolayer (16 sites, binomial; loose bound)
    p = make_supercell_system(fifn_tb, (4, 4), disorder={1: dict(interface_mixing=0.5)}, seed=4)
    n_mixed = int((p.onsite[first[1]] != clean.onsite[first[1]]).sum())
    assert 2 <= n_mixed <= 14

    # tilt: angle to the untilted direction ≤ α_max, for fixed sites and free sites at any θ, φ
    t = make_supercell_system(fifn_tb, (4, 4), disorder={0: dict(interface_mixing=1.0,
                                                                 magnetic_tilt=20.0),
                                                         1: dict(magnetic_tilt=20.0)}, seed=8)
    cos_max = math.cos(math.radians(20.0))
    fixed = t.magnetization[first[0]]  # mixed: left electrode material, direction p = z
    assert np.all(fixed[..., 2] >= cos_max - 1e-15) and np.all(fixed[..., 2] < 1)
    assert np.allclose(np.linalg.norm(t.magnetization, axis=-1), 1, atol=1e-14)
    for theta, phi in [(0.0, 0.0), (1.2, 2.0), (math.pi, 0.5)]:
        m = t.directions(theta, phi)[li == 1]
        cos = m @ magnetization_direction(theta, phi)
        assert np.all(cos >= cos_max - 1e-14) and cos.min() < 0.99
    # barrier sites (Δ = 0) without mixing are not tilted
    b = make_supercell_system(fifn_tb, (2, 2), disorder={0: dict(magnetic_tilt=40.0)}, seed=8)
    assert np.array_equal(b.magnetization, make_supercell_system(fifn_tb, (2, 2)).magnetization)


def test_tilt_frame():
    z = np.array([0.0, 0.0, 1.0])
    for theta, phi in [(0.3, 1.0), (2.0, -0.4)]:
        np.testing.assert_allclose(tilt_frame(z, theta, phi), magnetization_direction(theta, phi),
                                   atol=1e-15)
        u = np.array([math.sin(0.2), 0.0, math.cos(0.2)])
        assert tilt_frame(u, theta, phi) @ magnetization_direction(theta, phi) == \
            pytest.approx(math.cos(0.2), abs=1e-15)


def test_free_electron_refused():
    with pytest.raises(ValueError, match="tight-binding junctions only.*free-electron"):
        make_supercell_system(fif(), (2, 2))


@pytest.mark.parametrize("kwargs, message", [
    (dict(size=(0, 2)), "L_y must be a positive integer"),
    (dict(size=(2,)), "pair"),
    (dict(disorder={0: dict(onsit=1.0)}), r"layer\[0\]\.disorder\.onsit: unknown key; did you "
                                          r"mean 'onsite'"),
    (dict(disorder={0: dict(interface_mixing=1.5)}), r"probability, must be in \[0, 1\]"),
    (dict(disorder={0: dict(onsite=-1.0)}), "must be >= 0"),
    (dict(disorder={0: dict(magnetic_tilt=200.0)}), r"in \[0, 180\]"),
    (dict(disorder={5: dict(onsite=1.0)}), "has 1 layers"),
    (dict(disorder=[None, None]), "one entry"),
    (dict(seed=-1), "seed"),
])
def test_bad_arguments(kwargs, message, fif_tb):
    with pytest.raises(ValueError, match=message):
        make_supercell_system(fif_tb, **{"size": (2, 2), **kwargs})
