"""The compiled kernels of :mod:`mtj_kwant._rgf` against a NumPy reference of their maths.

The kernels work on chunks of points, one SIMD lane per point, with complex
numbers split in real and imaginary parts (see the module notes).  Here the
same recursions are written plainly with NumPy on 2×2 blocks, vectorised over
points, in long double (the kernels' round-off is what is compared; the lead
self-energy is computed in double precision as in the kernels, since at a
band edge it amplifies the rounding of the energy), on random chains with
spin-dependent onsite blocks (any direction: complex blocks), a barrier,
random hoppings, leads with rotated spin splittings, real energies where every
channel propagates and exactly on band edges, real energies outside the bands
(log det) and complex energies.  Where a closed channel confines a sharp
quasi-bound state, any implementation agrees with the exact result only to its
condition number times 1e-16: the previous (scalar) kernels and these have
the same errors there (measured: the same distribution against this reference
on the tunnel junction below), so the random chains avoid it.  The kernels are
also checked against a dense inversion of the same chain, and the currents of
a tunnel junction against their conservation at the round-off that
``integrate.ROUNDOFF`` assumes (a fraction of ``bond_scale``).
"""

import numpy as np
import pytest

from mtj_kwant import _rgf

LD = np.clongdouble  # 64-bit mantissa on x86 (double elsewhere: the tolerances still hold)
TOL = 1e-12
PAULI = [np.eye(2), np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]),
         np.diag([1.0, -1.0])]


# -- the kernels, with their outputs allocated as ChainSolver does --------------------------

def _scratch(n):
    """Scratch rows longer than the chain and full of NaN: no result may read a stale row."""
    return np.full((2, n + 3, 8 * _rgf.W), np.nan)


def k_window(lead, z, eps, chain, bonds, sites):
    onsite, slope, t, leads = chain
    npt, n, bonds = len(z), len(onsite), np.ascontiguousarray(bonds, np.int64)
    b, c = np.full((npt, len(bonds), 4), np.nan), np.full((npt, len(bonds)), np.nan)
    s = np.full((npt, n if sites else 0, 4), np.nan)  # NaN: every element must be written
    _rgf.window(lead, np.asarray(z, complex), np.asarray(eps, float), onsite, slope, t, leads,
                bonds, b, s, c, _scratch(n))
    return b, s, c


def k_sea(z, eps, chain, bonds, sites):
    onsite, slope, t, leads = chain
    npt, n, bonds = len(z), len(onsite), np.ascontiguousarray(bonds, np.int64)
    b = np.full((npt, len(bonds), 4), np.nan, complex)
    s = np.full((npt, n if sites else 0, 4), np.nan, complex)
    _rgf.sea(np.asarray(z, complex), np.asarray(eps, float), onsite, slope, t, leads, bonds, b, s,
             _scratch(n))
    return b, s


def k_log_det(z, eps, chain):
    out = np.full(len(z), np.nan, complex)
    _rgf.log_det(np.asarray(z, complex), np.asarray(eps, float), *chain, out)
    return out


def k_coupling(z, eps, chain, magnetic, cut):
    onsite, slope, t, leads = chain
    npt = len(z)
    d0 = np.full(npt, np.nan, complex)
    bl, br = np.full((npt, 3), np.nan, complex), np.full((npt, 3), np.nan, complex)
    _rgf.coupling(np.asarray(z, complex), np.asarray(eps, float), onsite, magnetic, slope, t,
                  leads, cut, d0, bl, br)
    return d0, bl, br


# -- NumPy reference ------------------------------------------------------------------------

def inv2(a):
    """Inverse and determinant of 2×2 blocks (…, 2, 2)."""
    det = a[..., 0, 0] * a[..., 1, 1] - a[..., 0, 1] * a[..., 1, 0]
    out = np.empty_like(a)
    out[..., 0, 0], out[..., 1, 1] = a[..., 1, 1] / det, a[..., 0, 0] / det
    out[..., 0, 1], out[..., 1, 0] = -a[..., 0, 1] / det, -a[..., 1, 0] / det
    return out, det


