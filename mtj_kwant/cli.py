"""Command line: ``mtj-kwant sweep | scan | profile | study | conductance | export``
(DESIGN.md §4).

User mistakes end with one readable line on stderr and a non-zero exit status;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import warnings
from pathlib import Path

from .model import bundled_junctions
from .scan import KWANT_SEA_NOTE, SolverNote  # the package's __init__ imports scan anyway

__all__ = ["main"]

EXIT_USAGE = 2
EXIT_ERROR = 1
EXIT_PIPE = 141


class UsageError(Exception):
    """A command-line argument is invalid."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line instead of usage + error
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _values(tokens, name="bias", unit="volts", example="-0.5:0.5:41"):
    """Parse numbers; a token 'START:STOP:N' expands to N evenly spaced values, 'A,B' to two."""
    if not isinstance(tokens, (list, tuple)):
        tokens = [tokens]
    out = []
    for tok in [t for token in tokens for t in str(token).split(",") if t != ""]:
        if ":" in tok:
            parts = tok.split(":")
            try:
                start, stop, num = float(parts[0]), float(parts[1]), int(parts[2])
            except (ValueError, IndexError):
                raise UsageError(f"--{name}: {tok!r} is not START:STOP:N (e.g. {example})") from None
            if len(parts) != 3 or num < 1:
                raise UsageError(f"--{name}: {tok!r} is not START:STOP:N with N >= 1")
            out += [start + (stop - start) * i / max(num - 1, 1) for i in range(num)]
        else:
            try:
                value = float(tok)
            except ValueError:
                raise UsageError(f"--{name}: {tok!r} is not a number in {unit}") from None
            out.append(value)
    if not out:
        raise UsageError(f"--{name}: give at least one value in {unit}")
    for v in out:
        if not math.isfinite(v):
            raise UsageError(f"--{name}: values must be finite numbers in {unit}")
    return out


def _biases(tokens):
    from .scan import MAX_BIAS

    out = _values(tokens)
    worst = max(out, key=abs)
    if abs(worst) > MAX_BIAS:
        raise UsageError(f"--bias: |V| must be at most {MAX_BIAS:g} V, got {worst:g} V")
    return out


#: A command-line token that is a value: a number, START:STOP:N or a comma list (any sign).
_VALUE = re.compile(r"[+-]?(?:\d|\.\d)[\d.eE+\-:,]*")
#: Options that take several values, per command, and options that take one number.
_MULTI = {"sweep": ("--bias",), "scan": ("--bias", "--theta", "--phi", "--temperature"),
          "export": ("--bias", "--easy-axis", "--p", "--H-applied", "--m0")}
_SINGLE = ("--bias", "--theta", "--phi", "--temperature", "--rtol", "--Ms", "--thickness",
           "--area", "--alpha", "--Ku")


def _negative_values(argv):
    """Rewrite argv so that negative numbers after an option are its values, in every form.

    argparse reads tokens such as ``-0.5:0.5:21``, ``-1e-3`` or ``-0.02,0`` as option names,
    and ``--bias=-0.02 0 0.02`` gives --bias only its first value.  Value tokens after a
    multi-valued option are joined into one ``--bias=-0.02,0,0.02`` (:func:`_values` splits
    commas); a single-valued option followed by a negative number becomes ``--theta=-30``.
    Other tokens are left alone.
    """
    argv = list(argv)
    command = next((tok for tok in argv if not tok.startswith("-")), None)
    multi = _MULTI.get(command, ())
    out, i = [], 0
    while i < len(argv):
        tok = argv[i]
        i += 1
        if tok == "--":
            out += argv[i - 1:]
            break
        name, eq, first = tok.partition("=")
        if name in multi:
            values = [first] if eq else []
            while i < len(argv) and _VALUE.fullmatch(argv[i]):
                values.append(argv[i])
                i += 1
            out.append(f"{name}={','.join(values)}" if values else tok)
        elif name in _SINGLE and not eq and i < len(argv) and argv[i].startswith("-") \
                and _VALUE.fullmatch(argv[i]):
            out.append(f"{name}={argv[i]}")
            i += 1
        else:
            out.append(tok)
    return out


def _workers(text):
    """--workers: 'auto', 'serial' or a number of processes."""
    if text in ("auto", "serial"):
        return text
    try:
        n = int(text)
    except ValueError:
        raise UsageError(f"--workers: {text!r} is not 'auto', 'serial' or a number") from None
    if n < 1:
        raise UsageError("--workers: give a number of processes >= 1")
    return n


def _vary(items):
    """--vary PATH=VALUES (VALUES as for --bias) → {path: values}."""
    out = {}
    for item in items or []:
        path, sep, values = item.partition("=")
        if not sep or not path:
            raise UsageError(f"--vary: {item!r} is not PATH=VALUES (e.g. layer[1].thickness=0.5:3:11)")
        out[path] = _values([values], name=f"vary {path}", unit="the parameter's unit",
                            example="0.5:3:11")
    return out


