"""Studies: scripted investigations that write figures, data and provenance.

A study is a module ``mtj_kwant/studies/<name>.py`` (the subpackage
:mod:`mtj_kwant.studies`) with a docstring (the question it answers and what to
look for), a ``TITLE`` and a function ``run(ctx)`` that uses only the public
API of :mod:`mtj_kwant` and writes through the :class:`StudyContext` it is given::

    mtj-kwant study bias_dependence --quick --out out/studies/bias_dependence

Every study writes PNG figures (axes with units, legends), the data behind
every curve (CSV, one file per table, units in ``provenance.json``) and
``provenance.json`` (junction files, settings, package versions, error
estimates, outputs, wall time; strict JSON in the format of :mod:`mtj_kwant.results`)
into its output folder.  Scans go through
resumable stores in ``<out>/points/``, so an interrupted study rerun with the
same command reuses its finished points.
"""

from __future__ import annotations

import importlib
import importlib.resources
import re
import time
from pathlib import Path

import numpy as np

from .model import BUNDLED_DIR, load_junction
from .results import jsonable, provenance, write_json

__all__ = ["StudyContext", "run_study", "available_studies", "study_titles", "STUDIES_DIR",
           "SYSTEMS_DIR"]

#: Folder of the study modules (the subpackage ``mtj_kwant.studies``) and of the bundled junction
#: files (package data), found with :mod:`importlib.resources` so that an installed package works.
STUDIES_DIR = Path(str(importlib.resources.files("mtj_kwant") / "studies"))
SYSTEMS_DIR = BUNDLED_DIR


