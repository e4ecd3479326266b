"""Parameter scans: bias, angles, temperature and junction parameters, parallel and resumable.

:func:`scan` evaluates :func:`~mtj_kwant.integrate.bias_point` on the grid
spanned by biases, angles, temperatures and any junction parameter (a path
such as ``"layer[1].thickness"``, see :func:`~mtj_kwant.model.junction_with`),
through :func:`~mtj_kwant.runner.run_points`: on a local process pool, a dask
or MPI cluster (anything with the ``concurrent.futures`` interface) or
in-process, optionally writing every finished point to a CSV store so that an
interrupted scan resumes where it stopped.  :func:`~mtj_kwant.sweep.sweep`
is the one-dimensional case over bias.

Every point returns the same flat set of columns (units in ``UNITS``)::

    current_density                      A/m²
    torque_inplane_window, ..._outofplane_window, torque_{x,y,z}_window
    interfacial_inplane_window, interfacial_outofplane_window
    torque_{inplane,outofplane,x,y,z}_{sea,total}       (parts total / both)
    {spin_current_difference,spin_flip_loss}_{inplane,outofplane,longitudinal}_window
                                         with a layer's [scattering] table (mtj_kwant.scba):
                                         J_in − J_out across the free layer and the spin-flip
                                         loss in it; torque = difference − loss (Eq. 22)
    <each of the above>_error            error estimate, same unit (quadrature, and for a
                                         continuum junction also discretisation)
    <each of the above>_lattice_error    discretisation part (free electron; for a fixed
                                         lattice_spacing: its error against the continuum)
    converged, n_eval, n_resonances
    lattice_spacing_nm                   finest lattice step used (nm)

The in-plane and out-of-plane components are T·e∥ and T·e⊥ (DESIGN.md §1),
``interfacial`` is the spin current entering the free layer across its
barrier-side interface (the input of the diffusion model).
"""

from __future__ import annotations

import csv
import functools
import itertools
import json
import math
import numbers
import os
import pickle
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .continuum import LatticeWarning, lattice_point
from .model import Junction, junction_to_dict, junction_with, load_junction
from .options import PARTS, Options
from .physics import magnetization_direction, torque_axes, torque_components
from .results import NOT_CONVERGED, SUCCESS, Result, provenance, read_json, write_json
from .runner import WORKER_STARTUP_S, fingerprint_of, run_points, start_method
from .units import UNITS

__all__ = ["scan", "ScanResult", "point_observables", "torque_components", "provenance",
           "PARTS", "PARAMETERS", "KWANT_SEA_NOTE", "SolverNote"]

#: The point parameters besides junction paths, as stored (degrees, K, V).
PARAMETERS = ("bias_V", "theta_deg", "phi_deg", "temperature_K")
#: "auto" uses a pool only when the remaining serial work exceeds a worker's start-up
#: (:data:`~mtj_kwant.runner.WORKER_STARTUP_S` of the start method) times this margin.
POOL_MARGIN = 1.5


def _projected(prefix, suffix, vec, err, m, p):
    """Columns T∥, T⊥, T_x, T_y, T_z and their errors (error of a projection ≤ Σ|e_i| err_i)."""
    axes = torque_axes(m, p)
    out = {}
    for name, e in zip(("inplane", "outofplane"), axes or (None, None)):
        out[f"{prefix}_{name}_{suffix}"] = float(vec @ e) if e is not None else 0.0
        out[f"{prefix}_{name}_{suffix}_error"] = float(err @ np.abs(e)) if e is not None else 0.0
    if prefix in ("spin_current_difference", "spin_flip_loss"):  # also the part along m
        out[f"{prefix}_longitudinal_{suffix}"] = float(vec @ m)
        out[f"{prefix}_longitudinal_{suffix}_error"] = float(err @ np.abs(m))
    if prefix == "torque":
        for i, c in enumerate("xyz"):
            out[f"torque_{c}_{suffix}"] = float(vec[i])
            out[f"torque_{c}_{suffix}_error"] = float(err[i])
    return out


