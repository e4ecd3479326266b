"""The SCBA of one energy (:class:`mtj_kwant.scba.ScbaEnergy`) against a dense reference and
against its sum rules.

Routes written here, sharing nothing with the recursive kernels of :mod:`mtj_kwant._scba`:

- the Hamiltonian of every transverse node from Kwant (``JunctionSystem.hamiltonian``,
  2N × 2N in chain order) and the leads' self-energies from Kwant's own lead solver
  (``fsyst.leads[i].selfenergy``), placed on the chain sites that ``fsyst.lead_interfaces``
  and ``js.order`` name;
- the retarded Σ by a plain damped fixed-point iteration on full inverses
  G = (E − H − Σ_L − Σ_R − ⊕Σ_j)⁻¹;
- the in-scattering Σⁱⁿ by a direct linear solve (Σⁱⁿ is linear in X̂ = Σ_k w_k X_jj and
  X̂ affine in Σⁱⁿ: no iteration, no tolerance), X = G(Γ ⊕ Σⁱⁿ)G† densely, and the bond
  currents from Kwant's hopping blocks, 2 Im Tr σ_β H_{j+1,j} X_{j,j+1}.

Scales of the tolerances.  The currents through the tunnel barrier (1e-4 per unit weight
here) are imaginary parts of numbers of size 2t|X_{j,j+1}| summed over the nodes (40 to 80
here: the reflected waves in front of the barrier): their round-off is a fraction of that
*bond scale* (as in test_kernels.py and ``integrate.ROUNDOFF``), not of the currents; the
dense reference itself conserves the particle current from the right only to 2e-9 of its
value.  Bond currents are therefore compared against the bond scale; densities, Σ, X̂, Ĝ
against their largest |value|.  Where the self-consistency matters, its tolerance is part of
the bound (the default SCBA_TOL is relative to |Σⁱⁿ|, not to the currents: see
test_default_tolerance_error_is_cond_times_tol_of_the_scales).
"""

import numpy as np
import pytest

import mtj_kwant as mk
from mtj_kwant.model import Electrode, Junction, Layer
from mtj_kwant.scba import SCBA_TOL, ScbaEnergy
from mtj_kwant.solvers import ChainSolver
from mtj_kwant.system import make_system

PAULI = np.array([np.eye(2), [[0, 1], [1, 0]], [[0, -1j], [1j, 0]], np.diag([1.0, -1.0])],
                 complex)
THETA, PHI, BIAS = np.pi / 2, 0.3, 0.1
ENERGY = 2.62  # the Fermi energy of fifn_2nm
#: (d_m, d_s) in eV² nm² on the free layer's sites
CASES = {"momentum": (0.04, 0.0), "spin-flip": (0.0, 0.01), "both": (0.04, 0.01),
         "strong": (0.3, 0.1)}
TIGHT = 1e-13  # SCBA tolerance of the comparisons (the default's effect is tested apart)


# -- set-up -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fifn():
    """fifn_2nm at 0.1 nm: 34 sites (2 + 10 barrier + 20 free + 2), a dense G is cheap."""
    js = make_system(mk.load_junction("fifn_2nm").at_spacing(0.1))
    return js, ChainSolver(js, theta=THETA, phi=PHI, bias=BIAS)


def grid(js, n_in, n_tail, cut=3.0, scale=3.0):
    """ε∥ nodes: Gauss–Legendre on [0, cut] and on u ∈ (0, 1) ↦ cut + scale·u/(1 − u).

    Weights (3, nk) with the measure ∫d²k∥/(2π)² = pref ∫dε∥: row 0 the whole rule, row 1
    the panel [0, cut] only, row 2 the tail only (rows 1 + 2 = row 0).
    """
    x, w = np.polynomial.legendre.leggauss(n_in)
    u, wu = np.polynomial.legendre.leggauss(n_tail)
    u, wu = 0.5 * (u + 1), 0.5 * wu
    eps = np.concatenate([0.5 * cut * (x + 1), cut + scale * u / (1 - u)])
    weights = np.zeros((3, len(eps)))
    weights[1, :n_in] = 0.5 * cut * w
    weights[2, n_in:] = wu * scale / (1 - u) ** 2
    weights[0] = weights[1] + weights[2]
    return eps, js.transverse.nested_prefactor * weights


