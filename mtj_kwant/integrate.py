"""Integration over energy and transverse momentum: per-area observables at one bias.

The window part (DESIGN.md §1) of any observable O is::

    O_window = ∫ dE [f_L(E) − f_R(E)] ∫ d²k∥/(2π)² o_L(E, k∥)

with o_L the contribution of the scattering states incoming from the left.
Three routes, chosen from the junction:

- uniform mass (free electron): the integrand depends on E_x = E − ħ²k∥²/2m
  only, and the k∥ integral is done analytically (DESIGN.md §5)::

      O_window = m/(2πħ²) ∫ dE_x o_L(E_x) W(E_x),
      W(E_x) = ∫₀^∞ dε [f_L − f_R](E_x + ε)  →  (μ_L − E_x)₊ − (μ_R − E_x)₊ at T = 0;

- tight binding with one in-plane hopping t∥: the same reduction with the
  square-lattice transverse band, W(E_x) = a⁻² ∫ dε ρ₂D(ε) [f_L − f_R](E_x + ε),
  ρ₂D the normalised density of states of ε∥ = −2t∥(cos k_y a + cos k_z a);
- per-layer masses: a nested (E, ε∥) quadrature, ε∥ = ħ²k∥²/2m_e,
  ∫ d²k∥/(2π)² = (1/4π)(2m_e/ħ²) ∫ dε∥; per-layer in-plane hoppings
  (tight binding): the same with ∫ d²k∥/(2π)² = a⁻² ∫ dε∥ ρ₂D(ε∥) over
  [−4t, 4t], t the junction's ``hopping``.

Every integral is globally adaptive (Gauss–Kronrod 7/15) with breakpoints at
the leads' band edges, the chemical potentials and the narrow resonances
(quasi-bound quantum-well states), which are located beforehand as the poles
of G(z) = (z − H − Σ_L(z) − Σ_R(z))⁻¹ near the real axis.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .options import Options, OptionsError
from .physics import FERMI_TAIL, fermi, fermi_slope
from .quadrature import IntegrationWarning, adaptive_quad
from .solvers import ChainSolver, make_solver
from .units import E_OVER_H, K_B, PER_NM2

__all__ = [
    "LatticeWarning",
    "PointResult",
    "bias_point",
    "grand_potential_difference",
    "window_point",
    "find_resonances",
    "fermi",
]

class LatticeWarning(UserWarning):
    """A fixed lattice's discretisation error exceeds the requested tolerance, or a
    lattice-level function was given a continuum junction's system (its base lattice)."""


def _warn_base_lattice(jsys, what):
    """Warn that ``what`` computes a continuum junction on its base lattice, without the
    discretisation error (the continuum limit is :func:`~mtj_kwant.continuum.lattice_point`,
    what sweep, scan, profile and conductance use).  TypeError if ``jsys`` is not a system."""
    if not hasattr(jsys, "chain") or not hasattr(jsys, "junction"):
        raise TypeError(f"{what}: expected a JunctionSystem (mtj_kwant.make_system(junction)), "
                        f"got {type(jsys).__name__}")
    junction = jsys.junction
    if junction.continuum:
        warnings.warn(
            f"{what}: the junction has no lattice_spacing (a continuum junction), but a system "
            f"holds one lattice: computed on a = {jsys.chain.step:g} nm, and the errors "
            "leave out its discretisation error; use mtj_kwant.continuum.lattice_point (or "
            "sweep/scan) for the continuum limit, or make_system(junction.at_spacing(a)) for "
            "a chosen lattice", LatticeWarning, stacklevel=3)


@dataclass
class PointResult:
    """Per-area observables at one bias and angle: window part, Fermi sea and total.

    Attributes
    ----------
    current_density : float
        A/m² (e × electron flux left → right per area).
    torque : ndarray (3,)
        Window part of the torque vector on the free layer, (ħ/2e) A/m².
    interfacial : ndarray (3,)
        Window part of the spin current entering the free layer across its
        barrier-side interface, (ħ/2e) A/m² (what the diffusion model is fed
        with).
    errors : dict
        Error estimates of the quantities above and of ``torque_sea`` and
        ``torque_total`` when computed (same units).
    n_eval : int
        Solver evaluations.
    converged : bool
    resonances : ndarray (n, 2)
        Narrow resonances (centre, half width in eV) used as breakpoints.
    profile : dict or None
        Per-site / per-bond arrays of the window part (spin_density in
        ⟨σ⟩/nm³, spin_current and torque_density in (ħ/2e) A/m², current in
        A/m²); with the Fermi sea also ``"sea"`` (same keys).
    torque_sea, torque_total : ndarray (3,) or None
        Fermi-sea part at the reference chemical potential and the total
        (DESIGN.md §1), (ħ/2e) A/m².
    reference : int
        0: window from the left electrode with the sea at μ_R (the convention
        of DESIGN.md §1); 1: window from the right with the sea at μ_L (the
        same total, a cross-check).
    lattice_errors : dict
        Discretisation part of the error estimate (free electron, filled by
        :func:`~mtj_kwant.continuum.lattice_point`), same keys as ``errors``.
    lattice_steps : tuple of float
        Lattice steps (nm) the values come from (several: extrapolated).
    spin_current_difference, spin_flip_loss : ndarray (3,) or None
        With elastic scattering (:mod:`mtj_kwant.scba`): the spin-current difference
        J_in − J_out across the free layer and the spin-flip loss summed over it, (ħ/2e)
        A/m²; ``torque`` is then the exchange torque of Eq. (22): difference − loss.
    scba : dict or None
        With scattering: the self-consistency record (energies, transverse nodes,
        iterations).
    roundoff : float
        The round-off floor of the window's current, torque and interfacial
        spin current (A/m², (ħ/2e) A/m²), a coherent bound: a quantity
        within 100 × of it (one that vanishes exactly, such as a
        half-metal's antiparallel current) is resolved to it and its error
        covers it (:func:`roundoff_floor`).
    """

    current_density: float
    torque: np.ndarray
    errors: dict
    n_eval: int
    converged: bool
    resonances: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    profile: dict | None = None
    interfacial: np.ndarray = field(default_factory=lambda: np.zeros(3))
    torque_sea: np.ndarray | None = None
    torque_total: np.ndarray | None = None
    reference: int = 0
    lattice_errors: dict = field(default_factory=dict)
    lattice_steps: tuple = ()
    lattice_excess: float = 0.0
    collinear: bool = False
    roundoff: float = 0.0
    spin_current_difference: np.ndarray | None = None
    spin_flip_loss: np.ndarray | None = None
    scba: dict | None = None


def find_resonances(solver, lo, hi, *, energy=None, eps_par=0.0, gamma_max=0.02,
                    step=2e-3):
    """Narrow resonances of the open system along a line of (E, ε∥) space.

    With ``energy=None`` the line is E ∈ [lo, hi] at fixed ``eps_par``;
    otherwise it is ε∥ ∈ [lo, hi] at fixed ``energy``.

    Parameters
    ----------
    solver : Solver
        Any solver of the protocol (:class:`~mtj_kwant.solvers.Solver`): its ``log_det``.
    lo, hi : float
        Segment (eV).
    gamma_max : float
        Only resonances narrower than this (half width, eV) are returned:
        broader peaks are resolved by the adaptive quadrature alone.
    step : float
        Spacing of the scan (eV).  Resonances closer to each other than this
        are still found when they are narrow (the phase then jumps by 2π).

    Returns
    -------
    ndarray (n, 2)
        Centre and half width of each resonance (eV).

    Notes
    -----
    Φ = Im log det(E − H − Σ_L(E) − Σ_R(E)) is a Sturm count extended to the
    open system (Lloyd's formula): it falls by π across every state, smoothly
    for the continuum and within ~γ across a quasi-bound state of half width
    γ, where Φ − Φ_before = arg(E − E_r + iγ) − π.  The segment is scanned
    with spacing ``step`` where a coarse pass (every 25 steps) sees Φ change
    by more than π/4 (:func:`_scan_segments`); every cluster of intervals where
    Φ jumps by more than π/3 in one step, or 0.6π within 2 to 16 steps, holds
    states.  A
    cluster of one state is located by the complex secant of
    :func:`_pole_secant` (det ∝ E − z near the state, z = E_r − iγ: a few
    evaluations however narrow the state); a cluster of several, or one
    where the secant's zero fails its check, by multisection to the levels
    Φ_before − π/2 (the centre E_r) and Φ_before − π/2 ± π/4 (E_r ∓ γ).
    Each evaluation is one forward recursion, so a scan costs O(N) per point.
    """
    cs = solver

    def log_det(s):
        s = np.asarray(s, float)
        if energy is None:
            return np.asarray(cs.log_det(s, np.full_like(s, eps_par)), complex)
        return np.asarray(cs.log_det(np.full_like(s, energy), s), complex)

    def phase(s):
        return log_det(s).imag

    grid, scan, segments = _scan_segments(log_det, lo, hi, step)
    ph = scan.imag
    clusters = []
    for s0, s1 in segments:
        clusters += [(s0 + i0, s0 + i1) for i0, i1 in _jump_clusters(ph[s0:s1])]
    if not clusters:
        return np.zeros((0, 2))
    starts, ends = zip(*clusters)
    searches = []  # (lo, hi, centre, sign, offset): the level is centre + sign · offset
    starts_at, lows, highs, pending = [], [], [], []  # one secant per state
    for i0, i1 in zip(starts, ends):
        total = ph[i1] - ph[i0]
        count = int(round(abs(total) / np.pi))
        sign = 1.0 if total > 0 else -1.0
        # the scan interval [m, m + 1] where Φ crosses each state's level Φ_before ∓ (k + ½)π
        g = sign * (ph[i0:i1 + 1] - ph[i0])
        cross = [i0 + max(int(np.argmax(g >= (k + 0.5) * np.pi)) - 1, 0) for k in range(count)]
        for k, m in enumerate(cross):
            levels = [(grid[i0], grid[i1], ph[i0] + sign * (k + 0.5) * np.pi, sign, off)
                      for off in (0.0, -0.25 * np.pi, 0.25 * np.pi)]
            if cross.count(m) > 1:  # two states within one scan step
                searches += levels
                continue
            starts_at.append(m)
            # alone in its cluster, the state's pole may lie anywhere in it (a broad state's
            # level crossing is moved by the background); among others, near its crossing
            lows.append(grid[i0] if count == 1 else grid[max(m - 8, i0)])
            highs.append(grid[i1] if count == 1 else grid[min(m + 9, i1)])
            pending.append(levels)
    found = []
    if starts_at:
        m = np.array(starts_at)
        z, ok = _pole_secant(log_det, grid[m], grid[m + 1], scan[m], scan[m + 1],
                             lo=np.array(lows), hi=np.array(highs))
        # two secants that found the same state (one of them missed its own): both levels
        # are left to multisection
        order = np.argsort(z.real)
        zs = z[order]
        same = np.abs(np.diff(zs)) <= 1e-9 * np.maximum(1.0, np.abs(zs[1:]))
        ok[order[1:][same]] = False
        ok[order[:-1][same]] = False
        found.append(np.stack([z.real[ok], np.abs(z.imag[ok])], 1))
        for levels, good in zip(pending, ok):
            if not good:
                searches += levels
    if searches:
        x = _multisection(phase, np.array(searches)).reshape(-1, 3)
        found.append(np.stack([x[:, 0], 0.5 * np.abs(x[:, 2] - x[:, 1])], 1))
    if not found:
        return np.zeros((0, 2))
    centre, gamma = np.concatenate(found).T
    keep = (gamma < gamma_max) & (centre > lo) & (centre < hi)
    out = np.stack([centre[keep], gamma[keep]], 1)
    return out[np.argsort(out[:, 0])]