#: What a run with solver="kwant" and parts "total" or "both" says in its result's
#: ``provenance["notes"]`` (and once as a :class:`SolverNote`).
KWANT_SEA_NOTE = ("solver 'kwant': the window part comes from Kwant's scattering states; the "
                  "Fermi sea (an integral at complex energies, where Kwant has no scattering "
                  "states) is computed with the batched Green's-function solver")


class SolverNote(UserWarning):
    """Which solver computed what, where it is not the one asked for (information, not an
    error): solver="kwant" computes the Fermi sea with the batched solver."""


def solver_notes(solver, parts, *, stacklevel=3):
    """Notes for ``provenance["notes"]`` on the solvers used; each is also warned once.

    Returns
    -------
    list of str
        [:data:`KWANT_SEA_NOTE`] for solver "kwant" with parts "total" or "both", else [].
    """
    if solver == "kwant" and parts != "window":
        warnings.warn(KWANT_SEA_NOTE, SolverNote, stacklevel=stacklevel)
        return [KWANT_SEA_NOTE]
    return []


def _scattering_table(junction):
    """Whether a layer of the junction has a ``[scattering]`` table (rates 0 included)."""
    return any(getattr(lay, "scattering", None) is not None for lay in junction.layers)


def as_junction(junction):
    """A :class:`Junction` from a Junction or a junction file path.

    Raises
    ------
    TypeError
        Neither a Junction nor a path (str or os.PathLike).
    """
    if isinstance(junction, Junction):
        return junction
    if not isinstance(junction, (str, os.PathLike)):
        raise TypeError(f"junction: expected a Junction or the path of a junction file, got "
                        f"{type(junction).__name__} {junction!r}")
    return load_junction(junction)


_SYSTEMS = {}


_VARIED = {}


def _varied(junction, changes):
    """junction_with(junction, changes), cached per process: a point of a parameter scan
    builds (and validates, warnings included) each distinct junction once, not once per
    angle, bias or temperature (a lattice warning was printed once per point)."""
    key = (fingerprint_of(junction_to_dict(junction)), repr(sorted(changes.items())))
    if key not in _VARIED:
        if len(_VARIED) > 256:
            _VARIED.clear()
        _VARIED[key] = junction_with(junction, changes)
    return _VARIED[key]


def _system(junction):
    """Finalized system of a junction, cached per process (workers reuse it)."""
    from .system import make_system

    key = fingerprint_of(junction_to_dict(junction))
    if key not in _SYSTEMS:
        if len(_SYSTEMS) > 32:
            _SYSTEMS.clear()
        _SYSTEMS[key] = make_system(junction)
    return _SYSTEMS[key]


def point_observables(point, *, junction, rtol=1e-3, parts="window", solver="batched",
                      method="auto"):
    """Observables at one scan point: the function that workers evaluate.

    Parameters
    ----------
    point : dict
        ``bias_V``, ``theta_deg``, ``phi_deg``, ``temperature_K`` and any
        junction parameter paths (see :func:`~mtj_kwant.model.junction_with`).
    junction : Junction
    rtol, parts, solver, method
        As for :func:`~mtj_kwant.integrate.bias_point`.

    Returns
    -------
    dict
        Flat columns (see the module documentation).
    """
    changes = {k: _decode(v) for k, v in point.items() if k not in PARAMETERS}
    if changes:
        junction = _varied(junction, changes)
    theta, phi = math.radians(point["theta_deg"]), math.radians(point["phi_deg"])
    r = lattice_point(junction, system=_system, theta=theta, phi=phi,
                      bias=float(point["bias_V"]), temperature=float(point["temperature_K"]),
                      rtol=rtol, parts=parts, solver=solver, method=method, warn=False)
    m, p = magnetization_direction(theta, phi), junction.pinned_direction
    out = {"current_density": r.current_density,
           "current_density_error": r.errors["current_density"]}
    lat = {"current_density_lattice_error": r.lattice_errors["current_density"]}
    blocks = [("torque", "window", r.torque, "torque"),
              ("interfacial", "window", r.interfacial, "interfacial")]
    if parts != "window":
        blocks += [("torque", "sea", r.torque_sea, "torque_sea"),
                   ("torque", "total", r.torque_total, "torque_total")]
    if _scattering_table(junction):
        # with a [scattering] table the columns exist at every point (rates 0 included: the
        # ballistic route, whose torque is the spin-current difference, with no loss)
        if r.spin_flip_loss is None:
            r.spin_current_difference, r.spin_flip_loss = r.torque, np.zeros(3)
            for errs in (r.errors, r.lattice_errors):
                errs["spin_current_difference"] = errs["torque"]
                errs["spin_flip_loss"] = np.zeros(3)
        blocks += [("spin_current_difference", "window", r.spin_current_difference,
                    "spin_current_difference"),
                   ("spin_flip_loss", "window", r.spin_flip_loss, "spin_flip_loss")]
    for prefix, suffix, vec, key in blocks:
        out.update(_projected(prefix, suffix, vec, r.errors[key], m, p))
        lat.update({k.replace("_error", "_lattice_error"): v for k, v in _projected(
            prefix, suffix, vec, r.lattice_errors[key], m, p).items() if k.endswith("_error")})
    out.update(lat)
    out.update(converged=bool(r.converged), n_eval=int(r.n_eval),
               n_resonances=int(len(r.resonances)), lattice_spacing_nm=min(r.lattice_steps),
               lattice_excess=float(r.lattice_excess))
    return out