def _store(args, out):
    """The resumable store of a sweep or scan: --store, else next to the output."""
    store = Path(args.store) if args.store else out.with_name(out.stem + ".points.csv")
    _check_store(store)
    if args.fresh:
        for path in (store, Path(f"{store}.meta.json")):
            path.unlink(missing_ok=True)
    return store


def _check_store(store):
    """A file at the store's path without the store's sidecar is not a store: never replaced."""
    if store.exists() and not Path(f"{store}.meta.json").exists():
        raise UsageError(f"--store: {store} exists and is not a store of mtj-kwant (no "
                         f"{store.name}.meta.json beside it); choose another path or remove "
                         "the file")


def _angle(name, value):
    if not math.isfinite(value):
        raise UsageError(f"--{name}: must be a finite angle in degrees")
    return math.radians(value)


def _common(p):
    p.add_argument("system", help="junction file (TOML, DESIGN.md §2) or the name of a bundled "
                   f"junction ({', '.join(bundled_junctions())})")
    p.add_argument("--theta", type=float, default=90.0, help="free-layer polar angle in degrees (default 90)")
    p.add_argument("--phi", type=float, default=0.0, help="free-layer azimuth in degrees (default 0)")
    p.add_argument("--temperature", type=float, default=None,
                   help="temperature in K (default: the junction file's)")
    p.add_argument("--parts", choices=("window", "total", "both"), default="window",
                   help="window (transport) part, total (window + Fermi sea) or both")
    p.add_argument("--rtol", type=float, default=None,
                   help="relative tolerance of the integrals (default 1e-3; 1e-2 for a "
                        "junction with a [supercell] table)")
    p.add_argument("--solver", choices=("batched", "kwant"), default="batched",
                   help="batched Green's functions (default) or Kwant scattering states")
    p.add_argument("--plot", metavar="FILE.png", default=None, help="also write a figure")
    p.add_argument("--quiet", action="store_true",
                   help="no progress on stderr (sweep: and no table of results)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")


def _parallel(p):
    p.add_argument("--workers", default="auto", metavar="N",
                   help="'auto' (default: a process per CPU when the run is long enough), "
                        "'serial' or a number of processes")
    p.add_argument("--store", metavar="POINTS.csv", default=None,
                   help="resumable store of finished points (default: next to the output, "
                        "<output>.points.csv); rerunning the same command resumes from it")
    p.add_argument("--fresh", action="store_true",
                   help="discard an existing store instead of resuming from it")