#: The resonance scan first samples Φ every COARSE_STEPS scan steps and scans finely only
#: where Φ changes by more than COARSE_JUMP between coarse points (and next to them).
COARSE_STEPS = 25
COARSE_JUMP = 0.25 * np.pi


def _scan_segments(log_det, lo, hi, step):
    """log det on the scan grid of [lo, hi]: (grid, values, segments [(start, stop), ...]).

    A coarse pass every :data:`COARSE_STEPS` steps flags the coarse intervals where Φ
    changes by more than :data:`COARSE_JUMP` (any state, however narrow, makes Φ fall by π
    inside one interval, or by π/2 on each side of a coarse point it sits on; the smooth
    continuum changes it by ~0.1π per coarse interval); those and their neighbours are
    scanned with ``step``, each run of them a segment of the returned grid.  Segments are
    independent scans: clusters never span two of them.
    """
    n = int(min(20000, max(16, math.ceil((hi - lo) / step) + 1)))
    nc = int(math.ceil((n - 1) / COARSE_STEPS)) + 1
    if nc < 4:
        grid = np.linspace(lo, hi, n)
        return grid, log_det(grid), [(0, n)]
    coarse = np.linspace(lo, hi, nc)
    flag = np.abs(np.diff(log_det(coarse).imag)) > COARSE_JUMP
    flag = flag | np.r_[False, flag[:-1]] | np.r_[flag[1:], False]
    idx = np.flatnonzero(flag)
    if not idx.size:
        return np.zeros(0), np.zeros(0, complex), []
    first = idx[np.r_[True, np.diff(idx) > 1]]
    last = idx[np.r_[np.diff(idx) > 1, True]] + 1
    grids, segments, start = [], [], 0
    for a, b in zip(first, last):
        m = max(2, int(round((b - a) * (n - 1) / (nc - 1))) + 1)
        grids.append(np.linspace(coarse[a], coarse[b], m))
        segments.append((start, start + m))
        start += m
    grid = np.concatenate(grids)
    return grid, log_det(grid), segments


def _jump_clusters(ph):
    """Clusters (i0, i1) of scan intervals where Φ jumps, widened by one interval each side.

    An interval jumps when Φ changes by more than π/3 across it (the narrowest states), or
    lies in a window of 2 to 16 steps across which Φ changes by more than 0.6π (states up
    to ~w·step/3 wide).
    """
    n = len(ph)
    if n < 2:
        return []
    jump = np.abs(np.diff(ph)) > np.pi / 3
    for w in (2, 4, 8, 16):
        if w < n:
            big = (np.abs(ph[w:] - ph[:-w]) > 0.6 * np.pi).astype(float)
            jump |= np.convolve(big, np.ones(w))[: n - 1] > 0
    idx = np.flatnonzero(jump)
    if not idx.size:
        return []
    starts = idx[np.r_[True, np.diff(idx) > 1]]
    ends = idx[np.r_[np.diff(idx) > 1, True]] + 1
    return [(max(i0 - 1, 0), min(i1 + 1, n - 1)) for i0, i1 in zip(starts, ends)]


def _pole_secant(log_det, x1, x2, log_1, log_2, lo, hi, max_iter=16, check=0.05):
    """The zero z = E_r − iγ of det(E − H − Σ) of one state in each bracket [lo, hi] (vectorised).

    ``x1``, ``x2`` are the starting points (inside the bracket) and ``log_1``, ``log_2``
    log det there.

    Near an isolated state det = c(E)(E − z) with c smooth, so two real points
    x₁, x₂ give z = (x₂ − r x₁)/(1 − r), r = det(x₂)/det(x₁) = exp(L₂ − L₁) (L = log det),
    exactly when c is constant and with an error ~ (c′/c)|x − z|² otherwise: the
    next points are Re z ∓ s, s the largest of γ, a tenth of the last correction
    and 8 ulp,
    so the iteration converges quadratically from the scan's bracket (a few
    steps for γ from 0 to 10 meV; a bisection of the phase needs ~40 for
    γ ~ 1e-12 eV).  Stops when the correction is below 1e-4 γ or 4 ulp, or
    when it stalls (no longer falls fourfold) below 1e-8 of the bracket: the
    round-off of det near a state narrower than its pivots' round-off (the
    pivot that vanishes there is a difference of O(t) numbers) then decides.

    Returns
    -------
    z : ndarray (n,) complex
    ok : ndarray (n,) bool
        Converged, Re z inside the bracket, and the phase across Re z ∓ s equal to
        the local model's arg(x₂ − z) − arg(x₁ − z) within ``check`` rad (a cluster
        that hides a second state, or a background that is not smooth on the
        scale s, fails it and is left to multisection).  A state whose phase is
        noisy within a few s (narrower than det's round-off) is checked again at
        Re z ∓ 100 s.
    """
    a, b = np.asarray(lo, float), np.asarray(hi, float)
    x1, x2 = np.asarray(x1, float).copy(), np.asarray(x2, float).copy()
    l1, l2 = np.asarray(log_1, complex).copy(), np.asarray(log_2, complex).copy()
    z = 0.5 * (x1 + x2) + 0j
    last = np.full(x1.shape, np.inf)
    done = np.zeros(x1.shape, bool)
    for _ in range(max_iter):
        act = np.flatnonzero(~done)
        if not act.size:
            break
        with np.errstate(all="ignore"):
            r = np.exp(l2[act] - l1[act])
            znew = (x2[act] - r * x1[act]) / (1.0 - r)
        # det equal at both points (a state narrower than the pivots' round-off, the
        # spread at its floor): the last zero stands
        flat = ~np.isfinite(znew) & np.isfinite(z[act]) & (last[act] <= 1e-8 * (b[act] - a[act]))
        znew[flat] = z[act][flat]
        bad = ~np.isfinite(znew) | (znew.real <= a[act]) | (znew.real >= b[act])
        znew[bad] = np.nan
        ulp = np.spacing(np.abs(znew.real))
        change = np.where(flat, 0.0, np.abs(znew - z[act]))
        z[act] = znew
        gamma = np.abs(znew.imag)
        stalled = (change > 0.25 * last[act]) & (change <= 1e-8 * (b[act] - a[act]))
        finished = bad | stalled | (change <= np.maximum(1e-4 * gamma, 4 * ulp))
        last[act] = change
        s = np.maximum(np.maximum(gamma, 0.1 * change), 8 * ulp)
        x1[act] = np.clip(znew.real - s, a[act], b[act])
        x2[act] = np.clip(znew.real + s, a[act], b[act])
        x1[act[bad]], x2[act[bad]] = a[act[bad]], b[act[bad]]
        pts = log_det(np.concatenate([x1[act], x2[act]]))
        l1[act], l2[act] = pts[:act.size], pts[act.size:]
        done[act[finished]] = True
    ok = done & np.isfinite(z) & (np.abs(_phase_check(z, x1, x2, l1, l2)) < check)
    # A state narrower than det's round-off (γ ≲ 1e-12 eV on fine lattices) has a noisy
    # phase within a few s: checked again 100 s away, where the noise is 100 times smaller.
    again = np.flatnonzero(done & np.isfinite(z) & ~ok)
    if again.size:
        s = 100 * (x2[again] - x1[again])
        y1 = np.clip(z[again].real - s, a[again], b[again])
        y2 = np.clip(z[again].real + s, a[again], b[again])
        pts = log_det(np.concatenate([y1, y2]))
        ok[again] = np.abs(_phase_check(z[again], y1, y2, pts[:again.size],
                                        pts[again.size:])) < check
    return z, ok


