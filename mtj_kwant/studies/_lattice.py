"""Lattice bookkeeping shared by the studies (no physics: it only reads result columns).

The free-electron model is a continuum model (DESIGN.md §3).  The studies' junctions carry
no ``lattice_spacing``, so every point that :func:`mtj_kwant.scan` / :func:`mtj_kwant.sweep`
returns is extrapolated to a → 0 over nested lattices, its ``*_error`` covers quadrature and
discretisation, and its ``*_lattice_error`` is the discretisation part; ``lattice_spacing_nm``
is the finest lattice step used.  :func:`record` writes the largest discretisation error of
a result, relative to the largest |value| of each list, into a study's provenance.
"""

import numpy as np

from mtj_kwant.ratios import ratio

#: The provenance setting "lattice" of every free-electron study.
CONTINUUM = ("continuum limit: the junctions have no lattice_spacing, so every point is "
             "extrapolated to a -> 0 over nested lattices (Richardson/Romberg in a^2, "
             "mtj_kwant.continuum); each *_error covers quadrature + discretisation, "
             "*_lattice_error is its discretisation part")


def _columns(result, keys):
    """(values, lattice errors, finest steps) of a ScanResult or a SweepResult."""
    if hasattr(result, "lattice_errors"):  # SweepResult
        values = {k: np.asarray(getattr(result, k), float) for k in keys}
        lattice = {k: np.asarray(result.lattice_errors[k], float) for k in keys}
        steps = np.asarray(result.lattice_spacing_nm, float)
    else:  # ScanResult
        values = {k: np.asarray(result[k], float) for k in keys}
        lattice = {k: np.asarray(result[f"{k}_lattice_error"], float) for k in keys}
        steps = np.asarray(result["lattice_spacing_nm"], float)
    return values, lattice, steps


def _errors(result, key):
    """The error estimates of one list (quadrature + discretisation)."""
    if hasattr(result, "lattice_errors"):  # SweepResult
        return np.asarray(result.errors[key], float)
    return np.asarray(result[f"{key}_error"], float)


def relative(result, keys):
    """Largest lattice error of each list relative to the list's largest |value|.

    Returns
    -------
    dict
        key -> max |lattice_error| / max |value|, plus ``"finest_step_nm"`` and
        ``"coarsest_finest_step_nm"`` (the range of the finest step used per point).  A list
        whose largest |value| is zero within its error (a torque that vanishes by symmetry)
        has no relative error: inf or NaN (:func:`mtj_kwant.ratios.ratio`), not 1e280.
    """
    values, lattice, steps = _columns(result, keys)
    out = {k: float(ratio(np.max(np.abs(lattice[k])), 0.0, np.max(np.abs(values[k])),
                          np.nanmax(np.abs(_errors(result, k)), initial=0.0), den_sign=1).value)
           for k in keys}
    out["finest_step_nm"] = float(np.min(steps))
    out["coarsest_finest_step_nm"] = float(np.max(steps))
    return out


def record(ctx, label, result, keys):
    """Write :func:`relative` of a result into the provenance errors; return it.

    Points that did not converge (quadrature, or the continuum extrapolation reaching its
    finest step) are listed in a note with their parameters and their largest value of
    ``keys`` relative to the list's largest |value|.
    """
    rel = relative(result, keys)
    ctx.error(f"{label}: largest lattice (discretisation) error / max |value|", rel)
    if hasattr(result, "lattice_errors"):  # SweepResult
        converged = np.asarray(result.converged, bool)
        where = [f"V = {v:g} V" for v in result.bias_V]
    else:
        converged = np.asarray(result["converged"], bool)
        where = [", ".join(f"{p} = {result[p][i]:g}" for p in result.parameters
                           if np.ptp(np.asarray(result[p], float)) > 0 or p == "bias_V")
                 for i in range(len(result))]
    if not converged.all():
        values, _, _ = _columns(result, keys)
        bad = np.flatnonzero(~converged)
        size = {i: max(abs(values[k][i]) / max(float(np.max(np.abs(values[k]))), 1e-300)
                       for k in keys) for i in bad}
        ctx.note(f"{label}: {bad.size} of {converged.size} points not converged ("
                 + "; ".join(f"{where[i]}: largest |value| {size[i]:.2g} of the list's "
                             "maximum" for i in bad) + ")")
    return rel


def columns(result, keys):
    """``{key}_lattice_error`` columns and ``lattice_spacing_nm`` of a result, for a CSV table."""
    _, lattice, steps = _columns(result, keys)
    out = {f"{k}_lattice_error": lattice[k] for k in keys}
    out["lattice_spacing_nm"] = steps
    return out