def sigma(z, eps, lead):
    """Lead self-energy U diag(t λ) U† (P, 2, 2), λ = w − sqrt(w − 1) sqrt(w + 1), in double."""
    ev, u, c, tl = lead
    z, eps = np.asarray(z, complex)[:, None], np.asarray(eps, float)[:, None]
    # real and imaginary parts divided apart (NumPy's complex / real multiplies by the
    # reciprocal: one ulp of w is 1e-8 of λ on a band edge)
    w = (z.real - ev - eps * c) / (2 * tl) + 1j * (z.imag / (2 * tl))
    lam = w - np.sqrt(w - 1) * np.sqrt(w + 1)
    u = u.reshape(2, 2).astype(LD)
    return np.einsum("is,ps,js->pij", u, (tl * lam).astype(LD), u.conj())


def ref_setup(z, eps, chain):
    """A_j = (z − eps slope_j) − H_j − Σ (P, N, 2, 2) and the hoppings, in long double."""
    onsite, slope, t, leads = chain
    n = len(onsite)
    zl, el = np.asarray(z, complex).astype(LD), np.asarray(eps, float).astype(np.longdouble)
    h = onsite.reshape(n, 2, 2).astype(LD)
    a = (zl[:, None] - el[:, None] * slope)[:, :, None, None] * np.eye(2) - h
    a[:, 0] -= sigma(z, eps, leads[0])
    a[:, n - 1] -= sigma(z, eps, leads[1])
    return a, t.astype(np.longdouble)


def ref_connected(a, t):
    """Left- and right-connected Green's functions and the pivots' determinants."""
    n = a.shape[1]
    gl, gr = np.empty_like(a), np.empty_like(a)
    dets = np.empty(a.shape[:2], a.dtype)
    traces = np.empty(a.shape[:2], a.dtype)
    for j in range(n):
        p = a[:, j] - (t[j - 1] ** 2 * gl[:, j - 1] if j > 0 else 0)
        gl[:, j], dets[:, j] = inv2(p)
        traces[:, j] = p[:, 0, 0] + p[:, 1, 1]
    for j in range(n - 1, -1, -1):
        p = a[:, j] - (t[j] ** 2 * gr[:, j + 1] if j < n - 1 else 0)
        gr[:, j] = inv2(p)[0]
    return gl, gr, dets, traces


def tr_pauli(x):
    """(Tr X, Tr σx X, Tr σy X, Tr σz X) of blocks (…, 2, 2)."""
    return np.stack([np.einsum("ab,...ba->...", o.astype(LD), x) for o in PAULI], -1)


def ref_window(lead, z, eps, chain, bonds, sites):
    a, t = ref_setup(z, eps, chain)
    n = a.shape[1]
    gl, gr, _, _ = ref_connected(a, t)
    s = sigma(z, eps, chain[3][lead])
    gam = 1j * (s - s.conj().transpose(0, 2, 1))
    col = np.empty_like(a)  # G_{j,0} (lead 0) or G_{j,N−1}
    if lead == 0:
        col[:, 0] = gr[:, 0]
        for j in range(n - 1):
            col[:, j + 1] = -t[j] * gr[:, j + 1] @ col[:, j]
    else:
        col[:, n - 1] = gl[:, n - 1]
        for j in range(n - 1, 0, -1):
            col[:, j - 1] = -t[j - 1] * gl[:, j - 1] @ col[:, j]
    cd = col.conj().transpose(0, 1, 3, 2)
    bonds = np.asarray(bonds, int)
    pb = col[:, bonds] @ gam[:, None] @ cd[:, bonds + 1]
    bond = -2 * t[bonds][:, None] * tr_pauli(pb).imag
    scale = 2 * np.abs(t[bonds]) * np.abs(pb).sum((-1, -2))
    site = tr_pauli(col @ gam[:, None] @ cd).real if sites else np.zeros((len(z), 0, 4))
    return bond, site, scale


def ref_sea(z, eps, chain, bonds, sites):
    a, t = ref_setup(z, eps, chain)
    n = a.shape[1]
    gl, gr, _, _ = ref_connected(a, t)
    g = np.empty_like(a)  # G_jj
    for j in range(n):
        p = a[:, j].copy()
        if j > 0:
            p -= t[j - 1] ** 2 * gl[:, j - 1]
        if j < n - 1:
            p -= t[j] ** 2 * gr[:, j + 1]
        g[:, j] = inv2(p)[0]
    bonds = np.asarray(bonds, int)
    gj, rj = g[:, bonds], gr[:, bonds + 1]
    bond = 2 * (t[bonds] ** 2)[:, None] * tr_pauli(gj @ rj - rj @ gj)
    site = 2j * tr_pauli(g) if sites else np.zeros((len(z), 0, 4), complex)
    return bond, site


