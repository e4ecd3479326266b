"""Batched, globally adaptive Gauss–Kronrod quadrature of vector-valued integrands.

Pure NumPy.  The integrand is called with a whole array of nodes at once, so a
batched solver evaluates every new interval of an iteration in one call.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

__all__ = ["QuadResult", "IntegrationWarning", "adaptive_quad", "LEAN_SIZE"]

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


#: Integrands with more components than this are integrated lean (:func:`_adaptive_lean`).
LEAN_SIZE = 512
#: Lean route: bytes of integrand values per call of the integrand (the chunk of intervals
#: evaluated at once) ...
CHUNK_BYTES = 16 * 2**20
#: ... and of the per-interval value and error vectors it keeps (the intervals most likely
#: to be split next); an interval split without a kept vector is evaluated again.
CACHE_BYTES = 192 * 2**20
#: Lean route: most groups of components whose largest error is kept per interval.
MAX_GROUPS = 64


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


def _splits(score, a, b, budget_left, what):
    """The intervals to bisect next: the worst ones that carry half the total score.

    Returns ``(sel, keep, mid)`` (indices, mask of the others, midpoints), or None with
    an IntegrationWarning when an interval is too small to bisect.
    """
    order = np.argsort(score)[::-1]
    cum = np.cumsum(score[order])
    n_split = int(np.searchsorted(cum, 0.5 * cum[-1])) + 1
    n_split = max(1, min(n_split, len(order), max(1, budget_left // 30)))
    sel = order[:n_split]
    keep = np.ones(len(a), bool)
    keep[sel] = False
    mid = 0.5 * (a[sel] + b[sel])
    if np.any((mid <= a[sel]) | (mid >= b[sel])):
        warnings.warn(f"{what}: interval too small to subdivide", IntegrationWarning,
                      stacklevel=4)
        return None
    return sel, keep, mid


def adaptive_quad(f, points, tolerance, *, max_eval=200_000, min_intervals=0, progress=None,
                  what="integral", lean=None):
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
    lean : bool, optional
        Integrate without keeping each interval's value vector (see
        :func:`_adaptive_lean`): memory O(size) instead of O(size × intervals).
        Default: lean when the integrand has more than :data:`LEAN_SIZE`
        components (site-resolved profiles).  Both routes take the same
        decisions; the lean one re-evaluates a split interval whose vector no
        longer fits in :data:`CACHE_BYTES`.

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
    # The first interval alone: the size of the integrand decides how intervals are stored.
    val, err = _rule(f, a[:1], b[:1])
    if lean or (lean is None and val[0].size > LEAN_SIZE):
        return _adaptive_lean(f, a, b, (val, err), tolerance, max_eval, progress, what)
    if len(a) > 1:
        rest = _rule(f, a[1:], b[1:])
        val, err = np.concatenate([val, rest[0]]), np.concatenate([err, rest[1]])
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
        if excess.max() < 1:  # pragma: no cover - guarded by the convergence test above
            break
        split = _splits(score, a, b, max_eval - n_eval, what)
        if split is None:
            break
        sel, keep, mid = split
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


class _Sum:
    """Per-element running sum with Neumaier's compensation.

    Intervals enter and leave the lean route's sums one by one, large ones
    early: without compensation the rounding of the early terms (up to
    ε × the coarse errors) would stay in a final error sum many orders of
    magnitude smaller.
    """

    def __init__(self, size, dtype):
        self.s = np.zeros(size, dtype)
        self.c = np.zeros(size, dtype)

    def add(self, rows, sign=1):
        for x in rows:
            x = x if sign == 1 else -x
            t = self.s + x
            self.c += np.where(np.abs(self.s) >= np.abs(x), (self.s - t) + x, (x - t) + self.s)
            self.s = t

    def value(self):
        return self.s + self.c


def _groups(tolerance, shape, size):
    """Boundaries of groups of components that share one allowed error.

    The tolerance is applied to a probe with distinct, increasing components;
    components with the same allowed error in a row form a group (for
    :func:`~mtj_kwant.integrate._tolerance`: the current, the torque, the
    interfacial spin current and each profile array).  Per-element
    tolerances give at most :data:`MAX_GROUPS` contiguous groups instead.
    """
    probe = (1e6 * np.arange(1.0, size + 1.0)).reshape(shape)
    allowed = np.broadcast_to(np.asarray(tolerance(probe), dtype=float), shape).ravel()
    bounds = np.concatenate([[0], np.flatnonzero(allowed[1:] != allowed[:-1]) + 1, [size]])
    if len(bounds) - 1 > MAX_GROUPS:
        bounds = np.unique(np.linspace(0, size, MAX_GROUPS + 1).round().astype(int))
    return bounds


def _adaptive_lean(f, a, b, first, tolerance, max_eval, progress, what):
    """:func:`adaptive_quad` without the per-interval value vectors (memory O(size)).

    The integral and its error (sum over intervals of |K15 − G7|, per
    component) are running sums; per interval only the largest error of each
    group of components with a common allowed error (:func:`_groups`) is
    kept, which is all that the choice of intervals to split needs: its score
    is max over groups of (largest error)/(smallest allowed error), the score
    of the full route when the allowed error is constant in each group (as
    for :func:`~mtj_kwant.integrate._tolerance`), an upper bound otherwise.
    A split interval's contribution leaves the sums: from the kept vectors
    of the intervals most likely to be split (:data:`CACHE_BYTES`), or by
    evaluating it again.  Re-evaluations count in ``n_eval`` but not against
    ``max_eval``, so both routes make the same decisions.  The integrand is
    called on chunks of intervals of at most :data:`CHUNK_BYTES` of values.
    """
    shape = first[0].shape[1:]
    size = int(np.prod(shape, dtype=int))
    bounds = _groups(tolerance, shape, size)
    starts = bounds[:-1]
    per_call = max(1, CHUNK_BYTES // (15 * 8 * size))
    capacity = int(min(CACHE_BYTES // (16 * size), 1 << 20))
    dtype = np.result_type(first[0].dtype, float)
    pool_k = np.empty((capacity, size), dtype)  # untouched rows take no memory
    pool_e = np.empty((capacity, size))
    free = list(range(capacity - 1, -1, -1))
    total, total_err = _Sum(size, dtype), _Sum(size, float)
    counts = {"eval": 0, "budget": 0}

    def chunks(na, nb):
        for s in range(0, len(na), per_call):
            k, e = _rule(f, na[s:s + per_call], nb[s:s + per_call])
            yield s, k, e

    def count(n, budget=True):
        counts["eval"] += n
        counts["budget"] += n if budget else 0
        if progress:
            progress(n)

    def absorb(k, e, rows, slots, offset):
        k, e = k.reshape(len(k), -1), e.reshape(len(e), -1)
        total.add(k)
        total_err.add(e)
        rows[offset:offset + len(k)] = np.maximum.reduceat(e, starts, axis=1)
        for r in range(len(k)):
            if free:
                slot = free.pop()
                pool_k[slot], pool_e[slot] = k[r], e[r]
                slots[offset + r] = slot

    def evaluate(na, nb, done=None):
        """New intervals into the sums; their group errors and cache slots."""
        rows = np.empty((len(na), len(starts)))
        slots = np.full(len(na), -1)
        skip = 0
        if done is not None:
            absorb(*done, rows, slots, 0)
            count(15 * len(done[0]))
            skip = len(done[0])
        for s, k, e in chunks(na[skip:], nb[skip:]):
            absorb(k, e, rows, slots, skip + s)
            count(15 * len(k))
        return rows, slots

    emax, slots = evaluate(a, b, first)
    converged = False
    while True:
        value, error = total.value(), total_err.value()
        allowed = np.broadcast_to(np.asarray(tolerance(value.reshape(shape)), dtype=float),
                                  shape).ravel()
        if np.all(error <= allowed):
            converged = True
            break
        if counts["budget"] >= max_eval:
            break
        floor = np.maximum(allowed, 1e-300)
        excess = error / floor
        score = (emax / np.minimum.reduceat(floor, starts)).max(1)
        if excess.max() < 1:  # pragma: no cover - guarded by the convergence test above
            break
        split = _splits(score, a, b, max_eval - counts["budget"], what)
        if split is None:
            break
        sel, keep, mid = split
        # The split intervals leave the sums.
        for slot in slots[sel][slots[sel] >= 0]:
            total.add(pool_k[slot:slot + 1], -1)
            total_err.add(pool_e[slot:slot + 1], -1)
            free.append(int(slot))
        again = sel[slots[sel] < 0]
        for _, k, e in chunks(a[again], b[again]):
            total.add(k.reshape(len(k), -1), -1)
            total_err.add(e.reshape(len(e), -1), -1)
            count(15 * len(k), budget=False)
        na, nb = np.concatenate([a[sel], mid]), np.concatenate([mid, b[sel]])
        # Room for the new intervals: drop the kept vectors least likely to be split.
        need = len(na) - len(free)
        if need > 0:
            held = np.flatnonzero(keep & (slots >= 0))
            for i in held[np.argsort(score[held])[:need]]:
                free.append(int(slots[i]))
                slots[i] = -1
        nrows, nslots = evaluate(na, nb)
        a, b = np.concatenate([a[keep], na]), np.concatenate([b[keep], nb])
        emax = np.concatenate([emax[keep], nrows])
        slots = np.concatenate([slots[keep], nslots])
    total, total_err = total.value(), np.maximum(total_err.value(), 0.0)
    if not converged:
        warnings.warn(
            f"{what}: tolerance not reached after {counts['eval']} evaluations "
            f"(estimated error {np.max(total_err):.3g}); results carry this error estimate",
            IntegrationWarning,
            stacklevel=3,
        )
    order = np.argsort(a)
    return QuadResult(total.reshape(shape), total_err.reshape(shape), counts["eval"], converged,
                      np.stack([a[order], b[order]], 1))