def strengths(js, d_m, d_s, where=None):
    where = js.chain.free if where is None else where
    return d_m * where.astype(float), d_s * where.astype(float)


def tr_pauli(x):
    """Tr σ_β x (…, 4) of blocks (…, 2, 2)."""
    return np.einsum("bxy,...yx->...b", PAULI, x)


def pauli(x):
    """(x₀, x) of row-major blocks (…, 4): x = x₀·1 + x·σ, i.e. x_β = Tr σ_β x / 2."""
    t = 0.5 * tr_pauli(x.reshape(x.shape[:-1] + (2, 2)))
    return t[..., 0], t[..., 1:]


def blocks4(x):
    """(…, 2, 2) → (…, 4) row major, as ScbaEnergy stores them."""
    return x.reshape(x.shape[:-2] + (4,))


def rel(got, want):
    scale = np.abs(want).max()
    return float(np.abs(got - want).max() / scale)


# -- the dense reference ----------------------------------------------------------------------

def kwant_blocks(js, energy, eps):
    """H (nk, 2N, 2N) in chain order and Σ_L, Σ_R (nk, 2N, 2N), all from Kwant."""
    n, nk = js.chain.n_sites, len(eps)
    chain_index = np.empty(n, int)
    chain_index[js.order] = np.arange(n)  # fsyst site → chain site
    h = np.empty((nk, 2 * n, 2 * n), complex)
    sig = np.zeros((2, nk, 2 * n, 2 * n), complex)
    for k, e in enumerate(eps):
        p = js.params(theta=THETA, phi=PHI, bias=BIAS, eps_par=e)
        h[k] = js.hamiltonian(p)
        for i, (lead, iface) in enumerate(zip(js.fsyst.leads, js.fsyst.lead_interfaces)):
            idx = (2 * chain_index[iface][:, None] + np.arange(2)).ravel()
            sig[i, k][np.ix_(idx, idx)] = lead.selfenergy(energy, params=p)
    return h, sig


def diag_blocks(m):
    """The diagonal 2×2 blocks (…, N, 2, 2) of (…, 2N, 2N)."""
    n = m.shape[-1] // 2
    r = m.reshape(m.shape[:-2] + (n, 2, n, 2))
    return np.einsum("...jajb->...jab", r)


def block_diag(b):
    n = len(b)
    out = np.zeros((2 * n, 2 * n), complex)
    for j in range(n):
        out[2 * j:2 * j + 2, 2 * j:2 * j + 2] = b[j]
    return out


def scatter(d_m, d_s, x):
    """d_m x + d_s Σ_α σ_α x σ_α of blocks x (N, 2, 2): the white-noise self-energy as
    written in the scba module docstring (not its a, b form)."""
    flip = sum(p @ x @ p for p in PAULI[1:])
    return d_m[:, None, None] * x + d_s[:, None, None] * flip


def dense_retarded(energy, h, sig_leads, w, d_m, d_s, shift=None, tol=1e-13, mix=0.8):
    """Σ (N, 2, 2) and G (nk, 2N, 2N) by damped iteration of Σ = scatter(Ĝ) − a c·1, with
    a = d_m + 3 d_s the scalar factor of ``scatter`` and c = Re ĝ₀ (shift None) or shift."""
    a = d_m + 3 * d_s
    n = len(a)
    base = energy * np.eye(2 * n) - h - sig_leads[0] - sig_leads[1]
    sig = np.zeros((n, 2, 2), complex)
    for _ in range(1000):
        gh = np.tensordot(w, diag_blocks(np.linalg.inv(base - block_diag(sig))), 1)
        g0 = 0.5 * (gh[:, 0, 0] + gh[:, 1, 1])
        c = g0.real if shift is None else shift
        new = scatter(d_m, d_s, gh) - (a * c)[:, None, None] * np.eye(2)
        step = np.abs(new - sig).max()
        if step <= tol * np.abs(new).max():
            sig = new
            break
        sig = (1 - mix) * sig + mix * new
    else:
        raise AssertionError("dense SCBA did not converge")
    return sig, np.linalg.inv(base - block_diag(sig))


