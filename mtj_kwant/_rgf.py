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

Implementation
--------------
The points are processed in chunks of ``W``; every quantity of a chunk is
stored with the chunk's point innermost (real and imaginary parts apart, a
2×2 block as 8 reals ``x00r, x00i, x01r, …, x11i``, element q of point b at
``q W + b`` of a row; one row per site for the connected Green's functions,
two for log det, which keeps only the last),
and every arithmetic loop runs over the points of the chunk, so that LLVM
vectorises it: one SIMD lane per point.  The points are independent, so a
point's result does not depend on its chunk or lane (a partial last chunk
repeats its last point).  The loops are vectorised only with (i) the scalar
helpers inlined by numba (``inline="always"``: LLVM does not inline
helpers that call helpers in time), (ii) flat rows (the lanes of one array at
constant offsets, so that the run-time alias checks are few and cheap),
(iii) larger limits for those checks (``_vectorize_options``, set at import,
before any kernel is compiled) and (iv) ``error_model="numpy"`` (no
zero-division branch); ``W`` = 32 lanes (the checks pay off from about 16).
For compilation time, the calls between kernels pass no literal constants (a
literal argument compiles the callee once more) and avoid NumPy's array
min/max and slice assignment (their error messages compile for seconds).
No fast-math:
every operation is that of the plain complex arithmetic of the previous
kernels, in the same order, except (a) the reciprocal of a complex number,
conj(x)/|x|² instead of Smith's division (no overflow or underflow while
|det| of a pivot lies in 1e-150 … 1e150), (b) |x| = sqrt(x_r² + x_i²)
instead of hypot, (c) the complex square root of the lead self-energy
(NumPy's algorithm with hypot written out) and (d) log det: log|det| is one
logarithm of the product of the pivots' |det|², kept in [2^-200, 2^200] by
exact powers of two, and the phase a written-out atan2 (≤ 1 ulp).  The
outputs are allocated by the caller (NumPy; large ones get huge pages,
numba's allocator pays a page fault per 4 kB) and every element is written.
"""

from __future__ import annotations

import math

import llvmlite.binding as _llvm
import numpy as np
from numba import njit


def _vectorize_options():
    """Let LLVM emit as many run-time alias checks as a vectorised lane loop needs.

    The defaults (8 comparisons, 128 checks) stop the loop vectoriser on loops
    that touch more than a few arrays; the options are process-wide and only
    affect which loops get a vectorised version (the checks keep any loop
    correct), so numba code compiled elsewhere in the process is unchanged in
    its results.
    """
    _llvm.set_option("", "-runtime-memory-check-threshold=2000")
    _llvm.set_option("", "-vectorize-memory-check-threshold=2000")


_vectorize_options()

#: Points per chunk: the length of every vectorised loop (a multiple of the SIMD width).
W = 32

_OPTS = dict(cache=True, nogil=True, error_model="numpy", fastmath=False)
_INLINE = dict(_OPTS, inline="always")  # helpers: no call left in a lane loop


# ---------------------------------------------------------------------------------------
# Scalar helpers on complex numbers split in real and imaginary parts (inlined)
# ---------------------------------------------------------------------------------------

@njit(**_INLINE)
def _cmul(ar, ai, br, bi):
    return ar * br - ai * bi, ar * bi + ai * br


@njit(**_INLINE)
def _det(x):
    """a d − b c of a block x = (a, b, c, d) as 8 reals."""
    ar, ai, br, bi, cr, ci, dr, di = x
    return (ar * dr - ai * di) - (br * cr - bi * ci), (ar * di + ai * dr) - (br * ci + bi * cr)


@njit(**_INLINE)
def _inv_det(x, xr, xi):
    """(a b; c d)⁻¹ given its determinant."""
    ar, ai, br, bi, cr, ci, dr, di = x
    m = 1.0 / (xr * xr + xi * xi)
    rr, ri = xr * m, -xi * m
    return (dr * rr - di * ri, dr * ri + di * rr,
            -(br * rr - bi * ri), -(br * ri + bi * rr),
            -(cr * rr - ci * ri), -(cr * ri + ci * rr),
            ar * rr - ai * ri, ar * ri + ai * rr)


@njit(**_INLINE)
def _inv(x):
    xr, xi = _det(x)
    return _inv_det(x, xr, xi)


@njit(**_INLINE)
def _mul(a, b):
    """Product of two blocks (8 reals each)."""
    a0r, a0i, a1r, a1i, a2r, a2i, a3r, a3i = a
    b0r, b0i, b1r, b1i, b2r, b2i, b3r, b3i = b
    c0r, c0i = _cmul(a0r, a0i, b0r, b0i)
    d0r, d0i = _cmul(a1r, a1i, b2r, b2i)
    c1r, c1i = _cmul(a0r, a0i, b1r, b1i)
    d1r, d1i = _cmul(a1r, a1i, b3r, b3i)
    c2r, c2i = _cmul(a2r, a2i, b0r, b0i)
    d2r, d2i = _cmul(a3r, a3i, b2r, b2i)
    c3r, c3i = _cmul(a2r, a2i, b1r, b1i)
    d3r, d3i = _cmul(a3r, a3i, b3r, b3i)
    return (c0r + d0r, c0i + d0i, c1r + d1r, c1i + d1i,
            c2r + d2r, c2i + d2i, c3r + d3r, c3i + d3i)


@njit(**_INLINE)
def _csqrt(a, b):
    """Principal square root (NumPy's npy_csqrt, with hypot written out: components below
    1e-150 are scaled by 2^600 first, and none reach 1e150 here)."""
    tiny = max(abs(a), abs(b)) < 1e-150
    if tiny:
        a *= 4.149515568880993e180  # 2^600
        b *= 4.149515568880993e180
    h = math.sqrt(a * a + b * b)
    s = math.sqrt((abs(a) + h) * 0.5)
    q = b / (2.0 * s)
    if a >= 0.0:
        re, im = s, q
    else:
        re, im = abs(q), math.copysign(s, b)
    if s == 0.0:  # a = b = 0
        re, im = 0.0, b
    if tiny:
        re *= 4.909093465297727e-91  # 2^-300
        im *= 4.909093465297727e-91
    return re, im


_PIO2 = 1.5707963267948966192313216916398
_PIO4 = 0.78539816339744830961566084581988
_MOREBITS = 6.123233995736765886130e-17


@njit(**_INLINE)
def _atan2(y, x):
    """atan2(y, x) in [−π, π] written out so that it vectorises (Cephes' atan, ≤ 1 ulp)."""
    ax, ay = abs(x), abs(y)
    big = ay > ax
    hi = ay if big else ax
    lo = ax if big else ay
    r = lo / hi if hi > 0.0 else 0.0
    # atan(r), 0 <= r <= 1: Cephes' reduction to |u| <= 0.66 and rational P/Q in u²
    mid = r > 0.66
    u = (r - 1.0) / (r + 1.0) if mid else r
    z = u * u
    p = ((((-8.750608600031904122785e-1 * z - 1.615753718733365076637e1) * z
           - 7.500855792314704667340e1) * z - 1.228866684490136173410e2) * z
         - 6.485021904942025371773e1)
    q = (((((z + 2.485846490142306297962e1) * z + 1.650270098316988542046e2) * z
           + 4.328810604912902668951e2) * z + 4.853903996359136964868e2) * z
         + 1.945506571482613964425e2)
    w = u * (z * p / q) + u
    a = (_PIO4 + (w + 0.5 * _MOREBITS)) if mid else w
    if big:
        a = (_PIO2 - a) + _MOREBITS
    if x < 0.0 or (x == 0.0 and math.copysign(1.0, x) < 0.0):
        a = (2.0 * _PIO2 - a) + 2.0 * _MOREBITS
    return math.copysign(a, y)


# ---------------------------------------------------------------------------------------
# Lane loops: one (site, chunk) each, the innermost loop over the chunk's points
# ---------------------------------------------------------------------------------------

@njit(**_OPTS)
def _load(z, eps, k0, zw):
    """The chunk of points from k0 (the last point repeated past the end)."""
    last = z.shape[0] - 1
    for b in range(W):
        k = min(k0 + b, last)
        zw[b] = z[k].real
        zw[W + b] = z[k].imag
        zw[2 * W + b] = eps[k]


@njit(**_INLINE)
def _channel(zr, zi, er, e, c, tl):
    """t λ of one lead channel: w = (z − e − eps c)/2t, λ = w − sqrt(w − 1) sqrt(w + 1)."""
    two_t = 2.0 * tl
    wr, wi = (zr - e - er * c) / two_t, zi / two_t
    pr, pi = _csqrt(wr - 1.0, wi)
    qr, qi = _csqrt(wr + 1.0, wi)
    mr, mi = _cmul(pr, pi, qr, qi)
    return tl * (wr - mr), tl * (wi - mi)


@njit(**_OPTS)
def _sigma(zw, lead, sig, side):
    """Retarded lead self-energy U diag(t λ_s) U†, |λ_s| ≤ 1, of every lane: sig[side]."""
    ev, u, c, tl = lead
    e0, e1 = ev[0], ev[1]
    u00r, u00i, u01r, u01i = u[0].real, u[0].imag, u[1].real, u[1].imag
    u10r, u10i, u11r, u11i = u[2].real, u[2].imag, u[3].real, u[3].imag
    for b in range(W):
        s0r, s0i = _channel(zw[b], zw[W + b], zw[2 * W + b], e0, c, tl)
        s1r, s1i = _channel(zw[b], zw[W + b], zw[2 * W + b], e1, c, tl)
        # x_ij = (u_i0 s0) conj(u_j0) + (u_i1 s1) conj(u_j1)
        a0r, a0i = _cmul(u00r, u00i, s0r, s0i)
        a1r, a1i = _cmul(u01r, u01i, s1r, s1i)
        a2r, a2i = _cmul(u10r, u10i, s0r, s0i)
        a3r, a3i = _cmul(u11r, u11i, s1r, s1i)
        xr, xi = _cmul(a0r, a0i, u00r, -u00i)
        yr, yi = _cmul(a1r, a1i, u01r, -u01i)
        sig[side, b], sig[side, W + b] = xr + yr, xi + yi
        xr, xi = _cmul(a0r, a0i, u10r, -u10i)
        yr, yi = _cmul(a1r, a1i, u11r, -u11i)
        sig[side, 2 * W + b], sig[side, 3 * W + b] = xr + yr, xi + yi
        xr, xi = _cmul(a2r, a2i, u00r, -u00i)
        yr, yi = _cmul(a3r, a3i, u01r, -u01i)
        sig[side, 4 * W + b], sig[side, 5 * W + b] = xr + yr, xi + yi
        xr, xi = _cmul(a2r, a2i, u10r, -u10i)
        yr, yi = _cmul(a3r, a3i, u11r, -u11i)
        sig[side, 6 * W + b], sig[side, 7 * W + b] = xr + yr, xi + yi


@njit(**_INLINE)
def _block(x, j, b):
    """Block of lane b in row j of a (rows, 8 W) array, as 8 reals."""
    return (x[j, b], x[j, W + b], x[j, 2 * W + b], x[j, 3 * W + b],
            x[j, 4 * W + b], x[j, 5 * W + b], x[j, 6 * W + b], x[j, 7 * W + b])


@njit(**_INLINE)
def _put(x, j, b, v):
    x[j, b], x[j, W + b], x[j, 2 * W + b], x[j, 3 * W + b] = v[0], v[1], v[2], v[3]
    x[j, 4 * W + b], x[j, 5 * W + b], x[j, 6 * W + b], x[j, 7 * W + b] = v[4], v[5], v[6], v[7]


@njit(**_OPTS)
def _row_a(p, j, zw, on8, slope, sig):
    """p[0] = A_j = (z − eps·slope_j)·1 − onsite_j, minus Σ_L on site 0 and Σ_R on site N−1."""
    n = on8.shape[0]
    o0r, o0i, o1r, o1i = on8[j, 0], on8[j, 1], on8[j, 2], on8[j, 3]
    o2r, o2i, o3r, o3i = on8[j, 4], on8[j, 5], on8[j, 6], on8[j, 7]
    sl = slope[j]
    for b in range(W):
        shr = zw[b] - zw[2 * W + b] * sl
        zi = zw[W + b]
        _put(p, 0, b, (shr - o0r, zi - o0i, -o1r, -o1i, -o2r, -o2i, shr - o3r, zi - o3i))
    for side in range(2):
        if j == (0 if side == 0 else n - 1):
            for i in range(8 * W):
                p[0, i] -= sig[side, i]


@njit(**_OPTS)
def _row_less(p, g, k, t2):
    """p[0] −= t² g[k] (a Schur-complement step)."""
    for i in range(8 * W):
        p[0, i] -= t2 * g[k, i]


@njit(**_OPTS)
def _row_inv(p, g, j):
    """g[j] = p[0]⁻¹."""
    for b in range(W):
        _put(g, j, b, _inv(_block(p, 0, b)))


@njit(**_OPTS)
def _step(g, j, k, t2, zw, on8, slope):
    """g[j] = (A_j − t² g[k])⁻¹ on a site inside the chain (no self-energy)."""
    o0r, o0i, o1r, o1i = on8[j, 0], on8[j, 1], on8[j, 2], on8[j, 3]
    o2r, o2i, o3r, o3i = on8[j, 4], on8[j, 5], on8[j, 6], on8[j, 7]
    sl = slope[j]
    for b in range(W):
        shr = zw[b] - zw[2 * W + b] * sl
        x0r, x0i, x1r, x1i, x2r, x2i, x3r, x3i = _block(g, k, b)
        _put(g, j, b, _inv(((shr - o0r) - t2 * x0r, (zw[W + b] - o0i) - t2 * x0i,
                            -o1r - t2 * x1r, -o1i - t2 * x1i,
                            -o2r - t2 * x2r, -o2i - t2 * x2i,
                            (shr - o3r) - t2 * x3r, (zw[W + b] - o3i) - t2 * x3i)))


@njit(**_INLINE)
def _arg_det(xr, xi, tr):
    """arg of the determinant x of a pivot in [0, 2π] (positive semidefinite imaginary part;
    tr: real part of its trace)."""
    ph = _atan2(xi, xr)
    if ph < 0.0:
        # just below the positive real axis with both eigenvalues near it (tr > 0): round-off
        # of an arg ≈ 0, not ≈ 2π
        if not (ph > -0.5 * math.pi and tr > 0.0):
            ph += 2.0 * math.pi
    elif ph < 0.5 * math.pi and tr < 0.0:
        ph += 2.0 * math.pi  # both eigenvalues near the negative real axis
    return ph


@njit(**_INLINE)
def _log_det_lanes(x, g, j, k, b, fresh):
    """Adds log det of the pivot x (arg by :func:`_arg_det`) to the sums of row k (none if
    ``fresh``), stored in row j after its block (g has 11 W columns).

    Columns 8W + b: product of |det|² kept in [2^-200, 2^200] by powers of two;
    9W + b: their exponent (base 2); 10W + b: the sum of the phases.  Returns det.
    """
    xr, xi = _det(x)
    if fresh:
        m, e, s = 1.0, 0.0, 0.0
    else:
        m, e, s = g[k, 8 * W + b], g[k, 9 * W + b], g[k, 10 * W + b]
    m *= xr * xr + xi * xi
    if m > 1.6069380442589903e60:  # 2^200
        m *= 3.8725919148493183e-121  # 2^-400
        e += 400.0
    if m < 6.223015277861142e-61:  # 2^-200
        m *= 2.5822498780869086e120  # 2^400
        e -= 400.0
    g[j, 8 * W + b], g[j, 9 * W + b] = m, e
    g[j, 10 * W + b] = s + _arg_det(xr, xi, x[0] + x[6])
    return xr, xi


@njit(**_OPTS)
def _row_inv_det(p, g, r, rk, fresh):
    """g[r] = p[0]⁻¹, with the log det sums of row rk plus log det p[0]."""
    for b in range(W):
        a = _block(p, 0, b)
        xr, xi = _log_det_lanes(a, g, r, rk, b, fresh)
        _put(g, r, b, _inv_det(a, xr, xi))


@njit(**_OPTS)
def _step_det(g, r, rk, j, t2, zw, on8, slope):
    """:func:`_step` on site j from row rk into row r, with the log det sums of row rk plus
    log det of the pivot."""
    o0r, o0i, o1r, o1i = on8[j, 0], on8[j, 1], on8[j, 2], on8[j, 3]
    o2r, o2i, o3r, o3i = on8[j, 4], on8[j, 5], on8[j, 6], on8[j, 7]
    sl = slope[j]
    for b in range(W):
        shr = zw[b] - zw[2 * W + b] * sl
        x0r, x0i, x1r, x1i, x2r, x2i, x3r, x3i = _block(g, rk, b)
        a = ((shr - o0r) - t2 * x0r, (zw[W + b] - o0i) - t2 * x0i,
             -o1r - t2 * x1r, -o1i - t2 * x1i,
             -o2r - t2 * x2r, -o2i - t2 * x2i,
             (shr - o3r) - t2 * x3r, (zw[W + b] - o3i) - t2 * x3i)
        xr, xi = _log_det_lanes(a, g, r, rk, b, False)
        _put(g, r, b, _inv_det(a, xr, xi))


@njit(**_OPTS)
def _sweep(g, first, last, zw, on8, slope, t, sig, p):
    """Connected Green's functions g[j], j = first … last (one step at a time toward last).

    first is an end of the chain: left-connected for first = 0, right-connected
    for first = N − 1.
    """
    n = on8.shape[0]
    step = 1 if last >= first else -1
    j = first
    while True:
        k = j - step  # the neighbour toward first
        tk = t[j if j < k else k] if j != first else 0.0
        if j == first or j == 0 or j == n - 1:  # the self-energies, or no neighbour
            _row_a(p, j, zw, on8, slope, sig)
            if j != first:
                _row_less(p, g, k, tk * tk)
            _row_inv(p, g, j)
        else:
            _step(g, j, k, tk * tk, zw, on8, slope)
        if j == last:
            return
        j += step


@njit(**_OPTS)
def _sweep_det(g, zw, on8, slope, t, sig, p):
    """:func:`_sweep` from site 0 to N − 1 in two rows (g (2, 11 W): site j in row j % 2),
    with the log det of the pivots up to j summed in its row (:func:`_log_det_lanes`)."""
    n = on8.shape[0]
    for j in range(n):
        r, rk = j % 2, (j + 1) % 2
        tk = t[j - 1] if j > 0 else 0.0
        if j == 0 or j == n - 1:
            _row_a(p, j, zw, on8, slope, sig)
            if j > 0:
                _row_less(p, g, rk, tk * tk)
            _row_inv_det(p, g, r, rk, j == 0)
        else:
            _step_det(g, r, rk, j, tk * tk, zw, on8, slope)


@njit(**_OPTS)
def _column(g, col, j, k, tk):
    """col[k] = −t g[k] col[j] (the next block of a column of G)."""
    m = -tk
    for b in range(W):
        y = _mul(_block(g, k, b), _block(col, j, b))
        _put(col, k, b, (m * y[0], m * y[1], m * y[2], m * y[3],
                         m * y[4], m * y[5], m * y[6], m * y[7]))


@njit(**_OPTS)
def _gamma(sig, side, gm):
    """gm[0] = Γ = i(Σ − Σ†) of one lead."""
    for b in range(W):
        s0r, s0i, s1r, s1i, s2r, s2i, s3r, s3i = _block(sig, side, b)
        # i (x − conj(y)) = (−(x_i + y_i), x_r − y_r)
        _put(gm, 0, b, (-(s0i + s0i), s0r - s0r, -(s1i + s2i), s1r - s2r,
                        -(s2i + s1i), s2r - s1r, -(s3i + s3i), s3r - s3r))


@njit(**_INLINE)
def _a_gamma_a(col, j, k, gm, b):
    """The block col[j] Γ col[k]† of lane b (8 reals)."""
    l = _mul(_block(col, j, b), _block(gm, 0, b))
    c0r, c0i, c1r, c1i, c2r, c2i, c3r, c3i = _block(col, k, b)
    return _mul(l, (c0r, -c0i, c2r, -c2i, c1r, -c1i, c3r, -c3i))


@njit(**_OPTS)
def _window_bond(col, j, tj, gm, out):
    """Currents (out[0, q W + b], q < 4) and their scale (q = 4) on bond j for every lane."""
    m = -2.0 * tj
    s = 2.0 * abs(tj)
    for b in range(W):
        p0r, p0i, p1r, p1i, p2r, p2i, p3r, p3i = _a_gamma_a(col, j, j + 1, gm, b)
        # −2t Im Tr[O P]: Tr P, Tr σx P, Tr σy P = i(P01 − P10), Tr σz P
        out[0, b] = m * (p0i + p3i)
        out[0, W + b] = m * (p1i + p2i)
        out[0, 2 * W + b] = m * (p1r - p2r)
        out[0, 3 * W + b] = m * (p0i - p3i)
        out[0, 4 * W + b] = s * (((math.sqrt(p0r * p0r + p0i * p0i)
                                   + math.sqrt(p1r * p1r + p1i * p1i))
                                  + math.sqrt(p2r * p2r + p2i * p2i))
                                 + math.sqrt(p3r * p3r + p3i * p3i))


@njit(**_OPTS)
def _window_site(col, j, gm, out):
    """Density and spin density (out[0, q W + b]) on site j for every lane."""
    for b in range(W):
        p0r, p0i, p1r, p1i, p2r, p2i, p3r, p3i = _a_gamma_a(col, j, j, gm, b)
        out[0, b] = p0r + p3r
        out[0, W + b] = p1r + p2r
        out[0, 2 * W + b] = -(p1i - p2i)
        out[0, 3 * W + b] = p0r - p3r


@njit(**_OPTS)
def _bond_range(bonds):
    """(smallest, largest) bond (written out: numba's array min and max compile slowly)."""
    lo, hi = bonds[0], bonds[0]
    for i in range(1, bonds.shape[0]):
        lo = bonds[i] if bonds[i] < lo else lo
        hi = bonds[i] if bonds[i] > hi else hi
    return lo, hi


@njit(**_OPTS)
def _split(onsite):
    on8 = np.empty((onsite.shape[0], 8))
    for j in range(onsite.shape[0]):
        for q in range(4):
            on8[j, 2 * q] = onsite[j, q].real
            on8[j, 2 * q + 1] = onsite[j, q].imag
    return on8


# ---------------------------------------------------------------------------------------
# Kernels
# ---------------------------------------------------------------------------------------

@njit(**_OPTS)
def log_det(z, eps, onsite, slope, t, leads, out):
    """log det(z − H(eps) − Σ_L − Σ_R) of each point (continuous branch) into out (P,)."""
    n = onsite.shape[0]
    npt = z.shape[0]
    on8 = _split(onsite)
    zw = np.empty(3 * W)
    sig = np.empty((2, 8 * W))
    p = np.empty((1, 8 * W))
    g = np.empty((2, 11 * W))
    last = (n - 1) % 2
    ln2 = math.log(2.0)
    for k0 in range(0, npt, W):
        _load(z, eps, k0, zw)
        for side in range(2):
            _sigma(zw, leads[side], sig, side)
        _sweep_det(g, zw, on8, slope, t, sig, p)
        for b in range(W if npt - k0 > W else npt - k0):
            logabs = 0.5 * (math.log(g[last, 8 * W + b]) + g[last, 9 * W + b] * ln2)
            out[k0 + b] = complex(logabs, g[last, 10 * W + b])


@njit(**_OPTS)
def window(lead, z, eps, onsite, slope, t, leads, bonds, bond_obs, site_obs, bond_scale,
           work):
    """Observables of the states incoming from ``lead`` (0 left, 1 right), into the outputs.

    ``work`` (2, ≥ N, 8 W) float is scratch space owned by the caller (reused between
    calls: a fresh N × 8 W array per call costs a page fault per 4 kB, ten times the
    arithmetic of a 60-point call on 500 sites).

    Outputs (every element is written)
    ----------------------------------
    bond_obs : (P, len(bonds), 4) float
        Particle and spin currents j → j+1 on the given bonds.
    site_obs : (P, N, 4) float or (P, 0, 4)
        Density and spin density on every site (none if its second axis is empty).
    bond_scale : (P, len(bonds)) float
        2 t_j Σ |A_α(j, j+1)| (the four entries), the size of the complex
        numbers whose imaginary parts are the particle and spin currents:
        their round-off is a fraction of this (an evanescent wave carries a
        large real part and no current).
    """
    n = onsite.shape[0]
    npt = z.shape[0]
    nb = bonds.shape[0]
    sites = site_obs.shape[1] > 0
    # the column G_{·,0} (lead 0) is needed from site 0 to `reach`, G_{·,N−1} from N−1 down
    if sites:
        reach = n - 1 if lead == 0 else 0
    elif nb == 0:
        return
    elif lead == 0:
        reach = _bond_range(bonds)[1] + 1
    else:
        reach = _bond_range(bonds)[0]
    on8 = _split(onsite)
    zw = np.empty(3 * W)
    sig = np.empty((2, 8 * W))
    gm = np.empty((1, 8 * W))
    p = np.empty((1, 8 * W))
    g, col = work[0], work[1]
    tmp = np.empty((1, 5 * W))
    start = 0 if lead == 0 else n - 1
    step = 1 if lead == 0 else -1
    for k0 in range(0, npt, W):
        nk = W if npt - k0 > W else npt - k0
        _load(z, eps, k0, zw)
        for side in range(2):
            _sigma(zw, leads[side], sig, side)
        _gamma(sig, lead, gm)
        # connected from the far end; at the lead's end site it is G_{start,start}
        _sweep(g, n - 1 - start, start, zw, on8, slope, t, sig, p)
        for i in range(8 * W):
            col[start, i] = g[start, i]
        j = start
        while j != reach:
            _column(g, col, j, j + step, t[j if step > 0 else j - 1])
            j += step
        for ib in range(nb):
            jb = bonds[ib]
            _window_bond(col, jb, t[jb], gm, tmp)
            for b in range(nk):
                for q in range(4):
                    bond_obs[k0 + b, ib, q] = tmp[0, q * W + b]
                bond_scale[k0 + b, ib] = tmp[0, 4 * W + b]
        if sites:
            for js in range(n):
                _window_site(col, js, gm, tmp)
                for b in range(nk):
                    for q in range(4):
                        site_obs[k0 + b, js, q] = tmp[0, q * W + b]


@njit(**_OPTS)
def _diag_inner(p, j, zw, on8, slope, tl2, tr2, gl, gr):
    """p[0] = G_jj = (A_j − t_{j−1}² g^L_{j−1} − t_j² g^R_{j+1})⁻¹ on a site inside the chain."""
    o0r, o0i, o1r, o1i = on8[j, 0], on8[j, 1], on8[j, 2], on8[j, 3]
    o2r, o2i, o3r, o3i = on8[j, 4], on8[j, 5], on8[j, 6], on8[j, 7]
    sl = slope[j]
    for b in range(W):
        shr = zw[b] - zw[2 * W + b] * sl
        x0r, x0i, x1r, x1i, x2r, x2i, x3r, x3i = _block(gl, j - 1, b)
        y0r, y0i, y1r, y1i, y2r, y2i, y3r, y3i = _block(gr, j + 1, b)
        _put(p, 0, b, _inv((((shr - o0r) - tl2 * x0r) - tr2 * y0r,
                            ((zw[W + b] - o0i) - tl2 * x0i) - tr2 * y0i,
                            (-o1r - tl2 * x1r) - tr2 * y1r, (-o1i - tl2 * x1i) - tr2 * y1i,
                            (-o2r - tl2 * x2r) - tr2 * y2r, (-o2i - tl2 * x2i) - tr2 * y2i,
                            ((shr - o3r) - tl2 * x3r) - tr2 * y3r,
                            ((zw[W + b] - o3i) - tl2 * x3i) - tr2 * y3i)))


@njit(**_OPTS)
def _diag(p, j, zw, on8, slope, t, sig, gl, gr):
    """p[0] = G_jj = (A_j − t_{j−1}² g^L_{j−1} − t_j² g^R_{j+1})⁻¹."""
    n = on8.shape[0]
    if 0 < j < n - 1:
        _diag_inner(p, j, zw, on8, slope, t[j - 1] * t[j - 1], t[j] * t[j], gl, gr)
        return
    _row_a(p, j, zw, on8, slope, sig)
    if j > 0:
        _row_less(p, gl, j - 1, t[j - 1] * t[j - 1])
    if j < n - 1:
        _row_less(p, gr, j + 1, t[j] * t[j])
    _row_inv(p, p, np.int64(0))


@njit(**_OPTS)
def _sea_bond(p, gr, j, c, hb):
    """2t² (Tr D, Tr σx D, Tr σy D, Tr σz D), D = [G_jj, g^R_{j+1}] (p[0] = G_jj): hb[0]."""
    for b in range(W):
        g = _block(p, 0, b)
        r = _block(gr, j + 1, b)
        x = _mul(g, r)
        y = _mul(r, g)
        d0r, d0i, d1r, d1i = x[0] - y[0], x[1] - y[1], x[2] - y[2], x[3] - y[3]
        d2r, d2i, d3r, d3i = x[4] - y[4], x[5] - y[5], x[6] - y[6], x[7] - y[7]
        # Tr σy D = i(D01 − D10)
        _put(hb, 0, b, (c * (d0r + d3r), c * (d0i + d3i), c * (d1r + d2r), c * (d1i + d2i),
                        c * -(d1i - d2i), c * (d1r - d2r), c * (d0r - d3r), c * (d0i - d3i)))


@njit(**_OPTS)
def _sea_site(p, hb):
    """2i (Tr G, Tr σx G, Tr σy G, Tr σz G) (p[0] = G_jj): hb[0]."""
    for b in range(W):
        g0r, g0i, g1r, g1i, g2r, g2i, g3r, g3i = _block(p, 0, b)
        _put(hb, 0, b, (-2.0 * (g0i + g3i), 2.0 * (g0r + g3r),
                        -2.0 * (g1i + g2i), 2.0 * (g1r + g2r),
                        -2.0 * (g1r - g2r), 2.0 * -(g1i - g2i),
                        -2.0 * (g0i - g3i), 2.0 * (g0r - g3r)))


@njit(**_OPTS)
def sea(z, eps, onsite, slope, t, leads, bonds, bond_h, site_h, work):
    """Analytic spectral functions h(z) of all states (see the module notes), into the outputs.

    ``work`` (2, ≥ N, 8 W) float: scratch space owned by the caller (as in :func:`window`).

    Outputs (every element is written)
    ----------------------------------
    bond_h : (P, len(bonds), 4) complex
    site_h : (P, N, 4) complex or (P, 0, 4) (no sites)
    """
    n = onsite.shape[0]
    npt = z.shape[0]
    nb = bonds.shape[0]
    sites = site_h.shape[1] > 0
    # g^L is needed up to `left`, g^R down to `right`
    if sites:
        left, right = n - 2, 1
    elif nb == 0:
        return
    else:
        lo, hi = _bond_range(bonds)
        left, right = hi - 1, lo + 1
    on8 = _split(onsite)
    zw = np.empty(3 * W)
    sig = np.empty((2, 8 * W))
    p = np.empty((1, 8 * W))
    gl, gr = work[0], work[1]
    hb = np.empty((1, 8 * W))
    for k0 in range(0, npt, W):
        nk = W if npt - k0 > W else npt - k0
        _load(z, eps, k0, zw)
        for side in range(2):
            _sigma(zw, leads[side], sig, side)
        if left >= 0:
            _sweep(gl, np.int64(0), left, zw, on8, slope, t, sig, p)
        if right <= n - 1:
            _sweep(gr, n - 1, right, zw, on8, slope, t, sig, p)
        for ib in range(nb):
            j = bonds[ib]
            _diag(p, j, zw, on8, slope, t, sig, gl, gr)
            _sea_bond(p, gr, j, 2.0 * t[j] * t[j], hb)
            for b in range(nk):
                for q in range(4):
                    bond_h[k0 + b, ib, q] = complex(hb[0, 2 * q * W + b],
                                                    hb[0, (2 * q + 1) * W + b])
        if sites:
            for j in range(n):
                _diag(p, j, zw, on8, slope, t, sig, gl, gr)
                _sea_site(p, hb)
                for b in range(nk):
                    for q in range(4):
                        site_h[k0 + b, j, q] = complex(hb[0, 2 * q * W + b],
                                                       hb[0, (2 * q + 1) * W + b])


@njit(**_OPTS)
def _half(zw, on8, magnetic, slope, t, first, last, sig, side, out):
    """Connected Green's function of sites first … last (inclusive) with one lead, as a + b·σ.

    The recursion g ← (z − H_j − t² g)⁻¹ runs from ``first`` (the site on the
    lead, whose self-energy is sig[side]) toward ``last`` in Pauli form, where
    the spin part b keeps its relative precision however small it becomes
    (through a barrier it decays as e^{−κx}; as a difference of 2×2 entries it
    would drown in their round-off).  Sites with ``magnetic`` 0 have no spin
    part.  out[0]: a, bx, by, bz (real and imaginary parts, q W + b).
    """
    for b in range(W):
        x0r, x0i, x1r, x1i, x2r, x2i, x3r, x3i = _block(sig, side, b)
        _put(out, 0, b, (0.5 * (x0r + x3r), 0.5 * (x0i + x3i),
                         0.5 * (x1r + x2r), 0.5 * (x1i + x2i),
                         -0.5 * (x1i - x2i), 0.5 * (x1r - x2r),  # (i/2)(x01 − x10)
                         0.5 * (x0r - x3r), 0.5 * (x0i - x3i)))
    step = 1 if last >= first else -1
    t2 = 1.0
    j = first
    while True:
        sl = slope[j]
        cr, ci = 0.5 * (on8[j, 0] + on8[j, 6]), 0.5 * (on8[j, 1] + on8[j, 7])
        if magnetic[j]:
            hx, hy = 0.5 * (on8[j, 2] + on8[j, 4]), -0.5 * (on8[j, 3] - on8[j, 5])
            hz = 0.5 * (on8[j, 0] - on8[j, 6])
        else:
            hx, hy, hz = 0.0, 0.0, 0.0
        for b in range(W):
            g0r, g0i, gxr, gxi, gyr, gyi, gzr, gzi = _block(out, 0, b)
            ar = ((zw[b] - zw[2 * W + b] * sl) - cr) - t2 * g0r
            ai = (zw[W + b] - ci) - t2 * g0i
            xr, xi = hx + t2 * gxr, t2 * gxi
            yr, yi = hy + t2 * gyr, t2 * gyi
            wr, wi = hz + t2 * gzr, t2 * gzi
            # r = 1/(a² − b·b) (b·b bilinear)
            dr, di = _cmul(ar, ai, ar, ai)
            sr, si = _cmul(xr, xi, xr, xi)
            vr, vi = _cmul(yr, yi, yr, yi)
            sr, si = sr + vr, si + vi
            vr, vi = _cmul(wr, wi, wr, wi)
            sr, si = sr + vr, si + vi
            dr, di = dr - sr, di - si
            m = 1.0 / (dr * dr + di * di)
            rr, ri = dr * m, -di * m
            a0 = _cmul(ar, ai, rr, ri)
            a1 = _cmul(xr, xi, rr, ri)
            a2 = _cmul(yr, yi, rr, ri)
            a3 = _cmul(wr, wi, rr, ri)
            _put(out, 0, b, (a0[0], a0[1], a1[0], a1[1], a2[0], a2[1], a3[0], a3[1]))
        if j == last:
            return
        tj = t[j if step > 0 else j - 1]
        t2 = tj * tj
        j += step


@njit(**_OPTS)
def coupling(z, eps, onsite, magnetic, slope, t, leads, cut, d0, bl, br):
    """The two halves of the chain, cut at bond ``cut``, and their coupling determinant.

    With g_L = a_L + b_L·σ the left-connected Green's function of sites
    0 … cut (with Σ_L) and g_R = a_R + b_R·σ the right-connected one of sites
    cut+1 … N−1 (with Σ_R), both in Pauli form, and t the hopping on the cut,

        det(z − H − Σ) = det(left half) det(right half) det(1 − t² g_L g_R),
        det(1 − t² g_L g_R) = D0 − 2 t² b_L·b_R,

    D0 = (1 − t² a_L a_R)² − t⁴(a_L² b_R·b_R + a_R² b_L·b_L) + t⁴ (b_L·b_L)(b_R·b_R)
    (bilinear products; Pauli algebra), where D0 is invariant under a spin
    rotation of either half.

    Outputs
    -------
    d0 : (P,) complex
    bl, br : (P, 3) complex
        b_L and b_R multiplied by t (so that the coupling term is −2 b_L·b_R).
    """
    n = onsite.shape[0]
    npt = z.shape[0]
    tc = t[cut]
    t2 = tc * tc
    t4 = t2 * t2
    on8 = _split(onsite)
    zw = np.empty(3 * W)
    sig = np.empty((2, 8 * W))
    hl = np.empty((1, 8 * W))
    hr = np.empty((1, 8 * W))
    dd = np.empty(2 * W)
    for k0 in range(0, npt, W):
        nk = W if npt - k0 > W else npt - k0
        _load(z, eps, k0, zw)
        for side in range(2):
            _sigma(zw, leads[side], sig, side)
        _half(zw, on8, magnetic, slope, t, np.int64(0), cut, sig, np.int64(0), hl)
        _half(zw, on8, magnetic, slope, t, n - 1, cut + 1, sig, np.int64(1), hr)
        for b in range(W):
            lar, lai, lxr, lxi, lyr, lyi, lzr, lzi = _block(hl, 0, b)
            rar, rai, rxr, rxi, ryr, ryi, rzr, rzi = _block(hr, 0, b)
            slr, sli = _cmul(lxr, lxi, lxr, lxi)
            vr, vi = _cmul(lyr, lyi, lyr, lyi)
            slr, sli = slr + vr, sli + vi
            vr, vi = _cmul(lzr, lzi, lzr, lzi)
            slr, sli = slr + vr, sli + vi
            srr, sri = _cmul(rxr, rxi, rxr, rxi)
            vr, vi = _cmul(ryr, ryi, ryr, ryi)
            srr, sri = srr + vr, sri + vi
            vr, vi = _cmul(rzr, rzi, rzr, rzi)
            srr, sri = srr + vr, sri + vi
            # u = 1 − t² a_L a_R
            pr, pi = _cmul(t2 * lar, t2 * lai, rar, rai)
            ur, ui = 1.0 - pr, -pi
            uur, uui = _cmul(ur, ui, ur, ui)
            xr, xi = _cmul(lar, lai, lar, lai)
            xr, xi = _cmul(xr, xi, srr, sri)
            yr, yi = _cmul(rar, rai, rar, rai)
            yr, yi = _cmul(yr, yi, slr, sli)
            wr, wi = _cmul(t4 * slr, t4 * sli, srr, sri)
            dd[b] = (uur - t4 * (xr + yr)) + wr
            dd[W + b] = (uui - t4 * (xi + yi)) + wi
        for b in range(nk):
            d0[k0 + b] = complex(dd[b], dd[W + b])
            for q in range(3):
                bl[k0 + b, q] = complex(tc * hl[0, (2 + 2 * q) * W + b],
                                        tc * hl[0, (3 + 2 * q) * W + b])
                br[k0 + b, q] = complex(tc * hr[0, (2 + 2 * q) * W + b],
                                        tc * hr[0, (3 + 2 * q) * W + b])


@njit(**_OPTS)
def site_torque(site_obs, mag, delta, out):
    """Exchange torque density Δ_j m_j × s_j of every point and site into out (P, N, 3).

    site_obs : (P, N, 4) density and spin density (what :func:`window` writes), mag (N, 3)
    and delta (N,) the sites' magnetization directions and exchange splittings.  One pass
    over the spin densities (NumPy's expression made five temporary arrays per component,
    as long as the kernel that computed them).
    """
    for k in range(site_obs.shape[0]):
        for j in range(site_obs.shape[1]):
            d = delta[j]
            m0, m1, m2 = mag[j, 0], mag[j, 1], mag[j, 2]
            s0, s1, s2 = site_obs[k, j, 1], site_obs[k, j, 2], site_obs[k, j, 3]
            out[k, j, 0] = d * (m1 * s2 - m2 * s1)
            out[k, j, 1] = d * (m2 * s0 - m0 * s2)
            out[k, j, 2] = d * (m0 * s1 - m1 * s0)