def build_parser():
    parser = _Parser(prog="mtj-kwant",
                     description="Spin-transfer torques in magnetic tunnel junctions (Kwant).")
    parser.add_argument("--version", action="version",
                        version=f"mtj-kwant {__import__('mtj_kwant').__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("sweep", help="current density and torques versus bias")
    _common(p)
    p.add_argument("--bias", nargs="+", required=True, metavar="V",
                   help="biases in volts; START:STOP:N gives N values")
    p.add_argument("--output", metavar="OUT.json", default=None,
                   help="JSON output (default: out/<system>_sweep.json)")
    _parallel(p)

    p = sub.add_parser("scan", help="observables on a grid of bias, angles, temperature and "
                                    "junction parameters (CSV table)")
    _common(p)
    for action in p._actions:
        if action.dest in ("theta", "phi", "temperature"):
            action.type, action.nargs = str, "+"
    p.add_argument("--bias", nargs="+", default=["0"], metavar="V",
                   help="biases in volts; START:STOP:N gives N values (default 0)")
    p.add_argument("--vary", action="append", metavar="PATH=VALUES",
                   help="a junction parameter and its values, e.g. layer[1].thickness=0.5:3:11 "
                        "(repeatable)")
    p.add_argument("--output", metavar="OUT.csv", default=None,
                   help="CSV table (default: out/<system>_scan.csv), metadata in OUT.csv.meta.json")
    _parallel(p)

    p = sub.add_parser("profile", help="spin density, spin current and torque density profiles")
    _common(p)
    p.add_argument("--bias", type=float, required=True, metavar="V", help="bias in volts")
    p.add_argument("--depth", type=float, default=None, metavar="NM",
                   help="F/I/F: nm of the free electrode shown (default: until the transverse "
                        "spin current has decayed, at most 20 nm; the rest is torque_remainder)")
    p.add_argument("--output", metavar="OUT.json", required=True, help="JSON output")

    p = sub.add_parser("study", help="run a study: figures, data and provenance into a folder",
                       epilog=_study_list(), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name", help="study name (mtj_kwant/studies/<name>.py), one of the studies below")
    p.add_argument("--quick", action="store_true", help="coarse settings for a fast smoke run")
    p.add_argument("--out", metavar="DIR", default=None,
                   help="output folder (default: out/studies/<name>[_quick])")
    p.add_argument("--workers", default="auto", metavar="N",
                   help="'auto' (default), 'serial' or a number of processes")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--debug", action="store_true", help="show tracebacks")

    _export_parser(sub)

    p = sub.add_parser("conductance", help="zero-bias conductances (P, AP) and TMR")
    p.add_argument("system", help="junction file (TOML) or the name of a bundled junction")
    p.add_argument("--temperature", type=float, default=None, help="K")
    p.add_argument("--output", metavar="OUT.json", default=None, help="JSON output")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    return parser


def _study_list():
    """The studies and their titles, for ``mtj-kwant study --help``."""
    from .study import study_titles

    titles = study_titles()
    if not titles:
        return "no studies found"
    width = max(map(len, titles))
    return "studies:\n" + "\n".join(f"  {name:<{width}}  {title}" for name, title in titles.items())


#: Comment marker of each export target's input language.
_COMMENT = {"mumax3": "//", "oommf": "#", "ubermag": "#", "cmtj": "#"}


def _export_parser(sub):
    from .dynamics.export import TARGETS

    p = sub.add_parser(
        "export", help="torque parameters of a sweep for mumax3, OOMMF, ubermag or cmtj",
        description="Write the torque of a sweep (mtj-kwant sweep --output SWEEP.json) as the "
                    "parameters of mumax3, OOMMF, ubermag or cmtj at each operating point, in "
                    "that code's names, units and sign convention (DESIGN.md §10; the sign "
                    "table is in the header of the output), each with an input snippet that "
                    "sets the whole macrospin (M_s, cell, anisotropy, demagnetising factors, "
                    "fields, damping, temperature where the code has one, m0).  The free "
                    "layer's M_s, d and alpha are required: they set the field of the constant "
                    "term b0 (the interlayer exchange for the total torque of a sweep with "
                    "V = 0) and cmtj's efficiencies.")
    p.add_argument("sweep", help="sweep result (JSON written by mtj-kwant sweep --output); "
                                 "checked first: malformed or non-finite entries are refused, "
                                 "unconverged points named in a warning")
    p.add_argument("--format", required=True, choices=TARGETS, help="target code")
    p.add_argument("--output", metavar="FILE", default=None,
                   help="output file (default, or -: standard output); a name ending in "
                        ".json gets the parameters, units and notes as JSON instead of input "
                        "snippets; "
                        "mumax3 and OOMMF files hold one run, so several operating points go "
                        "to one file each, FILE_<V>V.mx3 / .mif (standard output takes one)")
    p.add_argument("--Ms", type=float, required=True, metavar="A/m",
                   help="free-layer saturation magnetisation M_s in A/m (e.g. 1e6)")
    p.add_argument("--thickness", type=float, required=True, metavar="NM",
                   help="free-layer thickness d in nm")
    p.add_argument("--alpha", type=float, required=True, help="Gilbert damping of the free layer")
    p.add_argument("--area", type=float, default=None, metavar="NM2",
                   help="junction area in nm^2: the cell of the macrospin (L*L) and cmtj's "
                        "cellSurface; required for cmtj and for --temperature > 0 (without it "
                        "the other codes get a 1 nm^2 placeholder cell, irrelevant at T = 0)")
    p.add_argument("--Ku", type=float, default=0.0, metavar="J/m^3",
                   help="uniaxial anisotropy constant K_u in J/m^3 (default 0)")
    p.add_argument("--easy-axis", nargs="+", default=["0,0,1"], metavar="X",
                   help="anisotropy axis, three numbers (default 0 0 1)")
    p.add_argument("--p", nargs="+", default=["0,0,1"], metavar="X",
                   help="pinned-layer direction p in the target's frame (default 0 0 1)")
    p.add_argument("--H-applied", nargs="+", default=["0,0,0"], metavar="H",
                   help="applied field in A/m, three numbers (default 0 0 0); the field of b0 "
                        "is added where the target has no separate term for it")
    p.add_argument("--temperature", type=float, default=0.0,
                   help="temperature in K (default 0): cmtj's temperature driver, ubermag's "
                        "system.T; commented in the mumax3 and OOMMF snippets, which cannot "
                        "take it for one cell or without an extension")
    p.add_argument("--m0", nargs="+", default=None, metavar="M",
                   help="initial magnetisation in the snippets, three numbers (default: p)")
    p.add_argument("--bias", nargs="+", default=None, metavar="V",
                   help="operating points in volts, inside the sweep's range (default: the "
                        "sweep's non-zero biases); START:STOP:N gives N values")
    p.add_argument("--part", choices=("total", "window"), default="total",
                   help="torque part: total (default; what acts on the layer) or window")
    p.add_argument("--model", choices=("table", "fit"), default="table",
                   help="table (default): the sweep's values, interpolated between its biases "
                        "(cubic spline in V, exact at the sweep's biases); fit: the quadratic "
                        "fits a1, a2, b0, b1, b2 (and J to V^3)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")


def _vector(args, name):
    """A three-number option (X Y Z or X,Y,Z) as a tuple."""
    values = _values(getattr(args, name.replace("-", "_")), name=name, unit="three numbers",
                     example="0 0 1")
    if len(values) != 3:
        raise UsageError(f"--{name}: give three numbers X Y Z, got {len(values)}")
    return tuple(values)


def _load_sweep(path):
    """A SweepResult from ``path``, or one line saying why the file is not one."""
    import dataclasses

    from .sweep import SweepResult

    path = Path(path)
    hint = ("write one with 'mtj-kwant sweep SYSTEM.toml --bias ... --parts total --output "
            "FILE.json'")
    if not path.is_file():
        raise ValueError(f"{path}: no such sweep file; {hint}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not a sweep result (not JSON: {err}); {hint}") from None
    keys = ("bias_V", "theta_deg", "current_density", "torque_inplane_window",
            "torque_outofplane_window")
    missing = [k for k in keys if not isinstance(data, dict) or k not in data]
    if missing or not isinstance(data.get("bias_V"), list):
        what = ", ".join(missing) if missing else "bias_V as a list"
        raise ValueError(f"{path}: not a sweep result (no {what}); {hint}")
    try:
        if hasattr(SweepResult, "from_dict"):          # the results format (kind, status)
            return SweepResult.from_dict(data)
        init = {f.name for f in dataclasses.fields(SweepResult) if f.init}
        return SweepResult(**{k: v for k, v in data.items() if k in init})
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: not a complete sweep result ({err}); {hint}") from None


def _export_torque(path, part, model):
    """The torque model of the export: the sweep's table or its quadratic fits, built from the
    sweep file after one check of its columns (:func:`mtj_kwant.dynamics.torques.sweep_data`:
    lengths, non-finite or non-numeric entries, repeated biases, too few biases, θ = 0/180°,
    a missing part, each one line naming the file, key and bias; unconverged points warn)."""
    from .dynamics import PolynomialTorque, TabulatedTorque

    if model == "fit":
        return PolynomialTorque.from_sweep(str(path), part=part)
    return TabulatedTorque.from_sweep(str(path), part=part)


def _per_point_paths(out, drive):
    """One output path per operating point: ``a.mif`` -> ``a_0.1V.mif``, ``a_-0.2V.mif``
    (as many digits as make the names distinct)."""
    for digits in range(6, 18):
        tags = [f"{x + 0.0:.{digits}g}" for x in drive]
        if len(set(tags)) == len(tags):
            break
    return [out.with_name(f"{out.stem}_{tag}V{out.suffix}") for tag in tags]


def _write_output(out, text):
    """Write ``text`` to ``out`` (parent folders created); one line naming --output if not."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
    except OSError as err:
        raise ValueError(f"--output {out}: cannot write it ({err.strerror or err})") from None


def _sign_table():
    """Rows of the sign table in :mod:`mtj_kwant.dynamics.export` (DESIGN §10), by target:
    (term, their torque, exported values), each a string."""
    from .dynamics import export

    lines = export.__doc__.splitlines()
    seps = [i for i, line in enumerate(lines) if line.startswith("====")]
    cols = [m.start() for m in re.finditer(r"=+", lines[seps[0]])]
    rows, current = {}, None
    for line in lines[seps[1] + 1:seps[2]]:
        cells = [line[a:b].strip() for a, b in zip(cols, cols[1:] + [None])]
        first = cells[0].split(" ")[0].lower()
        if first in export.TARGETS:
            current = first
            rows[current] = [[] for _ in cols]
        if current:
            for column, cell in zip(rows[current], cells):
                if cell:
                    column.append(cell.replace("``", ""))
    return {target: tuple(" ".join(c) for c in row) for target, row in rows.items()}


def _export(args):
    """``mtj-kwant export``: the torque parameters of a sweep for a micromagnetic code."""
    import textwrap

    import numpy as np

    from .dynamics import DynamicsError, Macrospin, export_parameters
    from .dynamics.export import ONE_RUN_PER_FILE, b0_meaning, drive_outside

    if args.output == "-":                          # "-": standard output, as no --output
        args.output = None
    for name, unit, low in (("Ms", "A/m", "> 0"), ("thickness", "nm", "> 0"),
                            ("alpha", "", ">= 0"), ("area", "nm^2", "> 0")):
        value = getattr(args, name)
        if value is None:
            continue
        bad = not math.isfinite(value) or (value < 0 if low == ">= 0" else value <= 0)
        if bad:
            raise UsageError(f"--{name}: must be a finite number{' of ' + unit if unit else ''} "
                             f"{low}, got {value:g}")
    if args.format == "cmtj" and args.area is None:
        raise UsageError("--area: cmtj needs the junction area in nm^2 (its cellSurface)")
    if args.area is None and args.temperature > 0:
        raise UsageError("--area: a run at --temperature > 0 needs the junction area in nm^2 "
                         "(the thermal field scales with 1/volume)")
    try:          # the macrospin's checks (units, plausible magnitudes), named as options
        layer = Macrospin(Ms=args.Ms, thickness=args.thickness, alpha=args.alpha,
                          area=args.area if args.area is not None else 1.0, Ku=args.Ku,
                          easy_axis=_vector(args, "easy-axis"), p=_vector(args, "p"),
                          H_applied=_vector(args, "H-applied"), temperature=args.temperature)
    except DynamicsError as err:
        if err.parameter is None:
            raise
        option = "--" + err.parameter.replace("_", "-")
        raise UsageError(f"{option}: {str(err).removeprefix('Macrospin: ')}") from None
    path = Path(args.sweep)
    result = _load_sweep(path)
    torque = _export_torque(path, args.part, args.model)
    biases = np.asarray(result.bias_V, float)
    if args.bias is None:
        drive = np.unique(biases[biases != 0])
        if drive.size == 0:
            raise ValueError(f"{path}: the sweep has only V = 0, where the torque has no "
                             "efficiency (J = 0); give --bias")
    else:
        drive = np.asarray(_biases(args.bias), float)
        drive = drive[np.sort(np.unique(drive, return_index=True)[1])]  # once each, in order
        outside = drive_outside(torque, drive)      # the message of export_parameters
        if outside:
            raise UsageError(f"--bias: {outside.rstrip('.')}")
    m0 = None if args.m0 is None else _vector(args, "m0")
    if m0 is not None and not any(m0):
        raise UsageError("--m0: the initial magnetisation is a direction, not 0 0 0")
    as_json = bool(args.output) and Path(args.output).suffix.lower() == ".json"
    one_run = ONE_RUN_PER_FILE.get(args.format)
    if one_run and drive.size > 1 and not args.output:
        ext = {"oommf": ".mif", "mumax3": ".mx3"}[args.format]
        raise UsageError(f"--format {args.format}: {one_run}, and there are {drive.size} "
                         "operating points; give one --bias, or --output FILE" + ext + " for "
                         "one file per operating point (FILE_<V>V" + ext + ")")
    meaning = b0_meaning(args.part, bool(np.any(biases == 0.0)), args.model)
    exported = export_parameters(torque, args.format, macrospin=layer, drive=drive, m0=m0,
                                 b0_meaning=meaning)
    b_eq, h_b = exported.b0, exported.H_b
    m_start = [round(float(v), 10) for v in np.asarray(m0 if m0 is not None else layer.p)
               / np.linalg.norm(m0 if m0 is not None else layer.p)]
    convention = _sign_table().get(args.format, ("", "", ""))
    junction = result.junction.get("name", "?") if isinstance(result.junction, dict) else "?"
    model = ("table: the sweep's values, cubic spline in V between its biases"
             if args.model == "table" else
             "fit: quadratic a(V), b(V) fitted to the sweep, J to V^3")
    header = [
        f"mtj-kwant export --format {args.format}: torque parameters of {path.name}",
        f"junction: {junction}; theta = {result.theta_deg:g} deg, T = {result.temperature_K:g} K; "
        f"part {args.part}; model {model}",
        f"free layer: Ms = {args.Ms:g} A/m, d = {args.thickness:g} nm, alpha = {args.alpha:g}, "
        f"Ku = {args.Ku:g} J/m^3, easy axis {list(layer.easy_axis)}, p = {list(layer.p)}, "
        f"H_applied = {list(layer.H_applied)} A/m"
        + (f", area = {args.area:g} nm^2" if args.area is not None else
           ", no --area: the snippets' cell is a 1 nm x 1 nm placeholder (irrelevant at T = 0)")
        + f", T = {args.temperature:g} K, m0 = {m_start}",
        "this package (DESIGN §1, §10): T = a m×(p×m) + b m×p in (ħ/2e) A/m², a = T∥/sin θ, "
        "b = T⊥/sin θ; a > 0 turns m toward p; V > 0 drives electrons from the pinned into "
        "the free layer; dm/dt ∋ γħT/(2e M_s d) in the Gilbert form",
        f"b0 = b(V = 0) = {b_eq:.6g} (ħ/2e) A/m² ({exported.b0_meaning}) is the field "
        f"H_b = −ħb0/(2eμ0 M_s d) p = {h_b:.6g} A/m along p"
        if b_eq != 0 else
        "no b0 field: all of b is exported as a bias-dependent efficiency"
        + (f" ({exported.b0_meaning})" if exported.b0_meaning else " (b(V = 0) = 0)"),
        f"{convention[0]}: {convention[1]}",
        f"exported: {convention[2]}",
    ] + [f"note: {note}" for note in exported.notes if not note.startswith("b0 = ")] + [
        "units: " + ", ".join(f"{k} [{u}]" for k, u in exported.units.items() if u)]
    if args.output and Path(args.output).suffix.lower() == ".json":
        record = dict(target=args.format, source=str(path), junction=junction,
                      theta_deg=result.theta_deg, temperature_K=result.temperature_K,
                      part=args.part, model=args.model, drive=exported.drive.tolist(),
                      drive_unit=exported.drive_unit, b0=b_eq, b0_meaning=exported.b0_meaning,
                      H_b_A_per_m=h_b,
                      parameters=exported.parameters, units=exported.units,
                      notes=exported.notes, convention=dict(zip(
                          ("code", "their_torque", "exported"), convention)),
                      free_layer=dict(Ms=args.Ms, thickness_nm=args.thickness,
                                      alpha=args.alpha, Ku=args.Ku, area_nm2=args.area,
                                      easy_axis=layer.easy_axis, p=layer.p,
                                      H_applied=layer.H_applied,
                                      temperature_K=args.temperature, m0=m_start))
        text = json.dumps(record, indent=1, allow_nan=False)
    else:
        c = _COMMENT[args.format]
        wrap = lambda line: textwrap.wrap(line, 96 - len(c), subsequent_indent="    ")  # noqa: E731
        head = [f"{c} {part}" for line in header for part in wrap(line)]
        varying = [k for k, v in exported.parameters.items() if isinstance(v, list)]

        def document(points):
            """The header, the table of ``points`` and their snippets; a snippet's required
            first line (OOMMF's "# MIF 2.1") goes first in the file."""
            snippets = [exported.script(i) for i in points]
            first = ""
            if snippets[0].startswith("# MIF "):
                first = snippets[0].split("\n", 1)[0]
                snippets = [text.split("\n", 1)[1] for text in snippets]
            cells = [["V (V)"] + [f"{k} ({exported.units.get(k) or '1'})" for k in varying]]
            cells += [[f"{exported.drive[i]:.6g}"]
                      + [f"{exported.parameters[k][i]:.6g}" for k in varying] for i in points]
            widths = [max(len(row[j]) for row in cells) for j in range(len(cells[0]))]
            lines = ([first] if first else []) + head
            lines.append(f"{c} operating point{'s' if len(points) != 1 else ''}:")
            lines += [f"{c}   " + "  ".join(f"{v:>{w}}" for v, w in zip(row, widths))
                      for row in cells]
            for k, (i, snippet) in enumerate(zip(points, snippets)):
                lines += ["", f"{c} --- operating point {k + 1} of {len(points)}: "
                              f"V = {exported.drive[i]:.6g} V ---", snippet]
            return "\n".join(lines)

        points = list(range(exported.drive.size))
        if one_run and len(points) > 1:   # one file per operating point (checked: --output)
            outputs = list(zip(_per_point_paths(Path(args.output), exported.drive),
                               ([i] for i in points)))
        else:
            outputs = [(Path(args.output) if args.output else None, points)]
        if not args.output:
            print(document(points))
            return 0
        files = [(out, document(group)) for out, group in outputs]
    # as sweep/scan/profile --output: parent folders are created, the file is named
    out = Path(args.output)
    created = next((q for q in reversed(out.parents) if not q.exists()), None)
    if as_json:
        files = [(out, text)]
    for target, body in files:
        _write_output(target, body)
    n = exported.drive.size
    where = (f"{out}" if len(files) == 1 else
             f"{len(files)} files, one per operating point ({one_run}): "
             + ", ".join(str(f) for f, _ in files))
    print(f"wrote {where} ({args.format}, {n} operating point{'s' if n != 1 else ''}"
          + (f"; created the folder {created}" if created is not None else "") + ")")
    return 0


def _writable(path, option, folder=False):
    """Refuse, before any computation, an output path that cannot be written (one line).

    ``folder``: the path is a folder to create (``--out``), else a file.
    """
    path = Path(path)
    if folder and path.is_file():
        raise UsageError(f"{option} {path}: is a file; give a folder")
    if not folder and path.is_dir():
        raise UsageError(f"{option} {path}: is a folder; give a file name")
    parent = path if folder else path.parent
    for above in (parent, *parent.parents):
        if above.exists():
            if not above.is_dir():
                raise UsageError(f"{option} {path}: {above} is a file, not a folder")
            if not os.access(above, os.W_OK | os.X_OK):
                raise UsageError(f"{option} {path}: cannot write in {above}")
            return


def _check(args):
    for option, folder in (("output", False), ("store", False), ("plot", False),
                           ("out", True)):
        value = getattr(args, option, None)
        if value:
            _writable(value, f"--{option}", folder)
    temperature = getattr(args, "temperature", None)
    if isinstance(temperature, float) and not (math.isfinite(temperature) and temperature >= 0):
        raise UsageError("--temperature: must be a finite number of kelvin >= 0")
    rtol = getattr(args, "rtol", None)
    if rtol is not None:
        from .options import Options, OptionsError

        try:
            Options(rtol=rtol)
        except OptionsError as err:
            raise UsageError(f"--{err.argument}: {err.reason}") from None
    if args.command == "profile" and not math.isfinite(args.bias):
        raise UsageError("--bias: must be a finite number in volts")
    if args.command == "profile":
        from .scan import MAX_BIAS

        if abs(args.bias) > MAX_BIAS:
            raise UsageError(f"--bias: |V| must be at most {MAX_BIAS:g} V, got {args.bias:g} V")


def _run(args):
    from .model import load_junction
    from .sweep import conductance, profile, sweep

    _check(args)
    if args.command == "study":
        from .study import run_study

        paths = run_study(args.name, args.out, quick=args.quick, progress=not args.quiet,
                          executor=_workers(args.workers))
        folder = paths[-1].parent
        print(f"study {args.name}: wrote {len(paths)} files to {folder}")
        for path in paths:
            if path.suffix == ".png":
                print(f"  figure {path}")
        return 0
    if args.command == "export":
        return _export(args)
    junction = load_junction(args.system)
    stem = Path(args.system).stem
    if args.command == "sweep":
        biases = _biases(args.bias)
        out = Path(args.output or f"out/{stem}_sweep.json")
        store = _store(args, out)
        result = _resumable(store, lambda: sweep(
            junction, biases, theta=_angle("theta", args.theta), phi=_angle("phi", args.phi),
            temperature=args.temperature, parts=args.parts, rtol=args.rtol, solver=args.solver,
            progress=not args.quiet, executor=_workers(args.workers), store=store))
        _kwant_sea_note(args, result)
        result.save(out)
        if not args.quiet:
            print(_sweep_table(result))
        print(f"wrote {out} (finished points in {store})")
        _warn_unconverged(result.converged)
    elif args.command == "scan":
        from .scan import scan

        out = Path(args.output or f"out/{stem}_scan.csv")
        store = _store(args, out)
        temps = (None if args.temperature is None
                 else _values(args.temperature, "temperature", "kelvin", "4:300:5"))
        if temps is not None and min(temps) < 0:
            raise UsageError("--temperature: must be >= 0 K")
        thetas = [math.radians(v) for v in _values(args.theta, "theta", "degrees", "0:180:19")]
        phis = [math.radians(v) for v in _values(args.phi, "phi", "degrees", "0:360:13")]
        vary = _vary(args.vary)
        result = _resumable(store, lambda: scan(
            junction, bias=_biases(args.bias), theta=thetas, phi=phis, temperature=temps,
            vary=vary, parts=args.parts, rtol=args.rtol or 1e-3, solver=args.solver,
            progress=not args.quiet, executor=_workers(args.workers), store=store))
        _kwant_sea_note(args, result)
        result.save(out)
        meta = "" if Path(out).suffix == ".json" else f"; metadata in {out}.meta.json"
        print(f"wrote {out} ({len(result)} points{meta})")
        _warn_unconverged(result.columns["converged"])
        if args.plot:
            raise UsageError("--plot: not available for scan; load the CSV with pandas")
    elif args.command == "profile":
        result = profile(junction, args.bias, theta=_angle("theta", args.theta),
                         phi=_angle("phi", args.phi), temperature=args.temperature,
                         parts=args.parts, rtol=args.rtol or 1e-3, solver=args.solver,
                         depth=args.depth,
                         progress=not args.quiet)
        _kwant_sea_note(args, result)
        out = Path(args.output)
        result.save(out)
        print(f"wrote {out}")
    else:
        result = conductance(junction, temperature=args.temperature)
        if args.output:
            result.save(args.output)
            print(f"wrote {args.output}")
        else:
            from .results import dumps

            print(dumps(result))
        if result.message != "ok":
            print(f"mtj-kwant: note: {result.message}", file=sys.stderr)
        return 0
    if getattr(args, "plot", None):
        result.plot(args.plot)
        print(f"wrote {args.plot}")
    return 0


def _kwant_sea_note(args, result):
    """Say on stderr (once, as a note) what the API put in the result's provenance: that the
    sea used the batched solver (its SolverNote warning is not repeated, see _main)."""
    if KWANT_SEA_NOTE in result.provenance.get("notes", ()):
        print(f"mtj-kwant: note: {KWANT_SEA_NOTE}", file=sys.stderr)


def _pm(value, error):
    """'value +-error', compact (ASCII, so that any terminal or log shows it)."""
    return f"{value:.4e} +-{error:.0e}"


def _sweep_table(result):
    """The sweep as a compact table: bias, J, T_par, T_perp (window, total) with errors."""
    cols = [("J (A/m^2)", result.current_density, "current_density"),
            ("T_par window", result.torque_inplane_window, "torque_inplane_window"),
            ("T_perp window", result.torque_outofplane_window, "torque_outofplane_window")]
    if result.torque_inplane_total is not None:
        cols += [("T_par total", result.torque_inplane_total, "torque_inplane_total"),
                 ("T_perp total", result.torque_outofplane_total, "torque_outofplane_total")]
    if result.spin_flip_loss_longitudinal_window is not None:  # elastic scattering
        cols += [("loss along m", result.spin_flip_loss_longitudinal_window,
                  "spin_flip_loss_longitudinal_window")]
    cells = [[_pm(v, e) for v, e in zip(values, result.errors[key])] for _, values, key in cols]
    widths = [max(len(name), *map(len, column)) for (name, _, _), column in zip(cols, cells)]
    lines = ["  ".join([f"{'bias (V)':>9}"] + [f"{name:>{w}}" for (name, _, _), w
                                                  in zip(cols, widths)])]
    for i, bias in enumerate(result.bias_V):
        row = [f"{bias:>9.4g}"] + [f"{column[i]:>{w}}" for column, w in zip(cells, widths)]
        lines.append("  ".join(row) + ("" if result.converged[i] else "  (not converged)"))
    lines.append(f"theta = {result.theta_deg:g} deg, T = {result.temperature_K:g} K; torques in "
                 "(hbar/2e) A/m^2, +- the error estimate")
    if result.spin_flip_loss_longitudinal_window is not None:
        lines.append("with scattering: T is the exchange torque (Eq. 22); 'loss along m' the "
                     "spin lost to spin flips in the free layer (more in the JSON output)")
    return "\n".join(lines)


def _resumable(store, run):
    """Run with the store; a store left by a run with other settings is replaced, with a warning.

    A file at the store's path without the store's sidecar (``STORE.meta.json``) is not a
    store and is never replaced: :class:`UsageError`.

    Resuming needs the same junction and settings (the store's fingerprint);
    the same output with other settings is a new computation, not an error.
    """
    from .runner import StoreMismatch

    try:
        return run()
    except StoreMismatch:
        _check_store(Path(store))
        print(f"mtj-kwant: warning: {store} holds points of a run with other settings or another "
              "junction; starting afresh", file=sys.stderr)
        for path in (Path(store), Path(f"{store}.meta.json")):
            path.unlink(missing_ok=True)
        return run()


def _warn_unconverged(flags):
    if not all(flags):
        print("mtj-kwant: warning: some integrals did not reach the tolerance; "
              "see the *_error columns", file=sys.stderr)


def _format_warning(message, category, filename, lineno, line=None):
    return f"mtj-kwant: warning: {message}\n"


def main(argv=None):
    """Entry point of ``mtj-kwant``; returns the exit status.

    Output into a pipe that closes early (``mtj-kwant ... | head``) ends quietly with
    status 141 (128 + SIGPIPE, like a process that SIGPIPE ends), whatever was left to print.
    """
    try:
        status = _main(argv)
        sys.stdout.flush()  # a closed pipe shows here, not in a message at interpreter exit
        return status
    except BrokenPipeError:
        for stream in (sys.stdout, sys.stderr):
            try:  # nothing more can be written; let the interpreter's final flush go nowhere
                os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
            except (OSError, ValueError):
                pass
        return EXIT_PIPE


def _main(argv):
    from .model import JunctionError

    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    warnings.formatwarning = _format_warning
    # said once as "mtj-kwant: note: ..." by _kwant_sea_note instead
    warnings.filterwarnings("ignore", category=SolverNote)
    parser = build_parser()
    try:
        try:
            args = parser.parse_args(_negative_values(argv))
        except SystemExit as exc:  # --help and --version print and exit; errors raise UsageError
            return exc.code if isinstance(exc.code, int) else 0
        return _run(args)
    except BrokenPipeError:
        raise
    except UsageError as err:
        if debug:
            raise
        print(f"mtj-kwant: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except (JunctionError, ValueError, OSError) as err:
        if debug:
            raise
        print(f"mtj-kwant: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except MemoryError as err:  # numpy's _ArrayMemoryError included
        if debug:
            raise
        text = str(err)
        text = text if text.startswith("out of memory") else f"out of memory: {text}".rstrip(": ")
        print(f"mtj-kwant: error: {text}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("mtj-kwant: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