def dense_window(g, sig_leads, lead, w, d_m, d_s):
    """X (nk, 2N, 2N), Σⁱⁿ (N, 2, 2) and cond(1 − M) by a direct solve of Σⁱⁿ = M Σⁱⁿ + S.

    Σⁱⁿ_l = Σ_β s_lβ σ_β (s real); x̂_jα = (Tr σ_α X̂_j)/2 responds to s_lβ with
    Σ_k w_k Tr σ_α G_jl σ_β G_jl† / 2, and s_j = K_j x̂_j with K_j the matrix of ``scatter``
    in the Pauli basis (built here by applying it to σ_γ).
    """
    n = len(d_m)
    sites = np.flatnonzero((d_m > 0) | (d_s > 0))
    ns = len(sites)
    kmat = np.stack([0.5 * tr_pauli(scatter(d_m[sites], d_s[sites],
                                            np.broadcast_to(p, (ns, 2, 2)))).real
                     for p in PAULI], -1)  # (j, α, γ)
    gam = 1j * (sig_leads[lead] - np.swapaxes(sig_leads[lead], 1, 2).conj())
    gd = np.swapaxes(g, 1, 2).conj()
    x_lead = g @ gam @ gd
    nk = g.shape[0]
    gjl = g.reshape(nk, n, 2, n, 2)[:, sites][:, :, :, sites].transpose(0, 1, 3, 2, 4)
    resp = np.einsum("k,kjlxy,byz,kjlwz->jlbxw", w, gjl, PAULI, gjl.conj(), optimize=True)
    resp = 0.5 * tr_pauli(resp).real                                   # (j, l, β, α)
    src = 0.5 * tr_pauli(np.tensordot(w, diag_blocks(x_lead), 1)[sites]).real  # (j, α)
    m = np.einsum("jag,jlbg->jalb", kmat, resp).reshape(4 * ns, 4 * ns)
    one_m = np.eye(len(m)) - m
    s = np.linalg.solve(one_m, np.einsum("jag,jg->ja", kmat, src).ravel()).reshape(ns, 4)
    sig_in = np.zeros((n, 2, 2), complex)
    sig_in[sites] = np.einsum("jb,bxy->jxy", s, PAULI)
    return g @ (gam + block_diag(sig_in)) @ gd, sig_in, np.linalg.cond(one_m)


def dense_observables(h, g, x, sig, sig_in, weights):
    """What ScbaEnergy.window returns, from the dense G and X; and the bond scale."""
    nk, n = g.shape[0], g.shape[-1] // 2
    xb = x.reshape(nk, n, 2, n, 2).transpose(0, 1, 3, 2, 4)  # X_jl blocks
    hb = h.reshape(nk, n, 2, n, 2).transpose(0, 1, 3, 2, 4)
    j = np.arange(n - 1)
    hop, xj = hb[:, j + 1, j], xb[:, j, j + 1]  # H_{j+1,j}, X_{j,j+1}: (nk, N − 1, 2, 2)
    bond = 2 * tr_pauli(hop @ xj).imag
    scale = 2 * np.abs(hop[..., 0, 0]) * np.abs(xj).sum((-1, -2))
    xloc, gloc = diag_blocks(x), diag_blocks(g)
    xs, gs = np.tensordot(weights, xloc, 1), np.tensordot(weights, gloc, 1)  # (nw, N, 2, 2)
    sd, gsd = sig.conj().swapaxes(-1, -2), gs.conj().swapaxes(-1, -2)
    comm = sig @ xs - xs @ sd + sig_in @ gsd - gs @ sig_in
    lsrc = (1j * tr_pauli(comm)).real
    return {"bond": np.tensordot(weights, bond, 1),
            "bond_scale": np.tensordot(np.abs(weights), scale, 1),
            "site": tr_pauli(xs).real, "xloc": blocks4(xs), "gloc": blocks4(gs),
            "loss": lsrc[..., 1:], "source": lsrc[..., 0],
            "loss_scale": (np.abs(sig).sum((-1, -2)) * np.abs(xs).sum((-1, -2))
                           + np.abs(sig_in).sum((-1, -2)) * np.abs(gs).sum((-1, -2)))}


@pytest.fixture(scope="module")
def dense_setup(fifn):
    js, _ = fifn
    eps, weights = grid(js, 12, 6)
    return eps, weights, kwant_blocks(js, ENERGY, eps)