def ref_log_det(z, eps, chain):
    """Σ_j log det p_j, arg det p_j in [0, 2π] (+2π when both eigenvalues are near the
    negative real axis: arg < π/2 and Re Tr p < 0)."""
    a, t = ref_setup(z, eps, chain)
    _, _, dets, traces = ref_connected(a, t)
    ph = np.arctan2(dets.imag, dets.real)
    ph = np.where(ph < 0, ph + 2 * np.pi,
                  np.where((ph < 0.5 * np.pi) & (traces.real < 0), ph + 2 * np.pi, ph))
    return (np.log(np.abs(dets)) + 1j * ph).sum(1)


def ref_coupling(z, eps, chain, magnetic, cut):
    """D0, t b_L, t b_R of the Pauli-form halves (see :func:`mtj_kwant._rgf.coupling`)."""
    onsite, slope, t, leads = chain
    n = len(onsite)
    zl = np.asarray(z, complex).astype(LD)
    h = onsite.reshape(n, 2, 2).astype(LD)
    t = t.astype(np.longdouble)

    def pauli(x):
        return (0.5 * (x[..., 0, 0] + x[..., 1, 1]),
                np.stack([0.5 * (x[..., 0, 1] + x[..., 1, 0]), 0.5j * (x[..., 0, 1] - x[..., 1, 0]),
                          0.5 * (x[..., 0, 0] - x[..., 1, 1])], -1))

    def half(lead, first, last, step):
        ga, gb = pauli(sigma(z, eps, lead))
        t2, j = 1.0, first
        while True:
            ha, hb = pauli(h[j])
            a = zl - np.asarray(eps, float) * slope[j] - ha - t2 * ga
            b = (hb.real if magnetic[j] else 0) + t2 * gb
            r = 1 / (a * a - (b * b).sum(-1))
            ga, gb = a * r, b * r[:, None]
            if j == last:
                return ga, gb
            t2, j = t[min(j, j + step)] ** 2, j + step

    la, lb = half(leads[0], 0, cut, 1)
    ra, rb = half(leads[1], n - 1, cut + 1, -1)
    tc = t[cut]
    t2, sl, sr = tc * tc, (lb * lb).sum(-1), (rb * rb).sum(-1)
    u = 1 - t2 * la * ra
    return u * u - t2 * t2 * (la * la * sr + ra * ra * sl) + t2 * t2 * sl * sr, tc * lb, tc * rb


# -- random chains --------------------------------------------------------------------------

def unitary(rng):
    q, _ = np.linalg.qr(rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2)))
    return q


def spin_block(rng, v, delta):
    """v·1 − (Δ/2) m·σ with m a random direction (complex off-diagonal entries)."""
    m = rng.normal(size=3)
    m /= np.linalg.norm(m)
    return v * np.eye(2) - 0.5 * delta * sum(mi * s for mi, s in zip(m, PAULI[1:]))


def random_chain(rng, n, barrier=True):
    """Onsite blocks of metals (v ~ 0, spin splittings up to 0.6) with a barrier (v ~ 2.5 …
    3.5, up to 8 sites), random hoppings and slopes, leads with rotated spin splittings.  The
    disorder is weak: a strongly disordered chain has sharp resonances (see random_points)."""
    blocks = [spin_block(rng, rng.uniform(-0.2, 0.2), rng.uniform(0, 0.6)) for _ in range(n)]
    if barrier and n > 4:
        lo = int(rng.integers(1, n - 3))
        for j in range(lo, lo + int(rng.integers(1, min(8, n - lo - 1) + 1))):
            blocks[j] = spin_block(rng, rng.uniform(2.5, 3.5), 0.0)
    onsite = np.ascontiguousarray(np.array(blocks).reshape(n, 4))
    slope = rng.uniform(0.8, 1.2, n)
    t = rng.uniform(0.9, 1.1, n - 1)
    leads = []
    for _ in range(2):
        ev = np.sort(rng.uniform(-0.5, 0.5, 2))
        leads.append((ev, np.ascontiguousarray(unitary(rng).reshape(4)),
                      float(rng.uniform(0.5, 1.5)), float(rng.uniform(0.9, 1.1))))
    return onsite, slope, t, tuple(leads)


