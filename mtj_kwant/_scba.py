"""Compiled kernels of the self-consistent Born (SCBA) solver (:mod:`mtj_kwant.scba`).

One energy, a batch of transverse energies ε∥ (the k∥ quadrature nodes), one chain.  Each
kernel runs the recursive Green's function sweeps of the chain at every ε∥ with a
k∥-independent local self-energy Σ_j of the scattering sites and returns the local
functions at every node (the weighted sums over ε∥, and the panels' error estimates, are
taken with NumPy by the caller).

Nodes are processed in chunks of W lanes (:data:`mtj_kwant._rgf.W`); a 2×2 block of one
lane is 8 reals (a0r, a0i, a1r, a1i, a2r, a2i, a3r, a3i, row major), stored entry-major in a
row of 8W reals (the layout of :mod:`mtj_kwant._rgf`), so that every inner loop runs over
the lanes and vectorises.

Notation (Datta's): A_j = z − H_jj(ε∥) − Σ_j − Σ_L δ_j0 − Σ_R δ_j,N−1 is the diagonal of
G⁻¹; the hoppings are −t_j·1 between sites j and j+1.  g^L_j and g^R_j are the left- and
right-connected Green's functions, gⁿ the connected in-scattering (lesser, Gⁿ = −iG<)
functions, S_j the local in-scattering sources (Γ of the incoming lead at its end site plus
Σⁱⁿ_j of the scatterers).  Then (Lake et al., J. Appl. Phys. 81, 7845 (1997))

    G_jj  = (A_j − t²_{j−1} g^L_{j−1} − t²_j g^R_{j+1})⁻¹
    Gⁿ_jj = G_jj (S_j + t²_{j−1} gⁿL_{j−1} + t²_j gⁿR_{j+1}) G_jj†
    Gⁿ_{j+1,j} = −t_j (G_{j+1,j+1} gⁿL_j + Gⁿ_{j+1,j+1} g^L_j†)

and the particle and spin currents on bond j (toward +x) are 2 t_j Im Tr σ_β Gⁿ_{j+1,j}.
"""

from __future__ import annotations

from numba import njit

from ._rgf import W, _block, _inv, _mul, _put

__all__ = ["W", "retarded", "lesser"]

_OPTS = dict(cache=True, nogil=True, error_model="numpy", fastmath=True)
_INL = dict(_OPTS, inline="always")


@njit(**_INL)
def _dag(a):
    return (a[0], -a[1], a[4], -a[5], a[2], -a[3], a[6], -a[7])


@njit(**_INL)
def _sandwich(g, s):
    """g s g† for Hermitian s (8 reals): Hermitian, so three of its entries are computed."""
    m0r, m0i, m1r, m1i, m2r, m2i, m3r, m3i = _mul(g, s)
    g0r, g0i, g1r, g1i, g2r, g2i, g3r, g3i = g
    # (g s g†)_00 = m00 g00* + m01 g01*, _11 = m10 g10* + m11 g11* (real),
    # _01 = m00 g10* + m01 g11*, _10 = its conjugate
    x00 = m0r * g0r + m0i * g0i + m1r * g1r + m1i * g1i
    x11 = m2r * g2r + m2i * g2i + m3r * g3r + m3i * g3i
    x01r = m0r * g2r + m0i * g2i + m1r * g3r + m1i * g3i
    x01i = m0i * g2r - m0r * g2i + m1i * g3r - m1r * g3i
    return (x00, 0.0, x01r, x01i, x01r, -x01i, x11, 0.0)


@njit(**_INL)
def _axpy(s, a, b):
    """s·a + b of blocks (8 reals), s real."""
    return (s * a[0] + b[0], s * a[1] + b[1], s * a[2] + b[2], s * a[3] + b[3],
            s * a[4] + b[4], s * a[5] + b[5], s * a[6] + b[6], s * a[7] + b[7])


@njit(**_INL)
def _row(x, j, b):
    """Block of lane b of row j of a (…, 8W) array."""
    return _block(x, j, b)


@njit(**_INL)
def _lane(x, b):
    """Block of lane b of a (8W,) row."""
    return (x[b], x[W + b], x[2 * W + b], x[3 * W + b],
            x[4 * W + b], x[5 * W + b], x[6 * W + b], x[7 * W + b])


