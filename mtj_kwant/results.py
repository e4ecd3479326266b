"""Results: one strict JSON format, the provenance record, and what every result type shares.

Every result type (:class:`~mtj_kwant.sweep.SweepResult`, :class:`~mtj_kwant.sweep.ProfileResult`,
:class:`~mtj_kwant.sweep.ConductanceResult`, :class:`~mtj_kwant.scan.ScanResult`,
:class:`~mtj_kwant.comparison.Comparison`, :class:`~mtj_kwant.dynamics.Trajectory`) derives from :class:`Result` and so has

* ``status`` (int) and ``message`` (str) beside its data, as scipy's ``OdeResult``:
  :data:`SUCCESS` (0) when every integral met its tolerance, :data:`NOT_CONVERGED` (1) when
  some did not (the values are then the best estimates, with their error estimates), and
  ``success`` (status 0); the ``message`` is "ok" or says what happened;
* ``to_dict()`` (plain JSON-ready data), ``save(path)`` and the classmethods
  ``from_dict(data)`` and ``load(path)``;
* a ``kind`` ("sweep", "profile", "conductance", "scan", "comparison") written into the
  file, from which :func:`load_result` knows what to rebuild.

File format and NaN policy
--------------------------
UTF-8 JSON written with ``allow_nan=False``, so every file is valid JSON for any reader.
JSON has no NaN or infinity; they are written as

=========  ==========
value      JSON
=========  ==========
NaN        ``null``
+inf       ``"inf"``
−inf       ``"-inf"``
=========  ==========

Numpy arrays become (nested) lists, numpy scalars Python numbers, complex numbers
``[real, imag]``, paths strings.  On reading, the data of a result (every field except the
metadata ``junction``, ``units``, ``provenance`` and ``settings``, which are kept as written)
turn back into numbers: ``null`` inside a list or dict and in a number field is NaN,
``"inf"``/``"-inf"`` (and ``"nan"``) are ±inf (NaN); a ``null`` field that is absent on
purpose (``torque_inplane_total`` of a window-only sweep) stays None.  Files written before
this format (non-standard ``NaN``/``Infinity`` constants, no ``kind``, a conductance's
string ``status``) are read too.

A result type elsewhere (as the trajectories of :mod:`mtj_kwant.dynamics`) joins by deriving
from :class:`Result`, setting ``kind`` and, if its status is not derived from its data,
passing ``status``/``message``; :func:`register_kind` lets :func:`load_result` find it.
"""

from __future__ import annotations

import datetime
import importlib
import importlib.metadata
import json
import math
import os
import platform
import sys
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import ClassVar

import numpy as np

__all__ = [
    "Result",
    "SUCCESS",
    "NOT_CONVERGED",
    "jsonable",
    "restore_numbers",
    "dumps",
    "write_json",
    "read_json",
    "provenance",
    "load_result",
    "register_kind",
]

#: ``status`` of a result whose integrals all met their tolerance.
SUCCESS = 0
#: ``status`` of a result with integrals that did not meet their tolerance (best estimates,
#: with their error estimates).
NOT_CONVERGED = 1

_NON_FINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan,
               "Infinity": math.inf, "-Infinity": -math.inf, "NaN": math.nan}


# --------------------------------------------------------------------------------------------
# the writer and the reader
# --------------------------------------------------------------------------------------------
def jsonable(obj):
    """A strict-JSON-ready copy of ``obj`` (the module's NaN policy: NaN → None, ±inf → "±inf").

    Dicts (keys as strings), lists and tuples are copied recursively; numpy arrays become
    lists, numpy scalars Python numbers, complex numbers [real, imag], paths strings, and
    objects with a ``to_dict`` method their dict.  Anything else is returned as it is (and
    :func:`dumps` refuses it if JSON cannot hold it).
    """
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        if math.isnan(x):
            return None
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return x
    if isinstance(obj, (complex, np.complexfloating)):
        return [jsonable(obj.real), jsonable(obj.imag)]
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if callable(getattr(obj, "to_dict", None)):
        return jsonable(obj.to_dict())
    return obj