def random_points(rng, chain, npt):
    """Real energies where every channel of both leads propagates, every tenth exactly on a
    band edge of one channel where the other three propagate (a closed channel confines
    quasi-bound states, whose sharp resonances amplify any round-off: there the kernels agree
    with the reference only to their condition number times 1e-16)."""
    eps = rng.uniform(0, 1, npt)
    leads = chain[3]

    def ws(e, x):
        return np.concatenate([(e - ev - x * c) / (2 * tl) for ev, _, c, tl in leads])

    lo = np.max([ev.max() + eps * c - 2 * tl for ev, _, c, tl in leads], 0)
    hi = np.min([ev.min() + eps * c + 2 * tl for ev, _, c, tl in leads], 0)
    z = (lo + (hi - lo) * rng.uniform(0.02, 0.98, npt)).astype(complex)
    for i in range(0, npt, 10):
        for _ in range(50):
            which, ch, side = rng.integers(2), rng.integers(2), rng.choice([-2.0, 2.0])
            ev, _, c, tl = leads[which]
            e = ev[ch] + eps[i] * c + side * tl
            w = np.delete(ws(e, eps[i]), 2 * which + ch)
            if np.all(np.abs(w) < 0.95):
                z[i] = e
                break
    return z, eps


def is_open(z, eps, lead):
    """Whether a channel of the lead propagates at real z (Γ ≠ 0; on a band edge Γ = 0)."""
    ev, _, c, tl = lead
    w = (np.real(z)[:, None] - ev - eps[:, None] * c) / (2 * tl)
    return (np.abs(w) < 1).any(1)


def rel(got, want):
    """Largest difference relative to the array's scale."""
    scale = np.abs(want).max()
    return float(np.abs(np.asarray(got, LD) - want).max() / scale) if scale else 0.0


# -- against the reference ------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(8))
def test_window_equals_reference(seed):
    """Both leads, random bonds (unsorted, repeated), every site; 77 points (not a whole number
    of chunks).  Currents within 1e-12 of the array's scale and of their own round-off scale
    (bond_scale: through a barrier the current is a small imaginary part of large numbers)."""
    rng = np.random.default_rng(seed)
    chain = random_chain(rng, int(rng.integers(2, 40)))
    n = len(chain[0])
    z, eps = random_points(rng, chain, 77)
    bonds = rng.integers(0, n - 1, int(rng.integers(1, 6)))
    for lead in (0, 1):
        for sites in (False, True):
            b, s, c = k_window(lead, z, eps, chain, bonds, sites)
            rb, rs, rc = ref_window(lead, z, eps, chain, bonds, sites)
            assert rel(b, rb) <= TOL and rel(c, rc) <= TOL
            # where a channel of the lead propagates (elsewhere Γ and all are round-off)
            op = is_open(z, eps, chain[3][lead])
            assert np.all(np.abs(b - rb)[op] <= TOL * rc[op][..., None])
            assert np.all(np.abs(c - rc)[op] <= TOL * rc[op])
            if sites:
                assert rel(s, rs) <= TOL
            else:
                assert s.shape == (len(z), 0, 4)


@pytest.mark.parametrize("seed", range(8))
def test_sea_equals_reference(seed):
    """h(z) on bonds and sites at complex energies (Im z from 1e-3 to 2) and on the axis."""
    rng = np.random.default_rng(100 + seed)
    chain = random_chain(rng, int(rng.integers(2, 40)))
    n = len(chain[0])
    z, eps = random_points(rng, chain, 77)
    z = z + 1j * 10.0 ** rng.uniform(-3, 0.3, len(z)) * (rng.random(len(z)) < 0.8)
    bonds = rng.integers(0, n - 1, int(rng.integers(1, 6)))
    for sites in (False, True):
        b, s = k_sea(z, eps, chain, bonds, sites)
        rb, rs = ref_sea(z, eps, chain, bonds, sites)
        assert rel(b[..., 1:], rb[..., 1:]) <= TOL  # spin currents
        # the particle current is the trace of a commutator, 0 up to round-off of its terms
        assert np.abs(b[..., 0]).max() <= TOL * np.abs(rb[..., 1:]).max()
        if sites:
            assert rel(s, rs) <= TOL


