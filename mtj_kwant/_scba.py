"""Compiled kernels of the self-consistent Born (SCBA) solver (:mod:`mtj_kwant.scba`).

One energy, a batch of transverse energies ε∥ (the k∥ quadrature nodes), one chain.  Each
kernel runs the recursive Green's function sweeps of the chain at every ε∥ with a
k∥-independent local self-energy Σ_j of the scattering sites and returns the local
functions at every node (the weighted sums over ε∥, and the panels' error estimates, are
taken with NumPy by the caller).

2×2 blocks are tuples of four complex numbers (row major), so that nothing is allocated
inside the loops.

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

import numba as nb
import numpy as np

_JIT = dict(cache=True, nogil=True, error_model="numpy", fastmath=True)


_INL = dict(inline="always", error_model="numpy", fastmath=True)


@nb.njit(**_INL)
def _mul(a, b):
    return (a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3],
            a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3])


@nb.njit(**_INL)
def _inv(a):
    det = a[0] * a[3] - a[1] * a[2]
    d = det.conjugate() / (det.real * det.real + det.imag * det.imag)
    return (a[3] * d, -a[1] * d, -a[2] * d, a[0] * d)


@nb.njit(**_INL)
def _dag(a):
    return (a[0].conjugate(), a[2].conjugate(), a[1].conjugate(), a[3].conjugate())


@nb.njit(**_INL)
def _axpy(s, a, b):
    """s·a + b."""
    return (s * a[0] + b[0], s * a[1] + b[1], s * a[2] + b[2], s * a[3] + b[3])


@nb.njit(**_INL)
def _get(x, j):
    return (x[j, 0], x[j, 1], x[j, 2], x[j, 3])


@nb.njit(**_INL)
def _set(x, j, a):
    x[j, 0], x[j, 1], x[j, 2], x[j, 3] = a[0], a[1], a[2], a[3]


@nb.njit(**_INL)
def _sandwich(g, s):
    """g s g†."""
    return _mul(_mul(g, s), _dag(g))


@nb.njit(**_JIT)
def _diagonal(z, eps, onsite, slope, sig_s, sig_l, sig_r, k, a_out):
    """A_j = z − H_jj − Σ_j (leads at the ends) at node k, into a_out (N, 4)."""
    n = onsite.shape[0]
    for j in range(n):
        e = z - eps[k] * slope[j]
        a_out[j, 0] = e - onsite[j, 0] - sig_s[j, 0]
        a_out[j, 1] = -onsite[j, 1] - sig_s[j, 1]
        a_out[j, 2] = -onsite[j, 2] - sig_s[j, 2]
        a_out[j, 3] = e - onsite[j, 3] - sig_s[j, 3]
    for i in range(4):
        a_out[0, i] -= sig_l[k, i]
        a_out[n - 1, i] -= sig_r[k, i]


@nb.njit(**_JIT)
def retarded(z, eps, onsite, slope, t, sig_s, sig_l, sig_r, gl, gr, gd):
    """The local retarded Green's functions at every node, and the connected ones.

    Parameters
    ----------
    z : complex
        Energy (eV).
    eps : ndarray (nk,)
        Transverse energies (eV).
    onsite : ndarray (N, 4) complex
        H_jj at ε∥ = 0, row major.
    slope : ndarray (N,)
        dH_jj/dε∥ (a multiple of the identity).
    t : ndarray (N − 1,)
        Hoppings (eV, the matrix element is −t).
    sig_s : ndarray (N, 4) complex
        The scatterers' local self-energy.
    sig_l, sig_r : ndarray (nk, 4) complex
        Lead self-energies at the end sites.
    gl, gr, gd : ndarray (nk, N, 4) complex
        Output: the left- and right-connected and the full diagonal Green's functions
        G_jj(ε_k) at every node.
    """
    n, nk = onsite.shape[0], eps.shape[0]
    a = np.empty((n, 4), np.complex128)
    for k in range(nk):
        _diagonal(z, eps, onsite, slope, sig_s, sig_l, sig_r, k, a)
        g = _inv(_get(a, 0))
        _set(gl[k], 0, g)
        for j in range(1, n):
            g = _inv(_axpy(-t[j - 1] * t[j - 1], g, _get(a, j)))
            _set(gl[k], j, g)
        g = _inv(_get(a, n - 1))
        _set(gr[k], n - 1, g)
        for j in range(n - 2, -1, -1):
            g = _inv(_axpy(-t[j] * t[j], g, _get(a, j)))
            _set(gr[k], j, g)
        for j in range(n):
            d = _get(a, j)
            if j > 0:
                d = _axpy(-t[j - 1] * t[j - 1], _get(gl[k], j - 1), d)
            if j < n - 1:
                d = _axpy(-t[j] * t[j], _get(gr[k], j + 1), d)
            _set(gd[k], j, _inv(d))


@nb.njit(**_JIT)
def lesser(t, src, gam_l, gam_r, use_l, use_r, gl, gr, gd, xloc, bond, with_bonds):
    """The local in-scattering functions Gⁿ_jj and the bond currents at every node.

    Parameters
    ----------
    t : ndarray (N − 1,)
    src : ndarray (N, 4) complex
        Local in-scattering Σⁱⁿ_j of the scatterers (Hermitian blocks).
    gam_l, gam_r : ndarray (nk, 4) complex
        Γ = i(Σ − Σ†) of the leads; added to the sources when ``use_l`` / ``use_r``.
    gl, gr, gd : ndarray (nk, N, 4) complex
        From :func:`retarded` (same Σ).
    xloc : ndarray (nk, N, 4) complex
        Output: Gⁿ_jj.
    bond : ndarray (nk, N − 1, 4)
        Output: 2 t_j Im Tr σ_β Gⁿ_{j+1,j}, β = 0 (particle), x, y, z (only written
        ``with_bonds``: the self-consistency iterations need the local functions only).
    """
    nk, n = gl.shape[0], gl.shape[1]
    nl = np.empty((n, 4), np.complex128)
    nr = np.empty((n, 4), np.complex128)
    for k in range(nk):
        # connected in-scattering functions from the left and from the right
        s = _get(src, 0)
        if use_l:
            s = _axpy(1.0, _get(gam_l, k), s)
        if use_r and n == 1:
            s = _axpy(1.0, _get(gam_r, k), s)
        x = _sandwich(_get(gl[k], 0), s)
        _set(nl, 0, x)
        for j in range(1, n):
            s = _axpy(t[j - 1] * t[j - 1], x, _get(src, j))
            if use_r and j == n - 1:
                s = _axpy(1.0, _get(gam_r, k), s)
            x = _sandwich(_get(gl[k], j), s)
            _set(nl, j, x)
        s = _get(src, n - 1)
        if use_r:
            s = _axpy(1.0, _get(gam_r, k), s)
        if use_l and n == 1:
            s = _axpy(1.0, _get(gam_l, k), s)
        x = _sandwich(_get(gr[k], n - 1), s)
        _set(nr, n - 1, x)
        for j in range(n - 2, -1, -1):
            s = _axpy(t[j] * t[j], x, _get(src, j))
            if use_l and j == 0:
                s = _axpy(1.0, _get(gam_l, k), s)
            x = _sandwich(_get(gr[k], j), s)
            _set(nr, j, x)
        for j in range(n):
            s = _get(src, j)
            if use_l and j == 0:
                s = _axpy(1.0, _get(gam_l, k), s)
            if use_r and j == n - 1:
                s = _axpy(1.0, _get(gam_r, k), s)
            if j > 0:
                s = _axpy(t[j - 1] * t[j - 1], _get(nl, j - 1), s)
            if j < n - 1:
                s = _axpy(t[j] * t[j], _get(nr, j + 1), s)
            g = _get(gd[k], j)
            x = _sandwich(g, s)
            _set(xloc[k], j, x)
            if with_bonds and j > 0:
                # Gⁿ_{j,j−1} = −t (G_jj gⁿL_{j−1} + Gⁿ_jj gL_{j−1}†)
                y = _axpy(1.0, _mul(g, _get(nl, j - 1)), _mul(x, _dag(_get(gl[k], j - 1))))
                c = -t[j - 1]
                # 2 t Im Tr σ_β Y with Y = c·y: Tr 1Y = y0 + y3, Tr σx Y = y1 + y2,
                # Tr σy Y = i(y1 − y2), Tr σz Y = y0 − y3
                tr0 = c * (y[0] + y[3])
                trx = c * (y[1] + y[2])
                tryy = c * 1j * (y[1] - y[2])
                trz = c * (y[0] - y[3])
                two_t = 2.0 * t[j - 1]
                bond[k, j - 1, 0] = two_t * tr0.imag
                bond[k, j - 1, 1] = two_t * trx.imag
                bond[k, j - 1, 2] = two_t * tryy.imag
                bond[k, j - 1, 3] = two_t * trz.imag