@njit(**_INL)
def _diag(zr, e, on8, j, sl, b, fl, fr, sig_l, sig_r):
    """A_j of lane b: (z − ε∥ slope_j) − H_jj − Σ_j, minus fl·Σ_L and fr·Σ_R."""
    d = zr - e * sl
    l, r = _lane(sig_l, b), _lane(sig_r, b)
    return (d - on8[j, 0] - fl * l[0] - fr * r[0], -on8[j, 1] - fl * l[1] - fr * r[1],
            -on8[j, 2] - fl * l[2] - fr * r[2], -on8[j, 3] - fl * l[3] - fr * r[3],
            -on8[j, 4] - fl * l[4] - fr * r[4], -on8[j, 5] - fl * l[5] - fr * r[5],
            d - on8[j, 6] - fl * l[6] - fr * r[6], -on8[j, 7] - fl * l[7] - fr * r[7])


@njit(**_OPTS)
def retarded(zr, eps, on8, slope, t, sig_l, sig_r, gl, gr, gd, lo, hi):
    """Left-, right-connected and full diagonal retarded Green's functions at every node.

    Parameters
    ----------
    zr : float
        Energy (eV, real: the window).
    eps : ndarray (nc, W)
        Transverse energies of the nodes, in chunks of W lanes.
    on8 : ndarray (N, 8)
        H_jj at ε∥ = 0 plus the scatterers' Σ_j (k∥-independent), 8 reals per block.
    slope : ndarray (N,)
        dH_jj/dε∥ (a multiple of the identity).
    t : ndarray (N − 1,)
        Hoppings (eV, the matrix element is −t).
    sig_l, sig_r : ndarray (nc, 8W)
        Lead self-energies at the end sites.
    gl, gr, gd : ndarray (nc, N, 8W)
        Output.
    lo, hi : int
        Sites updated: gl on lo … hi (from gl[lo − 1] as stored), gr on hi … lo (from
        gr[hi + 1]), gd on lo … hi.  0, N − 1: everything; the self-consistency passes the
        scatterers' range (outside it nothing depends on Σ).
    """
    nc, n = eps.shape[0], on8.shape[0]
    for c in range(nc):
        ec, sl_c, sr_c, glc, grc, gdc = eps[c], sig_l[c], sig_r[c], gl[c], gr[c], gd[c]
        for j in range(lo, hi + 1):
            fl, fr = (1.0 if j == 0 else 0.0), (1.0 if j == n - 1 else 0.0)
            t2 = t[j - 1] * t[j - 1] if j > 0 else 0.0
            jm = max(j - 1, 0)
            s = slope[j]
            for b in range(W):
                a = _diag(zr, ec[b], on8, j, s, b, fl, fr, sl_c, sr_c)
                _put(glc, j, b, _inv(_axpy(-t2, _row(glc, jm, b), a)))
        for j in range(hi, lo - 1, -1):
            fl, fr = (1.0 if j == 0 else 0.0), (1.0 if j == n - 1 else 0.0)
            t2 = t[j] * t[j] if j < n - 1 else 0.0
            jp = min(j + 1, n - 1)
            s = slope[j]
            for b in range(W):
                a = _diag(zr, ec[b], on8, j, s, b, fl, fr, sl_c, sr_c)
                _put(grc, j, b, _inv(_axpy(-t2, _row(grc, jp, b), a)))
        for j in range(lo, hi + 1):
            fl, fr = (1.0 if j == 0 else 0.0), (1.0 if j == n - 1 else 0.0)
            tl2 = t[j - 1] * t[j - 1] if j > 0 else 0.0
            tr2 = t[j] * t[j] if j < n - 1 else 0.0
            jm, jp = max(j - 1, 0), min(j + 1, n - 1)
            s = slope[j]
            for b in range(W):
                a = _diag(zr, ec[b], on8, j, s, b, fl, fr, sl_c, sr_c)
                a = _axpy(-tl2, _row(glc, jm, b), a)
                _put(gdc, j, b, _inv(_axpy(-tr2, _row(grc, jp, b), a)))


@njit(**_INL)
def _source(src8, j, gam, b, f):
    """Σⁱⁿ_j (the same in every lane) plus f·Γ of lane b."""
    g = _lane(gam, b)
    return (src8[j, 0] + f * g[0], src8[j, 1] + f * g[1], src8[j, 2] + f * g[2],
            src8[j, 3] + f * g[3], src8[j, 4] + f * g[4], src8[j, 5] + f * g[5],
            src8[j, 6] + f * g[6], src8[j, 7] + f * g[7])