def _phase_check(z, x1, x2, l1, l2):
    """Measured phase change from x1 to x2 minus that of det ∝ E − z (rad)."""
    with np.errstate(invalid="ignore"):
        return (l2 - l1).imag - (np.angle(x2 - z) - np.angle(x1 - z))


def _multisection(phase, searches, max_iter=64):
    """Points where ``phase`` crosses each level inside its bracket (vectorised).

    Each search is (lo, hi, centre, sign, offset): g = sign·(Φ − centre) < offset at lo and
    ≥ offset at hi.  Near an isolated resonance g = arg(E − E_r + iγ) − π/2 up to sign,
    so u = tan g = ∓(E − E_r)/γ is linear in E.  Every iteration evaluates the midpoint and
    the regula-falsi estimate of u = tan(offset) from the bracket's ends, and, where both
    ends lie inside the arctangent's resolved range (|g| < 1.4), two more points 10⁻³ of
    the bracket on either side of the estimate; it keeps the sub-interval where the level
    is crossed first.  The midpoint guarantees a halving (bound states, clusters, a phase
    whose round-off hides the arctangent far from a very narrow resonance); a trusted
    estimate shrinks the bracket a thousandfold.  Stops at brackets of 4 ulp.
    """
    lo, hi, centre, sign, offset = (searches[:, i].copy() for i in range(5))
    half = 0.5 * np.pi * (1 - 1e-12)
    ends = (phase(np.concatenate([lo, hi])).reshape(2, -1) - centre) * sign
    g_lo, g_hi = ends[0], ends[1]
    target = np.tan(offset)
    for _ in range(max_iter):
        width = hi - lo
        active = np.flatnonzero(width > 4 * np.spacing(np.maximum(np.abs(lo), np.abs(hi))))
        if not active.size:
            break
        a, b, w = lo[active], hi[active], width[active]
        u_a = np.tan(np.clip(g_lo[active], -half, half))
        u_b = np.tan(np.clip(g_hi[active], -half, half))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            est = a + (target[active] - u_a) * w / (u_b - u_a)
        est = np.clip(np.where(np.isfinite(est), est, a + 0.5 * w), a, b)
        linear = (np.abs(g_lo[active]) < 1.4) & (np.abs(g_hi[active]) < 1.4)
        d = 1e-3 * w
        groups = [(active[linear], np.stack([a + 0.5 * w, est - d, est, est + d], 1)[linear]),
                  (active[~linear], np.stack([a + 0.5 * w, est], 1)[~linear])]
        groups = [(rows, np.clip(np.sort(pts, 1), lo[rows, None], hi[rows, None]))
                  for rows, pts in groups if rows.size]
        flat = phase(np.concatenate([pts.ravel() for _, pts in groups]))
        start = 0
        for rows, pts in groups:
            gv = (flat[start:start + pts.size].reshape(pts.shape) - centre[rows, None]) \
                * sign[rows, None]
            start += pts.size
            # First node past the level (g ≥ offset); the bracket is the interval before it.
            past = gv >= offset[rows, None]
            first = np.where(past.any(1), past.argmax(1), pts.shape[1])
            grid = np.concatenate([lo[rows, None], pts, hi[rows, None]], 1)
            ggrid = np.concatenate([g_lo[rows, None], gv, g_hi[rows, None]], 1)
            k = np.arange(len(rows))
            lo[rows], hi[rows] = grid[k, first], grid[k, first + 1]
            g_lo[rows], g_hi[rows] = ggrid[k, first], ggrid[k, first + 1]
    return 0.5 * (lo + hi)


#: Widest initial interval of the real-axis energy integrals (eV): with 15 nodes each, any
#: feature wider than ~5 meV is seen before adaptivity starts (narrower ones are located).
MAX_STEP = 0.05


def _subdivide(points, max_width, max_intervals=4000):
    """Sorted breakpoints with every gap split into pieces of at most ``max_width``."""
    gaps = np.diff(points)
    pieces = np.minimum(np.ceil(gaps / max_width), max_intervals).astype(int)
    out = [np.linspace(a, b, k + 1)[:-1] for a, b, k in zip(points[:-1], points[1:],
                                                            np.maximum(pieces, 1))]
    return np.concatenate(out + [points[-1:]])


def _resonance_points(res, lo, hi, decades=4):
    pts = []
    for c, g in res:
        pts.append(c)
        for k in range(decades):
            w = max(g, 1e-14) * 10.0**k
            pts += [c - w, c + w]
    pts = np.asarray(pts, float)
    return pts[(pts > lo) & (pts < hi)]


class _Layout:
    """The flat vector that is integrated, built from bond and site observables.

    Non-profile layout: [current, torque (3), interfacial spin current (3)];
    with ``profile`` the bond currents, spin currents, spin densities, torque
    densities and densities of every site follow.  Last come the round-off
    scales of the window's bond currents (``bond_scale`` of the window
    kernel; 0 where unknown): one for the free layer's bonds, or (profile)
    one per bond, integrated alongside with no tolerance of their own
    (:meth:`floors`).  Works for real spectral values and for the complex
    h(z) of the Fermi sea alike (it is linear).
    """

    def __init__(self, chain, site_magnetization, m, profile):
        self.n = n = chain.n_sites
        self.profile = profile
        bond_in, bond_out = chain.free_bonds
        self.fif = bond_out is None
        self.m = m
        self.site_mag = site_magnetization
        self.delta = chain.delta
        self.lead = 0  # the incoming lead of the window (bias_point's reference)
        self.t_max = float(np.abs(chain.hopping).max()) if len(chain.hopping) else 0.0
        if profile:
            self.bonds = np.arange(n - 1)
            self.i_in, self.i_out = bond_in, bond_out
        else:
            self.bonds = np.array([bond_in] + ([] if self.fif else [bond_out]))
            self.i_in, self.i_out = 0, 1
        n_scale = n - 1 if profile else 1
        self.size = 7 + (11 * n - 4 if profile else 0) + n_scale
        self.scale = slice(self.size - n_scale, self.size)
        self.blocks = []  # slices of the profile arrays in the integrated vector
        if profile:
            start = 7
            for size in (n - 1, 3 * (n - 1), 3 * n, 3 * n, n):
                self.blocks.append(slice(start, start + size))
                start += size

    def free_scale(self, value):
        """Round-off scale of the currents on the free layer's bonds (integrated)."""
        scale = np.abs(value[self.scale])
        if not self.profile:
            return float(scale[0])
        return float(scale[self.i_in] + (0.0 if self.fif else scale[self.i_out]))

    def sizes(self, value):
        """|value|, with the current, torque and interfacial spin current as groups.

        The magnitude :func:`roundoff_floor` compares with the floor: a small
        component of a vector that is not small is not at its round-off
        level (its error is set by the vector's tolerance).
        """
        size = np.abs(value)
        size[1:4] = size[1:4].max()
        size[4:7] = size[4:7].max()
        return size

    def floors(self, value, sea=False, collinear=False):
        """Round-off floor of each element of an integrated vector (0 where none is known).

        Window: the current, torque and interfacial spin current ``ROUNDOFF``
        times the free layer's bond scale, and (profile) each bond's current
        and spin current ``ROUNDOFF`` times the largest scale from it onwards,
        away from the incoming lead (``lead``); a collinear torque has
        none (its computed value covers its round-off).  Torque densities
        and the Fermi sea's spin currents are differences of O(1) numbers
        of size Δ|s| and 2t|s| (Δ the largest exchange splitting, t the
        largest hopping, s the spin density of the same part):
        ``SPIN_ROUNDOFF`` of those.
        """
        floor = np.zeros(value.shape)
        s_max = np.abs(value[self.blocks[2]]).max() if self.profile else 0.0
        spin = SPIN_ROUNDOFF * self.delta.max() * s_max  # torque densities Δ m × s
        if sea:
            if self.profile:  # bond spin currents 2t² Tr σ[G, g]: terms of size 2t|s|
                floor[self.blocks[1]] = SPIN_ROUNDOFF * 2 * self.t_max * s_max
                floor[self.blocks[3]] = spin
            return floor
        floor[:7] = ROUNDOFF * self.free_scale(value)
        if collinear:
            floor[1:4] = 0.0
        if self.profile:
            # round-off reaches a bond from every bond downstream of the incoming lead
            # (through the connected Green's functions): the largest scale from there on
            scale = np.abs(value[self.scale])
            scale = (np.maximum.accumulate(scale[::-1])[::-1] if self.lead == 0 else
                     np.maximum.accumulate(scale))
            bonds = ROUNDOFF * scale
            floor[self.blocks[0]] = bonds
            floor[self.blocks[1]] = np.repeat(bonds, 3)
            floor[self.blocks[3]] = spin
        return floor

    def pack(self, bond, site, scale=None):
        jin = bond[:, self.i_in, 1:]
        if self.fif:  # free electrode: drop the longitudinal spin current
            tq = jin - (jin @ self.m)[:, None] * self.m
        else:
            tq = jin - bond[:, self.i_out, 1:]
        cols = [bond[:, self.i_in, :1], tq, jin]
        if self.profile:
            b = len(bond)
            spin = site[:, :, 1:]
            tdens = self.delta[:, None] * np.cross(self.site_mag, spin)
            cols += [bond[:, :, 0], bond[:, :, 1:].reshape(b, -1), spin.reshape(b, -1),
                     tdens.reshape(b, -1), site[:, :, 0]]
        if scale is None:
            scale = np.zeros((len(bond), self.scale.stop - self.scale.start))
        elif not self.profile:
            scale = scale[:, self.i_in, None] + (0 if self.fif else scale[:, self.i_out, None])
        cols.append(scale)
        return np.concatenate(cols, axis=1)

    def unpack(self, vec):
        n = self.n
        out = {"current": vec[0], "torque": vec[1:4], "interfacial": vec[4:7]}
        shapes = ((n - 1,), (n - 1, 3), (n, 3), (n, 3), (n,))
        keys = ("bond_current", "spin_current", "spin_density", "torque_density", "density")
        for key, block, shape in zip(keys, self.blocks, shapes):
            out[key] = vec[block].reshape(shape)
        return out


