"""Constants and input checking shared by the dynamics modules (no Kwant, no numba)."""

from __future__ import annotations

import difflib
import functools
import math

import numpy as np

# The SI constants of mtj_kwant.units, under the names the dynamics modules use.
from ..units import E_CHARGE, GAMMA_E, MU0  # noqa: F401
from ..units import HBAR_SI as HBAR  # noqa: F401
from ..units import K_B_SI as K_B  # noqa: F401


class DynamicsError(ValueError):
    """Invalid input to :mod:`mtj_kwant.dynamics`; the message names the parameter and the fix.

    ``parameter`` is the name of the offending argument where there is one (the command line
    uses it to name its own option), else None.
    """

    def __init__(self, message="", *, parameter=None):
        super().__init__(message)
        self.parameter = parameter


class DynamicsWarning(UserWarning):
    """A result of :mod:`mtj_kwant.dynamics` that is reported as NaN, with the reason."""


def strict_keywords(cls):
    """Make a keyword-only dataclass reject unknown keywords with a one-line message.

    Python's own message ("got an unexpected keyword argument") names neither the valid keys
    nor the likely intended one; this wrapper does both.
    """
    init = cls.__init__
    valid = [f for f, v in cls.__dataclass_fields__.items() if v.init]

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        if args:
            raise DynamicsError(
                f"{cls.__name__} takes keyword arguments only (got {len(args)} positional); "
                f"write e.g. {cls.__name__}({valid[0]}=...)."
            )
        check_keywords(cls.__name__, kwargs, valid)
        init(self, **kwargs)

    cls.__init__ = __init__
    return cls


def check_keywords(owner, kwargs, valid):
    """Refuse keywords of ``kwargs`` not in ``valid`` with one line naming the likely one."""
    unknown = [k for k in kwargs if k not in valid]
    if unknown:
        k = unknown[0]
        close = difflib.get_close_matches(k, list(valid), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise DynamicsError(
            f"{owner}: unknown parameter {k!r}; {hint}valid parameters: {', '.join(valid)}.",
            parameter=k)


def finite_scalar(owner, name, value, *, unit="", positive=False, nonnegative=False):
    """``value`` as a float, with a one-line error naming ``owner.name`` when it is invalid."""
    u = f" {unit}" if unit else ""

    def fail(text):
        return DynamicsError(f"{owner}: `{name}` {text}", parameter=name)

    if isinstance(value, (bool, str, bytes, np.bool_)):  # no silent parsing of text
        raise fail(f"must be a number{u}, got {value!r}.")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise fail(f"must be a number{u}, got {value!r}.") from None
    if not math.isfinite(v):
        raise fail(f"must be finite, got {v!r}.")
    if positive and v <= 0:
        raise fail(f"must be > 0{u}, got {v!r}.")
    if nonnegative and v < 0:
        raise fail(f"must be >= 0{u}, got {v!r}.")
    return v


#: Largest accepted ``max_steps`` (the kernels count steps in 64-bit integers).
MAX_STEPS_LIMIT = 2**63 - 1


def check_max_steps(owner, max_steps):
    """``max_steps`` as an int in [1, MAX_STEPS_LIMIT], with a one-line error."""
    if (isinstance(max_steps, (bool, np.bool_)) or not isinstance(max_steps, (int, np.integer))
            or max_steps < 1):
        raise DynamicsError(f"{owner}: `max_steps` must be an integer >= 1 (the most steps one "
                            f"run may take), got {max_steps!r}.", parameter="max_steps")
    if max_steps > MAX_STEPS_LIMIT:
        raise DynamicsError(f"{owner}: `max_steps` = {max_steps:.3g} exceeds the largest "
                            f"64-bit step count {MAX_STEPS_LIMIT} (2**63 - 1); give at most "
                            "that.", parameter="max_steps")
    return int(max_steps)


def vector3(owner, name, value, *, unit=False, allow_zero=True):
    """``value`` as a float array of shape (3,) (normalised if ``unit``)."""
    try:
        v = np.array(value, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise DynamicsError(f"{owner}: `{name}` must be three numbers [x, y, z], got {value!r}.",
                            parameter=name) from None
    if v.shape != (3,):
        raise DynamicsError(f"{owner}: `{name}` must be three numbers [x, y, z], got {value!r}.",
                            parameter=name)
    if not np.all(np.isfinite(v)):
        raise DynamicsError(f"{owner}: `{name}` must be finite, got {value!r}.", parameter=name)
    big = float(np.max(np.abs(v)))
    n = big and big * float(np.linalg.norm(v / big))          # no overflow for huge entries
    if unit:
        if n == 0:
            raise DynamicsError(f"{owner}: `{name}` is a direction and cannot be the zero "
                                "vector.", parameter=name)
        v = v / n
    elif not allow_zero and n == 0:
        raise DynamicsError(f"{owner}: `{name}` cannot be the zero vector.", parameter=name)
    v.setflags(write=False)
    return v


def check_seed(owner, seed):
    """A seed for ``numpy.random.default_rng`` as an int >= 0, with a one-line error.

    None draws fresh entropy (``numpy.random.SeedSequence().entropy``) and returns it, so
    that the result can record the seed that reproduces it.
    """
    if seed is None:
        return int(np.random.SeedSequence().entropy)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise DynamicsError(f"{owner}: `seed` must be an integer >= 0 (numpy.random.default_rng) "
                            f"or None for a fresh one, got {seed!r}.")
    if seed < 0:
        raise DynamicsError(f"{owner}: `seed` must be an integer >= 0 (numpy.random.default_rng "
                            f"refuses negative seeds), got {seed!r}; e.g. seed={-int(seed)}.")
    return int(seed)
