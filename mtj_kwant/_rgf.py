"""Compiled recursive-Green's-function kernels for spin-½ chains (numba).

The chain has N sites with 2×2 onsite blocks ``H_j = onsite[j] + eps·slope[j]·1``
and spin-independent nearest-neighbour hoppings ``H_{j+1,j} = −t[j]·1``; the two
semi-infinite leads are chains with cell Hamiltonian ``U diag(ev) U† + eps·c·1``
and hopping −t_lead.  A 2×2 block is stored as four complex numbers
(x00, x01, x10, x11).

With A_j = z − H_j (minus Σ_L on site 0 and Σ_R on site N−1) the kernels use
the left-connected g^L_j = (A_j − t_{j−1}² g^L_{j−1})⁻¹, the right-connected
g^R_j = (A_j − t_j² g^R_{j+1})⁻¹, the diagonal
G_jj = (A_j − t_{j−1}² g^L_{j−1} − t_j² g^R_{j+1})⁻¹ and the columns
G_{j+1,0} = −t_j g^R_{j+1} G_{j,0}, G_{j−1,N−1} = −t_{j−1} g^L_{j−1} G_{j,N−1}.

All observables are returned in the units of :mod:`mtj_kwant.solvers`
(ħ = 1, per unit energy, no 1/2π): for an onsite operator O ∈ {1, σx, σy, σz}

- window (states incoming from lead α, A_α = G Γ_α G†): bond current
  −2 t_j Im Tr[O A_α(j, j+1)] and site density Re Tr[O A_α(j, j)];
- Fermi sea: h(z) with Re h(E + i0) the same quantities for i(G − G†), the
  spectral function of all states: for a bond 2 t_j² Tr[O [G_jj, g^R_{j+1}]]
  and for a site 2i Tr[O G_jj].  h is analytic in the upper half plane, so
  ∫ dE w(E) Re h(E) = Re ∫_C w(z) h(z) dz for any weight w analytic there
  and real on the axis;
- log det(z − H − Σ_L − Σ_R) = Σ_j log det p_j over the pivots p_j of the
  forward recursion.  Each pivot has a positive semidefinite imaginary part,
  so arg det p_j ∈ [0, 2π] and the sum is a continuous branch; its imaginary
  part Φ counts π per state above the energy (a Sturm count that extends to
  open systems; Lloyd's formula).
"""

from __future__ import annotations

import cmath
import math

import numpy as np
from numba import njit

_OPTS = dict(cache=True, nogil=True, fastmath=False)


@njit(**_OPTS)
def _inv(a, b, c, d):
    r = 1.0 / (a * d - b * c)
    return d * r, -b * r, -c * r, a * r


@njit(**_OPTS)
def _mul(a, b, c, d, e, f, g, h):
    return a * e + b * g, a * f + b * h, c * e + d * g, c * f + d * h


@njit(**_OPTS)
def _dag(a, b, c, d):
    return a.conjugate(), c.conjugate(), b.conjugate(), d.conjugate()


@njit(**_OPTS)
def _traces(a, b, c, d):
    """(Tr X, Tr σx X, Tr σy X, Tr σz X)."""
    return a + d, b + c, 1j * (b - c), a - d


@njit(**_OPTS)
def _sigma(z, eps, ev, u, c, tl):
    """Retarded lead self-energy (4 entries): U diag(t λ_s) U†, |λ_s| ≤ 1."""
    s = np.empty(2, np.complex128)
    for k in range(2):
        w = (z - ev[k] - eps * c) / (2.0 * tl)
        lam = w - cmath.sqrt(w - 1.0) * cmath.sqrt(w + 1.0)
        s[k] = tl * lam
    u00, u01, u10, u11 = u[0], u[1], u[2], u[3]
    x00 = u00 * s[0] * u00.conjugate() + u01 * s[1] * u01.conjugate()
    x01 = u00 * s[0] * u10.conjugate() + u01 * s[1] * u11.conjugate()
    x10 = u10 * s[0] * u00.conjugate() + u11 * s[1] * u01.conjugate()
    x11 = u10 * s[0] * u10.conjugate() + u11 * s[1] * u11.conjugate()
    return x00, x01, x10, x11


@njit(**_OPTS)
def _fill_a(z, eps, onsite, slope, leads, a):
    """a[j] = z − H_j(eps), with the lead self-energies on the end sites."""
    n = onsite.shape[0]
    for j in range(n):
        sh = z - eps * slope[j]
        a[j, 0] = sh - onsite[j, 0]
        a[j, 1] = -onsite[j, 1]
        a[j, 2] = -onsite[j, 2]
        a[j, 3] = sh - onsite[j, 3]
    for side in range(2):
        ev, u, c, tl = leads[side]
        s0, s1, s2, s3 = _sigma(z, eps, ev, u, c, tl)
        j = 0 if side == 0 else n - 1
        a[j, 0] -= s0
        a[j, 1] -= s1
        a[j, 2] -= s2
        a[j, 3] -= s3