def _window_spectral(solver, layout, lead):
    """Spectral window vector o(E, ε∥) of the states incoming from ``lead``."""
    def f(energies, eps):
        return layout.pack(*solver.bond_window(lead, energies, eps, layout.bonds,
                                               layout.profile, scale=True))
    return f


def _sea_spectral(cs, layout):
    """Analytic h(z, ε∥) of all states (Re h(E + i0) is the spectral vector).

    Its particle current 2t² Tr[G_jj, g^R_{j+1}] is the trace of a commutator,
    zero at every z: set to exactly 0, not round-off that a relative tolerance
    of the (profile) bond-current array would chase.
    """
    def f(z, eps):
        bond, site = cs.bond_sea(z, eps, layout.bonds, layout.profile)
        bond[..., 0] = 0.0
        return layout.pack(bond, site)
    return f


#: Round-off of the particle and spin currents on a bond relative to their integrated
#: scale (the size of the complex numbers whose imaginary parts they are; see
#: :func:`mtj_kwant._rgf.window`).  Measured from current conservation (the particle
#: current on every bond, the spin current on every barrier bond, against one bond) over
#: energies, transverse energies and narrow resonances, chains of 154 to 1204 sites: at
#: most 2.4e-15 of the scale per point (spin currents 3.4e-16), independent of the length;
#: summed over a quadrature 1e-4 of that.  A quadrature's error estimate of a noisy
#: integrand (Σ|K21 − G10| over its panels) reaches ~2-5x the noise per point: 1e-13
#: leaves a margin of 4 over that, so an element at this floor stops being refined.
ROUNDOFF = 1e-13


#: Round-off of torque densities relative to Δ|s| (exchange splitting × the spin density,
#: the size of the O(1) terms that cancel): measured 7e-17 per site and 5.5e-15 summed over
#: a 2 nm free layer (100 sites, coherent), behind a 3 nm barrier where the true values are
#: 1e-25 of that.  The Fermi sea's bond spin currents use 2t|s| (t the hopping; measured
#: 1.2e-18 of it at a = 0.003125 nm, where Δ|s| would be exceeded).
SPIN_ROUNDOFF = 1e-14


def roundoff_floor(size, allowed, floor):
    """The allowed error (or error estimate) of quantities of magnitude ``size``.

    A quantity within ``ROUNDOFF_RANGE`` × its round-off ``floor`` of zero
    (one that vanishes exactly, such as a half-metal's antiparallel current,
    or one computed as a difference of much larger numbers, such as the
    current of a tunnel junction on a bond inside the incoming electrode)
    gets at least the floor; larger ones keep ``allowed``.  The floor is a
    coherent bound (the sum of the round-off of every node; the measured
    integrated round-off is 10³–10⁴ times smaller), so it is applied only
    where it decides.  Works elementwise on arrays.
    """
    if np.ndim(size) == 0 and np.ndim(allowed) == 0 and np.ndim(floor) == 0:
        return max(allowed, floor) if size <= ROUNDOFF_RANGE * floor else allowed
    return np.where(np.asarray(size) <= ROUNDOFF_RANGE * np.asarray(floor),
                    np.maximum(allowed, floor), allowed)


#: The smallest error reported for a current or torque (A/m², (ħ/2e) A/m²): the smallest
#: normal double times the flux unit, times 10³ for the width of the energy and k∥ ranges.
#: A transmission through a barrier beyond ~40 nm underflows to 0, reported 0 ± this.
UNDERFLOW = np.finfo(float).tiny * E_OVER_H * PER_NM2 * 1e3

#: A quantity within this factor of its round-off floor is resolved to the floor.
ROUNDOFF_RANGE = 100.0


def _sea_torque_spectral(cs, bond):
    """Analytic h(z, ε∥) of the Fermi-sea torque from the coupling determinant (3-vector).

    With the chain cut at ``bond`` between everything fixed and everything
    free (:meth:`ChainSolver.coupling_bond`), log det(z − H − Σ) depends on
    the free direction m only through log D, D = d0 − 2 β (b_L·m), with
    b_R = β m (:func:`mtj_kwant._rgf.coupling`).  Integrated with the
    Fermi-sea weights and prefactors, h = −4π (−i/π) m × ∇_m log D gives
    the equilibrium torque T = −(2e/ħ) m × ∇_m Ω in the units of the
    spin-current route (see :func:`bias_point`).  b_L carries the barrier's
    e^{−κd} in its own relative precision, so the torque keeps it however
    small: no O(1) terms cancel.
    """
    m = np.asarray(cs.m, float)

    def f(z, eps):
        d0, bl, br = cs.coupling(z, eps, bond)
        beta = br @ m
        d = d0 - 2.0 * np.einsum("...i,...i->...", bl, br)
        return (-8j * beta / d)[..., None] * np.cross(m, bl)
    return f


def complex_log1p(x):
    """log(1 + x) for complex x, accurate for tiny |x| (NumPy's complex log1p is not).

    Re = ½ log1p(2 Re x + |x|²), Im = atan2(Im x, 1 + Re x).  ``np.log1p``
    of a complex 1e-20 returns a real part 0: it forms 1 + x first.
    """
    x = np.asarray(x, complex)
    return 0.5 * np.log1p(2 * x.real + x.real**2 + x.imag**2) + 1j * np.arctan2(x.imag,
                                                                                1 + x.real)


def _torque_tolerance(rtol, floor, collinear):
    """Allowed absolute error of a torque vector: rtol of its larger component (or ``floor``)."""
    def tol(value):
        if collinear:
            return np.full(value.shape, np.inf)
        return np.full(value.shape, rtol * max(np.abs(value).max(), floor, 1e-300))
    return tol


def _tolerance(rtol, layout, sea=False, torque_floor=0.0, current_floor=0.0,
               current_only=False, collinear=False, sea_torque=True):
    """Allowed absolute error per component of the integrated vector.

    rtol of |J| (at least of ``current_floor``, a natural scale of the same
    point for a current that vanishes), of the larger torque component, of
    the larger interfacial spin-current component, and, for each profile
    array (``layout.blocks``: slices of the vector), of its largest element.
    A current, torque or interfacial spin current at its round-off level
    (``layout.floors``) is resolved to that floor, not chased below it
    (:func:`roundoff_floor`); the profile arrays never are.  The Fermi sea's
    interfacial spin current is not reported (no tolerance), nor its torque
    when ``sea_torque`` is False (computed by another route).
    """
    blocks = layout.blocks

    def tol(value):
        cur = max(abs(value[0]), current_floor)
        tq = np.abs(value[1:4]).max()
        js = np.abs(value[4:7]).max()
        allowed = np.full(value.shape, np.inf)
        if not sea:  # the sea carries no charge current
            allowed[0] = rtol * max(cur, 1e-300)
        if not current_only:  # else the caller reads only the current (conductances)
            # collinear magnetizations: the torque vanishes by symmetry; what is computed is
            # round-off, reported with an error that covers it (see bias_point), not resolved
            allowed[1:4] = np.inf if collinear else rtol * max(tq, 1e-6 * cur, torque_floor,
                                                               1e-300)
            # collinear: the interfacial spin current is along m (its transverse part, what
            # is reported, vanishes by symmetry); it follows the current's accuracy
            allowed[4:7] = np.inf if collinear else rtol * max(js, torque_floor, 1e-300)
            for block in blocks:
                allowed[block] = rtol * max(np.abs(value[block]).max(), 1e-300)
            if sea:
                allowed[4:7] = np.inf
                if not sea_torque:
                    allowed[1:4] = np.inf
        floor = layout.floors(value, sea, collinear)
        allowed[:7] = roundoff_floor(layout.sizes(value)[:7], allowed[:7], floor[:7])
        # profile arrays: never chased below their round-off (a tunnel current on a bond in
        # the barrier or the incoming electrode is a difference of much larger numbers)
        allowed[7:] = np.maximum(allowed[7:], floor[7:])
        return allowed
    return tol


def _complex_weight(kind, mu, kT):
    """Occupation weight w(z), analytic above the real axis.

    ``kind`` "reduced": ∫₀^∞ dε f(z + ε) = kT ln(1 + e^{(μ−z)/kT}) → μ − z at T = 0
    (uniform mass, per unit m/2πħ²); "plain": the Fermi function f(z) → 1.
    """
    if kind == "reduced":
        if kT == 0:
            return lambda z: mu - z

        def w(z):
            x = (mu - z) / kT
            pos = x.real > 0
            return kT * np.where(pos, x + complex_log1p(np.exp(-np.where(pos, x, 0))),
                                 complex_log1p(np.exp(np.where(pos, 0, x))))
        return w
    if kT == 0:
        return lambda z: np.ones_like(z)
    return lambda z: 0.5 * (1 - np.tanh(np.clip((z - mu).real, -700 * kT, 700 * kT) / (2 * kT)
                                        + 1j * (z - mu).imag / (2 * kT)))


