"""Command line: ``mtj-kwant sweep | profile | conductance`` (DESIGN.md §4).

User mistakes end with one readable line on stderr and a non-zero exit status;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from pathlib import Path

__all__ = ["main"]

EXIT_USAGE = 2
EXIT_ERROR = 1


class UsageError(Exception):
    """A command-line argument is invalid."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line instead of usage + error
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _biases(tokens):
    """Parse bias values; a token 'START:STOP:N' expands to N evenly spaced values."""
    out = []
    for tok in tokens:
        if ":" in tok:
            parts = tok.split(":")
            try:
                start, stop, num = float(parts[0]), float(parts[1]), int(parts[2])
            except (ValueError, IndexError):
                raise UsageError(f"--bias: {tok!r} is not START:STOP:N (e.g. -0.5:0.5:41)") from None
            if len(parts) != 3 or num < 1:
                raise UsageError(f"--bias: {tok!r} is not START:STOP:N with N >= 1")
            out += [start + (stop - start) * i / max(num - 1, 1) for i in range(num)]
        else:
            try:
                value = float(tok)
            except ValueError:
                raise UsageError(f"--bias: {tok!r} is not a number in volts") from None
            out.append(value)
    for v in out:
        if not math.isfinite(v):
            raise UsageError("--bias: values must be finite numbers in volts")
    return out


def _angle(name, value):
    if not math.isfinite(value):
        raise UsageError(f"--{name}: must be a finite angle in degrees")
    return math.radians(value)


def _common(p):
    p.add_argument("system", help="junction file (TOML, DESIGN.md §2)")
    p.add_argument("--theta", type=float, default=90.0, help="free-layer polar angle in degrees (default 90)")
    p.add_argument("--phi", type=float, default=0.0, help="free-layer azimuth in degrees (default 0)")
    p.add_argument("--temperature", type=float, default=None,
                   help="temperature in K (default: the junction file's)")
    p.add_argument("--parts", choices=("window", "total", "both"), default="window",
                   help="window (transport) part, total (window + Fermi sea) or both")
    p.add_argument("--rtol", type=float, default=1e-3,
                   help="relative tolerance of the integrals (default 1e-3)")
    p.add_argument("--solver", choices=("batched", "kwant"), default="batched",
                   help="batched Green's functions (default) or Kwant scattering states")
    p.add_argument("--plot", metavar="FILE.png", default=None, help="also write a figure")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--debug", action="store_true", help="show tracebacks")


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

    p = sub.add_parser("profile", help="spin density, spin current and torque density profiles")
    _common(p)
    p.add_argument("--bias", type=float, required=True, metavar="V", help="bias in volts")
    p.add_argument("--output", metavar="OUT.json", required=True, help="JSON output")

    p = sub.add_parser("conductance", help="zero-bias conductances (P, AP) and TMR")
    p.add_argument("system", help="junction file (TOML)")
    p.add_argument("--temperature", type=float, default=None, help="K")
    p.add_argument("--output", metavar="OUT.json", default=None, help="JSON output")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    return parser


def _check(args):
    if getattr(args, "temperature", None) is not None and not (
        math.isfinite(args.temperature) and args.temperature >= 0
    ):
        raise UsageError("--temperature: must be a finite number of kelvin >= 0")
    if getattr(args, "rtol", 1.0) is not None and not (0 < getattr(args, "rtol", 1.0) < 1):
        raise UsageError("--rtol: must lie between 0 and 1 (e.g. 1e-3)")
    if args.command == "profile" and not math.isfinite(args.bias):
        raise UsageError("--bias: must be a finite number in volts")
    for key in ("output", "plot"):
        value = getattr(args, key, None)
        if value is not None and Path(value).is_dir():
            raise UsageError(f"--{key}: {value} is a directory; give a file name")


def _run(args):
    from .model import load_junction
    from .sweep import conductance, profile, sweep

    _check(args)
    junction = load_junction(args.system)
    stem = Path(args.system).stem
    if args.command == "sweep":
        biases = _biases(args.bias)
        result = sweep(junction, biases, theta=_angle("theta", args.theta),
                       phi=_angle("phi", args.phi), temperature=args.temperature,
                       parts=args.parts, rtol=args.rtol, solver=args.solver,
                       progress=not args.quiet)
        out = Path(args.output or f"out/{stem}_sweep.json")
        result.save(out)
        print(f"wrote {out}")
        if not all(result.converged):
            print("warning: some integrals did not reach the tolerance; see the *_error lists",
                  file=sys.stderr)
    elif args.command == "profile":
        result = profile(junction, args.bias, theta=_angle("theta", args.theta),
                         phi=_angle("phi", args.phi), temperature=args.temperature,
                         parts=args.parts, rtol=args.rtol, solver=args.solver)
        out = Path(args.output)
        result.save(out)
        print(f"wrote {out}")
    else:
        result = conductance(junction, temperature=args.temperature)
        text = json.dumps(result, indent=1)
        if args.output:
            Path(args.output).parent.mkdir(parents=True, exist_ok=True)
            Path(args.output).write_text(text)
            print(f"wrote {args.output}")
        else:
            print(text)
        return 0
    if getattr(args, "plot", None):
        result.plot(args.plot)
        print(f"wrote {args.plot}")
    return 0


def _format_warning(message, category, filename, lineno, line=None):
    return f"mtj-kwant: warning: {message}\n"


def main(argv=None):
    """Entry point of ``mtj-kwant``; returns the exit status."""
    from .model import JunctionError
    from .sweep import PartsNotAvailable

    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    warnings.formatwarning = _format_warning
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return _run(args)
    except UsageError as err:
        if debug:
            raise
        print(f"mtj-kwant: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except (JunctionError, PartsNotAvailable, ValueError, OSError) as err:
        if debug:
            raise
        print(f"mtj-kwant: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("mtj-kwant: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