@pytest.mark.parametrize("seed", range(8))
def test_log_det_equals_reference(seed):
    """Complex energies: the same branch to 1e-12 of the scale.  Real energies in and outside
    the bands: log|det| and the phase mod 2π (the branch of a pivot whose det lies on the
    positive real axis is set by round-off, as in the NumPy block_log_det), and the phase
    itself for a chain whose blocks and leads are real (no such ambiguity; pivots with both
    eigenvalues negative have arg 2π)."""
    rng = np.random.default_rng(200 + seed)
    chain = random_chain(rng, int(rng.integers(1, 40)))
    z, eps = random_points(rng, chain, 77)
    z[1::2] = rng.uniform(-4, 4, len(z[1::2]))  # and outside the bands
    zc = z + 1j * rng.uniform(0.01, 2, len(z))
    assert rel(k_log_det(zc, eps, chain), ref_log_det(zc, eps, chain)) <= TOL
    got, want = k_log_det(z, eps, chain), ref_log_det(z, eps, chain)
    assert rel(got.real, want.real) <= TOL
    assert np.abs(np.exp(1j * got.imag) - np.exp(1j * want.imag.astype(float))).max() <= 1e-12
    onsite, slope, t, leads = chain
    real = (np.ascontiguousarray(onsite.real.astype(complex)), slope, t,
            tuple((ev, np.ascontiguousarray(np.eye(2, dtype=complex).reshape(4)), c, tl)
                  for ev, _, c, tl in leads))
    got, want = k_log_det(z, eps, real), ref_log_det(z, eps, real)
    assert rel(got, want) <= TOL


@pytest.mark.parametrize("seed", range(6))
def test_coupling_equals_reference(seed):
    rng = np.random.default_rng(300 + seed)
    chain = random_chain(rng, int(rng.integers(2, 40)))
    n = len(chain[0])
    z, eps = random_points(rng, chain, 77)
    z = z + 1j * rng.uniform(0.01, 2, len(z))
    magnetic = rng.random(n) < 0.6
    cut = int(rng.integers(0, n - 1))
    for got, want in zip(k_coupling(z, eps, chain, magnetic, cut),
                         ref_coupling(z, eps, chain, magnetic, cut)):
        assert rel(got, want) <= TOL


# -- against a dense inversion ----------------------------------------------------------------

@pytest.mark.parametrize("seed", range(4))
def test_kernels_equal_dense_inversion(seed):
    """G = (z − H − Σ_L − Σ_R)⁻¹ of a short chain, nothing shared with the recursions: window
    A_α = G Γ_α G† at real energies, h(z) and log det at complex ones (1e-10: the dense
    inversion's round-off)."""
    rng = np.random.default_rng(400 + seed)
    chain = random_chain(rng, int(rng.integers(2, 9)), barrier=False)
    onsite, slope, t, leads = chain
    n = len(onsite)
    z, eps = random_points(rng, chain, 12)
    bonds = np.arange(n - 1)
    for lead in (0, 1):
        b, s, _ = k_window(lead, z, eps, chain, bonds, True)
        for k in range(len(z)):
            g, sig = dense_g(z[k], eps[k], chain)
            gam = 1j * (sig[lead] - sig[lead].conj().T)
            col = g[:, lead * (n - 1)]  # G_{j,0} or G_{j,N−1}
            amat = np.einsum("jab,bc,kdc->jkad", col, gam, col.conj())  # A(j, k)
            want_b = np.array([[-2 * t[j] * np.trace(o @ amat[j, j + 1]).imag for o in PAULI]
                               for j in bonds])
            want_s = np.array([[np.trace(o @ amat[j, j]).real for o in PAULI] for j in range(n)])
            scale = max(np.abs(want_b).max(), np.abs(want_s).max())
            assert np.abs(b[k] - want_b).max() <= 1e-10 * scale
            assert np.abs(s[k] - want_s).max() <= 1e-10 * scale
    zc = z + 1j * rng.uniform(0.01, 1, len(z))
    hb, hs = k_sea(zc, eps, chain, bonds, True)
    ld = k_log_det(zc, eps, chain)
    for k in range(len(z)):
        g, sig = dense_g(zc[k], eps[k], chain)
        want_b = np.array([[-2 * t[j] * np.trace(o @ (g[j, j + 1] - g[j + 1, j])) for o in PAULI]
                           for j in bonds])
        want_s = np.array([[2j * np.trace(o @ g[j, j]) for o in PAULI] for j in range(n)])
        assert np.abs(hb[k] - want_b).max() <= 1e-10 * np.abs(want_b).max()
        assert np.abs(hs[k] - want_s).max() <= 1e-10 * np.abs(want_s).max()
        sign, logabs = np.linalg.slogdet(dense_a(zc[k], eps[k], chain))
        assert abs(ld[k].real - logabs) <= 1e-10 * max(1, abs(logabs))
        assert abs(np.exp(1j * ld[k].imag) - sign) <= 1e-10