def _contour(h, weight, e_min, mu, kT, tol, *, max_eval, progress=None, what="", marks=(),
             matsubara=False):
    """Re ∫ w(E) h(E + i0) dE from e_min (below the spectrum) to ∞, along a contour.

    - T = 0: the upper semicircle from e_min to μ (w vanishes or is cut at μ).
    - T > 0, ``matsubara`` (w is the Fermi function f, whose only
      singularities are the poles z_n = μ + iπkT(2n+1) with residue −kT):
      the semicircle from e_min to e_max ≥ μ + 40 kT that crosses Re z = μ
      midway between two poles, plus −2πi kT Σ h(z_n) over the N poles it
      encloses.  Nothing on it comes closer than πkT to a singularity, so it
      needs no knowledge of the resonances.
    - T > 0 otherwise (the transverse weight kT ln(1 + e^{(μ−z)/kT}) has
      branch points at the z_n): the line Im z = πkT/2 from e_min to
      μ + 40 kT.  Narrow resonances appear on it as peaks of width ≈ πkT/2;
      ``marks`` (their centres, band edges) become breakpoints, and the line
      starts in pieces of at most 10 πkT/2.
    """
    if kT == 0 or matsubara:
        if kT == 0:
            e_max, poles = mu, np.zeros(0)
        else:
            # Start at least max(1 eV, 40 kT) below μ (any start below the spectrum will do)
            # so that the circle stays small whatever the spectrum.
            e_min = min(e_min, mu - max(1.0, FERMI_TAIL * kT))
            n = math.ceil(math.sqrt((mu - e_min) * FERMI_TAIL * kT) / (2 * math.pi * kT))
            e_max = mu + (2 * math.pi * kT * n) ** 2 / (mu - e_min)  # height 2πkT·n at Re z = μ
            poles = mu + 1j * math.pi * kT * (2 * np.arange(n) + 1)
        c, r = 0.5 * (e_min + e_max), 0.5 * (e_max - e_min)

        def f(th):
            e = np.exp(1j * th)
            z = c + r * e
            return np.real(-(1j * r * e * weight(z))[:, None] * h(z))
        pts = [0.0, 1e-4, 1e-3, 1e-2, 0.1, 0.5, 0.5 * np.pi, np.pi]
        if len(poles):
            crossing = math.acos((mu - c) / r)  # where the circle passes between two poles
            pts += [crossing * (1 + d) for d in (-0.1, -0.01, 0.0, 0.01, 0.1)]
        q = adaptive_quad(f, np.unique(np.clip(pts, 0, np.pi)), tol, max_eval=max_eval,
                          progress=progress, what=what)
        if len(poles):
            q.value = q.value + np.real(-2j * math.pi * kT * h(poles).sum(0))
            q.n_eval += len(poles)
        return q
    y0 = 0.5 * np.pi * kT
    e_max = mu + FERMI_TAIL * kT

    def f(u):
        vert = u < y0
        z = np.where(vert, e_min + 1j * u, e_min + (u - y0) + 1j * y0)
        dz = np.where(vert, 1j, 1.0)
        return np.real((dz * weight(z))[:, None] * h(z))
    marks = np.asarray(list(marks) + [mu], float)
    marks = np.concatenate([marks + d for d in (0.0, -y0, y0, -4 * y0, 4 * y0)])
    pts = np.concatenate([[0.0, y0, y0 + e_max - e_min], y0 + marks - e_min])
    pts = _subdivide(np.unique(pts[(pts >= 0) & (pts <= y0 + e_max - e_min)]), 10 * y0)
    return adaptive_quad(f, pts, tol, max_eval=max_eval, progress=progress, what=what)


class _Point(NamedTuple):
    """One bias point as the integration routines see it."""

    mu_l: float  # chemical potentials (eV)
    mu_r: float
    kT: float  # eV
    bias: float  # V (for messages)
    max_eval: int  # evaluation budget per integral
    progress: object  # callable(n) or None
    linear: bool = False  # the V-derivative of the window at V = 0 (linear response)


def _window_reduced(solver, spectral, tm, lead, pt, tol, sea_spectral=None):
    """Window part by the exact E_x reduction (one mass, or one in-plane hopping).

    The transverse integral of the occupation is the weight W(E_x) of the
    transverse model ``tm`` (:meth:`~mtj_kwant.transverse.ContinuumTransverse.reduced_weight`).
    ``linear``: its derivative with respect to V at V = 0 (μ_L = μ_R), whose
    transverse weight is ±f(E_x) (free electron) or ±(ρ₂D ∗ −f')(μ − E_x)
    (tight binding).
    """
    mu_l, mu_r, kT, bias, max_eval, progress, linear = pt
    bands = [lead_.bands() for lead_ in solver.leads]
    band = bands[lead]
    mu_in, mu_out = (mu_l, mu_r) if lead == 0 else (mu_r, mu_l)
    sign = 1.0 if lead == 0 else -1.0
    pref = tm.reduced_prefactor

    def weight(ex):
        if linear:  # d/dV of the weight at V = 0
            return sign * tm.reduced_slope_weight(ex, mu_l, kT)
        return tm.reduced_weight(ex, mu_in, mu_out, kT)
    lo, hi, extra = tm.reduced_range(band[:, 0].min(), band[:, 1].max(), mu_l, mu_r, kT)
    if hi <= lo:  # no open incoming channel in the window
        zero = 0.0 * spectral(np.array([lo]), np.zeros(1))[0]
        return zero, zero.copy(), 0, True, np.zeros((0, 2))
    res = find_resonances(solver, lo, hi)
    fixed = np.concatenate([[lo, hi], bands[0].ravel(), bands[1].ravel(), extra])
    detours = _detours(solver, res, fixed, lead, min(mu_l, mu_r) - FERMI_TAIL * kT)
    missed = sea_spectral is None and len(detours)
    if missed:  # the Kwant solver: scattering states on the real axis only
        warnings.warn(
            f"window integral at bias {bias:g} V: {len(detours)} state(s) narrower than the "
            f"real axis resolves (at {detours[0, 0]:.6g} eV) carry a weight the {solver.name} "
            "solver cannot integrate; results marked not converged (the batched solver takes "
            "them along a semicircle)", IntegrationWarning, stacklevel=3)
        detours = np.zeros((0, 2))
    narrow = np.isin(res[:, 0], detours[:, 0])
    pts = np.concatenate([fixed, _resonance_points(res[~narrow], lo, hi),
                          detours[:, 0] - detours[:, 1], detours[:, 0] + detours[:, 1]])
    pts = _subdivide(np.unique(pts[(pts >= lo) & (pts <= hi)]), MAX_STEP)

    def f(ex):
        out = spectral(ex, np.zeros_like(ex)) * weight(ex)[:, None]
        for c, r in detours:  # integrated along the semicircle below
            out[np.abs(ex - c) < r] = 0.0
        return out

    share = 0.5 if len(detours) else 1.0  # of the tolerance; the rest for the detours
    q = adaptive_quad(f, pts, lambda v: share * np.asarray(tol(v)), max_eval=max_eval,
                      progress=progress, what=f"window integral at bias {bias:g} V")
    value, error, n_eval, ok = q.value, q.error, q.n_eval, q.converged
    if len(detours):
        allowed = 0.5 * np.asarray(tol(value)) / len(detours)
    for c, r in detours:
        w = float(weight(np.array([c]))[0])

        def arc(theta, c=c, r=r, w=w):
            z = c + r * np.exp(1j * theta)
            return (-1j * r * np.exp(1j * theta))[:, None] * sea_spectral(z, np.zeros(z.shape)) * w

        d = adaptive_quad(lambda th: arc(th).real, [0.0, 0.5 * np.pi, np.pi],
                          lambda v, allowed=allowed: np.maximum(allowed, DETOUR_ROUNDOFF
                                                                * np.abs(v).max()),
                          max_eval=max_eval, progress=progress,
                          what=f"window detour around the state at {c:.9g} eV")
        # the arc's sum cancels the state's large spin currents to round-off of its largest
        # component (measured: radius-dependence of near-zero components 1e-16 of it)
        value = value + d.value
        error = error + d.error + DETOUR_ROUNDOFF * np.abs(d.value).max()
        n_eval, ok = n_eval + d.n_eval, ok and d.converged
    return value * pref, error * pref, n_eval, ok and not missed, res


#: A state narrower than this many round-off units of the chain's energy scale (half width;
#: ε·max|H|) is not resolved on the real axis: the Green's function's round-off near it
#: (the pivot that vanishes there is a difference of O(max|H|) numbers) broadens the computed
#: peak, whose area then misses the state's weight (measured: a free-layer state 6e-22 eV
#: wide behind two barriers, T_y 5 % off).
DETOUR_RESOLUTION = 1e4
#: Largest radius of a detour (eV).
DETOUR_RADIUS = 1e-3
#: Round-off of a detour's components relative to its largest one (a fresh-user review saw
#: near-zero torque components of a 4e12 detour move by 1e-16 of it with the radius, up to
#: 3.3 times their quadrature error): 1e-14 leaves a margin of 100.
DETOUR_ROUNDOFF = 1e-14


def _detours(solver, res, fixed, lead, below):
    """(centre, radius) of the narrow states whose window part is taken along a semicircle.

    Where the other electrode has no open channel, the window of the states incoming from
    ``lead`` is the spectral function of all states, Re h(E + i0), h analytic above the
    axis: the real-axis piece [c − r, c + r] equals the integral of h along the upper
    semicircle of radius r, which never comes near the pole.  Used for states narrower than
    :data:`DETOUR_RESOLUTION` round-off units, below every chemical potential by more than
    the Fermi tail (``below``; the transverse weight is constant there), with the other
    electrode closed on the disk and no breakpoint (band edge, other state) within 3 r;
    r = min(:data:`DETOUR_RADIUS`, a third of the distance to the nearest breakpoint).
    """
    if not len(res):
        return np.zeros((0, 2))
    a0, mag, _, _, hop, _ = solver.jsys._chain_basis  # any solver: the chain's energy scale
    scale = float(np.abs(a0).max() + np.abs(mag).max(initial=0.0)
                  + 2 * np.abs(hop).max(initial=0.0))
    narrow = res[:, 1] < DETOUR_RESOLUTION * np.finfo(float).eps * scale
    other = solver.leads[1 - lead].bottom()
    out = []
    for c, g in res[narrow]:
        others = np.concatenate([fixed, res[res[:, 0] != c, 0]])
        r = min(DETOUR_RADIUS, np.abs(others - c).min(initial=np.inf) / 3)
        if c + r < min(other, below) and r > 0:
            out.append((c, r))
    return np.array(out).reshape(-1, 2)