@njit(**_OPTS)
def lesser(t, src8, gam_l, gam_r, use_l, use_r, gl, gr, gd, nl, nr, xloc, bond, with_bonds,
           lo, hi):
    """Local in-scattering functions Gⁿ_jj and (``with_bonds``) the bond currents.

    Parameters
    ----------
    t : ndarray (N − 1,)
    src8 : ndarray (N, 8)
        The scatterers' Σⁱⁿ_j (Hermitian blocks), 8 reals.
    gam_l, gam_r : ndarray (nc, 8W)
        Γ = i(Σ − Σ†) of the leads, added on the end sites when ``use_l`` / ``use_r``.
    gl, gr, gd : ndarray (nc, N, 8W)
        From :func:`retarded` (same Σ).
    nl, nr : ndarray (nc, N, 8W)
        The connected in-scattering functions (kept between calls).
    xloc : ndarray (nc, N, 8W)
        Output: Gⁿ_jj.
    bond : ndarray (nc, N − 1, 4W)
        Output (``with_bonds``): 2 t_j Im Tr σ_β Gⁿ_{j+1,j}, β = 0 (particle), x, y, z, in
        rows of W lanes per β.
    lo, hi : int
        Sites updated, as in :func:`retarded` (the sources outside lo … hi unchanged since
        the last call).
    """
    nc, n = gl.shape[0], gl.shape[1]
    ul, ur = (1.0 if use_l else 0.0), (1.0 if use_r else 0.0)
    for c in range(nc):
        glc, grc, gdc, xc, gaml_c, gamr_c = gl[c], gr[c], gd[c], xloc[c], gam_l[c], gam_r[c]
        nlc, nrc = nl[c], nr[c]
        for j in range(lo, hi + 1):
            fl, fr = (ul if j == 0 else 0.0), (ur if j == n - 1 else 0.0)
            t2 = t[j - 1] * t[j - 1] if j > 0 else 0.0
            jm = max(j - 1, 0)
            for b in range(W):
                s = _axpy(fr, _lane(gamr_c, b), _source(src8, j, gaml_c, b, fl))
                s = _axpy(t2, _row(nlc, jm, b), s)
                _put(nlc, j, b, _sandwich(_row(glc, j, b), s))
        for j in range(hi, lo - 1, -1):
            fl, fr = (ul if j == 0 else 0.0), (ur if j == n - 1 else 0.0)
            t2 = t[j] * t[j] if j < n - 1 else 0.0
            jp = min(j + 1, n - 1)
            for b in range(W):
                s = _axpy(fr, _lane(gamr_c, b), _source(src8, j, gaml_c, b, fl))
                s = _axpy(t2, _row(nrc, jp, b), s)
                _put(nrc, j, b, _sandwich(_row(grc, j, b), s))
        for j in range(lo, hi + 1):
            fl, fr = (ul if j == 0 else 0.0), (ur if j == n - 1 else 0.0)
            tl2 = t[j - 1] * t[j - 1] if j > 0 else 0.0
            tr2 = t[j] * t[j] if j < n - 1 else 0.0
            jm, jp = max(j - 1, 0), min(j + 1, n - 1)
            for b in range(W):
                s = _axpy(fr, _lane(gamr_c, b), _source(src8, j, gaml_c, b, fl))
                s = _axpy(tl2, _row(nlc, jm, b), s)
                s = _axpy(tr2, _row(nrc, jp, b), s)
                _put(xc, j, b, _sandwich(_row(gdc, j, b), s))
        if with_bonds:
            bc = bond[c]
            for j in range(1, n):
                tj = t[j - 1]
                two_t = 2.0 * tj
                for b in range(W):
                    # Gⁿ_{j,j−1} = −t (G_jj gⁿL_{j−1} + Gⁿ_jj gL_{j−1}†)
                    y = _axpy(1.0, _mul(_row(gdc, j, b), _row(nlc, j - 1, b)),
                              _mul(_row(xc, j, b), _dag(_row(glc, j - 1, b))))
                    # 2t Im Tr σ_β (−t y): Tr 1y = y0 + y3, Tr σx y = y1 + y2,
                    # Tr σy y = i(y1 − y2), Tr σz y = y0 − y3
                    bc[j - 1, b] = -two_t * tj * (y[1] + y[7])
                    bc[j - 1, W + b] = -two_t * tj * (y[3] + y[5])
                    bc[j - 1, 2 * W + b] = -two_t * tj * (y[2] - y[4])
                    bc[j - 1, 3 * W + b] = -two_t * tj * (y[1] - y[7])
