"""Bias sweeps, profiles and conductances: the user-facing computations.

Results carry the junction, the settings, error estimates, units,
provenance and a status (:class:`~mtj_kwant.results.Result`), and are saved
to and reloaded from JSON through :mod:`mtj_kwant.results`
(:func:`load_result` reads any of them).
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from .continuum import MIN_STEP, LatticeWarning, base_step, lattice_point
from .integrate import bias_point
from .model import junction_to_dict
from .options import Options
from .physics import magnetization_direction, torque_components
from .ratios import ratio
from .results import NOT_CONVERGED, SUCCESS, Result, load_result, provenance
from .runner import _progress_bar
from .scan import (ScanResult, _as_list, _convergence, _scan, as_junction, one_number, scan,
                   solver_notes)
from .units import UNITS

__all__ = [
    "SweepResult",
    "ScanResult",
    "scan",
    "ProfileResult",
    "sweep",
    "profile",
    "conductance",
    "ConductanceResult",
    "tmr_ratio",
    "torque_components",
    "load_result",
]


@dataclass
class SweepResult(Result):
    """Torques and current density versus bias at fixed angles and temperature.

    Lists are aligned with ``bias_V``.  Torques are in (ħ/2e) A/m², current
    densities in A/m² (see ``units``).  ``interfacial_*_window`` is the spin
    current entering the free layer across its barrier-side interface; the
    ``*_total`` and ``*_sea`` lists are filled for ``parts`` "total" and
    "both" (DESIGN.md §1).  With elastic scattering (a layer's ``[scattering]``
    table, :mod:`mtj_kwant.scba`) the window torque is the exchange torque of Eq. (22),
    and ``spin_current_difference_*_window`` (J_in − J_out across the free layer) and
    ``spin_flip_loss_*_window`` (spin lost to spin flips in it; difference = torque +
    loss) are filled, in-plane, out-of-plane and along m.  A junction with a ``[supercell]``
    table (DESIGN.md §9, :func:`mtj_kwant.supercell.supercell_sweep`, T = 0) fills
    ``supercell``: size, k integration, seeds, k points evaluated, the error's three parts
    (configurations, k, energy) and every configuration's values per bias; its ``errors``
    add the configurations' standard error.  ``errors`` holds an integration error estimate
    per list: quadrature plus, for a continuum junction, discretisation.
    ``lattice_errors`` holds the discretisation part (for a fixed
    ``lattice_spacing``: that lattice's error against the continuum, not
    included in ``errors``) and ``lattice_spacing_nm`` the finest lattice
    step used per bias (free electron).  ``status`` is
    :data:`~mtj_kwant.results.NOT_CONVERGED` when some bias point did not reach
    the tolerance (``converged``), and ``message`` says which.
    """

    kind = "sweep"

    bias_V: list
    theta_deg: float
    phi_deg: float
    temperature_K: float
    current_density: list
    torque_inplane_window: list
    torque_outofplane_window: list
    errors: dict
    converged: list
    n_eval: list
    parts: str = "window"
    rtol: float = 1e-3
    solver: str = "batched"
    junction: dict = field(default_factory=dict)
    units: dict = field(default_factory=lambda: dict(UNITS))
    provenance: dict = field(default_factory=dict)
    torque_vector_window: list = field(default_factory=list)
    interfacial_inplane_window: list = field(default_factory=list)
    interfacial_outofplane_window: list = field(default_factory=list)
    torque_inplane_total: list | None = None
    torque_outofplane_total: list | None = None
    torque_inplane_sea: list | None = None
    torque_outofplane_sea: list | None = None
    torque_vector_total: list | None = None
    lattice_errors: dict = field(default_factory=dict)
    lattice_spacing_nm: list = field(default_factory=list)
    spin_current_difference_inplane_window: list | None = None
    spin_current_difference_outofplane_window: list | None = None
    spin_current_difference_longitudinal_window: list | None = None
    spin_flip_loss_inplane_window: list | None = None
    spin_flip_loss_outofplane_window: list | None = None
    spin_flip_loss_longitudinal_window: list | None = None
    supercell: dict | None = None

    def _outcome(self):
        return _convergence(self.converged, self.bias_V, self.rtol, "bias points")

    def _extra_items(self):
        # Flat error lists next to their quantities (DESIGN.md §4).
        out = {f"{key}_error": value for key, value in self.errors.items()}
        out.update({f"{key}_lattice_error": value for key, value in self.lattice_errors.items()})
        return out

    def plot(self, path=None, ax=None):
        """Current density and window torques versus bias (PNG if ``path``)."""
        from .plotting import plot_sweep

        return plot_sweep(self, path)


@dataclass
class ProfileResult(Result):
    """Site-resolved spin density, spin current and torque density at one bias.

    ``errors`` holds the largest integration error estimate of each array (the
    profile arrays are integrated to ``rtol`` of their largest element) and
    ``error_arrays`` the estimate of every element, same shapes and units.
    Free electron: the arrays are the site values of one lattice of step
    ``lattice_spacing_nm`` (the given one, or half the base step of the
    continuum extrapolation), stated in ``lattice_note``;
    ``errors["torque_lattice"]`` is the estimated discretisation error of the
    torque (3 components).

    Sum rule: ``torque_density`` summed over ``free_sites`` plus
    ``torque_remainder`` is ``torque``.  ``torque_remainder`` (3 components,
    error ``errors["torque_remainder"]``) is the transverse spin current
    (perpendicular to m) that leaves the last site shown: zero for a free
    layer (F/I/F/N), whose sites are all shown; for a semi-infinite free
    electrode (F/I/F) the part of the torque absorbed deeper than the
    ``free_depth_nm`` of the electrode shown (``depth_note`` says why that
    depth).  With ``parts="both"`` the ``window`` and ``sea`` dicts carry
    their own ``torque_remainder``.  ``status`` is
    :data:`~mtj_kwant.results.NOT_CONVERGED` when the integrals did not reach the
    tolerance (``converged``).

    With elastic scattering (a layer's ``[scattering]``, :mod:`mtj_kwant.scba`),
    ``spin_flip_loss`` holds the spin lost to spin flips on every site shown, (ħ/2e) A/m²
    (error array in ``error_arrays``); the spin sum rule of each site is
    I_{j−1} − I_j = ``torque_density`` + ``spin_flip_loss``, and ``torque`` is the
    exchange torque of Eq. (22), the sum of ``torque_density`` over the free sites.
    """

    kind = "profile"

    bias_V: float
    theta_deg: float
    phi_deg: float
    temperature_K: float
    parts: str
    x_nm: list
    spin_density: list
    bond_x_nm: list
    spin_current: list
    torque_density: list
    current_density: list
    free_sites: list
    torque: list
    torque_inplane: float
    torque_outofplane: float
    errors: dict
    converged: bool
    junction: dict = field(default_factory=dict)
    units: dict = field(default_factory=lambda: dict(UNITS))
    provenance: dict = field(default_factory=dict)
    window: dict | None = None
    sea: dict | None = None
    error_arrays: dict | None = None
    lattice_spacing_nm: float | None = None
    lattice_note: str = ""
    torque_remainder: list = field(default_factory=lambda: [0.0, 0.0, 0.0])
    free_depth_nm: float | None = None
    depth_note: str = ""
    spin_flip_loss: list | None = None

    def _outcome(self):
        if self.converged:
            return SUCCESS, "ok"
        return (NOT_CONVERGED, "the profile's integrals did not reach the tolerance; its "
                               "error estimates say how far")

    def plot(self, path=None):
        from .plotting import plot_profile

        return plot_profile(self, path)


def sweep(junction, bias, *, theta=math.pi / 2, phi=0.0, temperature=None, parts="window",
          rtol=None, solver="batched", progress=True, method="auto", executor="auto",
          store=None):
    """Current density and torques versus bias.

    Parameters
    ----------
    junction : Junction or path
    bias : sequence of float
        Biases in V.
    theta, phi : float
        Free-layer angles in radians.
    temperature : float, optional
        K; default: the junction file's.
    parts : {"window", "total", "both"}
        "total" and "both" add the Fermi-sea part and the total torque
        (DESIGN.md §1); the window lists are always filled.
    rtol : float, optional
        Relative tolerance of the integrals (torque components relative to
        the larger one).  Default 1e-3; 1e-2 for a junction with a ``[supercell]`` table
        (its zone average costs ~1e4 k points at 1e-2).
    solver : {"batched", "kwant"}
        "kwant": the Fermi sea (parts "total", "both") is still computed with the batched
        solver; ``provenance["notes"]`` says so (see :func:`~mtj_kwant.scan.scan`).
    progress : bool
        Show a progress bar on stderr.
    method : {"auto", "reduced", "nested"}
    executor, store
        Parallel execution and resumable store, see
        :func:`~mtj_kwant.scan.scan`.

    Returns
    -------
    SweepResult
    """
    junction = as_junction(junction)
    if rtol is None:
        rtol = 1e-2 if junction.supercell is not None else 1e-3
    options = Options(parts=parts, rtol=rtol, solver=solver, method=method, executor=executor)
    theta, phi = one_number("theta", theta, "rad"), one_number("phi", phi, "rad")
    if temperature is None:
        temperature = junction.temperature
    temperature = one_number("temperature", temperature, "K")
    biases = _as_list("bias", bias)
    if junction.supercell is not None:
        return _supercell_sweep(junction, biases, theta, phi, temperature, options, progress,
                                store)
    table = _scan(junction, options, bias=biases, theta=theta, phi=phi, temperature=temperature,
                  vary=None, store=store, progress=progress)
    c = table.columns

    def vectors(suffix):
        return np.stack([c[f"torque_{x}_{suffix}"] for x in "xyz"], 1).tolist()

    keys = ["current_density", "torque_inplane_window", "torque_outofplane_window",
            "interfacial_inplane_window", "interfacial_outofplane_window"]
    extra = {}
    if parts != "window":
        for key in ("torque_inplane_total", "torque_outofplane_total", "torque_inplane_sea",
                    "torque_outofplane_sea"):
            extra[key] = c[key]
            keys.append(key)
        extra["torque_vector_total"] = vectors("total")
    if "spin_flip_loss_inplane_window" in c:  # elastic scattering (mtj_kwant.scba)
        for prefix in ("spin_current_difference", "spin_flip_loss"):
            for comp in ("inplane", "outofplane", "longitudinal"):
                key = f"{prefix}_{comp}_window"
                extra[key] = c[key]
                keys.append(key)
    errors = {key: c[f"{key}_error"] for key in keys}
    lattice_errors = {key: c[f"{key}_lattice_error"] for key in keys}
    return SweepResult(
        bias_V=biases,
        theta_deg=round(math.degrees(theta), 10),
        phi_deg=round(math.degrees(phi), 10),
        temperature_K=float(temperature),
        current_density=c["current_density"],
        torque_inplane_window=c["torque_inplane_window"],
        torque_outofplane_window=c["torque_outofplane_window"],
        errors=errors,
        converged=c["converged"],
        n_eval=c["n_eval"],
        parts=parts,
        rtol=rtol,
        solver=solver,
        junction=junction_to_dict(junction),
        provenance=provenance(table.provenance.get("notes", ())),
        torque_vector_window=vectors("window"),
        interfacial_inplane_window=c["interfacial_inplane_window"],
        interfacial_outofplane_window=c["interfacial_outofplane_window"],
        lattice_errors=lattice_errors,
        lattice_spacing_nm=c["lattice_spacing_nm"],
        **extra,
    )


def _supercell_sweep(junction, biases, theta, phi, temperature, options, progress, store):
    """:func:`sweep` of a junction with a ``[supercell]`` table (T = 0, batched solver)."""
    from .options import OptionsError
    from .physics import torque_axes
    from .supercell import supercell_sweep

    if temperature != 0:
        raise OptionsError("temperature", f"must be 0 K for a junction with a [supercell] "
                           f"table (computed at T = 0), got {temperature:g} K; give 0 or "
                           f"remove the file's temperature")
    if options.solver != "batched":
        raise OptionsError("solver", f"must be 'batched' for a junction with a [supercell] "
                           f"table (it has its own block solver), got {options.solver!r}")
    executor = options.executor
    if executor == "auto":  # a supercell configuration takes seconds to hours: a pool pays
        executor = None     # as soon as there are two (the caller computes beside it)
    points = supercell_sweep(junction, biases, theta=theta, phi=phi, parts=options.parts,
                             rtol=options.rtol, executor=executor, store=store,
                             progress=progress)
    m = magnetization_direction(theta, phi)
    p = np.asarray(junction.left.magnetization, float)
    axes = torque_axes(m, p)

    def project(vectors, errors):
        vectors, errors = np.asarray(vectors), np.asarray(errors)
        if axes is None:  # collinear: both components vanish; their errors cover the vector
            zero = np.zeros(len(vectors))
            bound = errors.sum(1) + np.abs(vectors).sum(1)
            return zero, zero.copy(), bound, bound.copy()

        def spread(e):  # Σ_i |e_i| err_i, a component along which e vanishes adds 0 (not inf·0)
            return np.where(np.abs(e) > 0, errors * np.abs(e), 0.0).sum(1)

        return vectors @ axes[0], vectors @ axes[1], spread(axes[0]), spread(axes[1])

    lists = {"current_density": [q.current_density for q in points]}
    errors = {"current_density": [q.errors["current_density"] for q in points]}
    parts = ["window"] + (["sea", "total"] if options.parts != "window" else [])
    vectors = {}
    for part in parts:
        attr = "torque" if part == "window" else f"torque_{part}"
        vec = [getattr(q, attr) for q in points]
        err = [q.errors[attr] for q in points]
        par, perp, e_par, e_perp = project(vec, err)
        lists[f"torque_inplane_{part}"], lists[f"torque_outofplane_{part}"] = par, perp
        errors[f"torque_inplane_{part}"], errors[f"torque_outofplane_{part}"] = e_par, e_perp
        vectors[part] = np.asarray(vec).tolist()
    # the interfacial spin current is not computed for supercells: NaN (null), aligned
    nan = [math.nan] * len(points)
    lists["interfacial_inplane_window"] = lists["interfacial_outofplane_window"] = nan
    lists = {k: np.asarray(v, float).tolist() for k, v in lists.items()}
    errors = {k: np.asarray(v, float).tolist() for k, v in errors.items()}
    if any(not np.all(np.isfinite(q.errors["current_density"])) for q in points):
        warnings.warn("one disordered configuration: its values have no error estimate (inf); "
                      "give configurations >= 2", stacklevel=3)
    converged = [bool(q.converged) for q in points]
    cell = points[0]
    info = {
        "size": list(cell.size),
        "k_points": "adaptive" if cell.k_points is None else list(cell.k_points),
        "seeds": cell.seeds, "k_points_evaluated": [q.n_k for q in points],
        "resonances": [q.resonances for q in points],
        "error_parts": [{k: np.asarray(v).tolist() for k, v in q.parts.items()}
                        for q in points],
        "error_parts_order": ["current_density", "torque_x", "torque_y", "torque_z"]
        + (["torque_sea_x", "torque_sea_y", "torque_sea_z", "torque_total_x",
            "torque_total_y", "torque_total_z"] if options.parts != "window" else []),
        "per_configuration": [[{k: (np.asarray(v).tolist() if isinstance(v, np.ndarray) else v)
                                for k, v in c.items()} for c in q.per_configuration]
                              for q in points],
    }
    extra = {}
    if options.parts != "window":
        for key in ("torque_inplane_total", "torque_outofplane_total", "torque_inplane_sea",
                    "torque_outofplane_sea"):
            extra[key] = lists[key]
        extra["torque_vector_total"] = vectors["total"]
    return SweepResult(
        bias_V=list(biases), theta_deg=round(math.degrees(theta), 10),
        phi_deg=round(math.degrees(phi), 10), temperature_K=0.0,
        current_density=lists["current_density"],
        torque_inplane_window=lists["torque_inplane_window"],
        torque_outofplane_window=lists["torque_outofplane_window"],
        errors=errors, converged=converged, n_eval=[q.n_k for q in points],
        parts=options.parts, rtol=options.rtol, solver="supercell",
        junction=junction_to_dict(junction),
        provenance=provenance(("supercell junction: block recursive Green's functions on the "
                               "L_y x L_z supercell, adaptive zone average, T = 0; n_eval "
                               "counts k points",)),
        torque_vector_window=vectors["window"], supercell=info,
        interfacial_inplane_window=lists["interfacial_inplane_window"],
        interfacial_outofplane_window=lists["interfacial_outofplane_window"], **extra)


#: Free right electrode (F/I/F): the deepest profile shown by default (nm) ...
MAX_FREE_DEPTH = 20.0
#: ... and the first depth tried; it doubles until the transverse spin current has decayed.
FIRST_FREE_DEPTH = 1.0
_PROFILE_KEYS = ("spin_density", "spin_current", "torque_density")


def profile(junction, bias, *, theta=math.pi / 2, phi=0.0, temperature=None, parts="window",
            rtol=1e-3, solver="batched", system=None, depth=None, progress=True):
    """Spin density, spin current and torque density profiles at one bias.

    Parameters
    ----------
    parts : {"window", "total", "both"}
        Which part the main arrays hold; with "both" they hold the total and
        ``window`` and ``sea`` hold the two parts.
    depth : float, optional
        Free right electrode (F/I/F) only: how far into it (nm) the profile
        is shown.  Default: until the transverse spin current has decayed
        below the tolerance (rtol of the larger torque component; depths
        1, 2, 4, … nm are tried), at most :data:`MAX_FREE_DEPTH` nm.
    progress : bool
        Say on stderr what is computed: a profile takes several solver runs
        (a continuum junction's lattice refinement, torque only, then the
        profile itself; a free electrode's growing depths), and each ends with
        a line such as ``profile: lattice a = 0.05 nm, torque only (choosing
        the lattice): 12345 evaluations in 2.1 s``.  On a terminal a bar also
        counts the evaluations of the run in progress (as :func:`sweep`'s bar,
        none in a log).

    Returns
    -------
    ProfileResult
        ``spin_density`` in ⟨σ⟩ per nm³ per site, ``spin_current`` per bond in
        (ħ/2e) A/m² (positive toward +x), ``torque_density`` per site in
        (ħ/2e) A/m².  Sum rule: ``torque_density`` summed over ``free_sites``
        plus ``torque_remainder`` (the transverse spin current leaving the
        last site shown; zero for a free layer) is ``torque``.

    Raises
    ------
    MemoryError
        One line naming the number of sites and what to change.
    """
    junction = as_junction(junction)
    bias = one_number("bias", bias, "V; a profile is at one bias")
    theta, phi = one_number("theta", theta, "rad"), one_number("phi", phi, "rad")
    Options(parts=parts, rtol=rtol, solver=solver)
    if depth is not None:
        if junction.free_index != "right":
            raise ValueError("depth: applies to a semi-infinite free electrode (F/I/F) only; "
                             "a free layer is shown whole")
        if not (math.isfinite(depth) and depth >= 0):
            raise ValueError(f"depth: must be a finite number of nm >= 0, got {depth!r}")
        if system is not None:
            raise ValueError("depth: not with a prebuilt system (its electrode sites, "
                             "make_system's pad, are what is shown)")
    if temperature is None:
        temperature = junction.temperature
    temperature = one_number("temperature", temperature, "K")
    if temperature < 0:
        raise ValueError(f"temperature: must be >= 0 K, got {temperature!r}")
    notes = solver_notes(solver, parts)
    runs = _Runs(progress)
    try:
        result = _profile(junction, bias, theta=theta, phi=phi, temperature=temperature,
                          parts=parts, rtol=rtol, solver=solver, system=system, depth=depth,
                          runs=runs)
        if notes:
            result.provenance["notes"] = notes
        return result
    except MemoryError as err:
        raise MemoryError(_memory_message(junction, bias, temperature, depth, err)) from None
    finally:
        runs.close()


class _Runs:
    """The solver runs of a profile, with their progress on stderr when ``enabled``.

    Each run ends with a line ``profile: <what>: <n> evaluations in <t> s``; on a
    terminal a tqdm bar counts the evaluations of the run in progress, named by it.
    """

    def __init__(self, enabled):
        self.enabled = bool(enabled)
        bar = _progress_bar(self.enabled, None, 0, "profile", unit=" eval")
        if bar is not None and bar.disable:  # not a terminal: lines only
            bar.close()
            bar = None
        self.bar = bar

    def __call__(self, what, jsys, **kw):
        """``bias_point(jsys, **kw)``, shown as ``what``."""
        if not self.enabled:
            return bias_point(jsys, **kw)
        count = 0

        def tick(n):
            nonlocal count
            count += n
            if self.bar is not None:
                self.bar.update(n)

        if self.bar is not None:
            self.bar.set_description_str(f"profile: {what}")
        start = time.perf_counter()
        r = bias_point(jsys, progress=tick, **kw)
        line = f"profile: {what}: {count} evaluations in {time.perf_counter() - start:.1f} s"
        if self.bar is not None:
            self.bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr, flush=True)
        return r

    def close(self):
        if self.bar is not None:
            self.bar.close()


#: Most sites of the lattice on which a continuum junction's profile is computed.
PROFILE_MAX_SITES = 8000


def _profile_step(junction, kw, make_system, runs):
    """Lattice step (nm) for the profile of a continuum junction, the run at twice it, and the
    ratio of the torque's estimated discretisation error there to the tolerance."""
    rtol = kw["rtol"]

    def torque(r):
        return np.asarray(r.torque if kw["parts"] == "window" else r.torque_total)

    def sites(a):
        return sum(round(lay.thickness / a) for lay in junction.layers)

    def run(a):
        return runs(f"lattice a = {a:g} nm, torque only (choosing the lattice)",
                    make_system(junction.at_spacing(a)), **kw)

    a = base_step(junction, kw["bias"], kw["temperature"])
    prev = run(a)
    while True:
        step = a / 2
        cur = run(step)
        if cur.collinear:  # the torque vanishes by symmetry: nothing to refine
            return step, prev, 0.0
        est = np.abs(torque(cur) - torque(prev)) / 3
        tol = rtol * max(np.abs(torque(cur)).max(), 1e-300)
        excess = float(est.max() / tol)
        if excess <= 1 or step / 2 < MIN_STEP or sites(step / 2) > PROFILE_MAX_SITES:
            return step, prev, excess
        prev, a = cur, step


def _memory_message(junction, bias, temperature, depth, err):
    """One line: the profile's size and what to change."""
    free = junction.free_index
    if junction.model == "free-electron":
        step = (junction.lattice_spacing if not junction.continuum
                else base_step(junction, float(bias), temperature) / 2)
        sites = sum(round(lay.thickness / step) for lay in junction.layers)
        what = f"lattice a = {step:g} nm"
    else:
        step = junction.step
        sites = sum(round(lay.thickness) for lay in junction.layers)
        what = "tight binding"
    extra = 0 if free != "right" else math.ceil((MAX_FREE_DEPTH if depth is None else depth)
                                                / step)
    layer = ("a semi-infinite free electrode shown to "
             f"{MAX_FREE_DEPTH if depth is None else depth:g} nm" if free == "right"
             else f"free layer {junction.layers[free].thickness:g} "
                  f"{'nm' if junction.model == 'free-electron' else 'monolayers'}")
    advice = "a smaller depth" if free == "right" else "a thinner free layer"
    if junction.model == "free-electron":
        advice += ", a larger lattice_spacing"
    return (f"out of memory computing a profile of {sites + extra + 4} sites ({layer}, {what}): "
            f"{err}; free memory or use fewer sites ({advice})")


def _profile_arrays(r, parts):
    """The main arrays (window, or total = window + sea), the torque and its error of a run."""
    window = r.profile
    if parts == "window":
        return window, r.torque, r.errors["torque"]
    sea = window["sea"]
    keys = _PROFILE_KEYS
    main = dict(window, **{k: window[k] + sea[k] for k in keys},
                errors={k: window["errors"][k] + sea["errors"][k] for k in keys},
                error_arrays={k: window["error_arrays"][k] + sea["error_arrays"][k]
                              for k in keys})
    return main, r.torque_total, r.errors["torque_total"]


def _transverse(v, m):
    """The part of vectors v (..., 3) perpendicular to m."""
    v = np.asarray(v, float)
    return v - (v @ m)[..., None] * m


def _decayed_from(spin_current, m, bond_in, tol):
    """First bond from which the transverse spin current stays within ``tol`` to the end.

    The decayed tail must cover at least a quarter of the electrode computed
    (a node of the precession is not a decay).  None if there is no such tail.
    """
    small = np.abs(_transverse(np.asarray(spin_current)[bond_in:], m)).max(1) <= tol
    if not small[-1]:
        return None
    start = int(np.flatnonzero(~small)[-1]) + 1 if (~small).any() else 0
    if start > 0 and len(small) - start < max(1, len(small) // 4):
        return None
    return bond_in + start


def _profile_run(junction, system, depth, kw, parts, rtol, m, runs):
    """The profile run(s): ``(jsys, r, main, torque, torque_err, last, note)``.

    ``last`` is the last site shown (None: every site); the bond leaving it
    carries the remainder.  A free right electrode keeps ⌈depth/a⌉ + 1 of
    its sites in the scattering region (``pad``), or, without ``depth``,
    doubling depths until :func:`_decayed_from` finds the decayed tail.
    """
    from .system import make_system

    fif = junction.free_index == "right"
    if system is not None or not fif:
        jsys = system if system is not None else make_system(junction)
        r = runs(f"site-resolved run, {jsys.chain.n_sites} sites (a = {jsys.chain.step:g} nm)",
                 jsys, profile=True, **kw)
        main, torque, err = _profile_arrays(r, parts)
        last = jsys.chain.n_sites - 2 if fif else None
        note = "the given system's electrode sites" if fif else ""
        return jsys, r, main, torque, err, last, note
    step = junction.step
    target = FIRST_FREE_DEPTH if depth is None else float(depth)
    while True:
        n_show = max(0, math.ceil(target / step - 1e-9))
        jsys = make_system(junction, pad=(2, n_show + 1))
        r = runs(f"site-resolved run, free electrode to {n_show * step:g} nm "
                 f"({jsys.chain.n_sites} sites)", jsys, profile=True, **kw)
        main, torque, err = _profile_arrays(r, parts)
        last = jsys.chain.n_sites - 2
        if depth is not None:
            return jsys, r, main, torque, err, last, f"the requested depth {depth:g} nm"
        bond_in = jsys.chain.free_bonds[0]
        js_in = np.abs(np.asarray(main["spin_current"])[bond_in]).max()
        tol = rtol * max(np.abs(torque).max(), 1e-6 * js_in, 1e-300)
        decayed = _decayed_from(main["spin_current"], m, bond_in, tol)
        if decayed is not None:
            return (jsys, r, main, torque, err, decayed,
                    f"the transverse spin current has decayed below rtol = {rtol:g} of the "
                    "torque from there on")
        if target >= MAX_FREE_DEPTH:
            return (jsys, r, main, torque, err, last,
                    f"the default limit MAX_FREE_DEPTH = {MAX_FREE_DEPTH:g} nm (the transverse "
                    "spin current has not decayed by then; pass depth for more)")
        target = min(2 * target, MAX_FREE_DEPTH)


def _shown(d, n, last, m, keys=_PROFILE_KEYS):
    """Arrays of a profile dict on the sites shown (the first n) and their remainder."""
    out = {}
    for k in keys:
        out[k] = np.asarray(d[k])[: n - 1 if k == "spin_current" else n]
    if last is None:
        out["torque_remainder"] = np.zeros(3)
        return out
    out["torque_remainder"] = _transverse(np.asarray(d["spin_current"])[last], m)
    return out


def _profile(junction, bias, *, theta, phi, temperature, parts, rtol, solver, system, depth,
             runs):
    from .system import make_system

    kw = dict(theta=theta, phi=phi, bias=float(bias), temperature=temperature, rtol=rtol,
              solver=solver, parts=parts)
    step, torque_lattice, note = None, None, "tight-binding lattice model"
    junction_continuum = junction.continuum
    if junction.model == "free-electron" and junction.continuum:
        # Site-resolved arrays live on one lattice (they are not extrapolated): halve the
        # step until the torque's discretisation error on it, [T(2a) − T(a)]/3, meets the
        # tolerance (cheap non-profile runs), then compute the profile there.
        step, other, excess = _profile_step(junction, kw, make_system, runs)
        other_step, factor = 2 * step, 1 / 3
        junction = junction.at_spacing(step)
        note = (f"profiles on the lattice a = {step:g} nm, chosen so that the torque's "
                f"discretisation error meets rtol (site values of that lattice, not "
                f"extrapolated); errors['torque_lattice'] estimates it from a = {other_step:g} nm")
        if excess > 1:
            note += f"; the estimate is {excess:.3g}x the tolerance (finest step allowed)"
            warnings.warn(f"profile at bias {bias:g} V: the torque's discretisation error on the "
                          f"finest lattice allowed ({step:g} nm) is {excess:.3g}x the tolerance",
                          LatticeWarning, stacklevel=3)
    elif junction.model == "free-electron":
        step = junction.lattice_spacing
        coarse = 2 * step
        other_step, factor = ((coarse, 2 / 3) if junction._divides(coarse) and coarse <= 0.1
                              else (step / 2, 8 / 3))  # safety 2, as continuum.lattice_point
        other = runs(f"lattice a = {other_step:g} nm, torque only (discretisation error)",
                     make_system(junction.at_spacing(other_step)), **kw)
        note = (f"profiles on the given lattice a = {step:g} nm (site values of that lattice); "
                f"errors['torque_lattice'] estimates the discretisation error of the torque "
                f"from a second lattice a = {other_step:g} nm")
    m = magnetization_direction(theta, phi)
    jsys, r, main, torque, torque_err, last, why = _profile_run(junction, system, depth, kw,
                                                                parts, rtol, m, runs)
    keys = _PROFILE_KEYS
    n = jsys.chain.n_sites if last is None else last + 1  # sites shown
    tpar, tperp = torque_components(torque, m, junction.pinned_direction)
    if step is not None:
        other_torque = other.torque if parts == "window" else other.torque_total
        torque_lattice = (factor * np.abs(np.asarray(torque) - other_torque)).tolist()
        excess = max(torque_lattice) / max(rtol * np.abs(torque).max(), 1e-300)
        if not junction_continuum and excess > 1:
            warnings.warn(f"profile: lattice_spacing = {step:g} nm: the torque's estimated "
                          f"discretisation error is {excess:.3g}x the tolerance; leave "
                          "lattice_spacing out for a lattice chosen to meet it",
                          LatticeWarning, stacklevel=3)
    if "spin_flip_loss" in main:
        keys = keys + ("spin_flip_loss",)
    shown = _shown(main, n, last, m, keys)
    error_arrays = _shown(main["error_arrays"], n, None, m, keys)
    remainder_err = np.zeros(3)
    if last is not None:  # |I − m mᵀ| bounds the error of the projection
        proj = np.abs(np.eye(3) - np.outer(m, m))
        remainder_err = proj @ np.asarray(main["error_arrays"]["spin_current"])[last]
    free_depth, depth_note = None, ""
    if last is not None:
        bond_in = jsys.chain.free_bonds[0]
        free_depth = round(float((last - bond_in) * jsys.chain.step), 12)
        depth_note = (f"free electrode shown to {free_depth:g} nm ({n - 1 - bond_in} sites): "
                      f"{why}; torque_remainder is the transverse spin current leaving the "
                      "last site shown (absorbed deeper)")

    def arrays(d):
        part = _shown(d, n, last, m)
        return {k: np.asarray(v).tolist() for k, v in part.items()}

    if parts != "window":  # the sea arrays come from spin currents, the sea torque does not
        sea = _shown(r.profile["sea"], n, last, m)
        free = np.asarray(jsys.chain.free[:n], bool)
        total = (np.asarray(sea["torque_density"])[free].sum(0)
                 + np.asarray(sea["torque_remainder"]))
        gap = float(np.abs(total - r.torque_sea).max())
        if gap > 10 * float(np.max(r.errors["torque_sea"])) + rtol * np.abs(r.torque_sea).max():
            err = float(np.asarray(_shown(r.profile["sea"]["error_arrays"], n, None, m)
                                   ["torque_density"])[free].sum(0).max())
            sea_note = (f"the Fermi-sea arrays are at their round-off level here: their torque "
                        f"densities sum to {np.abs(total).max():.3g} (error {err:.2g}) while the "
                        f"sea torque, from the coupling determinant, is "
                        f"{np.abs(r.torque_sea).max():.3g}; read the sea and total arrays with "
                        f"their errors (the sum rule holds within them)")
            note = f"{note}; {sea_note}"
            warnings.warn(f"profile at bias {bias:g} V: {sea_note}", RoundoffWarning,
                          stacklevel=3)

    return ProfileResult(
        bias_V=float(bias),
        theta_deg=round(math.degrees(theta), 10),
        phi_deg=round(math.degrees(phi), 10),
        temperature_K=float(temperature),
        parts=parts,
        x_nm=np.asarray(main["x_nm"])[:n].tolist(),
        spin_density=shown["spin_density"].tolist(),
        bond_x_nm=np.asarray(main["bond_x_nm"])[: n - 1].tolist(),
        spin_current=shown["spin_current"].tolist(),
        torque_density=shown["torque_density"].tolist(),
        current_density=np.asarray(main["current_density"])[: n - 1].tolist(),
        free_sites=jsys.chain.free[:n].tolist(),
        torque=np.asarray(torque).tolist(),
        torque_inplane=float(tpar),
        torque_outofplane=float(tperp),
        errors=dict({k: float(np.max(error_arrays[k], initial=0.0)) for k in keys},
                    torque=np.asarray(torque_err).tolist(),
                    current_density=r.errors["current_density"],
                    torque_remainder=remainder_err.tolist(),
                    **({"torque_lattice": torque_lattice} if torque_lattice else {})),
        lattice_spacing_nm=step,
        lattice_note=note,
        error_arrays={k: np.asarray(error_arrays[k]).tolist() for k in keys},
        converged=r.converged,
        junction=junction_to_dict(junction),
        provenance=provenance(),
        window=arrays(r.profile) if parts == "both" else None,
        sea=arrays(r.profile["sea"]) if parts == "both" else None,
        torque_remainder=shown["torque_remainder"].tolist(),
        free_depth_nm=free_depth,
        depth_note=depth_note,
        spin_flip_loss=(shown["spin_flip_loss"].tolist() if "spin_flip_loss" in shown
                        else None),
    )


class RoundoffWarning(UserWarning):
    """Arrays that are round-off of larger numbers (their errors say how large)."""


def _angles_of(vec):
    x, y, z = vec
    return math.acos(max(-1.0, min(1.0, z))), math.atan2(y, x)


@dataclass
class ConductanceResult(Result):
    """Linear-response conductances per area and the TMR (DESIGN.md §3a honest ratios).

    Attributes
    ----------
    G_P, G_AP : float
        dJ/dV at V = 0 in the parallel and antiparallel states, S/m².
    errors : dict
        Error estimates of ``G_P``, ``G_AP`` (quadrature, and discretisation
        for a continuum junction) and of ``TMR`` (NaN when it is not finite).
    lattice_errors : dict
        Discretisation part of the errors (free electron).
    TMR : float
        (G_P − G_AP)/G_AP; ``inf`` when G_AP is zero within its error, NaN (0/0) when
        G_P is too.
    TMR_lower_bound : float or None
        When ``TMR`` is ``inf``: the smallest TMR the errors allow,
        (G_P − δG_P)/(max(G_AP, 0) + δG_AP) − 1.
    method : str
        How G was computed.
    converged : bool
        Whether both conductances reached the tolerance.
    status : int
        :data:`~mtj_kwant.results.SUCCESS` (0), or
        :data:`~mtj_kwant.results.NOT_CONVERGED` (1) when ``converged`` is false.
    message : str
        "ok", or a sentence saying what did not converge or is zero within its error (an
        infinite or undefined TMR).  Files of earlier versions had it as ``status``.
    """

    kind = "conductance"

    G_P: float
    G_AP: float
    TMR: float
    errors: dict
    lattice_errors: dict = field(default_factory=dict)
    TMR_lower_bound: float | None = None
    method: str = ""
    temperature_K: float = 0.0
    converged: bool = True
    junction: dict = field(default_factory=dict)
    units: dict = field(default_factory=lambda: {"G_P": "S/m^2", "G_AP": "S/m^2", "TMR": "1"})
    provenance: dict = field(default_factory=dict)

    def _outcome(self):
        return (SUCCESS, "ok") if self.converged else (
            NOT_CONVERGED, "the conductances did not reach the tolerance; see errors")

    @classmethod
    def _upgrade(cls, data):
        if isinstance(data.get("status"), str):  # before 'message': the TMR's status sentence
            data["message"] = data.pop("status")
        if data.get("TMR") is None and data.get("TMR_lower_bound") is not None:
            data["TMR"] = "inf"  # before "inf": null beside a bound (null alone is 0/0, NaN)
        return data

    def summary(self):
        """Lines with the values, errors and the TMR (or its bound)."""
        e = self.errors
        lines = [f"G_P  = {self.G_P:.6e} +- {e['G_P']:.1e} S/m^2",
                 f"G_AP = {self.G_AP:.6e} +- {e['G_AP']:.1e} S/m^2"]
        if math.isfinite(self.TMR):
            lines.append(f"TMR  = {self.TMR:.6g} +- {e['TMR']:.1e}")
        elif self.TMR_lower_bound is None:
            lines.append(f"TMR  = undefined: {self.message}")
        else:
            lines.append(f"TMR  = inf (at least {self.TMR_lower_bound:.3g}): {self.message}")
        return lines


def tmr_ratio(g_p, e_p, g_ap, e_ap):
    """TMR = G_P/G_AP − 1 with its error, or (inf, lower bound) when G_AP is zero within its error.

    The quotient goes through :func:`mtj_kwant.ratios.ratio` (G_AP ≥ 0 by nature): when
    G_P is zero within its error too (no channel at E_F at all), the TMR is 0/0, NaN with
    no bound.

    Returns
    -------
    tmr, error, lower_bound, status
    """
    r = ratio(g_p, e_p, g_ap, e_ap, name="G_P/G_AP", num_name="G_P", den_name="G_AP",
              den_sign=1)
    if r.ok:
        return r.value - 1, r.error, None, "ok"
    if r.bound is None:
        return (math.nan, math.nan, None,
                f"G_P = {g_p:.3g} +- {e_p:.2g} and G_AP = {g_ap:.3g} +- {e_ap:.2g} S/m^2 are "
                "both zero within their errors (no channel at E_F, or a transmission below "
                "what double precision represents): the TMR is undefined (0/0)")
    return (r.value, math.nan, r.bound - 1,
            f"G_AP = {g_ap:.3g} +- {e_ap:.2g} S/m^2 is zero within its error (no "
            "antiparallel channel at E_F, e.g. a half-metal): the TMR is infinite or at "
            "least the bound")


#: G_AP is resolved to rtol of max(|G_AP|, GAP_FLOOR * G_P): an antiparallel conductance
#: that vanishes (a half-metal) converges to "zero within 1e-9 rtol G_P" instead of chasing
#: round-off, and the TMR is then reported as a bound above 1/(1e-9 rtol) (DESIGN.md §3a).
GAP_FLOOR = 1e-9


def conductance(junction, *, temperature=None, rtol=1e-5, solver="batched", system=None):
    """Linear-response conductances per area in the parallel and antiparallel states, and the TMR.

    Parameters
    ----------
    junction : Junction or path
    temperature : float, optional
        K; default: the junction file's.
    rtol : float
        Relative tolerance of each conductance (quadrature + discretisation
        for a continuum junction).
    solver : {"batched", "kwant"}
    system : JunctionSystem, optional
        A prebuilt system of a fixed-lattice or tight-binding junction.

    Returns
    -------
    ConductanceResult

    Notes
    -----
    G = dJ/dV at V = 0 exactly: the window's occupation weight f_L − f_R is
    replaced by its bias derivative −∂f/∂E (δ(E − E_F) at T = 0), so
    G = (e²/h) ∫d²k∥/(2π)² Σ T(E_F, k∥) per area at T = 0, with no finite
    bias difference (a band edge at E_F gives its true zero, not the
    δV-dependent value of [J(δV) − J(−δV)]/2δV).  A TMR whose denominator is
    zero within its error is reported as ``inf`` with a lower bound
    (DESIGN.md §3a).
    """
    from .system import make_system

    junction = as_junction(junction)
    Options(rtol=rtol, solver=solver)
    if temperature is None:
        temperature = junction.temperature
    temperature = one_number("temperature", temperature, "K")
    if temperature < 0:
        raise ValueError(f"temperature: must be a finite number of K >= 0, got {temperature!r}")
    cache = {}

    def build(j):
        key = j.lattice_spacing
        if key not in cache:
            cache[key] = system if (system is not None and j == junction) else make_system(j)
        return cache[key]

    theta_p, phi_p = _angles_of(junction.pinned_direction)
    g, err, lat = {}, {}, {}
    floor, excess, converged = 0.0, 0.0, True
    for key, (th, ph) in (("G_P", (theta_p, phi_p)), ("G_AP", (math.pi - theta_p, phi_p + math.pi))):
        r = lattice_point(junction, system=build, theta=th, phi=ph, bias=0.0,
                          temperature=temperature, rtol=rtol, solver=solver,
                          linear_response=True, current_floor=floor, current_only=True,
                          warn=False)
        excess = max(excess, r.lattice_excess)
        converged = converged and bool(r.converged)
        # G_AP is resolved to rtol of max(|G_AP|, GAP_FLOOR·G_P): below that the TMR is a bound
        floor = GAP_FLOOR * abs(r.current_density)
        g[key], err[key] = r.current_density, r.errors["current_density"]
        lat[key] = r.lattice_errors.get("current_density", 0.0)
    if excess > 1:
        from .continuum import band_deviation, fixed_lattice_message

        a = junction.lattice_spacing
        warnings.warn(fixed_lattice_message(a, 0.0, excess, band_deviation(
                          junction, a, 0.0, temperature)) if not junction.continuum else
                      f"conductance: the continuum extrapolation did not meet the tolerance "
                      f"({excess:.3g}x)", LatticeWarning, stacklevel=2)
    tmr, tmr_err, bound, message = tmr_ratio(g["G_P"], err["G_P"], g["G_AP"], err["G_AP"])
    err["TMR"] = tmr_err
    result = ConductanceResult(
        G_P=g["G_P"], G_AP=g["G_AP"], TMR=tmr, errors=err, lattice_errors=lat,
        TMR_lower_bound=bound, converged=converged, temperature_K=float(temperature),
        method="linear response: dJ/dV at V = 0 with the occupation weight -df/dE "
               "(the transmission at E_F at T = 0), integrated over k_par",
        junction=junction_to_dict(junction), provenance=provenance())
    if message != "ok":  # the TMR is infinite (a bound) or undefined: say why
        result.message = message if result.success else f"{result.message}; {message}"
    return result