def _honour_tolerance(compute, tol, attempts=3):
    """Repeat a nested quadrature with a tighter tolerance until its total error meets ``tol``.

    A nested integral meets its tolerance interval by interval, but the inner
    errors add up through the outer quadrature and inner values may cancel;
    ``compute(scale)`` runs it with every tolerance divided by ``scale``.
    Returns compute's tuple with the evaluations summed and ``converged``
    False if the combined error estimate still exceeds ``tol``.
    """
    scale, n_total = 1.0, 0
    for _ in range(attempts):
        value, error, n_eval, ok, *rest = compute(scale)
        n_total += n_eval
        excess = float(np.max(error / np.maximum(tol(value), 1e-300)))
        if excess <= 1:
            break
        scale *= min(100.0, 2.0 * excess)
    return (value, error, n_total, ok and excess <= 1, *rest)


def _window_nested(solver, spectral, size, tm, lead, pt, tol):
    """Window part by nested quadrature, refined until the combined error meets ``tol``."""
    return _honour_tolerance(lambda scale: _window_nested_once(
        solver, spectral, size, tm, lead, pt, lambda v: tol(v) / scale), tol)


def _sea_nested(solver, h, size, tm, mu, pt, tol):
    """Fermi-sea part by nested quadrature, refined until the combined error meets ``tol``."""
    return _honour_tolerance(lambda scale: _sea_nested_once(
        solver, h, size, tm, mu, pt, lambda v: tol(v) / scale), tol)


def _window_nested_once(solver, spectral, size, tm, lead, pt, tol):
    """Window part by nested (E, ε∥) quadrature (any masses or in-plane hoppings).

    The inner integral runs over the transverse energies where the incoming
    lead has an open channel, inside the model's range, in the model's
    quadrature variable (:meth:`~mtj_kwant.transverse.SquareLatticeTransverse.integrand`:
    ε∥ itself for the continuum; v with ε∥ = 4t sign(v) v² on the square
    lattice, whose weight ρ₂D · 8t|v| is bounded at the van Hove point).
    """
    pref = tm.nested_prefactor
    sign = 1.0 if lead == 0 else -1.0
    incoming = solver.leads[lead]
    max_eval, progress = pt.max_eval, pt.progress
    stats = _InnerStats(tol)

    def inner(energy):
        # ε∥ where each lead channel opens/closes; incoming states need an open band.
        th = np.concatenate([lead_.thresholds(energy) for lead_ in solver.leads])
        bottom, top = tm.clip(*incoming.open_range(energy))
        if top <= bottom:
            return np.zeros(size)
        res = find_resonances(solver, bottom, top, energy=energy, step=5e-3)
        stats.res.extend(res.tolist())
        marks = np.concatenate([[bottom, top], tm.marks, th, _resonance_points(res, bottom, top)])
        pts = tm.variable(marks[(marks >= bottom) & (marks <= top)])
        return stats.record(adaptive_quad(
            tm.integrand(lambda eps: spectral(np.full_like(eps, energy), eps)), np.unique(pts),
            stats.tolerance, max_eval=max_eval // 10, progress=progress,
            what=f"transverse integral at E = {energy:.6g} eV"))

    # Energies where a lead band edge crosses an end (or the van Hove point) of the ε∥ range.
    edges = np.concatenate([lead_.levels() + lead_.transverse * x + s * 2 * lead_.t
                            for lead_ in solver.leads for x in tm.extremes for s in (-1, 1)])
    return _outer_energy_integral(inner, stats, edges, sign, pt, tol, pref)


def _outer_energy_integral(inner, stats, edges, sign, pt, tol, pref):
    """The outer energy integral of a nested window quadrature (free electron or tight binding).

    ``inner(E)`` is the transverse integral at energy E; the weight is
    sign·(f_L − f_R), or its V-derivative −∂f/∂E (``linear``; at T = 0 a δ at
    E_F, so the result is the transverse integral there).
    """
    mu_l, mu_r, kT, bias, max_eval, progress, linear = pt
    tail = FERMI_TAIL * kT
    e_lo, e_hi = min(mu_l, mu_r) - tail, max(mu_l, mu_r) + tail

    def outer(energies):
        w = sign * (fermi_slope(energies, mu_l, kT) if linear
                    else fermi(energies, mu_l, kT) - fermi(energies, mu_r, kT))
        return np.array([inner(e) * wi for e, wi in zip(energies, w)])

    pts = np.unique(np.concatenate([[e_lo, e_hi, mu_l, mu_r], edges]))
    pts = pts[(pts >= e_lo) & (pts <= e_hi)]
    if linear and kT == 0:  # d(f_L − f_R)/dV = δ(E − E_F): the transverse integral at E_F
        value = sign * inner(mu_l)
        res = np.array(stats.res).reshape(-1, 2)
        return value * pref, stats.err[-1] * pref, stats.n, stats.ok, res
    stats.probe(inner, 0.5 * (mu_l + mu_r))
    q = adaptive_quad(outer, pts, tol, max_eval=max_eval // 20 + 200,
                      what=f"energy integral at bias {bias:g} V")
    error = (q.error + stats.propagated_error(e_hi - e_lo)) * pref
    res = np.array(stats.res).reshape(-1, 2)
    return q.value * pref, error, stats.n, q.converged and stats.ok, res