def dense_a(z, eps, chain):
    onsite, slope, t, leads = chain
    n = len(onsite)
    a = np.zeros((2 * n, 2 * n), complex)
    for j in range(n):
        a[2 * j:2 * j + 2, 2 * j:2 * j + 2] = (z - eps * slope[j]) * np.eye(2) - onsite[j].reshape(2, 2)
        if j + 1 < n:
            a[2 * j + 2:2 * j + 4, 2 * j:2 * j + 2] = t[j] * np.eye(2)
            a[2 * j:2 * j + 2, 2 * j + 2:2 * j + 4] = t[j] * np.eye(2)
    sig = [sigma([z], [eps], lead)[0].astype(complex) for lead in leads]
    a[:2, :2] -= sig[0]
    a[-2:, -2:] -= sig[1]
    return a


def dense_g(z, eps, chain):
    """G as blocks (N, N, 2, 2) and the two self-energies."""
    n = len(chain[0])
    g = np.linalg.inv(dense_a(z, eps, chain)).reshape(n, 2, n, 2).transpose(0, 2, 1, 3)
    return g, [sigma([z], [eps], lead)[0].astype(complex) for lead in chain[3]]


# -- edge cases and lanes ---------------------------------------------------------------------

def test_written_out_atan2_and_complex_sqrt():
    """The vectorisable atan2 (≤ 1 ulp, signs of zeros) and complex square root (≤ 2 ulp, down
    to subnormal components) of the kernels against NumPy."""
    from numba import njit

    @njit(error_model="numpy")
    def both(y, x):
        a = np.empty(y.shape)
        r = np.empty(y.shape, np.complex128)
        for i in range(y.size):
            a[i] = _rgf._atan2(y[i], x[i])
            re, im = _rgf._csqrt(x[i], y[i])
            r[i] = complex(re, im)
        return a, r

    rng = np.random.default_rng(9)
    x = rng.normal(size=100000) * 10.0 ** rng.uniform(-310, 30, 100000)
    y = rng.normal(size=100000) * 10.0 ** rng.uniform(-310, 30, 100000)
    special = np.array([0.0, -0.0, 1.0, -1.0, 1e-300, -1e-300, 5e-324, 2.0])
    x = np.concatenate([x, np.repeat(special, len(special))])
    y = np.concatenate([y, np.tile(special, len(special))])
    a, r = both(y, x)
    w = np.empty(x.shape, complex)
    w.real, w.imag = x, y  # (x + 1j * y would lose the sign of a zero y)
    want_a, want_r = np.arctan2(y, x), np.sqrt(w)
    assert np.all(np.abs(a - want_a) <= np.spacing(np.abs(want_a)))
    assert np.array_equal(np.signbit(a), np.signbit(want_a))
    assert np.all(np.abs(r - want_r) <= 4.5e-16 * np.abs(want_r))
    assert np.array_equal(np.signbit(r.imag), np.signbit(want_r.imag))