@njit(**_OPTS)
def _less(p0, p1, p2, p3, t, y, k):
    """p − t² y[k] for a block p given as four numbers (a Schur-complement step)."""
    t2 = t * t
    return p0 - t2 * y[k, 0], p1 - t2 * y[k, 1], p2 - t2 * y[k, 2], p3 - t2 * y[k, 3]


@njit(**_OPTS)
def _arg_det(a, b, c, d):
    """log det of a pivot, with arg in [0, 2π] (positive semidefinite imaginary part)."""
    det = a * d - b * c
    ph = math.atan2(det.imag, det.real)
    if ph < 0.0:
        ph += 2.0 * math.pi
    elif ph < 0.5 * math.pi and (a + d).real < 0.0:
        ph += 2.0 * math.pi  # both eigenvalues near the negative real axis
    return complex(math.log(abs(det)), ph)


@njit(**_OPTS)
def _left(a, t, gl):
    """Left-connected g^L (stored in gl); returns log det of the whole matrix."""
    n = a.shape[0]
    logdet = 0j
    for j in range(n):
        p0, p1, p2, p3 = a[j, 0], a[j, 1], a[j, 2], a[j, 3]
        if j > 0:
            p0, p1, p2, p3 = _less(p0, p1, p2, p3, t[j - 1], gl, j - 1)
        logdet += _arg_det(p0, p1, p2, p3)
        gl[j, 0], gl[j, 1], gl[j, 2], gl[j, 3] = _inv(p0, p1, p2, p3)
    return logdet


@njit(**_OPTS)
def _right(a, t, gr):
    """Right-connected g^R (stored in gr)."""
    n = a.shape[0]
    for j in range(n - 1, -1, -1):
        p0, p1, p2, p3 = a[j, 0], a[j, 1], a[j, 2], a[j, 3]
        if j < n - 1:
            p0, p1, p2, p3 = _less(p0, p1, p2, p3, t[j], gr, j + 1)
        gr[j, 0], gr[j, 1], gr[j, 2], gr[j, 3] = _inv(p0, p1, p2, p3)


@njit(**_OPTS)
def _diag(a, t, gl, gr, j):
    """Full G_jj from the connected functions."""
    n = a.shape[0]
    p0, p1, p2, p3 = a[j, 0], a[j, 1], a[j, 2], a[j, 3]
    if j > 0:
        p0, p1, p2, p3 = _less(p0, p1, p2, p3, t[j - 1], gl, j - 1)
    if j < n - 1:
        p0, p1, p2, p3 = _less(p0, p1, p2, p3, t[j], gr, j + 1)
    return _inv(p0, p1, p2, p3)


@njit(**_OPTS)
def _end(a, t, g, j, k):
    """Full G_jj at an end site j of the chain, its only neighbour k connected through g."""
    p0, p1, p2, p3 = a[j, 0], a[j, 1], a[j, 2], a[j, 3]
    if a.shape[0] > 1:
        p0, p1, p2, p3 = _less(p0, p1, p2, p3, t[min(j, k)], g, k)
    return _inv(p0, p1, p2, p3)


@njit(**_OPTS)
def log_det(z, eps, onsite, slope, t, leads):
    """log det(z − H(eps) − Σ_L − Σ_R) for each point (continuous branch)."""
    n = onsite.shape[0]
    out = np.empty(z.shape[0], np.complex128)
    a = np.empty((n, 4), np.complex128)
    gl = np.empty((n, 4), np.complex128)
    for k in range(z.shape[0]):
        _fill_a(z[k], eps[k], onsite, slope, leads, a)
        out[k] = _left(a, t, gl)
    return out