def test_kwant_lead_interfaces_are_the_chain_ends(fifn, dense_setup):
    """The kernels put Σ_L on chain site 0 and Σ_R on N − 1: Kwant's interfaces are those
    sites, and Kwant's self-energies there equal the package's Lead.self_energy (1e-12)."""
    js, s = fifn
    n = js.chain.n_sites
    chain_index = np.empty(n, int)
    chain_index[js.order] = np.arange(n)
    assert [chain_index[i].tolist() for i in js.fsyst.lead_interfaces] == [[0], [n - 1]]
    eps, _, (_, sig) = dense_setup
    for i, end in ((0, 0), (1, n - 1)):
        mine = s.leads[i].self_energy(np.full(len(eps), ENERGY, complex), eps)[0]
        kw = sig[i][:, 2 * end:2 * end + 2, 2 * end:2 * end + 2]
        assert np.abs(mine - kw).max() <= 1e-12 * np.abs(kw).max()


# -- 1. against the dense reference ----------------------------------------------------------

@pytest.mark.parametrize("case", CASES)
def test_scba_equals_dense_inversion(fifn, dense_setup, case):
    """Σ, Ĝ, X̂, densities, losses and bond currents of both leads, every weight row.

    Tolerances: the self-consistencies stop at 1e-13 (both routes) and amplify by at most
    cond(1 − M) ≤ 1e2 (the strong case: 75), the 68-dimensional inversions add ~1e-14:
    1e-10 of the largest |value| for Σ, Ĝ, X̂ and the densities (measured: Σ ≤ 2e-14, Ĝ
    ≤ 1.1e-15, X̂ and densities ≤ 1.5e-12), 1e-10 of the largest term |Σ||X̂| + |Σⁱⁿ||Ĝ|
    for the losses and sources (measured ≤ 2.1e-14), and 1e-11 of the bond scale for the
    currents (measured ≤ 2.1e-12; relative to the largest current: 6e-11 from the left,
    7e-8 from the right, the round-off of either route).
    """
    js, s = fifn
    eps, weights, (h, sig_leads) = dense_setup
    d_m, d_s = strengths(js, *CASES[case])
    sig, g = dense_retarded(ENERGY, h, sig_leads, weights[0], d_m, d_s)
    se = ScbaEnergy(s, d_m, d_s, ENERGY, eps, weights, tol=TIGHT)
    assert rel(se.sigma, blocks4(sig)) <= 1e-10
    for lead in (0, 1):
        x, sig_in, cond = dense_window(g, sig_leads, lead, weights[0], d_m, d_s)
        assert cond < 1e2
        want = dense_observables(h, g, x, sig, sig_in, weights)
        got = se.window(lead)
        for key in ("site", "xloc", "gloc"):
            assert got[key].shape == want[key].shape
            assert rel(got[key], want[key]) <= 1e-10, key
        assert got["bond"].shape == want["bond"].shape
        assert np.all(np.abs(got["bond"] - want["bond"])
                      <= 1e-11 * want["bond_scale"][..., None])
        lscale = want["loss_scale"].max()
        assert np.abs(got["loss"] - want["loss"]).max() <= 1e-10 * lscale
        assert np.abs(got["source"] - want["source"]).max() <= 1e-10 * lscale
        if CASES[case][1] > 0:  # spin flip: the losses are compared, not 0 with 0
            assert np.abs(want["loss"][0]).max() > 1e3 * 1e-10 * lscale


def test_default_tolerance_error_is_cond_times_tol_of_the_scales(fifn, dense_setup):
    """At the default SCBA_TOL (1e-10 of max|Σⁱⁿ|) the window's error is bounded by
    cond(1 − M)·SCBA_TOL times each observable's scale (the bond scale for currents).

    Measured in the strong case from the right (cond 75, bound 7.5e-9): 1.1e-9 of the
    bond scale, i.e. 1.4e-4 of the current itself (the right-injected density in front of
    the barrier sets |Σⁱⁿ|); densities 2.5e-9 relative.
    """
    js, s = fifn
    eps, weights, (h, sig_leads) = dense_setup
    d_m, d_s = strengths(js, *CASES["strong"])
    sig, g = dense_retarded(ENERGY, h, sig_leads, weights[0], d_m, d_s)
    se = ScbaEnergy(s, d_m, d_s, ENERGY, eps, weights)
    for lead in (0, 1):
        x, sig_in, cond = dense_window(g, sig_leads, lead, weights[0], d_m, d_s)
        want = dense_observables(h, g, x, sig, sig_in, weights)
        got = se.window(lead)
        bound = cond * SCBA_TOL
        assert np.all(np.abs(got["bond"] - want["bond"])
                      <= bound * want["bond_scale"][..., None])
        assert rel(got["site"], want["site"]) <= bound