def restore_numbers(obj):
    """Inverse of :func:`jsonable` for numeric data: None → NaN, "inf"/"-inf"/"nan" → floats.

    Dicts and lists are copied recursively; other strings, numbers and booleans are kept.
    """
    if obj is None:
        return math.nan
    if isinstance(obj, str):
        return _NON_FINITE.get(obj, obj)
    if isinstance(obj, dict):
        return {k: restore_numbers(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [restore_numbers(v) for v in obj]
    return obj


def dumps(obj, *, indent=1):
    """``obj`` as strict JSON text (:func:`jsonable`, then ``json.dumps(allow_nan=False)``)."""
    return json.dumps(jsonable(obj), indent=indent, allow_nan=False)


def write_json(obj, path, *, indent=1):
    """Write ``obj`` as strict JSON to ``path`` (parent folders are created); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(obj, indent=indent), encoding="utf-8")
    return path


def read_json(path):
    """The data of a JSON file (files of earlier versions with NaN/Infinity constants too).

    Raises
    ------
    ValueError
        Not UTF-8 JSON (one line naming the file).
    """
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not a result file (not JSON: {err})") from None


# --------------------------------------------------------------------------------------------
# provenance
# --------------------------------------------------------------------------------------------
def _version(name):
    module = sys.modules.get(name)
    if module is not None and hasattr(module, "__version__"):
        return module.__version__
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def provenance(notes=()):
    """Versions and time stamp for result metadata, and ``notes`` (if any) under "notes".

    Parameters
    ----------
    notes : sequence of str
        Sentences on how the result was computed (e.g. :func:`~mtj_kwant.scan.solver_notes`).

    Returns
    -------
    dict
        ``mtj_kwant``, ``kwant``, ``numpy``, ``scipy``, ``python`` (versions), ``date`` (UTC,
        ISO 8601), ``command`` (the command line) and ``notes``.
    """
    from . import __version__

    return {
        "mtj_kwant": __version__,
        "kwant": _version("kwant"),
        "numpy": np.__version__,
        "scipy": _version("scipy"),
        "python": platform.python_version(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        **({"notes": list(notes)} if notes else {}),
    }


# --------------------------------------------------------------------------------------------
# the result interface
# --------------------------------------------------------------------------------------------
@dataclass
class Result:
    """Base of the result types: status, message, and saving and loading through one format.

    Subclasses are dataclasses with their data as fields and set :attr:`kind`; ``status``
    and ``message`` are keyword-only fields that :meth:`_outcome` fills from the data when
    they are not given.

    Attributes
    ----------
    status : int
        :data:`SUCCESS` (0) or :data:`NOT_CONVERGED` (1).
    message : str
        "ok", or what did not converge or is not defined.
    """

    #: The "kind" written into files (:func:`load_result`).
    kind: ClassVar[str] = ""
    #: Fields stored as written (metadata), not read back as numbers.
    metadata_fields: ClassVar[tuple] = ("junction", "units", "provenance", "settings")

    status: int | None = field(default=None, kw_only=True)
    message: str | None = field(default=None, kw_only=True)

    def __post_init__(self):
        if self.status is None or self.message is None:
            status, message = self._outcome()
            if self.status is None:
                self.status = status
            if self.message is None:
                self.message = message

    def _outcome(self):
        """(status, message) derived from the data; subclasses with convergence flags override."""
        return SUCCESS, "ok"

    @property
    def success(self):
        """Whether ``status`` is :data:`SUCCESS`."""
        return self.status == SUCCESS

    # ------------------------------------------------------------------ writing
    def _extra_items(self):
        """Items written after the fields (e.g. flat error lists); not read back."""
        return {}

    def to_dict(self):
        """Plain JSON-ready data: ``kind``, the fields, ``status`` and ``message`` (module NaN
        policy: NaN as null, ±inf as "inf"/"-inf")."""
        data = {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in ("status", "message")}
        return jsonable({"kind": self.kind, **data, **self._extra_items(),
                         "status": self.status, "message": self.message})

    def save(self, path):
        """Write :meth:`to_dict` as strict JSON to ``path`` (parent folders are created)."""
        return write_json(self.to_dict(), path)

    # ------------------------------------------------------------------ reading
    @classmethod
    def _upgrade(cls, data):
        """Data of files written by earlier versions, in the current layout (in place)."""
        return data

    @classmethod
    def _checked(cls, data):
        """A copy of ``data`` after checking its kind, upgraded by :meth:`_upgrade`."""
        if not isinstance(data, dict):
            raise ValueError(f"a {cls.kind} result is a JSON object, got {type(data).__name__}")
        kind = data.get("kind")
        if kind is not None and kind != cls.kind:
            raise ValueError(f"this is a {kind!r} result, not a {cls.kind!r} one; read it with "
                             "mtj_kwant.load_result")
        return cls._upgrade(dict(data))

    @classmethod
    def from_dict(cls, data):
        """Rebuild a result from :meth:`to_dict` output (or a file of an earlier version).

        Raises
        ------
        ValueError
            Data of another kind, or missing fields (one line).
        """
        data = cls._checked(data)
        known = {f.name: f for f in fields(cls) if f.init}
        missing = [name for name, f in known.items() if name not in data
                   and f.default is MISSING and f.default_factory is MISSING]
        if missing:
            raise ValueError(f"not a complete {cls.kind} result: no {', '.join(missing)}")
        kw = {}
        for name, value in data.items():
            f = known.get(name)
            if f is None:
                continue
            if name in cls.metadata_fields or name == "message":
                kw[name] = value
            elif name == "status":
                kw[name] = None if value is None else int(value)
            else:
                kw[name] = _restore(value, str(f.type))
        return cls(**kw)

    @classmethod
    def load(cls, path):
        """Read a result written by :meth:`save` (one line naming the file if it is not one)."""
        try:
            return cls.from_dict(read_json(path))
        except ValueError as err:
            text = str(err)
            raise ValueError(text if text.startswith(f"{path}:") else f"{path}: {text}") \
                from None


def _restore(value, annotation):
    """A data field as read: numbers restored, a None kept where the field may be None."""
    if value is None:
        return None if "None" in annotation else math.nan
    if isinstance(value, str):
        return _NON_FINITE.get(value, value) if "float" in annotation else value
    return restore_numbers(value)


# --------------------------------------------------------------------------------------------
# loading any result
# --------------------------------------------------------------------------------------------
_KINDS = {
    "sweep": ("mtj_kwant.sweep", "SweepResult"),
    "profile": ("mtj_kwant.sweep", "ProfileResult"),
    "conductance": ("mtj_kwant.sweep", "ConductanceResult"),
    "scan": ("mtj_kwant.scan", "ScanResult"),
    "comparison": ("mtj_kwant.comparison", "Comparison"),
    "trajectory": ("mtj_kwant.dynamics.solve", "Trajectory"),
}


def register_kind(kind, module, name):
    """Let :func:`load_result` rebuild results of ``kind`` as ``module.name`` (imported when
    needed), e.g. ``register_kind("trajectory", "mtj_kwant.dynamics.solve", "Trajectory")``."""
    _KINDS[kind] = (module, name)


def _infer_kind(data):
    """The kind of a file written before files carried one."""
    if "x_nm" in data:
        return "profile"
    if "G_P" in data:
        return "conductance"
    if "columns" in data and "parameters" in data:
        return "scan"
    if "kwant" in data and "models" in data:
        return "comparison"
    if "bias_V" in data:
        return "sweep"
    return None


def load_result(path):
    """Reload any saved result (sweep, profile, conductance, scan table, comparison, trajectory).

    A scan table saved as CSV is read with its ``<path>.meta.json`` (either path given).

    The file's ``kind`` says which type; files written before it was stored are recognised
    by their keys (``x_nm``: a profile, ``G_P``: a conductance, ``columns``: a scan,
    ``kwant`` and ``models``: a comparison, ``bias_V``: a sweep).

    Raises
    ------
    ValueError
        Not JSON, an unknown kind, or incomplete data (one line naming the file).
    """
    text = str(path)
    if text.endswith(".meta.json"):  # the metadata of a CSV table: read the table with it
        path = Path(text[:-len(".meta.json")])
    if Path(path).suffix != ".json" and Path(f"{path}.meta.json").is_file():
        module, name = _KINDS["scan"]
        return getattr(importlib.import_module(module), name).load(path)
    data = read_json(path)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a result file (a JSON {type(data).__name__}, not an "
                         "object)")
    kind = data.get("kind") or _infer_kind(data)
    if kind is None:
        raise ValueError(f"{path}: not a result file (no 'kind' and none of the keys of a "
                         "sweep, profile, conductance, scan or comparison)")
    if kind not in _KINDS:
        raise ValueError(f"{path}: unknown result kind {kind!r}; known: {', '.join(_KINDS)}")
    module, name = _KINDS[kind]
    cls = getattr(importlib.import_module(module), name)
    try:
        return cls.from_dict(data)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
