"""The continuum limit of the free-electron model: nested lattices and Richardson extrapolation.

The free-electron model is a continuum model; the lattice of step a is a
numerical device whose error is part of every reported error (DESIGN.md §3,
§3a).  With the second-order BenDaniel–Duke rule every integrated observable
f(a) — current density, window and Fermi-sea torques, interfacial spin
current — has the expansion f(a) = f(0) + c₂a² + c₄a⁴ + …, so results on the
nested lattices a₀, a₀/2, a₀/4, … are combined as in Romberg's method:

    R₁(a) = [4 f(a/2) − f(a)]/3,            error O(a⁴),
    R₂(a) = [64 f(a/4) − 20 f(a/2) + f(a)]/45,   error O(a⁶).

:func:`lattice_point` evaluates one bias point this way:

- continuum junction (no ``lattice_spacing``, or ``"auto"``): two lattices
  first; if the error estimate of f(a/2) itself, |f(a/2) − f(a)|/3, plus the
  quadrature error already meets the tolerance, R₁ is reported with that
  (conservative) estimate.  Otherwise a third lattice gives R₂, reported with
  |R₂ − R₁|, the estimated error of R₁ (conservative for R₂ as long as the
  sequence is in its asymptotic range), plus the propagated quadrature error.
  Finer lattices are added (the coarsest dropped) until the combined estimate
  meets the tolerance or the finest step reaches ``min_step``;
- fixed ``lattice_spacing`` a: that lattice as given, and its discretisation
  error against the continuum, |f(a) − f(2a)|/3 (or 4|f(a) − f(a/2)|/3 when 2a
  does not divide every layer), reported separately, with a
  :class:`LatticeWarning` when it exceeds the tolerance;
- tight binding: a lattice model; no discretisation error.

The base step a₀ is the largest round step that divides every thickness and
keeps the discretised bands within :data:`BASE_DEVIATION` of the parabola at
the energies actually used (the bias window and temperature tail included),
and the attenuation error of every barrier, κ³da²/12, within the same bound.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .integrate import FERMI_TAIL, UNDERFLOW, LatticeWarning, bias_point, roundoff_floor
from .units import HBAR2_2ME, K_B

__all__ = ["lattice_point", "base_step", "band_deviation", "LatticeWarning", "BASE_DEVIATION"]

#: Largest relative band (and barrier attenuation) error of the coarsest lattice of an
#: extrapolation: coarse enough to be cheap, fine enough for the a² expansion to hold.
BASE_DEVIATION = 0.03
#: Finest step the extrapolation refines to (nm).
MIN_STEP = 1e-3
#: Band deviation at the energies used beyond which a fixed lattice's results (and their
#: two-lattice error estimate) mean nothing: reported as not converged.
UNUSABLE_DEVIATION = 0.1
#: The discretised band deviation at the energies used above which a fixed lattice warns.
FIXED_DEVIATION_WARN = 0.01

#: Quantities of a :class:`~mtj_kwant.integrate.PointResult` that are extrapolated.
_FIELDS = ("current_density", "torque", "interfacial", "torque_sea", "torque_total",
           "spin_current_difference", "spin_flip_loss")  # the last two: with scattering


def _energy_range(junction, bias, temperature):
    """(lowest band bottom, highest energy) in eV that a bias point explores."""
    tail = FERMI_TAIL * K_B * float(temperature) + 0.05
    e_top = junction.fermi_energy + 0.5 * abs(bias) + tail
    return e_top


def _element_bottoms(junction, bias):
    """Lowest spin-band bottom of each element with its bias shift (electrodes ±V/2)."""
    out = []
    half = 0.5 * bias
    stack = [i for i, lay in enumerate(junction.layers) if lay.kind == "barrier"]
    first, last = stack[0], stack[-1]
    for i, lay in enumerate(junction.layers):
        pot = lay.potential
        if callable(pot):
            x = np.linspace(0, lay.thickness, 64)
            pot = tuple(np.asarray(pot(x), float).ravel().tolist() or [0.0])
        lo = min(pot) if isinstance(pot, tuple) else pot
        hi = max(pot) if isinstance(pot, tuple) else pot
        shift = half if i < first else (-half if i > last else 0.0)
        spread = abs(half) if first <= i <= last else 0.0
        out.append((lay, lo + shift - spread - lay.exchange / 2, hi + shift + spread))
    for el, shift in ((junction.left, half), (junction.right, -half)):
        out.append((el, el.potential + shift - el.exchange / 2, el.potential + shift))
    return out


def band_deviation(junction, a, bias=0.0, temperature=0.0):
    """Relative lattice error scale at step ``a`` (nm) for the energies a bias point uses.

    The larger of (ka)²/12 (the discretised band against the parabola at the
    highest kinetic energy, ħ²k²/2m) and, for each barrier, κ³da²/12 (the
    relative error of its attenuation e^{−2κd}, κ at the Fermi energy).

    Returns
    -------
    float
    """
    e_top = _energy_range(junction, bias, temperature)
    dev = 0.0
    for el, bottom, top in _element_bottoms(junction, bias):
        m = junction.mass_of(el)
        k2 = max(e_top - bottom, 0.0) * m / HBAR2_2ME
        dev = max(dev, k2 * a * a / 12)
        if getattr(el, "kind", None) == "barrier":
            gap = top - junction.fermi_energy - abs(bias)
            if gap > 0:
                kappa = math.sqrt(gap * m / HBAR2_2ME)
                dev = max(dev, kappa**3 * el.thickness * a * a / 12)
    return dev


def base_step(junction, bias=0.0, temperature=0.0, deviation=BASE_DEVIATION):
    """Coarsest lattice step (nm) of a continuum extrapolation.

    The largest of the round steps ``Junction._STEPS`` (and their halvings)
    that divides every layer thickness and has :func:`band_deviation` at most
    ``deviation``.
    """
    steps = [a for a in junction._STEPS if junction._divides(a)]
    if not steps:
        raise ValueError("no round step (0.001-0.05 nm) divides every thickness; "
                         "give lattice_spacing")
    a = steps[0]
    for a in steps:
        if band_deviation(junction, a, bias, temperature) <= deviation:
            return a
    while band_deviation(junction, a, bias, temperature) > deviation and a > MIN_STEP:
        a /= 2
    return a


def _vector(r):
    parts = [np.atleast_1d(np.asarray(getattr(r, k), float)) for k in _FIELDS
             if getattr(r, k) is not None]
    return np.concatenate(parts)


def _errors(r):
    keys = {"current_density": "current_density", "torque": "torque",
            "interfacial": "interfacial", "torque_sea": "torque_sea",
            "torque_total": "torque_total", "spin_current_difference":
            "spin_current_difference", "spin_flip_loss": "spin_flip_loss"}
    parts = [np.atleast_1d(np.asarray(r.errors[keys[k]], float)) for k in _FIELDS
             if getattr(r, k) is not None]
    return np.concatenate(parts)


def _tolerance(vec, rtol, sea, current_floor=0.0, current_only=False, collinear=False,
               roundoff=0.0):
    """Allowed absolute error of each element of the extrapolated vector.

    rtol of |J|, of the larger window torque component (at least 1e-6 |J| in
    spin-current units), of the larger interfacial component, and for the sea
    and total torques of the larger of their and the window torque's scale;
    window quantities at their round-off level resolved to 16 × their floor
    (:func:`~mtj_kwant.integrate.roundoff_floor`; a lattice estimate is up to
    (8/3)(|Δ| + the two errors): ≈ 11 × the floor for two values at it).
    """
    cur = max(abs(vec[0]), current_floor)
    tq = np.abs(vec[1:4]).max()
    js = np.abs(vec[4:7]).max()
    out = np.empty_like(vec)
    floor = 16 * roundoff
    out[0] = roundoff_floor(abs(vec[0]), rtol * cur, floor)
    if current_only:
        out[1:] = np.inf
        return np.maximum(out, 16 * UNDERFLOW)
    out[1:4] = rtol * max(tq, 1e-6 * cur)
    out[4:7] = rtol * max(js, 1e-6 * cur)
    if sea:
        scale = max(np.abs(vec[7:10]).max(), np.abs(vec[10:13]).max(), tq, 1e-6 * cur)
        out[7:13] = rtol * scale
    out[1:4] = roundoff_floor(tq, out[1:4].max(), floor)
    out[4:7] = roundoff_floor(js, out[4:7].max(), floor)
    if collinear:  # torques zero by symmetry (integrate.is_collinear): not resolved, nor the
        out[1:4] = np.inf  # interfacial spin current (along m: its reported part is zero)
        out[4:7] = np.inf
        if sea:
            out[7:13] = np.inf
    if not sea:  # with scattering: the spin-current difference and the loss, as the torque
        out[7:] = out[1:4].max()
    return np.maximum(out, 16 * UNDERFLOW)  # errors are never below integrate.UNDERFLOW


def _assemble(template, vec, err, lat, steps, converged, n_eval):
    """A PointResult with the extrapolated values and combined errors."""
    r = template
    pos = 0
    for key in _FIELDS:
        value = getattr(r, key)
        if value is None:
            continue
        size = np.size(value)
        sl = slice(pos, pos + size)
        pos += size
        if key == "current_density":
            setattr(r, key, float(vec[sl][0]))
            r.errors[key] = float(err[sl][0])
            r.lattice_errors[key] = float(lat[sl][0])
        else:
            setattr(r, key, vec[sl].copy())
            r.errors[key] = err[sl].copy()
            r.lattice_errors[key] = lat[sl].copy()
    r.lattice_steps = tuple(float(a) for a in steps)
    r.converged = bool(converged)
    r.n_eval = int(n_eval)
    return r


def fixed_lattice_message(a, bias, excess, deviation):
    """The one-line warning of a fixed lattice whose discretisation error is too large."""
    if deviation > UNUSABLE_DEVIATION:
        return (f"lattice_spacing = {a:g} nm cannot represent the energies of bias {bias:g} V "
                f"(its bands deviate by {100 * deviation:.3g} % from the continuum there): the "
                "results are meaningless; use a much smaller step or leave lattice_spacing out "
                "for the continuum limit")
    return (f"lattice_spacing = {a:g} nm: estimated discretisation error {excess:.3g}x the "
            f"tolerance at bias {bias:g} V (band deviation {100 * deviation:.2g} % at the "
            "energies used); leave lattice_spacing out (or \"auto\") for the continuum limit")


def lattice_point(junction, *, system=None, theta, phi=0.0, bias, temperature=0.0, rtol=1e-3,
                  parts="window", solver="batched", method="auto", reference=0,
                  max_eval=400_000, progress=None, min_step=MIN_STEP, warn=True,
                  linear_response=False, current_floor=0.0, current_only=False):
    """One bias point of a junction, in the continuum limit or on its fixed lattice.

    Parameters
    ----------
    junction : Junction
    system : callable, optional
        ``system(junction)`` → finalized :class:`~mtj_kwant.system.JunctionSystem`
        (a cache); default :func:`~mtj_kwant.system.make_system`.
    theta, phi, bias, temperature, parts, solver, method, reference, max_eval, progress
    linear_response, current_floor, current_only
        As for :func:`~mtj_kwant.integrate.bias_point`.
    rtol : float
        Relative tolerance of the combined quadrature + discretisation error
        (continuum), or of the quadrature alone (fixed lattice, whose
        discretisation error is reported separately).
    min_step : float
        Finest lattice step (nm) of the continuum extrapolation.
    warn : bool
        Warn here (False: the caller reads ``lattice_excess`` and warns once
        for many points, as :func:`~mtj_kwant.scan.scan` does).

    Returns
    -------
    PointResult
        With ``lattice_errors`` (the discretisation part of the error
        estimate, same keys as ``errors``; zeros for tight binding) and
        ``lattice_steps`` (the lattice steps used, nm) and ``lattice_excess``
        (largest ratio of the discretisation error estimate to the
        tolerance; for a continuum junction at most 1 when converged).  For a continuum
        junction ``errors`` is the combined estimate; for a fixed lattice it
        is the quadrature error of that lattice.

    Warns
    -----
    LatticeWarning
        A fixed lattice whose estimated discretisation error exceeds the
        tolerance, or whose bands deviate from the parabola by more than 1 %
        at the energies used; a continuum extrapolation that reached
        ``min_step`` without meeting the tolerance.
    """
    if system is None:
        from .system import make_system as system
    kw = dict(theta=theta, phi=phi, bias=bias, temperature=temperature, parts=parts,
              solver=solver, method=method, reference=reference, max_eval=max_eval,
              progress=progress, linear_response=linear_response, current_floor=current_floor,
              current_only=current_only)
    sea = parts != "window"

    def at(a, tol):
        j = junction.at_spacing(a)
        return bias_point(system(j), rtol=tol, **kw)

    if junction.model != "free-electron":
        r = bias_point(system(junction), rtol=rtol, **kw)
        r.lattice_errors = {k: 0.0 * np.asarray(v) for k, v in r.errors.items()}
        r.lattice_steps = (float(junction.step),)
        r.lattice_excess = 0.0
        return r

    if not junction.continuum:
        a = junction.lattice_spacing
        r = at(a, rtol)
        coarse = 2 * a
        if junction._divides(coarse) and coarse <= 0.1:
            other, factor = at(coarse, rtol), 1 / 3      # f(a) − f(0) ≈ [f(2a) − f(a)]/3
        else:
            other, factor = at(a / 2, rtol), 4 / 3       # f(a) − f(0) ≈ 4[f(a) − f(a/2)]/3
        vec = _vector(r)
        # the estimate and its own quadrature noise, times a safety factor 2 for the a⁴ term
        # outside the asymptotic range (the bare estimate missed the exact continuum error by
        # up to 1.1x at 0.025 nm and 1.9x at 0.05 nm, measured)
        lat = 2 * factor * (np.abs(vec - _vector(other)) + _errors(r) + _errors(other))
        r.lattice_errors = {}
        _assemble(r, vec, _errors(r), lat, (a,), r.converged, r.n_eval + other.n_eval)
        tol = _tolerance(vec, rtol, sea, current_floor, current_only, r.collinear,
                         r.roundoff)
        excess = lat / np.maximum(tol, 1e-300)
        dev = band_deviation(junction, a, bias, temperature)
        r.lattice_excess = float(np.max(excess))
        if dev > UNUSABLE_DEVIATION:  # the lattice cannot represent the energies used at all
            r.converged = False
            r.lattice_excess = max(r.lattice_excess, 1e9)  # finite: stores and JSON stay strict
        if warn and (r.lattice_excess > 1 or dev > FIXED_DEVIATION_WARN):
            warnings.warn(fixed_lattice_message(a, bias, r.lattice_excess, dev),
                          LatticeWarning, stacklevel=2)
        return r

    # Continuum: Romberg in a² over nested lattices.  The quadrature of each lattice gets a
    # share of the tolerance; the total (window + sea) adds two errors and the Romberg
    # weights amplify them (x1.7 for R1, x1.9 for R2), hence the tighter share with the sea.
    qtol = rtol / (10 if sea else 4)
    a0 = base_step(junction, bias, temperature)
    steps = [a0, a0 / 2]
    runs = [at(a, qtol) for a in steps]
    n_eval = sum(r.n_eval for r in runs)
    ok = all(r.converged for r in runs)
    f = [_vector(r) for r in runs]
    e = [_errors(r) for r in runs]
    r1 = (4 * f[1] - f[0]) / 3
    lat = np.abs(f[1] - f[0]) / 3
    quad = (4 * e[1] + e[0]) / 3
    tol = _tolerance(r1, rtol, sea, current_floor, current_only, runs[1].collinear,
                     max(x.roundoff for x in runs))
    if np.all(lat + quad <= tol):
        return _finish(runs[1], r1, lat, quad, tol, steps, ok, n_eval)
    tightened = False
    while True:
        a_next = steps[-1] / 2
        steps.append(a_next)
        runs.append(at(a_next, qtol))
        n_eval += runs[-1].n_eval
        ok = ok and runs[-1].converged
        while True:
            f0, f1, f2 = (_vector(r) for r in runs[-3:])
            e0, e1, e2 = (_errors(r) for r in runs[-3:])
            r21 = (4 * f2 - f1) / 3
            r22 = (64 * f2 - 20 * f1 + f0) / 45
            lat = np.abs(r22 - r21)
            quad = (64 * e2 + 20 * e1 + e0) / 45
            tol = _tolerance(r22, rtol, sea, current_floor, current_only,
                                runs[-1].collinear, max(x.roundoff for x in runs))
            if np.all(lat + quad <= tol) or tightened or not np.all(lat <= 0.5 * tol):
                break
            # The lattice is resolved but the quadrature is not: integrate these three
            # lattices more tightly instead of halving the step (once).
            tightened = True
            qtol /= 10
            runs[-3:] = [at(a, qtol) for a in steps[-3:]]
            n_eval += sum(r.n_eval for r in runs[-3:])
            ok = all(r.converged for r in runs[-3:])
        if np.all(lat + quad <= tol):
            break
        if np.all(lat <= 0.5 * tol) or a_next / 2 < min_step * (1 - 1e-9):
            ok = False
            if warn:
                what = ("the quadrature error" if np.all(lat <= 0.5 * tol) else
                        f"the finest lattice step ({a_next:g} nm) with a discretisation error")
                warnings.warn(
                    f"bias {bias:g} V: the continuum extrapolation stopped at {what} estimate "
                    f"{np.max((lat + quad) / np.maximum(tol, 1e-300)):.3g}x the tolerance",
                    LatticeWarning, stacklevel=2)
            break
    return _finish(runs[-1], r22, lat, quad, tol, steps[-3:], ok, n_eval)


def _finish(out, vec, lat, quad, tol, steps, ok, n_eval):
    """The extrapolated PointResult; ``lattice_excess`` is the combined error over the tolerance
    when unconverged (so that scans warn), else the discretisation part's.

    Converged means the combined estimate meets the tolerance: a lattice whose own quadrature
    stopped short still enters with its (larger) error estimate.
    """
    out.lattice_errors = {}
    total = lat + quad
    ok = bool(np.all(total <= tol))
    out.lattice_excess = float(np.max((total if not ok else lat) / np.maximum(tol, 1e-300)))
    return _assemble(out, vec, total, lat, steps, ok, n_eval)