@njit(**_OPTS)
def window(lead, z, eps, onsite, slope, t, leads, bonds, sites):
    """Observables of the states incoming from ``lead`` (0 left, 1 right).

    Returns
    -------
    bond_obs : (P, len(bonds), 4) float
        Particle and spin currents j → j+1 on the given bonds.
    site_obs : (P, N, 4) float or (P, 0, 4)
        Density and spin density on every site if ``sites``.
    bond_scale : (P, len(bonds)) float
        2 t_j Σ |A_α(j, j+1)| (the four entries), the size of the complex
        numbers whose imaginary parts are the particle and spin currents:
        their round-off is a fraction of this (an evanescent wave carries a
        large real part and no current).
    """
    n = onsite.shape[0]
    npt = z.shape[0]
    nb = bonds.shape[0]
    bond_obs = np.zeros((npt, nb, 4))
    bond_scale = np.zeros((npt, nb))
    site_obs = np.zeros((npt, n if sites else 0, 4))
    a = np.empty((n, 4), np.complex128)
    g = np.empty((n, 4), np.complex128)
    col = np.empty((n, 4), np.complex128)
    for k in range(npt):
        _fill_a(z[k], eps[k], onsite, slope, leads, a)
        ev, u, c, tl = leads[lead]
        s0, s1, s2, s3 = _sigma(z[k], eps[k], ev, u, c, tl)
        # Γ = i(Σ − Σ†)
        h0, h1, h2, h3 = _dag(s0, s1, s2, s3)
        gm0, gm1, gm2, gm3 = 1j * (s0 - h0), 1j * (s1 - h1), 1j * (s2 - h2), 1j * (s3 - h3)
        if lead == 0:
            _right(a, t, g)
            col[0, 0], col[0, 1], col[0, 2], col[0, 3] = _end(a, t, g, 0, 1)
            for j in range(n - 1):
                y = _mul(g[j + 1, 0], g[j + 1, 1], g[j + 1, 2], g[j + 1, 3],
                         col[j, 0], col[j, 1], col[j, 2], col[j, 3])
                for q in range(4):
                    col[j + 1, q] = -t[j] * y[q]
        else:
            _left(a, t, g)
            col[n - 1, 0], col[n - 1, 1], col[n - 1, 2], col[n - 1, 3] = _end(a, t, g, n - 1,
                                                                              n - 2)
            for j in range(n - 1, 0, -1):
                y = _mul(g[j - 1, 0], g[j - 1, 1], g[j - 1, 2], g[j - 1, 3],
                         col[j, 0], col[j, 1], col[j, 2], col[j, 3])
                for q in range(4):
                    col[j - 1, q] = -t[j - 1] * y[q]
        for ib in range(nb):
            j = bonds[ib]
            l0, l1, l2, l3 = _mul(col[j, 0], col[j, 1], col[j, 2], col[j, 3],
                                  gm0, gm1, gm2, gm3)
            r0, r1, r2, r3 = _dag(col[j + 1, 0], col[j + 1, 1], col[j + 1, 2], col[j + 1, 3])
            tr = _traces(*_mul(l0, l1, l2, l3, r0, r1, r2, r3))
            for q in range(4):
                bond_obs[k, ib, q] = -2.0 * t[j] * tr[q].imag
            p0, p1, p2, p3 = _mul(l0, l1, l2, l3, r0, r1, r2, r3)
            bond_scale[k, ib] = 2.0 * abs(t[j]) * (abs(p0) + abs(p1) + abs(p2) + abs(p3))
        if sites:
            for j in range(n):
                l0, l1, l2, l3 = _mul(col[j, 0], col[j, 1], col[j, 2], col[j, 3],
                                      gm0, gm1, gm2, gm3)
                r0, r1, r2, r3 = _dag(col[j, 0], col[j, 1], col[j, 2], col[j, 3])
                tr = _traces(*_mul(l0, l1, l2, l3, r0, r1, r2, r3))
                for q in range(4):
                    site_obs[k, j, q] = tr[q].real
    return bond_obs, site_obs, bond_scale


@njit(**_OPTS)
def sea(z, eps, onsite, slope, t, leads, bonds, sites):
    """Analytic spectral functions h(z) of all states (see the module notes).

    Returns
    -------
    bond_h : (P, len(bonds), 4) complex
    site_h : (P, N, 4) complex or (P, 0, 4)
    """
    n = onsite.shape[0]
    npt = z.shape[0]
    nb = bonds.shape[0]
    bond_h = np.zeros((npt, nb, 4), np.complex128)
    site_h = np.zeros((npt, n if sites else 0, 4), np.complex128)
    a = np.empty((n, 4), np.complex128)
    gl = np.empty((n, 4), np.complex128)
    gr = np.empty((n, 4), np.complex128)
    for k in range(npt):
        _fill_a(z[k], eps[k], onsite, slope, leads, a)
        _left(a, t, gl)
        _right(a, t, gr)
        for ib in range(nb):
            j = bonds[ib]
            g0, g1, g2, g3 = _diag(a, t, gl, gr, j)
            r0, r1, r2, r3 = gr[j + 1, 0], gr[j + 1, 1], gr[j + 1, 2], gr[j + 1, 3]
            x = _mul(g0, g1, g2, g3, r0, r1, r2, r3)
            y = _mul(r0, r1, r2, r3, g0, g1, g2, g3)
            tr = _traces(x[0] - y[0], x[1] - y[1], x[2] - y[2], x[3] - y[3])
            for q in range(4):
                bond_h[k, ib, q] = 2.0 * t[j] * t[j] * tr[q]
        if sites:
            for j in range(n):
                tr = _traces(*_diag(a, t, gl, gr, j))
                for q in range(4):
                    site_h[k, j, q] = 2j * tr[q]
    return bond_h, site_h