def available_studies():
    """Names of the studies in ``mtj_kwant/studies/`` (modules with a ``run`` function)."""
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
        """A bundled junction (``"fifn_2nm"`` → mtj_kwant/systems/fifn_2nm.toml) or a file path."""
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
        self._record["settings"].update(jsonable(items))

    def error(self, label, value):
        """Record an error estimate (e.g. the largest integration error of a table)."""
        self._record["errors"][label] = jsonable(value)

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

        The axis labels (which carry the units, e.g. "bias V (V)", "T∥ ((ħ/2e) A/m²)"),
        whether each panel has a legend and the figure's :func:`layout_defects` (legends
        over data, overlapping texts or tick labels, axis labels longer than their panel)
        are recorded in the provenance under ``figures``.
        """
        import matplotlib.pyplot as plt

        self._record["figures"][label] = {
            "axes": [{"xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(),
                      "title": ax.get_title(), "legend": ax.get_legend() is not None}
                     for ax in fig.axes if ax.get_visible()],
            "figure_legend": bool(fig.legends),
            "layout_defects": layout_defects(fig)}
        path = self.out / f"{label}.png"
        fig.savefig(path, dpi=150, bbox_inches="tight")
        plt.close(fig)
        self._record["outputs"].append(path.name)
        return path

    def finish(self):
        """Write provenance.json; returns the list of output paths."""
        record = dict(self._record, provenance=provenance(),
                      wall_time_s=round(time.perf_counter() - self._start, 2))
        path = write_json(record, self.out / "provenance.json")
        return [self.out / name for name in record["outputs"]] + [path]


def layout_defects(fig):
    """What hides data or other text in a figure, one sentence per defect (empty: none).

    The figure is laid out (not rendered) and checked for

    * a legend or a text over data: a point (vertex or marker) of a line plotted in
      data coordinates, a segment of such a line, or a scatter point, inside the
      box of the legend or text where the panel shows it (reference lines such as
      ``axhline``, in axes coordinates, are not data);
    * texts (``ax.text``, annotations, legends, titles) that overlap one another;
    * neighbouring tick labels of one axis that overlap (e.g. the minor labels
      "3×10⁻¹" and "4×10⁻¹" of a log axis);
    * an axis label longer than its panel (it runs into the neighbours or is clipped).

    Parameters
    ----------
    fig : matplotlib.figure.Figure

    Returns
    -------
    list of str
    """
    from matplotlib.text import Text

    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    axes = [ax for ax in fig.axes if ax.get_visible()]
    legends = [(f"legend of panel {i}", ax.get_legend()) for i, ax in enumerate(axes)]
    legends = [(name, lg) for name, lg in legends if lg is not None and lg.get_visible()]
    legends += [(f"figure legend {i}", lg) for i, lg in enumerate(fig.legends)
                if lg.get_visible()]
    boxes = [(name, lg.get_window_extent(renderer)) for name, lg in legends]
    out = []
    for name, box in boxes:
        for i, ax in enumerate(axes):
            hidden = _hidden_data(ax, box)
            if hidden:
                out.append(f"{name} hides data of panel {i} ({', '.join(sorted(hidden))})")
    for i, ax in enumerate(axes):  # texts over data, e.g. a label on a curve
        for t in ax.texts:
            if t.get_visible() and t.get_text().strip():
                hidden = _hidden_data(ax, Text.get_window_extent(t, renderer))
                if hidden:
                    out.append(f"text {t.get_text()!r} of panel {i} covers data "
                               f"({', '.join(sorted(hidden))})")
    texts = list(boxes) + [(f"figure text {t.get_text()!r}", t.get_window_extent(renderer))
                           for t in fig.texts if t.get_visible() and t.get_text().strip()]
    for i, ax in enumerate(axes):
        for t in ax.texts:
            if t.get_visible() and t.get_text().strip():
                texts.append((f"text {t.get_text()!r} of panel {i}",
                              Text.get_window_extent(t, renderer)))  # without an arrow
        for loc in ("left", "center", "right"):
            if ax.get_title(loc).strip():
                artist = getattr(ax, {"left": "_left_title", "center": "title",
                                      "right": "_right_title"}[loc])
                texts.append((f"title of panel {i}", artist.get_window_extent(renderer)))
    for k, (a, box_a) in enumerate(texts):
        for b, box_b in texts[k + 1:]:
            if _overlap(box_a, box_b):
                out.append(f"{a} overlaps {b}")
    for i, ax in enumerate(axes):
        for which, axis, lo, hi in (("x", ax.xaxis, ax.bbox.x0, ax.bbox.x1),
                                    ("y", ax.yaxis, ax.bbox.y0, ax.bbox.y1)):
            labels = []
            for t in axis.get_majorticklabels() + axis.get_minorticklabels():
                if not (t.get_visible() and t.get_text().strip()):
                    continue
                box = t.get_window_extent(renderer)
                centre = (box.x0 + box.x1) / 2 if which == "x" else (box.y0 + box.y1) / 2
                if lo - 1 <= centre <= hi + 1:  # ticks outside the view are not drawn
                    labels.append((t.get_text(), box))
            for k, (a, box_a) in enumerate(labels):
                for b, box_b in labels[k + 1:]:
                    if _overlap(box_a, box_b):
                        out.append(f"{which} tick labels {a!r} and {b!r} of panel {i} overlap")
            label = axis.label
            if label.get_visible() and label.get_text().strip():
                box = label.get_window_extent(renderer)
                length = box.width if which == "x" else box.height
                if length > hi - lo + 1:
                    out.append(f"{which} label {label.get_text()!r} of panel {i} is longer than "
                               f"the panel ({length:.0f} > {hi - lo:.0f} px)")
    return out


def _overlap(a, b, margin=0.5):
    """Whether two display boxes overlap by more than ``margin`` pixels each way."""
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > margin
            and min(a.y1, b.y1) - max(a.y0, b.y0) > margin)


def _hidden_data(ax, box):
    """Labels of the data of ``ax`` inside the display box ``box`` where ``ax`` shows it."""
    x0, x1 = max(box.x0, ax.bbox.x0) + 1, min(box.x1, ax.bbox.x1) - 1  # shown part, less the frame
    y0, y1 = max(box.y0, ax.bbox.y0) + 1, min(box.y1, ax.bbox.y1) - 1
    if x0 >= x1 or y0 >= y1:
        return set()
    hidden = set()

    def inside(p):
        return (p[:, 0] > x0) & (p[:, 0] < x1) & (p[:, 1] > y0) & (p[:, 1] < y1)

    for line in ax.lines:
        if not line.get_visible() or line.get_transform() is not ax.transData:
            continue
        xy = np.asarray(line.get_xydata(), float)
        p = ax.transData.transform(xy[np.isfinite(xy).all(1)]) if len(xy) else np.zeros((0, 2))
        p = p[np.isfinite(p).all(1)]
        if not len(p):
            continue
        hit = inside(p).any()
        if not hit and line.get_linestyle() not in ("None", "none", "", " ") and len(p) > 1:
            hit = _segments_cross(p[:-1], p[1:], x0, x1, y0, y1)
        if hit:
            hidden.add(repr(line.get_label()) if not line.get_label().startswith("_")
                       else "an unlabelled line")
    for coll in ax.collections:
        if not coll.get_visible() or type(coll).__name__ != "PathCollection":
            continue
        offsets = np.asarray(coll.get_offsets(), float)
        if len(offsets) and inside(coll.get_offset_transform().transform(offsets)).any():
            label = coll.get_label()
            hidden.add(repr(label) if not label.startswith("_") else "unlabelled points")
    return hidden


def _segments_cross(p0, p1, x0, x1, y0, y1):
    """Whether any segment p0[k]–p1[k] (display coordinates) crosses the box (Liang–Barsky)."""
    d = p1 - p0
    t0, t1 = np.zeros(len(p0)), np.ones(len(p0))
    ok = np.ones(len(p0), bool)
    for p, q in ((-d[:, 0], p0[:, 0] - x0), (d[:, 0], x1 - p0[:, 0]),
                 (-d[:, 1], p0[:, 1] - y0), (d[:, 1], y1 - p0[:, 1])):
        parallel = p == 0
        ok &= ~(parallel & (q < 0))
        with np.errstate(divide="ignore", invalid="ignore"):
            r = q / p
        t0 = np.where(p < 0, np.maximum(t0, r), t0)
        t1 = np.where(p > 0, np.minimum(t1, r), t1)
    return bool((ok & (t0 <= t1)).any())


def _cell(value):
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    text = str(value)
    if any(c in text for c in ',"\n'):  # a sentence (e.g. a fit status): quoted, as CSV wants
        return '"' + text.replace('"', '""') + '"'
    return text


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
    module = importlib.import_module(f"mtj_kwant.studies.{name}")
    if out is None:
        out = Path("out") / "studies" / (f"{name}_quick" if quick else name)
    ctx = StudyContext(name, out, quick=quick, progress=progress, executor=executor)
    import matplotlib

    matplotlib.use("Agg")
    module.run(ctx)
    return ctx.finish()