class _InnerStats:
    """Bookkeeping of the inner integrals of a nested quadrature.

    The inner tolerance is relative to the largest inner value seen so far
    (elementwise), not to the current one: an inner integral that happens to
    be nearly zero must not be resolved to full relative precision.
    """

    def __init__(self, tol):
        self.tol = tol
        self.scale = None
        self.n = 0
        self.ok = True
        self.err = []  # the latest inner error only (a profile's vectors are large) ...
        self.err_sum, self.n_err = 0.0, 0  # ... and the running sum of all of them
        self.res = []

    def tolerance(self, value):
        a = np.abs(value)
        if self.scale is not None:
            a = np.maximum(a, self.scale)
        return self.tol(a) / 3

    def record(self, q):
        self.n += q.n_eval
        self.ok &= q.converged
        self.err = [q.error]
        self.err_sum = self.err_sum + q.error
        self.n_err += 1
        a = np.abs(q.value)
        self.scale = a if self.scale is None else np.maximum(self.scale, a)
        return q.value

    def probe(self, inner, x):
        """One inner integral at a typical point, to set the scale before the outer loop."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", IntegrationWarning)
            inner(x)

    def propagated_error(self, length):
        """Mean inner error times the outer length (weights bounded by one)."""
        if not self.n_err:
            return 0.0
        return self.err_sum / self.n_err * length


def _sea_reduced(solver, h, tm, mu, pt, tol, marks):
    """Fermi-sea part, E_x reduction: Re ∫_C (m/2πħ²) w(z) h(z) dz with w → μ − z."""
    q = _contour(lambda z: h(z, np.zeros(z.shape)), _complex_weight("reduced", mu, pt.kT),
                 solver.spectrum_bottom(), mu, pt.kT, tol, max_eval=pt.max_eval,
                 progress=pt.progress, what=f"Fermi-sea contour at bias {pt.bias:g} V",
                 marks=marks)
    return q.value * tm.reduced_prefactor, q.error * tm.reduced_prefactor, q.n_eval, q.converged


def _sea_nested_once(solver, h, size, tm, mu, pt, tol):
    """Fermi-sea part by an outer ε∥ quadrature of inner energy contours.

    The outer integral runs over the model's transverse range
    (:meth:`~mtj_kwant.transverse.ContinuumTransverse.sea_range`: ε∥ ∈ [0, ε_max]
    for the continuum, [−4t, 4t] on the square lattice) in its quadrature
    variable, with its density; each inner integral is ∫ dE f(E) Re h(E, ε∥)
    along the contour of :func:`_contour`.
    """
    kT, bias, max_eval, progress = pt.kT, pt.bias, pt.max_eval, pt.progress
    tail = FERMI_TAIL * kT
    weight = _complex_weight("plain", mu, kT)
    stats = _InnerStats(tol)

    def inner(eps):
        e_min = solver.spectrum_bottom(eps)
        if e_min + 0.1 >= mu + tail:
            return np.zeros(size)
        return stats.record(_contour(
            lambda z: h(z, np.full(z.shape, eps)), weight, e_min, mu, kT, stats.tolerance,
            max_eval=max_eval // 10, progress=progress, matsubara=True,
            what=f"Fermi-sea contour at ε∥ = {eps:.6g} eV"))

    lo, hi = tm.sea_range(solver, mu, tail)
    # ε∥ where a lead band opens or closes at μ, and where a narrow state crosses μ
    edges = np.concatenate([(mu - band) / lead_.transverse for lead_ in solver.leads
                            for band in lead_.bands().T])
    res = find_resonances(solver, lo, hi, energy=mu, step=5e-3) if hi > lo else np.zeros((0, 2))
    marks = np.concatenate([[lo, hi], tm.marks, edges, _resonance_points(res, lo, hi)])
    pts = np.unique(tm.variable(marks[(marks >= lo) & (marks <= hi)]))
    stats.probe(inner, tm.typical(lo, hi))
    q = adaptive_quad(tm.integrand(lambda eps: np.array([inner(x) for x in eps])), pts, tol,
                      max_eval=max_eval // 20 + 200,
                      what=f"Fermi-sea ε∥ integral at bias {bias:g} V")
    error = (q.error + stats.propagated_error(tm.measure(lo, hi))) * tm.nested_prefactor
    return q.value * tm.nested_prefactor, error, stats.n, q.converged and stats.ok


def bias_point(jsys, *, theta, phi=0.0, bias, temperature=0.0, rtol=1e-3, parts="window",
               solver="batched", profile=False, reference=0, method="auto",
               max_eval=400_000, progress=None, linear_response=False, current_floor=0.0,
               current_only=False):
    """Current density and torque (window, Fermi sea, total) at one bias.

    Parameters
    ----------
    jsys : JunctionSystem
    theta, phi : float
        Free-layer angles (rad).
    bias : float
        V.
    temperature : float
        K.
    rtol : float
        Relative tolerance on the current density and on each torque
        component relative to the larger torque component.
    parts : {"window", "total", "both"}
        "window" skips the Fermi sea; "total" and "both" compute it (the
        result then holds window, sea and total).
    solver : {"batched", "kwant"}
        Solver of the window part (the Fermi sea needs complex energies and
        always uses the batched solver).
    profile : bool
        Also integrate the site-resolved arrays.
    reference : {0, 1}
        0: window of the left-incoming states with the sea at μ_R (DESIGN.md
        §1); 1: window of the right-incoming states, weighted by f_R − f_L,
        with the sea at μ_L.  The totals agree; the windows do not.
    method : {"auto", "reduced", "nested"}
        "reduced" uses the exact E_x reduction (one effective mass, or one
        in-plane hopping for tight binding: ``junction.transverse_separable``),
        "nested" the (E, ε∥) quadrature (any masses or hoppings; where the
        reduction is exact it is a cross-check of it); "auto" picks the
        reduction whenever it is exact.  Tight binding always integrates its
        Fermi sea nested (its transverse weight is not analytic).
    max_eval : int
        Evaluation budget per integral.
    progress : callable, optional
        Called with the number of new solver evaluations.
    current_floor : float
        A: the current density (S/m² in linear response) below which the
        current is resolved to rtol of this floor instead of its own size;
        for a current that vanishes by symmetry (G_AP of a half-metal), a
        natural scale of the same calculation (DESIGN.md §3a).
    current_only : bool
        Drive the tolerance by the current alone (the torques then carry
        whatever accuracy that gives, with their error estimates).
    linear_response : bool
        Return the derivatives of the window quantities with respect to V at
        V = 0 instead (``bias`` must be 0, ``parts`` "window"): the
        conductance per area dJ/dV in S/m² as ``current_density`` and the
        torkances dT/dV in (ħ/2e) A/(V m²) as ``torque`` and
        ``interfacial``; the occupation weight f_L − f_R becomes −∂f/∂E
        (δ(E − E_F) at T = 0), so band edges at E_F are resolved exactly.

    Returns
    -------
    PointResult

    Notes
    -----
    Window: ∫ dE [f_L − f_R] o_L(E) (DESIGN.md §1) with the E_x reduction of
    DESIGN.md §5 where it is exact.  Fermi sea: ∫ dE f_R(E) s(E) with s the
    spectral function of all states, s = Re h(E + i0) for h analytic in the
    upper half plane (:mod:`mtj_kwant._rgf`), so the integral runs along a
    contour that stays away from the real axis, bound states and narrow
    resonances included without locating them.  With one mass the transverse
    integral of the occupation gives the weight (μ − z) of DESIGN.md §5.

    The Fermi-sea state occupies every state of H (at this bias) to μ: an
    equilibrium of H, whose torque is T = −(2e/ħ) m × ∇_m Ω with Ω the
    grand potential (:func:`grand_potential_difference`).  Through a barrier
    it is ∝ e^{−2κd}, a difference of O(1) spin currents in the spin-current
    route, which loses it to round-off (~1e-16 of the O(1) terms) in thick
    barriers.  Where a bond separates everything fixed from everything free,
    the sea torque is therefore computed from the coupling determinant of
    the two halves, det(1 − t² g_L g_R) = D0 − 2t² b_L·b_R with
    g = a + b·σ in Pauli form (:func:`mtj_kwant._rgf.coupling`): its
    m-dependence, ∝ b_L·b_R, keeps its own relative precision however thick
    the barrier (P. Bruno, Phys. Rev. B 52, 411 (1995) for the continuum
    form).  The site-resolved sea arrays of ``profile`` still come from the
    spin currents.

    The torque is T = J_s(entering the free layer) − J_s(leaving it).  For a
    semi-infinite free electrode the spin current entering it also carries a
    longitudinal part (along m) that flows on through the electrode; it is
    removed, so that T ⟂ m in every case.
    """
    _warn_base_lattice(jsys, "bias_point")
    junction = jsys.junction
    # rtol is not checked against options.MIN_RTOL: the continuum limit asks its lattices for
    # a fraction of the user's tolerance
    Options(parts=parts, solver=solver, method=method)
    if isinstance(rtol, bool) or not (isinstance(rtol, (int, float)) and 0 < rtol < 1):
        raise OptionsError("rtol", f"must be a number in (0, 1), got {rtol!r}")
    if reference not in (0, 1):
        raise ValueError(f"reference must be 0 (left) or 1 (right), got {reference!r}")
    tm = jsys.transverse
    if method == "reduced" and not tm.separable:
        if tm.kind == "free-electron":
            raise ValueError("method='reduced' needs one effective mass everywhere")
        raise ValueError("method='reduced' needs one in-plane hopping everywhere (the layers' "
                         "and electrodes' hopping); use method='nested' or 'auto'")
    if linear_response and (bias != 0 or parts != "window"):
        raise ValueError("linear_response needs bias=0 and parts='window' (the derivative of "
                         "the window part at V = 0)")
    if getattr(junction, "supercell", None) is not None:
        from .model import JunctionError
        raise JunctionError(
            "supercell: a junction with a [supercell] table (DESIGN.md §9) is computed by "
            "sweeps (mtj-kwant sweep, mtj_kwant.sweep) and mtj_kwant.supercell.supercell_point, "
            "not by the layered route (bias_point, scans, profiles, conductances); remove the "
            "table for the laterally perfect junction")
    if getattr(junction, "has_scattering", False):
        if parts != "window":
            raise OptionsError("parts", f"must be 'window' for a junction with elastic "
                               f"scattering (a layer's [scattering] table), got {parts!r}: the "
                               "Fermi sea with scattering is not computed (it needs the "
                               "self-energy at complex energies; README, Elastic scattering)")
        if solver != "batched":
            raise OptionsError("solver", f"must be 'batched' for a junction with elastic "
                               f"scattering (the SCBA solver), got {solver!r}")
        from .scba import scattering_window
        return scattering_window(jsys, theta=theta, phi=phi, bias=bias,
                                 temperature=temperature, rtol=rtol, profile=profile,
                                 reference=reference, max_eval=max_eval, progress=progress,
                                 linear_response=linear_response)
    kT = K_B * float(temperature)
    floor = float(current_floor) / (E_OVER_H * PER_NM2)  # SI -> integrated units
    mu_l = junction.fermi_energy + 0.5 * bias
    mu_r = junction.fermi_energy - 0.5 * bias
    settings = dict(theta=theta, phi=phi, bias=bias)
    pt = _Point(mu_l, mu_r, kT, bias, max_eval, progress, linear_response)
    sol = make_solver(jsys, solver, **settings)
    layout = _Layout(sol.chain, sol.site_magnetization, sol.m, profile)
    layout.lead = reference
    size = layout.size
    collinear = is_collinear(sol)
    reduced = method != "nested" and tm.separable
    if bias == 0 and not linear_response:
        w_val, w_err, n_eval, ok, res = np.zeros(size), np.zeros(size), 0, True, None
    else:
        tol = _tolerance(rtol, layout, current_floor=floor, current_only=current_only,
                         collinear=collinear)
        spectral = _window_spectral(sol, layout, reference)
        if reduced:
            w_val, w_err, n_eval, ok, res = _window_reduced(
                sol, spectral, tm, reference, pt, tol,
                _sea_spectral(sol, layout) if sol.has_sea else None)
        else:
            w_val, w_err, n_eval, ok, res = _window_nested(sol, spectral, size, tm, reference, pt,
                                                           tol)
    res = np.zeros((0, 2)) if res is None else res
    # the errors of quantities at their round-off level cover it (an exactly vanishing
    # current is resolved to it, not chased below it)
    w_err = roundoff_floor(layout.sizes(w_val), w_err, layout.floors(w_val, collinear=collinear))
    roundoff = ROUNDOFF * layout.free_scale(w_val) * E_OVER_H * PER_NM2
    out = window_result(jsys, layout, w_val, w_err, collinear, profile, n_eval=int(n_eval),
                        converged=bool(ok), resonances=res, reference=reference,
                        roundoff=roundoff)
    if parts == "window":
        return out
    mu_sea = mu_r if reference == 0 else mu_l
    tq_floor = np.abs(w_val[1:4]).max()
    # the sea needs complex energies: the solver of the window when it has them
    cs = sol if sol.has_sea else ChainSolver(jsys, **settings)
    reduced_sea = reduced and tm.contour_reduction
    marks = None
    if reduced_sea:
        marks = np.concatenate([lead_.bands().ravel() for lead_ in cs.leads])
        if kT > 0:  # the line contour needs every narrow state below μ + 40 kT
            sea_res = find_resonances(cs, cs.spectrum_bottom(), mu_sea + FERMI_TAIL * kT)
            marks = np.r_[marks, sea_res[:, 0]]

    def sea_integral(h, size, tol):
        if reduced_sea:
            return _sea_reduced(cs, h, tm, mu_sea, pt, tol, marks)
        return _sea_nested(cs, h, size, tm, mu_sea, pt, tol)

    bond = cs.coupling_bond()
    s_n, s_ok = 0, True
    if bond is not None:  # the torque from the coupling determinant: no cancellation
        t_val, t_err, n, ok = sea_integral(_sea_torque_spectral(cs, bond), 3,
                                           _torque_tolerance(rtol, tq_floor, collinear))
        s_n, s_ok = s_n + n, s_ok and ok
    if bond is None or profile:
        s_val, s_err, n, ok = sea_integral(
            _sea_spectral(cs, layout), size,
            _tolerance(rtol, layout, sea=True, torque_floor=tq_floor, collinear=collinear,
                       sea_torque=bond is None))
        s_n, s_ok = s_n + n, s_ok and ok
        sea = _to_si(jsys, layout.unpack(s_val))
        sea_err = _to_si(jsys, layout.unpack(s_err))
    if bond is not None:
        sea = {"torque": t_val * E_OVER_H * PER_NM2}
        sea_err = {"torque": t_err * E_OVER_H * PER_NM2}
    out.torque_sea = np.asarray(sea["torque"])
    out.torque_total = out.torque + out.torque_sea
    out.errors["torque_sea"] = np.maximum(np.asarray(sea_err["torque"]), UNDERFLOW)
    if collinear:
        out.errors["torque_sea"] = np.maximum(out.errors["torque_sea"], np.abs(out.torque_sea))
    out.errors["torque_total"] = out.errors["torque"] + out.errors["torque_sea"]
    out.n_eval += int(s_n)
    out.converged &= bool(s_ok)
    if profile:
        # the sea's transverse spin currents and torque densities are differences of O(1)
        # numbers: an error at their round-off level covers it
        s_err = roundoff_floor(layout.sizes(s_val), s_err, layout.floors(s_val, sea=True))
        out.profile["sea"] = _profile_dict(jsys, _to_si(jsys, layout.unpack(s_val)),
                                           _to_si(jsys, layout.unpack(s_err)))
    return out


#: |m × m_j| below which two magnetizations count as collinear (θ = 180° in degrees gives
#: sin θ = 1.2e-16; θ = 1e-13 rad is computed, its torque ~1e-13 of the one at 90°).
COLLINEAR = 1e-15


def is_collinear(cs):
    """True when every magnetic site and electrode is collinear with the free direction m.

    Then the torque on the free layer vanishes by symmetry (DESIGN.md §1: report 0): the
    spin-rotation symmetry about m leaves no transverse spin current.
    """
    m = np.asarray(cs.m, float)
    mags = [row for row, d in zip(np.asarray(cs.site_magnetization, float), cs.chain.delta)
            if d > 0]
    mags += [np.asarray(lead["magnetization"], float) for lead in cs.chain.leads
             if lead["delta"] > 0 and not lead["free"]]
    return all(np.linalg.norm(np.cross(m, v)) < COLLINEAR for v in mags)


def window_point(jsys, **kwargs):
    """Window part only: :func:`bias_point` with ``parts="window"``."""
    kwargs.setdefault("parts", "window")
    return bias_point(jsys, **kwargs)


def window_result(jsys, layout, value, error, collinear, profile, **fields):
    """The :class:`PointResult` of an integrated window vector and its error estimate.

    Converts to SI per-area units; a collinear torque's error covers its computed
    (round-off) value; no error is below :data:`UNDERFLOW` (nothing below what double
    precision represents is claimed: a transmission through a barrier beyond ~40 nm
    underflows to 0).  ``fields`` go to the PointResult as they are.
    """
    window = _to_si(jsys, layout.unpack(value))
    window_err = _to_si(jsys, layout.unpack(error))
    if collinear:  # zero by symmetry: the error covers the round-off that was computed
        window_err["torque"] = np.maximum(window_err["torque"], np.abs(window["torque"]))
    window_err = {k: np.maximum(v, UNDERFLOW) for k, v in window_err.items()}
    return PointResult(
        current_density=float(window["current"]),
        torque=np.asarray(window["torque"]),
        interfacial=np.asarray(window["interfacial"]),
        errors={"current_density": float(window_err["current"]),
                "torque": np.asarray(window_err["torque"]),
                "interfacial": np.asarray(window_err["interfacial"])},
        collinear=collinear,
        profile=_profile_dict(jsys, window, window_err) if profile else None, **fields)


def _to_si(jsys, val):
    """Reduced integrals → SI per-area units (currents A/m², densities 1/nm³)."""
    flux = E_OVER_H * PER_NM2  # A/m² per (1/(eV nm²)) · eV
    dens_scale = 1.0 / (2 * math.pi * jsys.chain.step)  # (1/2π) ∫ dE ... per site → 1/nm³
    scale = {"current": flux, "torque": flux, "interfacial": flux, "bond_current": flux,
             "spin_current": flux, "torque_density": flux, "spin_density": dens_scale,
             "density": dens_scale}
    return {key: np.asarray(v) * scale[key] for key, v in val.items()}


def _profile_dict(jsys, val, err):
    chain = jsys.chain
    return {
        "x_nm": chain.x,
        "bond_x_nm": chain.bond_x,
        "spin_density": val["spin_density"],
        "spin_current": val["spin_current"],
        "torque_density": val["torque_density"],
        "current_density": val["bond_current"],
        "density": val["density"],
        "errors": {key: float(np.max(err[key]))
                   for key in ("spin_density", "spin_current", "torque_density")},
        "error_arrays": {key: err[key]
                         for key in ("spin_density", "spin_current", "torque_density")},
    }


def grand_potential_difference(jsys, theta, reference_theta, *, phi=0.0, reference_phi=None,
                               bias=0.0, rtol=1e-8, max_eval=200_000):
    """Ω(θ, φ) − Ω(θ_ref, φ_ref): grand potential per area at T = 0 versus free-layer direction.

    Parameters
    ----------
    jsys : JunctionSystem
        A free-electron junction with one effective mass.
    theta, reference_theta : float
        Free-layer polar angles (rad) of the two states.
    phi, reference_phi : float
        Azimuths (rad); ``reference_phi`` defaults to ``phi``.
    bias : float
        V; electrons in equilibrium at μ_R (the Fermi-sea state of
        :func:`bias_point`).
    rtol : float
        Relative tolerance of the contour integral.

    Returns
    -------
    difference : float
        eV/nm² (the interlayer exchange energy difference).
    error : float
        Error estimate, eV/nm².

    Notes
    -----
    Lloyd's formula gives the integrated density of states of the open
    system, up to terms that do not depend on the scattering region, as
    N(E) = const − Φ(E)/π with Φ = Im log det(E − H − Σ_L − Σ_R).  With one
    mass the transverse sum of (E − μ) over occupied states reduces to
    Ω = −(m/2πħ²) ∫ dE_x (μ − E_x) N(E_x) (by parts), hence
    Ω = (m/2πħ²)(1/π) Im ∫_C (μ − z) log det(z − H − Σ(z)) dz along the
    contour of :func:`_contour`; the difference of the two log-determinants
    is integrated at once, so the large θ-independent part cancels before
    the quadrature.  Where a bond separates everything fixed from
    everything free (:meth:`ChainSolver.coupling_bond`, the barrier), the
    θ-dependent part is log(1 − t² g_L g_R) of the two halves' surface
    Green's functions in Pauli form, which carries the exchange coupling
    through the barrier (∝ e^{−2κd}) in its own relative precision, so the
    difference stays resolved for any barrier thickness; otherwise the two
    full log-determinants are subtracted (absolute round-off ~1e-13 per
    node).  T⊥(V = 0) = (2e/ħ) ∂Ω/∂θ (the spins of the free layer point
    along m, and the absorbed angular momentum precesses m about p).
    """
    _warn_base_lattice(jsys, "grand_potential_difference")
    junction = jsys.junction
    tm = jsys.transverse
    if not (tm.contour_reduction and tm.separable):
        raise NotImplementedError("grand_potential_difference needs a free-electron junction "
                                  "with one effective mass")
    if reference_phi is None:
        reference_phi = phi
    a = ChainSolver(jsys, theta=theta, phi=phi, bias=bias)
    b = ChainSolver(jsys, theta=reference_theta, phi=reference_phi, bias=bias)
    mu = junction.fermi_energy - 0.5 * bias
    pref = tm.reduced_prefactor / math.pi
    bond = a.coupling_bond()
    if bond is None:
        def tol(v):  # log det carries ~1e-13 round-off per node: an absolute floor
            return np.full(v.shape, max(rtol * abs(v[0]), 1e-12))

        def h(z):
            return (-1j * (a.log_det(z) - b.log_det(z)))[:, None]
    else:
        dm = a.m - b.m

        def tol(v):
            return np.full(v.shape, rtol * max(abs(v[0]), 1e-300))

        def h(z):  # log(D_a/D_b) = log1p(−2β b_L·(m_a − m_b)/D_b): no O(1) terms cancel
            d0, bl, br = a.coupling(z, np.zeros(z.shape), bond)
            beta = br @ a.m
            d_b = d0 - 2.0 * beta * (bl @ b.m)
            return (-1j * complex_log1p(-2.0 * beta * (bl @ dm) / d_b))[:, None]

    q = _contour(h, _complex_weight("reduced", mu, 0.0), min(a.spectrum_bottom(),
                 b.spectrum_bottom()), mu, 0.0, tol, max_eval=max_eval,
                 what="grand potential contour")
    return float(q.value[0] * pref), float(q.error[0] * pref)
