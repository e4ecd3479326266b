"""Studies: scripted investigations that write figures, data and provenance.

A study is a module ``studies/<name>.py`` (at the repository root) with a
docstring (the question it answers and what to look for), a ``TITLE`` and a
function ``run(ctx)`` that uses only the public API of :mod:`mtj_kwant` and
writes through the :class:`StudyContext` it is given::

    mtj-kwant study bias_dependence --quick --out out/studies/bias_dependence

Every study writes PNG figures (axes with units, legends), the data behind
every curve (CSV, one file per table, units in ``provenance.json``) and
``provenance.json`` (junction files, settings, package versions, error
estimates, outputs, wall time) into its output folder.  Scans go through
resumable stores in ``<out>/points/``, so an interrupted study rerun with the
same command reuses its finished points.
"""

from __future__ import annotations

import importlib
import json
import math
import re
import sys
import time
from pathlib import Path

import numpy as np

from .model import load_junction
from .scan import provenance

__all__ = ["StudyContext", "run_study", "available_studies", "study_titles", "STUDIES_DIR",
           "SYSTEMS_DIR"]

ROOT = Path(__file__).resolve().parents[1]
#: Folder of the study modules and of the bundled junction files.
STUDIES_DIR = ROOT / "studies"
SYSTEMS_DIR = ROOT / "systems"


def available_studies():
    """Names of the studies in ``studies/`` (modules with a ``run`` function)."""
    return sorted(p.stem for p in STUDIES_DIR.glob("*.py") if not p.stem.startswith("_"))


_TITLE = re.compile(r"""^TITLE\s*=\s*(["'])(.*?)\1\s*(?:#.*)?$""", re.MULTILINE)


def study_titles():
    """Study name → its ``TITLE`` (read from the source, without importing the study)."""
    out = {}
    for name in available_studies():
        try:
            match = _TITLE.search((STUDIES_DIR / f"{name}.py").read_text(encoding="utf-8"))
        except OSError:
            match = None
        out[name] = match.group(2) if match else ""
    return out


class StudyContext:
    """What a study writes through, and the settings it runs with.

    Attributes
    ----------
    name : str
    out : Path
        Output folder (created).
    quick : bool
        Coarse grids and loose tolerances for a smoke run (seconds); the
        full run (minutes) is what the figures in the README come from.
    progress : bool
        Progress bars on stderr.
    executor
        Passed to :func:`mtj_kwant.scan` (default "auto").
    """

    def __init__(self, name, out, *, quick=False, progress=True, executor="auto"):
        self.name = name
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.quick = bool(quick)
        self.progress = bool(progress)
        self.executor = executor
        self._start = time.perf_counter()
        self._record = {"study": name, "quick": self.quick, "junctions": {}, "settings": {},
                        "errors": {}, "outputs": [], "units": {}, "notes": [],
                        "figures": {}}

    # -- inputs -----------------------------------------------------------------------------
    def junction(self, name):
        """A bundled junction (``"fifn_2nm"`` → systems/fifn_2nm.toml) or a file path."""
        path = Path(name)
        if not path.suffix:
            path = SYSTEMS_DIR / f"{name}.toml"
        junction = load_junction(path)
        self._record["junctions"][path.stem] = str(path)
        return junction

    def pick(self, quick, full):
        """``quick`` in a quick run, ``full`` otherwise."""
        return quick if self.quick else full

    def store(self, label):
        """Path of the resumable store of one scan of this study."""
        return self.out / "points" / f"{label}.csv"

    def scan_options(self, label):
        """Keyword arguments for :func:`mtj_kwant.scan` / :func:`mtj_kwant.sweep`."""
        return dict(store=self.store(label), executor=self.executor, progress=self.progress)

    # -- outputs ----------------------------------------------------------------------------
    def setting(self, **items):
        """Record settings (grids, tolerances, model parameters) in the provenance."""
        self._record["settings"].update(_plain(items))

    def error(self, label, value):
        """Record an error estimate (e.g. the largest integration error of a table)."""
        self._record["errors"][label] = _plain(value)

    def note(self, text):
        """A sentence for the provenance (what was found, what was skipped and why)."""
        self._record["notes"].append(str(text))

    def table(self, label, columns, units=None):
        """Write a CSV table (one column per key, aligned lists) and return its path.

        Parameters
        ----------
        label : str
            File name without suffix.
        columns : dict
            Column name -> sequence; all the same length.
        units : dict, optional
            Column name -> unit string, kept in the provenance.
        """
        names = list(columns)
        data = [np.asarray(columns[n]) for n in names]
        lengths = {len(d) for d in data}
        if len(lengths) != 1:
            raise ValueError(f"table {label}: columns of different lengths {sorted(lengths)}")
        path = self.out / f"{label}.csv"
        lines = [",".join(names)]
        for row in zip(*data):
            lines.append(",".join(_cell(v) for v in row))
        path.write_text("\n".join(lines) + "\n")
        self._record["outputs"].append(path.name)
        if units:
            self._record["units"][path.name] = dict(units)
        return path

    def figure(self, fig, label):
        """Save a matplotlib figure as PNG (150 dpi) and close it.

        The axis labels (which carry the units, e.g. "bias V (V)", "T∥ ((ħ/2e) A/m²)") and
        whether each panel has a legend are recorded in the provenance under ``figures``.
        """
        import matplotlib.pyplot as plt

        self._record["figures"][label] = {
            "axes": [{"xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(),
                      "title": ax.get_title(), "legend": ax.get_legend() is not None}
                     for ax in fig.axes if ax.get_visible()],
            "figure_legend": bool(fig.legends)}
        path = self.out / f"{label}.png"
        fig.savefig(path, dpi=150, bbox_inches="tight")
        plt.close(fig)
        self._record["outputs"].append(path.name)
        return path

    def finish(self):
        """Write provenance.json; returns the list of output paths."""
        record = dict(self._record, provenance=provenance(),
                      wall_time_s=round(time.perf_counter() - self._start, 2))
        path = self.out / "provenance.json"
        path.write_text(json.dumps(_plain(record), indent=1))
        return [self.out / name for name in record["outputs"]] + [path]


def _cell(value):
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    text = str(value)
    if any(c in text for c in ',"\n'):  # a sentence (e.g. a fit status): quoted, as CSV wants
        return '"' + text.replace('"', '""') + '"'
    return text


def _plain(obj):
    """JSON-ready copy: arrays to lists, NaN/inf to None, paths to strings."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _plain(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


def run_study(name, out=None, *, quick=False, progress=True, executor="auto"):
    """Run one study and return the paths it wrote.

    Parameters
    ----------
    name : str
        One of :func:`available_studies`.
    out : path, optional
        Output folder; default ``out/studies/<name>`` (``<name>_quick`` for
        quick runs).
    quick : bool
        Coarse, fast settings (the smoke test runs every study this way).

    Raises
    ------
    ValueError
        Unknown study name (the message lists the available ones).
    """
    names = available_studies()
    if name not in names:
        raise ValueError(f"unknown study {name!r}; available: {', '.join(names)}")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    module = importlib.import_module(f"studies.{name}")
    if out is None:
        out = Path("out") / "studies" / (f"{name}_quick" if quick else name)
    ctx = StudyContext(name, out, quick=quick, progress=progress, executor=executor)
    import matplotlib

    matplotlib.use("Agg")
    module.run(ctx)
    return ctx.finish()
