"""Batched, globally adaptive Gauss–Kronrod quadrature of vector-valued integrands.

Pure NumPy.  The integrand is called with a whole array of nodes at once, so a
batched solver evaluates every new interval of an iteration in one call.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

__all__ = ["QuadResult", "IntegrationWarning", "adaptive_quad"]

# Gauss–Kronrod 7/15 nodes and weights on [-1, 1] (QUADPACK's qk15, Piessens et al. 1983).
_XGK = np.array([
    0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
    0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
    0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
    0.207784955007898467600689403773245, 0.0])
_WGK = np.array([
    0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
    0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
    0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
    0.204432940075298892414161999234649, 0.209482141084727828012999174891714])
_WG = np.array([
    0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
    0.381830050505118944950369775488975, 0.417959183673469387755102040816327])
NODES = np.concatenate([-_XGK[:-1], _XGK[::-1]])  # 15 nodes, ascending
WK = np.concatenate([_WGK[:-1], _WGK[::-1]])
WG = np.zeros(15)
WG[1:7:2] = _WG[:3]
WG[7] = _WG[3]
WG[9:15:2] = _WG[2::-1]


class IntegrationWarning(UserWarning):
    """An integral did not reach the requested tolerance."""


@dataclass
class QuadResult:
    """Result of :func:`adaptive_quad`.

    Attributes
    ----------
    value, error : ndarray
        Integral and its error estimate (sum over intervals of |K15 − G7|).
    n_eval : int
        Integrand evaluations.
    converged : bool
    intervals : ndarray (n, 2)
        Final subdivision (useful for diagnostics and plots).
    """

    value: np.ndarray
    error: np.ndarray
    n_eval: int
    converged: bool
    intervals: np.ndarray


def _rule(f, a, b):
    """Apply G7/K15 on intervals [a_i, b_i]; returns (K, |K − G|) of shape (n, ...)."""
    half = 0.5 * (b - a)
    mid = 0.5 * (b + a)
    x = mid[:, None] + half[:, None] * NODES[None, :]
    vals = f(x.ravel())
    vals = vals.reshape((len(a), 15) + vals.shape[1:])
    k = np.tensordot(WK, vals, axes=([0], [1])) * _bcast(half, vals.ndim - 1)
    g = np.tensordot(WG, vals, axes=([0], [1])) * _bcast(half, vals.ndim - 1)
    return k, np.abs(k - g)


def _bcast(v, ndim):
    return v.reshape(v.shape + (1,) * (ndim - 1))


def adaptive_quad(f, points, tolerance, *, max_eval=200_000, min_intervals=0, progress=None,
                  what="integral"):
    """Integrate a vector-valued function adaptively over [points[0], points[-1]].

    Parameters
    ----------
    f : callable
        ``f(x)`` with x of shape (n,) returns an array of shape (n, ...).
    points : sequence of float
        Sorted breakpoints (integration limits first and last); the integrand
        is never evaluated on them, so band edges and resonance centres belong
        here.
    tolerance : callable
        ``tolerance(value)`` returns the allowed absolute error for each
        component of the current estimate ``value`` (same shape).  Iteration
        stops when every component's error is within it.
    max_eval : int
        Evaluation budget; on exhaustion an :class:`IntegrationWarning` is
        issued and ``converged`` is False.
    min_intervals : int
        Bisect the initial intervals until there are at least this many.
    progress : callable, optional
        Called with the number of new evaluations after each batch.

    Returns
    -------
    QuadResult
    """
    pts = np.unique(np.asarray(points, dtype=float))
    if len(pts) < 2:
        raise ValueError("need at least two distinct points")
    a, b = pts[:-1], pts[1:]
    while len(a) < min_intervals:
        mid = 0.5 * (a + b)
        a, b = np.concatenate([a, mid]), np.concatenate([mid, b])
    val, err = _rule(f, a, b)
    n_eval = 15 * len(a)
    if progress:
        progress(15 * len(a))
    converged = False
    while True:
        total, total_err = val.sum(0), err.sum(0)
        allowed = np.asarray(tolerance(total), dtype=float)
        excess = total_err / np.maximum(allowed, 1e-300)
        if np.all(total_err <= allowed):
            converged = True
            break
        if n_eval >= max_eval:
            break
        # Score intervals by their share of the error in the worst components.
        score = (err / np.maximum(allowed, 1e-300)).reshape(len(a), -1).max(1)
        order = np.argsort(score)[::-1]
        cum = np.cumsum(score[order])
        worst = excess.max()
        n_split = int(np.searchsorted(cum, 0.5 * cum[-1])) + 1
        n_split = max(1, min(n_split, len(order), max(1, (max_eval - n_eval) // 30)))
        if worst < 1:  # pragma: no cover - guarded by the convergence test above
            break
        sel = order[:n_split]
        keep = np.ones(len(a), bool)
        keep[sel] = False
        mid = 0.5 * (a[sel] + b[sel])
        if np.any((mid <= a[sel]) | (mid >= b[sel])):
            warnings.warn(f"{what}: interval too small to subdivide", IntegrationWarning,
                          stacklevel=2)
            break
        na, nb = np.concatenate([a[sel], mid]), np.concatenate([mid, b[sel]])
        nval, nerr = _rule(f, na, nb)
        n_eval += 15 * len(na)
        if progress:
            progress(15 * len(na))
        a, b = np.concatenate([a[keep], na]), np.concatenate([b[keep], nb])
        val, err = np.concatenate([val[keep], nval]), np.concatenate([err[keep], nerr])
    total, total_err = val.sum(0), err.sum(0)
    if not converged:
        warnings.warn(
            f"{what}: tolerance not reached after {n_eval} evaluations "
            f"(estimated error {np.max(total_err):.3g}); results carry this error estimate",
            IntegrationWarning,
            stacklevel=2,
        )
    order = np.argsort(a)
    return QuadResult(total, total_err, n_eval, converged, np.stack([a[order], b[order]], 1))