# -- 2. invariants on a finer grid -----------------------------------------------------------

@pytest.fixture(scope="module")
def fine(fifn):
    """ScbaEnergy of every case on 40 + 12 nodes; both windows; the ballistic bond scale."""
    js, s = fifn
    eps, weights = grid(js, 40, 12)
    n = js.chain.n_sites
    out = {}
    for case, (dm, ds) in CASES.items():
        se = ScbaEnergy(s, *strengths(js, dm, ds), ENERGY, eps, weights)
        out[case] = se, se.window(0), se.window(1)
    scale = []
    for lead in (0, 1):
        _, _, c = s.bond_window(lead, np.full(len(eps), ENERGY), eps, np.arange(n - 1),
                                scale=True)
        scale.append(np.tensordot(np.abs(weights), c, 1))  # (nw, N − 1)
    return js, s, eps, weights, out, scale


@pytest.mark.parametrize("case", CASES)
def test_continuity_at_every_site(fine, case):
    """I_{j−1} − I_j = source_j (particle) and Δ_j m_j × s_j + L_j (spin) at every interior
    site and weight row: an identity of X = G(Γ + Σⁱⁿ)G† for any Hermitian Σⁱⁿ, so it holds
    to round-off whatever the self-consistency: 1e-12 of the ballistic bond scale (its
    magnitude; measured ≤ 2e-16)."""
    js, s, _, _, out, scale = fine
    m, delta = s.site_magnetization, js.chain.delta
    for lead, o in enumerate(out[case][1:]):
        b, site = o["bond"], o["site"]
        div = b[:, :-1] - b[:, 1:]  # I_{j−1} − I_j at sites 1 … N − 2
        torque = delta[:, None] * np.cross(m, site[..., 1:])
        tol = 1e-12 * scale[lead].max()
        assert np.abs(div[..., 0] - o["source"][:, 1:-1]).max() <= tol
        assert np.abs(div[..., 1:] - torque[:, 1:-1] - o["loss"][:, 1:-1]).max() <= tol


def self_consistency_bound(se, o):
    """What the stopping of both self-consistencies leaves in L⁰_j and L_j (N,).

    The exact Σ[Ĝ], Σⁱⁿ[X̂] cancel in L⁰ and (momentum only) in L; the returned Σ and Σⁱⁿ
    miss them by δ with |δ_ab| ≤ √2·residual (a residual of real components; the returned
    iterate is one step past the reported residual, so in practice less), so
    |L_j| ≤ 2√2 (res_r Σ_ab|X̂_j| + res_w Σ_ab|Ĝ_j|), plus 1e-14 of the terms (round-off).
    Measured: L⁰ and the momentum-only L ≤ 0.08 of this bound.
    """
    xs, gs = np.abs(o["xloc"][0]).sum(-1), np.abs(o["gloc"][0]).sum(-1)
    terms = np.abs(se.sigma).sum(-1) * xs + np.abs(se.d_m + 3 * se.d_s) * xs * gs
    return 3 * (se.residual * xs + o["residual"] * gs) + 1e-14 * terms.max()


@pytest.mark.parametrize("case", CASES)
def test_particle_current_is_conserved(fine, case):
    """Row 0 (the self-consistent rule): the source L⁰ vanishes (within what the stopped
    self-consistencies leave, :func:`self_consistency_bound`) and the particle current is
    the same on every bond.

    At the default SCBA_TOL: 1e-9 of the bond scale (measured 1.1e-10, from the right in
    the strong case).  Relative to the current itself that is 1e-4 from the right (the
    current is 1e-6 of its bond scale: test_right_current_at_default_tol) and 1.7e-9 from
    the left in the strong case.  At tol 1e-14: 1e-13 of the bond scale (measured 1.5e-14)
    and, from the left, 1e-10 of the current (measured 1.3e-11); from the right the round-off
    alone is 1e-8 of the current.
    """
    js, s, eps, weights, out, scale = fine
    se, *windows = out[case]
    tight = ScbaEnergy(s, se.d_m, se.d_s, ENERGY, eps, weights, tol=1e-14)
    for lead, o in enumerate(windows):
        ot = tight.window(lead)
        bsc = scale[lead][0].max()
        assert np.ptp(o["bond"][0, :, 0]) <= 1e-9 * bsc
        assert np.ptp(ot["bond"][0, :, 0]) <= 1e-13 * bsc
        if lead == 0:
            i0 = ot["bond"][0, :, 0]
            assert np.ptp(i0) <= 1e-10 * np.abs(i0).max()
        for e, x in ((se, o), (tight, ot)):
            assert np.all(np.abs(x["source"][0]) <= self_consistency_bound(e, x))


