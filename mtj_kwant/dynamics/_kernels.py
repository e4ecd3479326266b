r"""Compiled (numba) right-hand side and integrators of the macrospin LLGS equation.

Parameter vector ``P`` (float64, built by ``Macrospin._params``)::

    0 γ₀ = μ₀γ   1 α   2-4 H_applied   5 H_K = 2K_u/(μ₀M_s)   6-8 u   9-11 M_s·N_i
    12-14 p   15 γħ/(2eM_s d)   16 thermal-field density √(2αk_BT/(γ₀μ₀M_sV))

Torque tables (``Torque._tables``): for q in (a, b, J) an array ``C`` of shape
(n_intervals, degree + 1, K): q(x, c) = Σ_k T_k(c) Σ_i C[j, i, k] (x − xl[j])^i, with x the
drive (V or A/m²), j the interval of x (``xint`` holds the n_intervals − 1 inner
breakpoints, ``xl`` the left ends) and T_k the Chebyshev polynomials of c = m·p.
The drive waveform is piecewise linear through (``tw``, ``xw``), constant outside.

Equation (Gilbert form, the spin torque τ added to it as a torque, then solved for dm/dt):

    dm/dt = −γ₀ m×H + α m×dm/dt + τ,   τ = s [a m×(p×m) + b m×p],   s = γħ/(2eM_s d)
    (1+α²) dm/dt = −γ₀ m×H − αγ₀ m×(m×H) + s[(a − αb) m×(p×m) + (b + αa) m×p]

with H = H_eff (+ H_th).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_OPTS = dict(cache=True, nogil=True, fastmath=False)


@njit(inline="always", **_OPTS)
def table_eval(x, c, xint, xl, C):
    """q(x, c) of one torque table (module docstring)."""
    n = xint.shape[0]
    lo = 0
    hi = n
    while lo < hi:  # j = number of inner breakpoints <= x
        mid = (lo + hi) // 2
        if xint[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    j = lo
    s = x - xl[j]
    deg1 = C.shape[1]
    K = C.shape[2]
    val = 0.0
    tkm1 = 1.0
    tk = c
    for k in range(K):
        if k == 0:
            t = 1.0
        elif k == 1:
            t = c
        else:
            t = 2.0 * c * tk - tkm1
            tkm1 = tk
            tk = t
        acc = 0.0
        for i in range(deg1 - 1, -1, -1):
            acc = acc * s + C[j, i, k]
        val += acc * t
    return val


@njit(inline="always", **_OPTS)
def drive_at(t, tw, xw):
    """Piecewise-linear drive through (tw, xw), constant outside."""
    n = tw.shape[0]
    if n == 1 or t <= tw[0]:
        return xw[0]
    if t >= tw[n - 1]:
        return xw[n - 1]
    lo = 0
    hi = n - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if tw[mid] <= t:
            lo = mid
        else:
            hi = mid
    w = (t - tw[lo]) / (tw[hi] - tw[lo])
    return xw[lo] + w * (xw[hi] - xw[lo])


@njit(**_OPTS)
def rhs(t, mx, my, mz, P, tw, xw, xint, xl, Ca, Cb, hx, hy, hz):
    """Deterministic dm/dt at (t, m), with an extra field (hx, hy, hz) in A/m added to H_eff."""
    g0 = P[0]
    al = P[1]
    ux = P[6]
    uy = P[7]
    uz = P[8]
    mu = mx * ux + my * uy + mz * uz
    Hx = P[2] + P[5] * mu * ux - P[9] * mx + hx
    Hy = P[3] + P[5] * mu * uy - P[10] * my + hy
    Hz = P[4] + P[5] * mu * uz - P[11] * mz + hz
    ax = my * Hz - mz * Hy
    ay = mz * Hx - mx * Hz
    az = mx * Hy - my * Hx
    bx = my * az - mz * ay
    by = mz * ax - mx * az
    bz = mx * ay - my * ax
    px = P[12]
    py = P[13]
    pz = P[14]
    c = mx * px + my * py + mz * pz
    qx = my * pz - mz * py
    qy = mz * px - mx * pz
    qz = mx * py - my * px
    rx = px - c * mx
    ry = py - c * my
    rz = pz - c * mz
    x = drive_at(t, tw, xw)
    if c > 1.0:
        c = 1.0
    elif c < -1.0:
        c = -1.0
    a = table_eval(x, c, xint, xl, Ca)
    b = table_eval(x, c, xint, xl, Cb)
    s = P[15]
    A = s * (a - al * b)
    B = s * (b + al * a)
    f = 1.0 / (1.0 + al * al)
    dx = f * (-g0 * ax - al * g0 * bx + A * rx + B * qx)
    dy = f * (-g0 * ay - al * g0 * by + A * ry + B * qy)
    dz = f * (-g0 * az - al * g0 * bz + A * rz + B * qz)
    return dx, dy, dz


#: The same right-hand side, inlined at numba-IR level into the ensemble kernel (whose
#: inner loop is latency-bound); dopri calls ``rhs`` (inlining it there costs ~7 s compile).
rhs_inline = njit(inline="always", nogil=True)(rhs.py_func)


@njit(inline="always", **_OPTS)
def noise_term(mx, my, mz, P, wx, wy, wz):
    """The thermal part of dm for a field increment w = ∫H_th dt (A·s/m)."""
    g0 = P[0]
    al = P[1]
    ax = my * wz - mz * wy
    ay = mz * wx - mx * wz
    az = mx * wy - my * wx
    bx = my * az - mz * ay
    by = mz * ax - mx * az
    bz = mx * ay - my * ax
    f = -g0 / (1.0 + al * al)
    return f * (ax + al * bx), f * (ay + al * by), f * (az + al * bz)


# Dormand–Prince 5(4) tableau
_C2, _C3, _C4, _C5 = 1 / 5, 3 / 10, 4 / 5, 8 / 9
_A21 = 1 / 5
_A31, _A32 = 3 / 40, 9 / 40
_A41, _A42, _A43 = 44 / 45, -56 / 15, 32 / 9
_A51, _A52, _A53, _A54 = 19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729
_A61, _A62, _A63, _A64, _A65 = 9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656
_B1, _B3, _B4, _B5, _B6 = 35 / 384, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84
_E1, _E3, _E4, _E5, _E6, _E7 = (71 / 57600, -71 / 16695, 71 / 1920, -17253 / 339200,
                                22 / 525, -1 / 40)


@njit(**_OPTS)
def _hermite_root(t0, t1, g0, g1, d0, d1):
    """Root in [t0, t1] of the cubic Hermite interpolant of g (values g0, g1, slopes d0, d1)."""
    h = t1 - t0
    lo = 0.0
    hi = 1.0
    glo = g0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        s = mid
        h00 = 2 * s**3 - 3 * s**2 + 1
        h10 = s**3 - 2 * s**2 + s
        h01 = -2 * s**3 + 3 * s**2
        h11 = s**3 - s**2
        gm = h00 * g0 + h10 * h * d0 + h01 * g1 + h11 * h * d1
        if (gm > 0) == (glo > 0):
            lo = mid
            glo = gm
        else:
            hi = mid
    return t0 + 0.5 * (lo + hi) * h


@njit(inline="always", **_OPTS)
def _store(ts, ms, n, t, mx, my, mz):
    """Append (t, m) to the stored samples, doubling the arrays when full."""
    if n >= ts.shape[0]:
        ts2 = np.empty(2 * ts.shape[0])
        ms2 = np.empty((2 * ts.shape[0], 3))
        ts2[:n] = ts[:n]
        ms2[:n] = ms[:n]
        ts, ms = ts2, ms2
    ts[n] = t
    ms[n, 0] = mx
    ms[n, 1] = my
    ms[n, 2] = mz
    return ts, ms, n + 1


@njit(**_OPTS)
def dopri(m0, t_end, P, tw, xw, xint, xl, Ca, Cb, rtol, atol, h0, hmax, max_steps,
          save_every, sw_axis, sw_thr, sw_on, stop_on_switch):
    """Adaptive Dormand–Prince 5(4) integration of the deterministic LLGS equation.

    Returns (t, m, t_switch, status, n_steps, n_rejected); status 0 = reached t_end,
    1 = stopped at the switch, 2 = max_steps exhausted, 3 = step size underflow.  The switch
    (sign change of m·sw_axis − sw_thr) is located on the cubic Hermite interpolant of the step,
    at every accepted step (whatever is stored).

    The knots of the drive waveform (``tw``, where its slope jumps) are step boundaries: a step
    that would cross the next knot is shortened to end on it (stretched by up to 1 % to avoid a
    sliver), and the step after it starts again from the size proposed before the shortening
    (capped by the error estimate of the shortened step), so the step size is limited only
    near the knots, not everywhere.  The same applies to t_end.  A point is stored at the first
    accepted step at least ``save_every`` after the previous stored one, and always at the end
    (t_end, the switch, or the last state reached when max_steps or the step size ran out).
    """
    ts = np.empty(1024)
    ms = np.empty((1024, 3))
    mx, my, mz = m0[0], m0[1], m0[2]
    t = 0.0
    ts[0] = 0.0
    ms[0, 0] = mx
    ms[0, 1] = my
    ms[0, 2] = mz
    n = 1
    last_save = 0.0
    t_switch = np.nan
    g_prev = (mx * sw_axis[0] + my * sw_axis[1] + mz * sw_axis[2]) - sw_thr
    sign0 = 1.0 if g_prev >= 0 else -1.0
    k1x, k1y, k1z = rhs(t, mx, my, mz, P, tw, xw, xint, xl, Ca, Cb, 0.0, 0.0, 0.0)
    h = h0
    status = 0
    steps = 0
    rejected = 0
    nk = tw.shape[0]
    ki = 0          # the next knot of the waveform after t (nk: none)
    while ki < nk and tw[ki] <= 0.0:
        ki += 1
    while t < t_end:
        if steps >= max_steps:
            status = 2
            break
        if h > hmax:
            h = hmax
        while ki < nk and tw[ki] - t <= 1e-13 * max(t, 1e-30):
            ki += 1         # a knot reached (or closer than rounding)
        stop = t_end
        if ki < nk and tw[ki] < t_end:
            stop = tw[ki]
        h_prop = h
        clipped = False
        if t + 1.01 * h >= stop:
            h = stop - t
            clipped = True
        if h < 1e-14 * max(t, 1e-30) or h <= 0.0:
            status = 3
            break
        # stages
        y2x = mx + h * _A21 * k1x
        y2y = my + h * _A21 * k1y
        y2z = mz + h * _A21 * k1z
        k2x, k2y, k2z = rhs(t + _C2 * h, y2x, y2y, y2z, P, tw, xw, xint, xl, Ca, Cb, 0.0, 0.0, 0.0)
        y3x = mx + h * (_A31 * k1x + _A32 * k2x)
        y3y = my + h * (_A31 * k1y + _A32 * k2y)
        y3z = mz + h * (_A31 * k1z + _A32 * k2z)
        k3x, k3y, k3z = rhs(t + _C3 * h, y3x, y3y, y3z, P, tw, xw, xint, xl, Ca, Cb, 0.0, 0.0, 0.0)
        y4x = mx + h * (_A41 * k1x + _A42 * k2x + _A43 * k3x)
        y4y = my + h * (_A41 * k1y + _A42 * k2y + _A43 * k3y)
        y4z = mz + h * (_A41 * k1z + _A42 * k2z + _A43 * k3z)
        k4x, k4y, k4z = rhs(t + _C4 * h, y4x, y4y, y4z, P, tw, xw, xint, xl, Ca, Cb, 0.0, 0.0, 0.0)
        y5x = mx + h * (_A51 * k1x + _A52 * k2x + _A53 * k3x + _A54 * k4x)
        y5y = my + h * (_A51 * k1y + _A52 * k2y + _A53 * k3y + _A54 * k4y)
        y5z = mz + h * (_A51 * k1z + _A52 * k2z + _A53 * k3z + _A54 * k4z)
        k5x, k5y, k5z = rhs(t + _C5 * h, y5x, y5y, y5z, P, tw, xw, xint, xl, Ca, Cb, 0.0, 0.0, 0.0)
        y6x = mx + h * (_A61 * k1x + _A62 * k2x + _A63 * k3x + _A64 * k4x + _A65 * k5x)
        y6y = my + h * (_A61 * k1y + _A62 * k2y + _A63 * k3y + _A64 * k4y + _A65 * k5y)
        y6z = mz + h * (_A61 * k1z + _A62 * k2z + _A63 * k3z + _A64 * k4z + _A65 * k5z)
        k6x, k6y, k6z = rhs(t + h, y6x, y6y, y6z, P, tw, xw, xint, xl, Ca, Cb, 0.0, 0.0, 0.0)
        nx = mx + h * (_B1 * k1x + _B3 * k3x + _B4 * k4x + _B5 * k5x + _B6 * k6x)
        ny = my + h * (_B1 * k1y + _B3 * k3y + _B4 * k4y + _B5 * k5y + _B6 * k6y)
        nz = mz + h * (_B1 * k1z + _B3 * k3z + _B4 * k4z + _B5 * k5z + _B6 * k6z)
        k7x, k7y, k7z = rhs(t + h, nx, ny, nz, P, tw, xw, xint, xl, Ca, Cb, 0.0, 0.0, 0.0)
        ex = h * (_E1 * k1x + _E3 * k3x + _E4 * k4x + _E5 * k5x + _E6 * k6x + _E7 * k7x)
        ey = h * (_E1 * k1y + _E3 * k3y + _E4 * k4y + _E5 * k5y + _E6 * k6y + _E7 * k7y)
        ez = h * (_E1 * k1z + _E3 * k3z + _E4 * k4z + _E5 * k5z + _E6 * k6z + _E7 * k7z)
        sc = atol + rtol
        err = math.sqrt((ex * ex + ey * ey + ez * ez) / 3.0) / sc
        steps += 1
        if err <= 1.0:
            t_new = stop if clipped else t + h
            norm = math.sqrt(nx * nx + ny * ny + nz * nz)
            nx /= norm
            ny /= norm
            nz /= norm
            if sw_on:
                g_new = (nx * sw_axis[0] + ny * sw_axis[1] + nz * sw_axis[2]) - sw_thr
                if (g_new >= 0) != (sign0 > 0) and np.isnan(t_switch):
                    d0 = k1x * sw_axis[0] + k1y * sw_axis[1] + k1z * sw_axis[2]
                    d1 = k7x * sw_axis[0] + k7y * sw_axis[1] + k7z * sw_axis[2]
                    t_switch = _hermite_root(t, t_new, g_prev, g_new, d0, d1)
                g_prev = g_new
            t = t_new
            mx, my, mz = nx, ny, nz
            k1x, k1y, k1z = rhs(t, mx, my, mz, P, tw, xw, xint, xl, Ca, Cb, 0.0, 0.0, 0.0)
            done = sw_on and stop_on_switch and not np.isnan(t_switch)
            if t - last_save >= save_every or t >= t_end or done:
                ts, ms, n = _store(ts, ms, n, t, mx, my, mz)
                last_save = t
            if done:
                status = 1
                break
            fac = 10.0 if err == 0.0 else min(10.0, 0.9 * err ** (-0.2))
            h_next = h * fac
            if clipped:
                # resume with the step proposed before the shortening, unless the error of
                # the shortened step (∝ h⁵) says that a step of that size would fail
                allowed = h_prop if err == 0.0 else 0.9 * h * err ** (-0.2)
                h_next = max(h_next, min(h_prop, allowed))
            h = h_next
        else:
            rejected += 1
            if not np.isfinite(err):
                h *= 0.2
            else:
                h *= max(0.2, 0.9 * err ** (-0.2))
    if ts[n - 1] < t:
        # stopped early (max_steps, underflow): the last state reached is always stored
        ts, ms, n = _store(ts, ms, n, t, mx, my, mz)
    return ts[:n], ms[:n], t_switch, status, steps, rejected


@njit(**_OPTS)
def heun_chunk(M, active, t0, dt, n_steps, noise, P, tw, xw, xint, xl, Ca, Cb, sw_axis,
               sw_thr, pos0, t_switch, stop_on_switch, stride, out, k0):
    """Advance the samples ``active`` of M (N, 3) by ``n_steps`` stochastic Heun steps.

    ``noise`` (n_steps, len(active), 3) holds the thermal-field increments ∫H_th dt (A·s/m)
    or has length 0 (T = 0: deterministic Heun).  Samples already switched are skipped when
    ``stop_on_switch``.  ``k0`` is the number of steps before the chunk; with ``stride`` > 0,
    m is written after every step whose overall number K = k0 + k + 1 is a multiple of
    ``stride``, to ``out[K // stride - k0 // stride - 1, a]`` (a chunk need not be a
    multiple of ``stride``).
    """
    noisy = noise.shape[0] > 0
    na = active.shape[0]
    for k in range(n_steps):
        t = t0 + k * dt
        for a in range(na):
            i = active[a]
            if stop_on_switch and not np.isnan(t_switch[i]):
                continue
            mx, my, mz = M[i, 0], M[i, 1], M[i, 2]
            if noisy:
                wx, wy, wz = noise[k, a, 0], noise[k, a, 1], noise[k, a, 2]
            else:
                wx, wy, wz = 0.0, 0.0, 0.0
            f1x, f1y, f1z = rhs_inline(t, mx, my, mz, P, tw, xw, xint, xl, Ca, Cb, 0.0, 0.0, 0.0)
            g1x, g1y, g1z = noise_term(mx, my, mz, P, wx, wy, wz)
            px = mx + f1x * dt + g1x
            py = my + f1y * dt + g1y
            pz = mz + f1z * dt + g1z
            f2x, f2y, f2z = rhs_inline(t + dt, px, py, pz, P, tw, xw, xint, xl, Ca, Cb, 0.0, 0.0, 0.0)
            g2x, g2y, g2z = noise_term(px, py, pz, P, wx, wy, wz)
            nx = mx + 0.5 * ((f1x + f2x) * dt + g1x + g2x)
            ny = my + 0.5 * ((f1y + f2y) * dt + g1y + g2y)
            nz = mz + 0.5 * ((f1z + f2z) * dt + g1z + g2z)
            norm = math.sqrt(nx * nx + ny * ny + nz * nz)
            nx /= norm
            ny /= norm
            nz /= norm
            if np.isnan(t_switch[i]):
                g0 = mx * sw_axis[0] + my * sw_axis[1] + mz * sw_axis[2] - sw_thr
                g1 = nx * sw_axis[0] + ny * sw_axis[1] + nz * sw_axis[2] - sw_thr
                if (g1 >= 0) != pos0[i]:
                    t_switch[i] = t + dt * g0 / (g0 - g1)
            M[i, 0] = nx
            M[i, 1] = ny
            M[i, 2] = nz
            if stride > 0 and (k0 + k + 1) % stride == 0:
                row = (k0 + k + 1) // stride - k0 // stride - 1
                out[row, a, 0] = nx
                out[row, a, 1] = ny
                out[row, a, 2] = nz