#: Largest |bias| (V) a scan or sweep accepts: MgO junctions break down near 1–2 V, and at
#: 1e6 V a sweep returned J = 0 ± 1e-291 "converged" (every band below the window).
MAX_BIAS = 10.0


def _as_list(name, values, convert=float):
    values = np.atleast_1d(np.asarray(values, dtype=object))
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"{name}: give one value or a non-empty list")
    if convert is float and not all(isinstance(v, numbers.Real) and not isinstance(v, bool)
                                    for v in values):
        raise ValueError(f"{name}: values must be numbers, got {list(values)!r}")
    try:
        out = [convert(v) for v in values]
    except (TypeError, ValueError):
        raise ValueError(f"{name}: values must be numbers, got {list(values)!r}") from None
    if convert is float and not all(math.isfinite(v) for v in out):
        raise ValueError(f"{name}: values must be finite numbers, got {out!r}")
    if name == "temperature" and any(v < 0 for v in out):
        raise ValueError(f"temperature: must be >= 0 K, got {out!r}")
    if name == "bias" and any(abs(v) > MAX_BIAS for v in out):
        raise ValueError(f"bias: |V| must be at most {MAX_BIAS:g} V, got "
                         f"{max(out, key=abs)!r} V (tunnel junctions break down near 1-2 V; "
                         "a larger drop leaves every band the model describes)")
    if name in ("theta", "phi") and any(abs(v) > 4 * math.pi for v in out):
        warnings.warn(f"{name}: {out!r} rad is more than two turns; the Python API takes "
                      "radians (degrees are for the command line and files)", UserWarning,
                      stacklevel=4)
    return out