def test_right_current_conserved_to_roundoff(fine):
    """States injected from the right: |Σⁱⁿ| is set by the density in front of the barrier
    (~1e6 × the tunnelling current), so the in-scattering self-consistency runs
    LESSER_TOL_FACTOR (1e-4) tighter than SCBA_TOL; the particle current is then conserved
    to the round-off of the currents' bond scale (1e-12 of it; measured 1e-7 of the current
    itself in the strong case, which the dense reference reaches no better: 2e-9)."""
    _, _, _, _, out, scale = fine
    for case in CASES:
        i1 = out[case][2]["bond"][0, :, 0]
        assert np.ptp(i1) <= 1e-12 * scale[1].max()


def test_momentum_scattering_loses_no_spin_and_spin_flip_does(fine):
    """L = 0 (row 0) with momentum scattering only (within :func:`self_consistency_bound`,
    what the stopped self-consistency leaves: L is not 0 to round-off); with spin flip
    L = −8 d_s (Im ĝ₀ s − n Im ĝ) (written out from the definition: the b terms of Σ and
    Σⁱⁿ cancel, a − b = 4 d_s; within the same bound), and the spin current lost across
    the free layer differs from the summed exchange torque by Σ L (≫ the tolerance: the
    balance closes to 6e-16 of the bond scale, Σ L is ≥ 3e-7 of it)."""
    js, s, _, _, out, scale = fine
    chain = js.chain
    free = np.flatnonzero(chain.free)
    i_in, i_out = chain.free_bonds
    m, delta = s.site_magnetization, chain.delta
    for case, (dm, ds) in CASES.items():
        se = out[case][0]
        for lead, o in enumerate(out[case][1:]):
            loss, site, gl = o["loss"][0], o["site"][0], o["gloc"][0]
            if ds == 0:
                assert np.all(np.abs(loss).max(1) <= self_consistency_bound(se, o))
                continue
            g0, gv = pauli(gl)
            want = -8 * se.d_s[:, None] * (g0.imag[:, None] * site[:, 1:]
                                           - site[:, :1] * gv.imag)
            assert np.all(np.abs(loss - want).max(1) <= self_consistency_bound(se, o))
            total_loss = loss[free].sum(0)
            torque = (delta[:, None] * np.cross(m, site[:, 1:]))[free].sum(0)
            lost = o["bond"][0, i_in, 1:] - o["bond"][0, i_out, 1:]
            tol = 1e-11 * scale[lead][0].max()
            assert np.abs(lost - torque - total_loss).max() <= tol
            assert np.abs(total_loss).max() > 1e3 * tol
            assert np.abs(lost - torque).max() > 1e3 * tol


@pytest.mark.parametrize("lead", (0, 1))
def test_ballistic_limit_is_the_window_kernel(fine, lead):
    """d = 0: no self-consistency; currents and densities equal ChainSolver.bond_window
    summed with the weights (another kernel, _rgf.window): 1e-13 of the bond scale and of
    the largest density (measured ≤ 1e-15)."""
    js, s, eps, weights, _, scale = fine
    n = js.chain.n_sites
    zero = np.zeros(n)
    se = ScbaEnergy(s, zero, zero, ENERGY, eps, weights)
    assert se.iterations == 0 and not np.any(se.sigma)
    o = se.window(lead)
    b, site = s.bond_window(lead, np.full(len(eps), ENERGY), eps, np.arange(n - 1), sites=True)
    wb, ws = np.tensordot(weights, b, 1), np.tensordot(weights, site, 1)
    assert np.abs(o["bond"] - wb).max() <= 1e-13 * scale[lead].max()
    assert rel(o["site"], ws) <= 1e-13
    assert not np.any(o["loss"]) and not np.any(o["source"])