@njit(**_OPTS)
def _pauli(x0, x1, x2, x3):
    """A 2×2 block as a + b·σ: returns (a, bx, by, bz)."""
    return 0.5 * (x0 + x3), 0.5 * (x1 + x2), 0.5j * (x1 - x2), 0.5 * (x0 - x3)


@njit(**_OPTS)
def _pauli_inv(a, bx, by, bz):
    """(a − b·σ)⁻¹ = (a + b·σ)/(a² − b·b) in the same form (b·b bilinear)."""
    r = 1.0 / (a * a - (bx * bx + by * by + bz * bz))
    return a * r, bx * r, by * r, bz * r


@njit(**_OPTS)
def _half(z, eps, onsite, magnetic, slope, t, lead, first, last, step):
    """Connected Green's function of sites first … last (inclusive) with one lead, as a + b·σ.

    The recursion g ← (z − H_j − t² g)⁻¹ runs from ``first`` (the site on the
    lead) toward ``last`` in Pauli form, where the spin part b keeps its
    relative precision however small it becomes (through a barrier it decays
    as e^{−κx}; as a difference of 2×2 entries it would drown in their
    round-off).  Sites with ``magnetic`` 0 have no spin part.
    """
    ev, u, c, tl = lead
    ga, gx, gy, gz = _pauli(*_sigma(z, eps, ev, u, c, tl))
    t2 = 1.0
    j = first
    while True:
        o = onsite[j]
        a = z - eps * slope[j] - 0.5 * (o[0] + o[3]) - t2 * ga
        if magnetic[j]:
            hx, hy, hz = 0.5 * (o[1] + o[2]).real, (0.5j * (o[1] - o[2])).real, 0.5 * (o[0] - o[3]).real
        else:
            hx, hy, hz = 0.0, 0.0, 0.0
        ga, gx, gy, gz = _pauli_inv(a, hx + t2 * gx, hy + t2 * gy, hz + t2 * gz)
        if j == last:
            return ga, gx, gy, gz
        tj = t[min(j, j + step)]
        t2 = tj * tj
        j += step


@njit(**_OPTS)
def coupling(z, eps, onsite, magnetic, slope, t, leads, cut):
    """The two halves of the chain, cut at bond ``cut``, and their coupling determinant.

    With g_L = a_L + b_L·σ the left-connected Green's function of sites
    0 … cut (with Σ_L) and g_R = a_R + b_R·σ the right-connected one of sites
    cut+1 … N−1 (with Σ_R), both in Pauli form, and t the hopping on the cut,

        det(z − H − Σ) = det(left half) det(right half) det(1 − t² g_L g_R),
        det(1 − t² g_L g_R) = D0 − 2 t² b_L·b_R,

    D0 = (1 − t² a_L a_R)² − t⁴(a_L² b_R·b_R + a_R² b_L·b_L) + t⁴ (b_L·b_L)(b_R·b_R)
    (bilinear products; Pauli algebra), where D0 is invariant under a spin
    rotation of either half.

    Returns
    -------
    d0 : (P,) complex
    b_left, b_right : (P, 3) complex
        b_L and b_R multiplied by t (so that the coupling term is −2 b_L·b_R).
    """
    n = onsite.shape[0]
    npt = z.shape[0]
    d0 = np.empty(npt, np.complex128)
    bl = np.empty((npt, 3), np.complex128)
    br = np.empty((npt, 3), np.complex128)
    tc = t[cut]
    for k in range(npt):
        la, lx, ly, lz = _half(z[k], eps[k], onsite, magnetic, slope, t, leads[0], 0, cut, 1)
        ra, rx, ry, rz = _half(z[k], eps[k], onsite, magnetic, slope, t, leads[1], n - 1,
                               cut + 1, -1)
        t2 = tc * tc
        sl = lx * lx + ly * ly + lz * lz
        sr = rx * rx + ry * ry + rz * rz
        u = 1.0 - t2 * la * ra
        d0[k] = u * u - t2 * t2 * (la * la * sr + ra * ra * sl) + t2 * t2 * sl * sr
        bl[k, 0], bl[k, 1], bl[k, 2] = tc * lx, tc * ly, tc * lz
        br[k, 0], br[k, 1], br[k, 2] = tc * rx, tc * ry, tc * rz
    return d0, bl, br
