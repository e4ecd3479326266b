"""The Fermi sea of supercell junctions per supercell momentum (mtj_kwant.supercell_sea).

Against independent routes: the dense inversion of z − H − Σ_L − Σ_R with H from Kwant, the
plane-wave lead self-energies against Kwant's at real energies and a decimation of the
M-orbital lead at complex ones, the layered chain solver (1 × 1 supercell at ε∥), the
folding of a clean 2 × 2 supercell onto the layered momenta, and bias_point's torque_sea
(zone average); and the invariants (collinear torque zero within its floor, continuity of
the spin current through every monolayer).  Tolerances are stated per test with the measured
numbers; round-off tolerances are relative to the natural scale of the quantity compared.
"""

import warnings

import numpy as np
import pytest

import mtj_kwant as mk
from mtj_kwant.integrate import (_complex_weight, _contour, _Layout, _sea_spectral,
                                 _sea_torque_spectral, bias_point)
from mtj_kwant.model import junction_from_dict
from mtj_kwant.solvers import ChainSolver
from mtj_kwant.supercell import (_layer_indices, layer_blocks, lead_self_energies,
                                 lead_self_energies_planewave, make_supercell_system)
from mtj_kwant.supercell_sea import (SEA_ROUNDOFF, SeaSolver, lead_self_energies_complex,
                                     sea_blocks, sea_chemical_potential, sea_k)
from mtj_kwant.units import E_OVER_H, PER_NM2