@pytest.mark.parametrize("case", CASES)
def test_weak_scattering_tends_to_ballistic(fine, case):
    """Strengths 1e-9 of the working ones: Σ is 1e-9 of the working one; the currents equal
    the ballistic ones to 1e-13 of the bond scale (measured ≤ 1e-14; relative to the
    currents ≤ 4e-9) and the densities to 1e-7 of the largest (measured 2e-8: from the
    right, in the strong case, the free layer's quasi-bound states respond strongly); the
    change of the densities from the right is linear (doubling d doubles it, to 1e-4;
    measured ≤ 1.3e-5; from the left, and for the currents, the change is round-off).  The
    working strengths change the current by 9 … 40 %."""
    js, s, eps, weights, out, scale = fine
    n = js.chain.n_sites
    dm, ds = CASES[case]
    se = ScbaEnergy(s, *strengths(js, 1e-9 * dm, 1e-9 * ds), ENERGY, eps, weights)
    se2 = ScbaEnergy(s, *strengths(js, 2e-9 * dm, 2e-9 * ds), ENERGY, eps, weights)
    assert np.abs(se.sigma).max() <= 2e-9 * np.abs(out[case][0].sigma).max()
    for lead in (0, 1):
        o, o2 = se.window(lead), se2.window(lead)
        b, site = s.bond_window(lead, np.full(len(eps), ENERGY), eps, np.arange(n - 1),
                                sites=True)
        wb, ws = np.tensordot(weights, b, 1), np.tensordot(weights, site, 1)
        assert np.abs(o["bond"] - wb).max() <= 1e-13 * scale[lead].max()
        assert rel(o["site"], ws) <= 1e-7
        if lead == 1:
            change = o["site"] - ws
            assert np.abs(o2["site"] - ws - 2 * change).max() <= 1e-4 * np.abs(change).max()
        i_work = out[case][lead + 1]["bond"][0, 0, 0]
        assert abs(i_work - wb[0, 0, 0]) > 1e-2 * abs(wb[0, 0, 0])  # measured ≥ 8.6 %


@pytest.mark.parametrize("case", CASES)
def test_hermiticity_and_positivity(fine, case):
    """Γ_s = i(Σ − Σ†) ⪰ 0 at every site (−Im Σ broadens); X̂ Hermitian ⪰ 0 (all weight rows
    are positive); and X̂_L + X̂_R = Â = i(Ĝ − Ĝ†) in every row (the in-scattering of both
    leads together is Γ_s when self-consistent): to 1e-8 of max|Â| (default tol, measured
    ≤ 1.2e-9, strong case)."""
    js, s, eps, weights, out, _ = fine
    se, o0, o1 = out[case]
    sig = se.sigma.reshape(-1, 2, 2)
    gam = 1j * (sig - sig.conj().swapaxes(1, 2))
    assert np.linalg.eigvalsh(gam).min() >= -1e-14 * np.abs(sig).max()
    assert np.all(np.trace(gam, axis1=1, axis2=2).real[se.sites] > 0)
    for o in (o0, o1):
        x = o["xloc"].reshape(o["xloc"].shape[:-1] + (2, 2))
        assert np.abs(x - x.conj().swapaxes(-1, -2)).max() <= 1e-14 * np.abs(x).max()
        herm = 0.5 * (x + x.conj().swapaxes(-1, -2))
        assert np.linalg.eigvalsh(herm).min() >= -1e-13 * np.abs(x).max()
    g = o0["gloc"]
    a_hat = 1j * (g - g[..., [0, 2, 1, 3]].conj())
    assert np.abs(o1["gloc"] - g).max() == 0
    assert rel(o0["xloc"] + o1["xloc"], a_hat) <= 1e-8


def cap_junction(exchange=3.86):
    """F / 1 nm barrier / 1 nm free F / 1 nm normal cap / N, at 0.1 nm (34 sites)."""
    return Junction(
        name="F/I/F/N with a cap", fermi_energy=ENERGY, effective_mass=1.0,
        left=Electrode(potential=0.0, exchange=exchange, magnetization=(0, 0, 1)),
        layers=[Layer(kind="barrier", thickness=1.0, potential=3.62),
                Layer(kind="metal", thickness=1.0, potential=0.0, exchange=exchange,
                      free=True),
                Layer(kind="metal", thickness=1.0, potential=0.0, exchange=0.0)],
        right=Electrode(potential=0.0, exchange=0.0)).at_spacing(0.1)