def test_one_site_chain_and_empty_inputs():
    """N = 1 (both self-energies on one site), no points, one point, no bonds."""
    rng = np.random.default_rng(7)
    chain = random_chain(rng, 1)
    z, eps = random_points(rng, chain, 5)
    for lead in (0, 1):
        _, s, _ = k_window(lead, z, eps, chain, [], True)
        assert rel(s, ref_window(lead, z, eps, chain, [], True)[1]) <= TOL
    zc = z + 0.1j
    assert rel(k_sea(zc, eps, chain, [], True)[1], ref_sea(zc, eps, chain, [], True)[1]) <= TOL
    assert rel(k_log_det(zc, eps, chain), ref_log_det(zc, eps, chain)) <= TOL
    chain = random_chain(rng, 6)
    for npt in (0, 1):
        b, s, c = k_window(0, z[:npt], eps[:npt], chain, [2, 3], True)
        assert b.shape == (npt, 2, 4) and s.shape == (npt, 6, 4) and c.shape == (npt, 2)
        assert not np.isnan(b).any() and not np.isnan(s).any()
        assert k_log_det(z[:npt], eps[:npt], chain).shape == (npt,)
    b, s, c = k_window(1, z, eps, chain, [], False)
    assert b.shape == (5, 0, 4) and s.shape == (5, 0, 4) and c.shape == (5, 0)
    b, s = k_sea(zc, eps, chain, [], False)
    assert b.shape == (5, 0, 4) and s.shape == (5, 0, 4)


def test_a_point_does_not_depend_on_its_lane_or_chunk():
    """Each point is its own SIMD lane: the same bits however the points are batched."""
    rng = np.random.default_rng(8)
    chain = random_chain(rng, 17)
    z, eps = random_points(rng, chain, 2 * _rgf.W + 5)
    zc = z + 1j * rng.uniform(0.01, 1, len(z))
    order = rng.permutation(len(z))
    bonds = [3, 9, 15]
    magnetic = rng.random(17) < 0.5
    calls = [lambda z, e: k_window(0, z, e, chain, bonds, True),
             lambda z, e: k_window(1, z.real.astype(complex), e, chain, bonds, True),
             lambda z, e: k_sea(z, e, chain, bonds, True),
             lambda z, e: (k_log_det(z, e, chain),),
             lambda z, e: k_coupling(z, e, chain, magnetic, 8)]
    for f in calls:
        whole = f(zc, eps)
        for got, want in zip(f(zc[order], eps[order]), whole):
            np.testing.assert_array_equal(got, want[order])
        for k in (0, _rgf.W - 1, len(z) - 1):
            for got, want in zip(f(zc[k:k + 1], eps[k:k + 1]), whole):
                np.testing.assert_array_equal(got, want[k:k + 1])


# -- round-off of the currents of a tunnel junction -------------------------------------------

def tunnel_junction(n_sites=150):
    """The benchmark's F/I/F/N chain (benchmarks/bench_solver.py): 40 barrier sites."""
    from mtj_kwant.model import Electrode, Junction, Layer

    a, barrier = 0.025, 40
    body = n_sites - 4
    free = (body - barrier) // 2
    return Junction(
        name="tunnel junction", model="free-electron", fermi_energy=2.62, effective_mass=1.0,
        lattice_spacing=a,
        left=Electrode(potential=0.0, exchange=3.86, magnetization=(0, 0, 1)),
        layers=[Layer(kind="barrier", thickness=barrier * a, potential=3.62, exchange=0.0),
                Layer(kind="metal", thickness=free * a, potential=0.0, exchange=3.86, free=True),
                Layer(kind="metal", thickness=(body - barrier - free) * a, potential=0.0,
                      exchange=0.0)],
        right=Electrode(potential=0.0, exchange=0.0))