THETA, BIAS = 1.1, 0.1
PAULI = np.array([[[1, 0], [0, 1]], [[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]])

#: Tight-binding F/I/F/N with a finite free layer, a normal spacer and per-element in-plane
#: and interface hoppings (t_j differs from monolayer to monolayer), as a junction file's
#: tables.
FIFN = {"name": "tb F/I/F/N", "model": "tight-binding", "fermi_energy": -2.5, "hopping": 1.0,
        "lattice_constant": 0.3,
        "left": {"potential": 0.0, "exchange": 1.0, "magnetization": [0, 0, 1]},
        "layer": [{"kind": "barrier", "thickness": 3, "potential": 4.5, "hopping": 0.8},
                  {"kind": "metal", "thickness": 3, "potential": 0.2, "exchange": 1.2,
                   "free": True, "hopping": 1.1, "interface_hopping": 0.9},
                  {"kind": "metal", "thickness": 2, "potential": 0.1, "exchange": 0.0}],
        "right": {"potential": 0.0, "exchange": 0.0}}

#: Energies: deep below the bands, in them, close to the real axis at μ, far above.
Z = np.array([-7.0 + 1.0j, -3.0 + 0.5j, -2.5 + 0.01j, -2.55 + 1e-3j, 1.0 + 2.0j])


@pytest.fixture(scope="module")
def fif():
    return mk.load_junction("tb_fif")


@pytest.fixture(scope="module")
def fifn():
    return junction_from_dict(FIFN)


def disordered_fif():
    j = mk.junction_with(mk.load_junction("tb_fif"),
                         {"supercell.size": [2, 2], "layer[0].disorder.onsite": 1.0})
    return make_supercell_system(j, seed=5)


def disordered_fifn(tilt=20.0):
    """2 × 2 F/I/F/N, disorder in the free layer (Anderson, interface mixing with the
    barrier, and magnetic tilts) and in the spacer."""
    d = {"layer[1].disorder.onsite": 0.5, "layer[1].disorder.interface_mixing": 0.3,
         "layer[2].disorder.onsite": 0.4, "supercell.size": [2, 2]}
    if tilt:
        d["layer[1].disorder.magnetic_tilt"] = tilt
    return make_supercell_system(mk.junction_with(junction_from_dict(FIFN), d), seed=7)


def dense_sea(ss, z, **kw):
    """h_site (B, N, S, 4) and h_bond (B, N − 1, 4) from the dense (z − H − Σ)⁻¹."""
    params = ss.params(kw["theta"], kw.get("phi", 0.0), kw["bias"], kw["k_y"], kw["k_z"])
    idx = _layer_indices(ss)
    n, m = idx.shape
    s = m // 2
    perm = idx.ravel()
    h = ss.fsyst.hamiltonian_submatrix(params=params)[np.ix_(perm, perm)]
    sig_l, sig_r = lead_self_energies_complex(ss, z, **kw)
    site = np.empty((len(z), n, s, 4), complex)
    bond = np.empty((len(z), n - 1, 4), complex)
    for b, zb in enumerate(z):
        a = zb * np.eye(n * m) - h
        a[:m, :m] -= sig_l[b]
        a[-m:, -m:] -= sig_r[b]
        g = np.linalg.inv(a)
        g6 = g.reshape(n, s, 2, n, s, 2)
        for j in range(n):
            blocks = np.einsum("sasb->sab", g6[j, :, :, j])
            site[b, j] = 2j * np.einsum("kab,sba->sk", PAULI, blocks)
        for j in range(n - 1):
            lo, hi = slice(j * m, (j + 1) * m), slice((j + 1) * m, (j + 2) * m)
            x = h[lo, hi] @ g[hi, lo] - g[lo, hi] @ h[hi, lo]     # on monolayer j
            for k in range(4):
                bond[b, j, k] = -2 * np.trace(np.kron(np.eye(s), PAULI[k]) @ x)
    return site, bond


def surface_self_energy(h, t, z, iterations=200):
    """t² g_s(z) of a semi-infinite lead of cells h (M, M) and hopping −t·1 by the
    Lopez Sancho decimation (independent of the plane-wave route)."""
    m = len(h)
    eps_s, eps = h.astype(complex), h.astype(complex)
    alpha = -t * np.eye(m, dtype=complex)
    beta = alpha.copy()
    for _ in range(iterations):
        g = np.linalg.inv(z * np.eye(m) - eps)
        agb, bga = alpha @ g @ beta, beta @ g @ alpha
        eps_s = eps_s + agb
        eps = eps + agb + bga
        alpha, beta = alpha @ g @ alpha, beta @ g @ beta
        if np.abs(alpha).max() < 1e-300 ** 0.5:
            break
    return t ** 2 * np.linalg.inv(z * np.eye(m) - eps_s)


def test_plane_wave_self_energies_at_complex_energies():
    """The batched plane-wave Σ(z): equal to Kwant's selfenergy at real energies (1e-12 of
    |Σ|; measured 7e-15), to supercell.lead_self_energies_planewave at every complex z
    (1e-14; the same formula, batched; measured 4e-16), to a Lopez Sancho decimation of the
    M-orbital lead at complex z (1e-10 of |Σ|; measured 3e-15: the decaying branch of the
    channels' λ = w − √(w−1)√(w+1) is the retarded continuation), with Γ = i(Σ − Σ†)
    positive definite for Im z > 0 (smallest eigenvalue measured 4e-5 at Im z = 1e-3)."""
    ss = disordered_fif()
    kw = dict(theta=THETA, phi=0.3, bias=BIAS, k_y=0.3, k_z=-0.2)
    params = ss.params(**kw)
    energies = np.array([-2.5, -4.0, 0.7])
    batch = lead_self_energies_complex(ss, energies.astype(complex), **kw)
    for i, e in enumerate(energies):
        for ref, mine in zip(lead_self_energies(ss, e, params), batch):
            assert np.abs(ref - mine[i]).max() <= 1e-12 * np.abs(ref).max()
    batch = lead_self_energies_complex(ss, Z, **kw)
    onsite, hop = layer_blocks(ss, params)
    for side, (block, lead) in enumerate(((0, 0), (-1, 1))):
        t = ss.chain.leads[lead]["hopping"]
        # the end monolayers of the scattering region are electrode (pad) monolayers: the
        # lead's cell (same spectrum as Kwant's wrapped lead cell) and hopping −t·1
        cell = onsite[block]
        kwant_cell = ss.fsyst.leads[lead].cell_hamiltonian(params=params)
        assert np.allclose(np.linalg.eigvalsh(cell), np.linalg.eigvalsh(kwant_cell),
                           atol=1e-12)
        assert np.array_equal(hop[block], -t * np.eye(len(cell)))
        for i, z in enumerate(Z):
            sig = batch[side][i]
            one = lead_self_energies_planewave(ss, z, **kw)[side]
            assert np.abs(sig - one).max() <= 1e-14 * np.abs(one).max()
            ref = surface_self_energy(cell, t, z)
            assert np.abs(sig - ref).max() <= 1e-10 * np.abs(ref).max()
            assert np.linalg.eigvalsh(1j * (sig - sig.conj().T)).min() > 0


@pytest.mark.parametrize("which", ["fif", "fifn"])
def test_dense_inversion(which):
    """Site spin densities h_site = 2i Tr O G_ii and bond currents
    h_bond = −2 Tr O (H_{j,j+1} G_{j+1,j} − G_{j,j+1} H_{j+1,j}) from the dense inverse of
    z − H − Σ_L − Σ_R (H from Kwant's hamiltonian_submatrix, off-diagonal blocks of G
    used directly) on disordered 2 × 2 supercells (F/I/F with an Anderson barrier; F/I/F/N
    with Anderson disorder, interface mixing and magnetic tilts in the free layer and
    per-element hoppings), at complex energies including 1e-3 above the axis: equal to
    1e-12 of max|h_site| (sites) and of max|h_site| × max t (bonds, whose terms are
    products of G blocks and hoppings); measured 9e-16 and 1.1e-15 (F/I/F), 8e-16 and 7e-16
    (F/I/F/N).  The route for non-scalar interlayer hoppings (H g H† as matrix products,
    forced here) gives the same to 1e-12."""
    ss = disordered_fif() if which == "fif" else disordered_fifn()
    kw = dict(theta=THETA, phi=0.2, bias=BIAS, k_y=0.4, k_z=-0.9)
    out = sea_blocks(ss, Z, **kw)
    site, bond = dense_sea(ss, Z, **kw)
    n = site.shape[1]
    scale = np.abs(site).max()
    t_max = np.abs(ss.chain.hopping).max()
    assert out["site"].shape == (len(Z), n, 2, 2, 4) and out["bond"].shape == (len(Z), n - 1, 4)
    assert np.abs(out["site"].reshape(site.shape) - site).max() <= 1e-12 * scale
    assert np.abs(out["bond"] - bond).max() <= 1e-12 * scale * t_max
    # the particle current of all states is the trace of a commutator: zero at every z
    assert np.abs(out["bond"][..., 0]).max() <= 1e-12 * scale * t_max
    # the general route for non-scalar hoppings H_{j+1,j} (matrix products) agrees
    solver = SeaSolver(ss, **kw)
    assert solver._scalar
    solver._scalar = False
    general = solver.blocks(Z)
    assert np.abs(general["site"] - out["site"]).max() <= 1e-12 * scale
    assert np.abs(general["bond"] - out["bond"]).max() <= 1e-12 * scale * t_max


def layered(junction, eps):
    """ChainSolver, its layout and the layered sea's h(z) at ε∥ (bias_point's objects)."""
    cs = ChainSolver(mk.make_system(junction), theta=THETA, bias=BIAS)
    layout = _Layout(cs.chain, cs.site_magnetization, cs.m, False)
    return cs, layout, _sea_spectral(cs, layout)


@pytest.mark.parametrize("which", ["fif", "fifn"])
def test_one_by_one_supercell_is_the_layered_chain(which, fif, fifn):
    """A clean 1 × 1 supercell at (k_y, k_z) is the layered chain at
    ε∥ = −2t(cos k_y a + cos k_z a): the integrand h(z) equals ChainSolver.bond_sea (1e-12
    of the sites' scale; measured 2e-16 bonds, 3e-15 sites), the contour starts at the same
    e_min (1e-12; measured 9e-16), and sea_k's torque (exchange route for F/I/F/N,
    transverse entrance spin current for F/I/F) equals the layered sea's contour at that
    ε∥, both by the spin-current route of _sea_spectral (J_in − J_out) and by the coupling
    determinant that bias_point uses (_sea_torque_spectral): 1e-10 of |T|.  Measured
    4e-13 and 2e-13 (F/I/F), 1.7e-11 and 1.7e-11 (F/I/F/N, whose sea_k stops at its
    round-off floor SEA_ROUNDOFF · S ≈ 7e-9 |T| rather than at tol = 1e-12: the exchange
    route is a difference of terms ~7e5 × |T| at this k)."""
    junction = fif if which == "fif" else fifn
    ss = make_supercell_system(junction, (1, 1))
    ky, kz = 0.7, -1.3
    a, t = junction.lattice_constant, junction.hopping
    eps = -2 * t * (np.cos(ky * a) + np.cos(kz * a))
    cs, layout, h_layered = layered(junction, eps)
    out = sea_blocks(ss, Z, theta=THETA, bias=BIAS, k_y=ky, k_z=kz)
    b, s = cs.bond_sea(Z, np.full(len(Z), eps), np.arange(cs.chain.n_sites - 1), sites=True)
    assert np.abs(out["bond"] - b).max() <= 1e-12 * np.abs(s).max()
    assert np.abs(out["site"].reshape(s.shape) - s).max() <= 1e-12 * np.abs(s).max()
    solver = SeaSolver(ss, theta=THETA, bias=BIAS, k_y=ky, k_z=kz)
    e_min = cs.spectrum_bottom(eps)
    assert solver.spectrum_bottom() == pytest.approx(e_min, abs=1e-12)

    mu = sea_chemical_potential(junction, BIAS)
    mine = sea_k(ss, mu, theta=THETA, bias=BIAS, k_y=ky, k_z=kz, tol=1e-12, solver=solver)
    assert mine.converged
    size = np.abs(mine.value).max()

    def tol3(v):
        return np.full(v.shape, 1e-12 * np.abs(v[:3]).max())

    def tol_layout(v):
        return np.where((np.arange(len(v)) >= 1) & (np.arange(len(v)) < 4),
                        1e-12 * np.abs(v[1:4]).max(), np.inf)

    plain = _complex_weight("plain", mu, 0.0)
    q = _contour(lambda z: h_layered(z, np.full(z.shape, eps)), plain, e_min, mu, 0.0,
                 tol_layout, max_eval=20_000)
    assert np.abs(mine.value - q.value[1:4]).max() <= 1e-10 * size
    h_coupling = _sea_torque_spectral(cs, cs.coupling_bond())
    q = _contour(lambda z: h_coupling(z, np.full(z.shape, eps)), plain, e_min, mu, 0.0, tol3,
                 max_eval=20_000)
    assert np.abs(mine.value - q.value).max() <= 1e-10 * size


def test_clean_supercell_folds_onto_the_layered_momenta(fifn):
    """A clean 2 × 2 supercell at K is the 1 × 1 (layered) junction at the four momenta
    K + 2π(n_y, n_z)/(2a): its sea torque is their sum (1e-10 of the largest; measured
    1e-11, the floors of the five contours), which is the per-area normalisation of the zone
    average
    (⟨·⟩_K / (L_y L_z a²) = ⟨·⟩_k / a²) and starts its contour at another e_min."""
    ss2 = make_supercell_system(fifn, (2, 2))
    ss1 = make_supercell_system(fifn, (1, 1))
    mu = sea_chemical_potential(fifn, BIAS)
    kw = dict(theta=THETA, phi=0.4, bias=BIAS, tol=1e-12)
    big = sea_k(ss2, mu, k_y=0.37, k_z=-0.81, **kw)
    parts = [sea_k(ss1, mu, k_y=ky, k_z=kz, **kw) for ky, kz in ss2.folded_momenta(0.37, -0.81)]
    total = sum(p.value for p in parts)
    scale = max(np.abs(p.value).max() for p in parts)
    assert np.abs(big.value - total).max() <= 1e-10 * scale


def zone_average(ss, mu, n, cache):
    """Tensor Gauss–Legendre average over [−π/a, π/a]² of sea_k (1 × 1 supercell), with the
    zone's symmetry k_y → −k_y, k_z → −k_z, k_y ↔ k_z (ε∥ is invariant) used to evaluate
    each distinct point once; returns the average value and the average error."""
    a = ss.a
    x, w = np.polynomial.legendre.leggauss(n)
    k, wk = x * np.pi / a, 0.5 * w
    value, error = np.zeros(3), np.zeros(3)
    for i in range(n):
        for j in range(n):
            key = tuple(sorted((abs(x[i]), abs(x[j]))))
            if key not in cache:
                cache[key] = sea_k(ss, mu, theta=THETA, bias=BIAS, k_y=k[i], k_z=k[j],
                                   tol=1e-10, atol=1e-16)
            value += wk[i] * wk[j] * cache[key].value
            error += wk[i] * wk[j] * cache[key].error
    return value, error


@pytest.mark.parametrize("reference", [0, 1])
def test_zone_average_equals_bias_point(fif, reference):
    """End to end: sea_k on a 1 × 1 supercell averaged over its zone [−π/a, π/a]² with a
    tensor Gauss–Legendre grid of 64 × 64 points, divided by a² and times E_OVER_H ·
    PER_NM2, equals bias_point(parts="total").torque_sea of the layered tb_fif junction at
    0.1 V, whose sea is filled to μ_R (reference 0) or μ_L (reference 1)
    (sea_chemical_potential), within the combined stated errors: the k-grid estimate
    |Q_64 − Q_48|, the contours' errors and bias_point's (rtol 1e-8).  The k integrand has
    (k − k_F)^{3/2} kinks where lead bands cross μ (the layered route puts breakpoints
    there), so the estimate is loose: measured |Q_64 − ref| = 1.9e-5 of |ref| against an
    estimate of 2.3e-4 (reference 0), 3.7e-5 against 2.2e-4 (reference 1); both are also
    asserted below 1e-3.  828 distinct k points, ~3.5 s each."""
    ref = bias_point(mk.make_system(fif), theta=THETA, bias=BIAS, parts="total", rtol=1e-8,
                     reference=reference)
    mu = sea_chemical_potential(fif, BIAS, reference)
    assert mu == fif.fermi_energy + (0.5 if reference else -0.5) * BIAS
    ss = make_supercell_system(fif, (1, 1))
    unit = E_OVER_H * PER_NM2 / ss.a ** 2
    cache = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every k point converges
        fine, fine_err = zone_average(ss, mu, 64, cache)
        coarse, _ = zone_average(ss, mu, 48, cache)
    fine, fine_err, coarse = fine * unit, fine_err * unit, coarse * unit
    allowed = np.abs(fine - coarse) + fine_err + ref.errors["torque_sea"]
    assert np.all(np.abs(fine - ref.torque_sea) <= allowed)
    size = np.abs(ref.torque_sea).max()
    assert np.abs(fine - ref.torque_sea).max() <= 1e-3 * size
    assert np.abs(fine - coarse).max() <= 1e-3 * size


@pytest.mark.parametrize("frame", ["z", "rotated"])
@pytest.mark.parametrize("which", ["fif", "fifn"])
def test_collinear_torque_is_zero_within_its_floor(which, frame):
    """Collinear magnetizations on disordered 2 × 2 supercells (no tilts): the torque
    vanishes by symmetry.  With p = z at θ = 0 and π (DESIGN.md's collinear cases; at θ = 0
    the spin blocks decouple and it is exactly 0) and with p = (1, 1, 1)/√3 at m = ±p
    (a frame where it is round-off): |T| ≤ SEA_ROUNDOFF · S, S the integrated size of the
    O(1) terms of the point (measured ≤ 3e-17 S here, ≤ 1.7e-16 S over 1 × 1 … 4 × 4
    supercells), the error covers it and is at least that floor, the quadrature is not
    chased below it (105 energies against 195-285 at θ = π/2), and |T| ≤ 1e-9 of the
    torque at 90° from p at the same k (measured ≤ 2e-11)."""
    ss = disordered_fif() if which == "fif" else disordered_fifn(tilt=0.0)
    if frame == "rotated":
        rotated = mk.junction_with(ss.junction, {"left.magnetization": [1, 1, 1]})
        ss = make_supercell_system(rotated, seed=ss.seed)
        th, ph = np.arccos(1 / np.sqrt(3)), 0.25 * np.pi
        angles = ((th, ph), (np.pi - th, ph + np.pi))
    else:
        th, ph = 0.0, 0.0
        angles = ((0.0, 0.0), (np.pi, 0.0))
    mu = sea_chemical_potential(ss.junction, BIAS)
    kw = dict(bias=BIAS, k_y=0.4, k_z=-0.9)
    generic = sea_k(ss, mu, theta=th + 0.5 * np.pi, phi=ph, **kw)
    assert not generic.collinear
    for theta, phi in angles:
        solver = SeaSolver(ss, theta=theta, phi=phi, **kw)
        assert solver.is_collinear()
        r = sea_k(ss, mu, theta=theta, phi=phi, solver=solver, **kw)
        assert r.converged and r.collinear and r.scale > 0
        assert r.n_eval < generic.n_eval
        floor = SEA_ROUNDOFF * r.scale
        assert np.abs(r.value).max() <= floor
        assert np.all(r.error >= np.maximum(np.abs(r.value), floor))
        assert np.abs(r.value).max() <= 1e-9 * np.abs(generic.value).max()


def test_spin_current_continuity_through_every_monolayer():
    """F/I/F/N, disordered 2 × 2 supercell with magnetic tilts: at every complex z,
    h_bond_{j−1} − h_bond_j = Σ_{i ∈ j} Δ_i m_i × h_site,i (spin part) on every interior
    monolayer (1e-12 of Σ Δ|h_s|; measured 7e-16), so the sea exchange torque summed over
    the free layer is the sea spin current entering it minus the one leaving it: sea_k's
    value equals the contour integral of J_in − J_out (from the bond quantities) within
    1e-9 of |T| (tolerance 1e-10 of the bond contour: J_in − J_out is a difference of spin
    currents whose terms are of size 2t|h_s| ~ 5e5 × |T| here, so its round-off is ~1e-10 of
    T; measured 8e-12), and starting the contour 2 eV lower changes it by less than 1e-9
    (measured 3e-12)."""
    ss = disordered_fifn()
    kw = dict(theta=THETA, phi=0.3, bias=BIAS, k_y=0.2, k_z=0.5)
    out = sea_blocks(ss, Z, **kw)
    mags = ss.directions(THETA, 0.3)
    torque = ss.delta[None, ..., None] * np.cross(mags[None], out["site"][..., 1:])
    per_layer = torque.sum(axis=(2, 3))                           # (B, N, 3)
    div = out["bond"][:, :-1, 1:] - out["bond"][:, 1:, 1:]       # monolayers 1 … N − 2
    scale = (ss.delta[None] * np.linalg.norm(out["site"][..., 1:], axis=-1)).sum(axis=(2, 3))
    assert np.all(np.abs(div - per_layer[:, 1:-1]).max(axis=-1) <= 1e-12 * scale[:, 1:-1].max())

    bond_in, bond_out = ss.chain.free_bonds
    mu = sea_chemical_potential(ss.junction, BIAS)
    solver = SeaSolver(ss, **kw)
    r = sea_k(ss, mu, tol=1e-12, solver=solver, **kw)

    def h(z):
        hb = solver.blocks(z, sites=[], bonds=[bond_in, bond_out])["bond"]
        return hb[:, bond_in, 1:] - hb[:, bond_out, 1:]

    def tol(v):
        return np.full(v.shape, 1e-10 * np.abs(v).max())

    plain = _complex_weight("plain", mu, 0.0)
    q = _contour(h, plain, solver.spectrum_bottom(), mu, 0.0, tol, max_eval=20_000)
    assert q.converged
    assert np.abs(r.value - q.value).max() <= 1e-9 * np.abs(q.value).max()
    # the contour starts below the spectrum: starting 2 eV lower changes nothing
    q2 = _contour(h, plain, solver.spectrum_bottom() - 2.0, mu, 0.0, tol, max_eval=20_000)
    assert np.abs(q2.value - q.value).max() <= 1e-9 * np.abs(q.value).max()


def test_bad_input(fif):
    """Advanced energies and non-vector z are refused; the reference lead is 0 or 1."""
    ss = make_supercell_system(fif, (1, 1))
    with pytest.raises(ValueError, match="Im z"):
        sea_blocks(ss, np.array([-2.5 - 0.1j]), theta=THETA)
    with pytest.raises(ValueError, match="one-dimensional"):
        sea_blocks(ss, np.array([[-2.5 + 0.1j]]), theta=THETA)
    with pytest.raises(ValueError, match="reference"):
        sea_chemical_potential(fif, BIAS, reference=2)
    # μ below the spectrum: no state, an exact zero
    r = sea_k(ss, -20.0, theta=THETA)
    assert np.array_equal(r.value, np.zeros(3)) and r.n_eval == 0