def one_number(name, value, unit):
    """A single finite real ``value`` (``theta`` of a sweep, ...) or one line naming ``name``.

    Raises
    ------
    ValueError
        A string, a list, a bool, NaN or ±inf.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name}: must be one finite number ({unit}), got {value!r}")
    return float(value)


def _vary_values(key, values):
    """Point values of a junction parameter: numbers, or pairs such as a trapezoid's edges.

    A pair is kept as its JSON text ("[3.37, 3.87]"), so that points stay
    scalars in the store (and readable in the CSV).
    """
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        values = [values]
    out = []
    for value in values:
        if isinstance(value, (list, tuple, np.ndarray)):
            out.append(json.dumps([float(v) for v in value]))
        elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
                value, bool):
            out.append(float(value))
        else:
            raise ValueError(f"{key}: values must be numbers or [left, right] pairs, got "
                             f"{value!r}")
    if not out:
        raise ValueError(f"{key}: give at least one value")
    return out


def _decode(value):
    return json.loads(value) if isinstance(value, str) and value.startswith("[") else value


@dataclass
class ScanResult(Result):
    """A table of observables over a grid of points.

    Attributes
    ----------
    parameters : list of str
        The point columns (``bias_V``, ``theta_deg``, ``phi_deg``,
        ``temperature_K`` and any junction parameter paths).
    columns : dict
        Column name -> list, all aligned (parameters first).
    settings : dict
        parts, rtol, solver, method.
    junction : dict
        The junction before variations (TOML-like tables).
    units, provenance : dict
    status, message
        :data:`~mtj_kwant.results.NOT_CONVERGED` when some point's integrals did not reach
        the tolerance (``columns["converged"]``), with the message saying how many; else 0, "ok"
        (:class:`~mtj_kwant.results.Result`: ``save``, ``load``, ``to_dict``, ``success``).
    """

    kind = "scan"

    parameters: list
    columns: dict
    settings: dict
    junction: dict = field(default_factory=dict)
    units: dict = field(default_factory=lambda: dict(UNITS))
    provenance: dict = field(default_factory=dict)

    def __len__(self):
        return len(self.columns[self.parameters[0]])

    def _outcome(self):
        return _convergence(self.columns.get("converged", ()), self.columns.get("bias_V"),
                            self.settings.get("rtol"), "points")

    @property
    def converged(self):
        """Whether every point's integrals reached the tolerance."""
        return bool(all(self.columns.get("converged", ())))

    def __getitem__(self, name):
        return np.asarray(self.columns[name])

    def to_pandas(self):
        """A pandas DataFrame with one row per point (pandas needed)."""
        import pandas as pd

        return pd.DataFrame(self.columns)

    def to_xarray(self):
        """An xarray Dataset indexed by the parameters (pandas and xarray needed)."""
        return self.to_pandas().set_index(self.parameters).to_xarray()

    def save(self, path):
        """Write JSON (``.json``) or CSV (any other suffix; metadata in ``<path>.meta.json``).

        :meth:`load` reads the JSON form.
        """
        path = Path(path)
        if path.suffix == ".json":
            return super().save(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        names = list(self.columns)
        with open(path, "w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file, lineterminator="\n")
            writer.writerow(names)
            for row in zip(*(self.columns[n] for n in names)):  # floats bit for bit (repr)
                writer.writerow([repr(v) if isinstance(v, float) else str(v) for v in row])
        meta = {k: v for k, v in self.to_dict().items() if k != "columns"}
        write_json(meta, f"{path}.meta.json")
        return path

    @classmethod
    def load(cls, path):
        """Read a table written by :meth:`save`: the JSON form, or the CSV form with its
        ``<path>.meta.json`` (numbers, booleans and strings as written).

        Raises
        ------
        ValueError
            Not a scan table, or a CSV without its metadata file (one line naming the file).
        """
        path = Path(path)
        if path.suffix == ".json":
            return super().load(path)
        meta_path = Path(f"{path}.meta.json")
        if not meta_path.is_file():
            raise ValueError(f"{path}: no {meta_path.name} beside it (a scan table's CSV is "
                             "read with its metadata; or save the scan as .json)")
        try:
            with open(path, newline="", encoding="utf-8") as file:
                rows = list(csv.reader(file))
        except (OSError, UnicodeDecodeError) as err:
            raise ValueError(f"{path}: cannot read the scan table ({err})") from None
        if not rows or any(len(row) != len(rows[0]) for row in rows):
            raise ValueError(f"{path}: not a scan table (empty, or rows of unequal length)")
        columns = {name: [_cell(row[k]) for row in rows[1:]] for k, name in enumerate(rows[0])}
        try:
            return cls.from_dict({**read_json(meta_path), "columns": columns})
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None


def _cell(text):
    """A CSV cell of :meth:`ScanResult.save` as the value it was: int, float, bool or str."""
    if text in ("True", "False"):
        return text == "True"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _convergence(flags, bias, rtol, what):
    """(status, message) of a result from its per-point convergence flags."""
    flags = list(flags)
    bad = [i for i, ok in enumerate(flags) if not ok]
    if not bad:
        return SUCCESS, "ok"
    where = ""
    if bias is not None and len(bias) == len(flags):
        shown = ", ".join(f"{bias[i]:g}" for i in bad[:5]) + (", ..." if len(bad) > 5 else "")
        where = f" (bias {shown} V)"
    tol = f" rtol = {rtol:g}" if isinstance(rtol, (int, float)) else ""
    return (NOT_CONVERGED, f"{len(bad)} of {len(flags)} {what}{where} did not reach the "
                           f"tolerance{tol}; their error estimates say how far")


def scan(junction, *, bias=0.0, theta=math.pi / 2, phi=0.0, temperature=None, vary=None,
         parts="window", rtol=1e-3, solver="batched", method="auto", executor="auto",
         store=None, progress=True):
    """Observables on the grid spanned by bias, angles, temperature and junction parameters.

    Parameters
    ----------
    junction : Junction or path
    bias : float or sequence
        V.
    theta, phi : float or sequence
        Free-layer angles in radians.
    temperature : float or sequence, optional
        K; default: the junction file's.
    vary : dict, optional
        Junction parameter path -> sequence of values, e.g.
        ``{"layer[1].thickness": [1.0, 1.5, 2.0]}`` or, for trapezoidal
        barriers, ``{"layer[0].potential": [[3.62, 3.62], [3.47, 3.77]]}``
        (paths as in :func:`~mtj_kwant.model.junction_with`; pairs appear in
        the table as their JSON text).
    parts : {"window", "total", "both"}
        "total" and "both" add the Fermi sea and the total.
    rtol : float
        Relative tolerance of every integral.
    solver : {"batched", "kwant"}
        "kwant": the window part from Kwant's scattering states; the Fermi sea (parts
        "total", "both") is always computed with the batched solver, which the result's
        ``provenance["notes"]`` says (:data:`KWANT_SEA_NOTE`, also warned once as a
        :class:`SolverNote`).
    method : {"auto", "reduced", "nested"}
    executor : "auto", None, "serial", int or Executor
        Where the points run (see :func:`~mtj_kwant.runner.run_points`).
        ``"auto"`` (default): the first point runs here and is timed; the
        rest go to a local process pool with one worker per CPU when that
        saves more than a few worker start-ups (and the junction can be
        pickled: a Python-function barrier profile stays here), else run
        here too.
        ``None`` always uses the local pool; pass ``client.get_executor()``
        of a ``dask.distributed.Client`` or an ``mpi4py.futures.MPIPoolExecutor``
        to run on a cluster.
    store : path, optional
        CSV file that receives every finished point; rerunning the same scan
        resumes from it (:func:`~mtj_kwant.runner.run_points`).
    progress : bool
        Progress bar on stderr.

    Returns
    -------
    ScanResult
        Points ordered with the bias varying fastest, then θ, φ, temperature
        and the junction parameters in the order given.
    """
    junction = as_junction(junction)
    options = Options(parts=parts, rtol=rtol, solver=solver, method=method, executor=executor)
    return _scan(junction, options, bias=bias, theta=theta, phi=phi, temperature=temperature,
                 vary=vary, store=store, progress=progress)


def _scan(junction, options, *, bias, theta, phi, temperature, vary, store, progress):
    """:func:`scan` with validated :class:`~mtj_kwant.options.Options` (also :func:`sweep`'s
    engine); warnings point two frames up, at the caller of scan or sweep."""
    if temperature is None:
        temperature = junction.temperature
    vary = dict(vary or {})
    axes = [(key, _vary_values(key, values)) for key, values in vary.items()]
    for key, values in axes:  # fail early, in the caller, on bad paths or values
        for value in values:
            junction_with(junction, {key: _decode(value)})
    axes += [("temperature_K", _as_list("temperature", temperature)),
             ("phi_deg", [round(math.degrees(v), 10) for v in _as_list("phi", phi)]),
             ("theta_deg", [round(math.degrees(v), 10) for v in _as_list("theta", theta)]),
             ("bias_V", _as_list("bias", bias))]
    names = [name for name, _ in axes]
    points = [dict(zip(names, combo)) for combo in itertools.product(*(v for _, v in axes))]
    settings = options.settings()
    notes = solver_notes(options.solver, options.parts, stacklevel=4)
    func = functools.partial(point_observables, junction=junction, **settings)
    fingerprint = fingerprint_of({"junction": junction_to_dict(junction), **settings})
    rows = _run(func, points, options.executor, store, fingerprint, progress)
    order = ["bias_V", "theta_deg", "phi_deg", "temperature_K"] + list(vary)
    columns = {name: [pt[name] for pt in points] for name in order}
    for key in rows[0]:
        columns[key] = [row[key] for row in rows]
    _warn_lattice(junction, columns, stacklevel=4)
    return ScanResult(parameters=order, columns=columns, settings=settings,
                      junction=junction_to_dict(junction), provenance=provenance(notes))


def _warn_lattice(junction, columns, *, stacklevel=3):
    """One LatticeWarning for all points whose lattice error exceeds the tolerance."""
    excess = np.asarray(columns.get("lattice_excess", [0.0]), float)
    if not len(excess) or np.nanmax(excess) <= 1:
        return
    i = int(np.nanargmax(excess))
    n_bad = int(np.sum(excess > 1))
    steps = np.asarray(columns["lattice_spacing_nm"], float)
    fixed = not junction.continuum or "lattice_spacing" in columns
    what = (f"lattice_spacing = {steps[i]:g} nm" if fixed
            else "the continuum extrapolation (finest step reached)")
    if fixed and excess[i] >= 1e9:  # continuum.UNUSABLE_DEVIATION exceeded
        warnings.warn(f"{what} cannot represent the energies of bias {columns['bias_V'][i]:g} V "
                      f"({n_bad} of {len(excess)} points not converged): those results are "
                      "meaningless; use a much smaller step or leave lattice_spacing out",
                      LatticeWarning, stacklevel=stacklevel)
        return
    warnings.warn(f"{what}: estimated discretisation error above the tolerance at {n_bad} of "
                  f"{len(excess)} points, up to {excess[i]:.3g}x at bias "
                  f"{columns['bias_V'][i]:g} V; see the *_lattice_error columns"
                  + ("; leave lattice_spacing out (or \"auto\") for the continuum limit"
                     if fixed else ""), LatticeWarning, stacklevel=stacklevel)


def _picklable(func):
    """Whether func can go to worker processes (a junction with a lambda potential cannot)."""
    try:
        pickle.dumps(func)
    except Exception:  # noqa: BLE001 - any pickling failure means "run here"
        return False
    return True


def _run(func, points, executor, store, fingerprint, progress):
    """run_points with the "auto" executor: time the first points here, then decide.

    The first point pays the one-time costs (compiled kernels, the Kwant system), so the
    second one is timed too; a pool (the caller computing beside it, see
    :func:`~mtj_kwant.runner.run_points`) starts only when the remaining serial work
    exceeds a worker's start-up (:data:`~mtj_kwant.runner.WORKER_STARTUP_S`: forked
    workers, ~0.05 s, or spawned ones, ~0.7 s) times :data:`POOL_MARGIN`.
    """
    common = dict(store=store, fingerprint=fingerprint, progress=progress)
    if executor != "auto":
        return run_points(func, points, executor=executor, **common)
    done = []
    cost = 0.0
    for k in range(min(2, len(points))):
        start = time.perf_counter()
        done += run_points(func, points[k:k + 1], executor="serial",
                           **dict(common, progress=False))
        cost = time.perf_counter() - start
    rest = len(points) - len(done)
    startup = POOL_MARGIN * WORKER_STARTUP_S[start_method()]
    pool = ((os.cpu_count() or 1) > 1 and rest > 1 and rest * cost > startup
            and _picklable(func))
    if store is not None:  # the store already holds the first points
        return run_points(func, points, executor=None if pool else "serial", **common)
    return done + run_points(func, points[len(done):], executor=None if pool else "serial",
                             **common)