def test_currents_are_conserved_to_the_roundoff_of_bond_scale():
    """The particle current of one point is the same on every bond, the spin current on every
    barrier bond, to the round-off integrate.ROUNDOFF assumes: from the left ≤ 2.4e-15 of
    the bond's ``bond_scale`` (the window kernel's output) for 99 % of the points and ≤ 1e-14
    for all (measured 1.8e-15 and 3.1e-15; the kernels before vectorisation 1.9e-15 and
    2.6e-15), spin currents ≤ 1e-15 (measured 3.4e-16).  From the right, through the free
    layer's quasi-bound states: 99 % ≤ 1e-14, all ≤ 1e-12 (measured 6.6e-15 and 7.2e-14;
    before 7.3e-15 and 1.0e-13)."""
    import mtj_kwant as mk
    from mtj_kwant.solvers import ChainSolver

    jsys = mk.make_system(tunnel_junction())
    cs = ChainSolver(jsys, theta=2.0, phi=0.7, bias=0.1)  # complex blocks in the free layer
    rng = np.random.default_rng(0)
    energies, eps = rng.uniform(-1.5, 2.6, 2000), rng.uniform(0.0, 1.0, 2000)
    n = cs.chain.n_sites
    magnetic = cs.chain.delta > 0
    first = int(np.argmin(magnetic[1:])) + 1  # the barrier: sites first … last
    last = first + int(np.argmax(magnetic[first:])) - 1
    barrier = np.arange(first, last)
    for lead, most, worst in ((0, 2.4e-15, 1e-14), (1, 1e-14, 1e-12)):
        b, _, scale = cs.bond_window(lead, energies, eps, np.arange(n - 1), scale=True)
        mid = (n - 1) // 2
        den = np.maximum(scale, scale[:, mid:mid + 1])
        ok = den > 0  # no channel open: everything is 0
        dev = np.where(ok, np.abs(b[..., 0] - b[:, mid:mid + 1, 0]) / np.where(ok, den, 1), 0)
        assert np.quantile(dev.max(1), 0.99) <= most
        assert dev.max() <= worst
        sb = b[:, barrier, 1:]
        den = np.maximum(scale[:, barrier], scale[:, barrier[:1]])[..., None]
        dev = np.abs(sb - sb[:, :1]) / np.where(den > 0, den, 1)
        assert dev.max() <= 1e-15


def test_chain_solver_shapes():
    """The ChainSolver methods keep their shapes and dtypes (broadcast points)."""
    from mtj_kwant import make_system
    from mtj_kwant.solvers import ChainSolver

    from .conftest import fifn

    cs = ChainSolver(make_system(fifn()), theta=1.0, bias=0.1)
    n = cs.chain.n_sites
    e, eps = np.linspace(-0.5, 3.0, 6).reshape(2, 3), np.array([0.0, 0.3, 0.7])
    b, s, c = cs.bond_window(0, e, eps, [1, 2], sites=True, scale=True)
    assert (b.shape, s.shape, c.shape) == ((2, 3, 2, 4), (2, 3, n, 4), (2, 3, 2))
    assert b.dtype == s.dtype == c.dtype == np.float64
    b, s = cs.bond_window(1, e, eps, [1])
    assert (b.shape, s.shape) == ((2, 3, 1, 4), (2, 3, 0, 4))
    h, hs = cs.bond_sea(e + 0.1j, eps, [1, 2], sites=True)
    assert (h.shape, hs.shape, h.dtype) == ((2, 3, 2, 4), (2, 3, n, 4), np.complex128)
    ld = cs.log_det(e + 0.1j, eps)
    assert ld.shape == (2, 3) and ld.dtype == np.complex128
    d0, bl, br = cs.coupling(e + 0.1j, eps, cs.coupling_bond())
    assert (d0.shape, bl.shape, br.shape) == ((2, 3), (2, 3, 3), (2, 3, 3))
    inc = cs.incoming(0, e, eps)
    assert inc["torque"].shape == (2, 3, n, 3)


def test_site_torque_kernel_equals_the_cross_product():
    """_rgf.site_torque = Δ_j m_j × s_j (the NumPy route of Solver._torque, same operations:
    equal to the last bit) on random spin densities, and the torque is ⟂ m_j."""
    from mtj_kwant import make_system
    from mtj_kwant.solvers import ChainSolver

    from .conftest import fifn

    cs = ChainSolver(make_system(fifn()), theta=1.0, phi=0.4, bias=0.1)
    n = cs.chain.n_sites
    s = np.random.default_rng(5).normal(size=(7, n, 4))
    out = np.full((7, n, 3), np.nan)
    _rgf.site_torque(s, np.ascontiguousarray(cs.site_magnetization),
                     np.ascontiguousarray(cs.chain.delta, float), out)
    np.testing.assert_array_equal(out, cs._torque(s[..., 1:]))
    along = np.einsum("pjc,jc->pj", out, cs.site_magnetization)
    assert np.abs(along).max() <= 1e-15 * np.abs(out).max()