def test_spin_part_of_sigma_is_b_times_that_of_g_hat():
    """Σ_j = bĜ_j + (a − b)ĝ₀ − ac: its spin part is b ĝ at every scattering site.  In a
    normal-metal cap (Δ = 0) next to the free layer ĝ ≠ 0 (proximity), so Σ there is *not*
    ∝ 1; Σ ∝ 1 where Ĝ is (no exchange anywhere) and where b = 0 (d_m = d_s)."""
    js = make_system(cap_junction())
    s = ChainSolver(js, theta=THETA, phi=PHI, bias=BIAS)
    eps, weights = grid(js, 24, 8)
    cap = js.chain.layer_index == 2
    where = js.chain.free | cap
    assert np.all(js.chain.delta[cap] == 0) and cap.sum() == 10
    se = ScbaEnergy(s, *strengths(js, 0.04, 0.01, where), ENERGY, eps, weights)
    g0, gv = pauli(se.window(0)["gloc"][0])
    s0, sv = pauli(se.sigma)
    b = se.d_m - se.d_s
    assert np.abs(sv - b[:, None] * gv).max() <= 1e-8 * np.abs(sv).max()
    assert np.all(np.abs(sv[cap]).max(1) > 1e-4 * np.abs(s0[cap]))  # not ∝ 1 in the cap
    # b = 0: Σ ∝ 1 everywhere
    se = ScbaEnergy(s, *strengths(js, 0.02, 0.02, where), ENERGY, eps, weights)
    s0, sv = pauli(se.sigma)
    assert np.abs(sv).max() <= 1e-15 * np.abs(s0).max()
    # no exchange anywhere: Ĝ ∝ 1, and so is Σ
    js = make_system(cap_junction(exchange=0.0))
    s = ChainSolver(js, theta=THETA, phi=PHI, bias=BIAS)
    se = ScbaEnergy(s, *strengths(js, 0.04, 0.01, where), ENERGY, eps, weights)
    s0, sv = pauli(se.sigma)
    assert np.abs(sv).max() <= 1e-15 * np.abs(s0).max()


# -- 3. the level shift ------------------------------------------------------------------------

def test_level_shift_prescription(fifn, dense_setup):
    """shift=None removes Re ĝ₀ of this energy: Re Tr Σ/2 = 0 at the scattering sites (to
    round-off; measured 1e-15).  The same shift passed explicitly (``shift_array``) gives
    the same Σ and window to the self-consistency, 1e-9 (measured 1e-11).  At another
    energy the scalar Hermitian part is a(Re ĝ₀(E) − c) (1e-9 of |Σ|, measured 3.5e-12),
    which is not 0 (0.36 of |Σ|), and Σ equals the dense reference run with that c (1e-9,
    measured 4e-12)."""
    js, s = fifn
    eps, weights, (h, sig_leads) = dense_setup
    d_m, d_s = strengths(js, *CASES["both"])
    se = ScbaEnergy(s, d_m, d_s, ENERGY, eps, weights)
    s0, _ = pauli(se.sigma)
    assert np.abs(s0.real).max() <= 1e-15 * np.abs(se.sigma).max()
    c = se.shift_array()
    assert c.shape == (js.chain.n_sites,) and np.all(c[~js.chain.free] == 0)
    assert np.all(c[js.chain.free] != 0)
    same = ScbaEnergy(s, d_m, d_s, ENERGY, eps, weights, shift=c)
    assert rel(same.sigma, se.sigma) <= 1e-9
    for lead in (0, 1):
        a, b = se.window(lead), same.window(lead)
        assert rel(b["site"], a["site"]) <= 1e-9
        assert rel(b["gloc"], a["gloc"]) <= 1e-9
    other = 2.3
    se2 = ScbaEnergy(s, d_m, d_s, other, eps, weights, shift=c)
    g0, _ = pauli(se2.window(0)["gloc"][0])
    s0, _ = pauli(se2.sigma)
    a = d_m + 3 * d_s
    want = a * (g0.real - c)
    assert np.abs(s0.real - want).max() <= 1e-9 * np.abs(se2.sigma).max()
    assert np.abs(want).max() > 1e-3 * np.abs(se2.sigma).max()
    h2, sig2 = kwant_blocks(js, other, eps)
    sig, _ = dense_retarded(other, h2, sig2, weights[0], d_m, d_s, shift=c)
    assert rel(se2.sigma, blocks4(sig)) <= 1e-9
