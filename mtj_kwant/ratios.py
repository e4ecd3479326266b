r"""Honest ratios: a quotient of two numbers that carry errors (DESIGN.md §3a).

A ratio whose denominator is zero within its error (the TMR of a half-metal, a torque
efficiency at V = 0, a relative deviation from a torque that vanishes by symmetry, a decay
length from a decay rate that the fit cannot tell from zero) has no finite value: dividing
anyway turns round-off into a huge number of either sign.  :func:`ratio` says so instead: it
returns ±inf (when the sign of the denominator is known) or NaN, with the smallest \|ratio\|
the errors allow and a sentence that names the quantities.

Examples
--------
>>> r = ratio(2.0, 0.02, 1.0, 0.01)
>>> r.value, round(r.error, 12), r.status
(2.0, 0.04, 'ok')
>>> r = ratio(2.0, 0.0, 1e-12, 1e-9, name="G_P/G_AP", den_name="G_AP", den_sign=1)
>>> r.value, r.bound > 1e9, r.ok
(inf, True, False)
>>> math.isnan(ratio(1e-9, 1e-6, 2e-9, 1e-6).value)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Ratio", "ratio", "resolved"]


def resolved(value, error):
    """True when ``value`` differs from zero by more than its ``error`` (NaN error: False)."""
    return bool(abs(value) > error) if math.isfinite(error) else False


@dataclass(frozen=True)
class Ratio:
    r"""A ratio with its error, or the statement that it has no finite value.

    Attributes
    ----------
    value : float
        num/den when the denominator is resolved (\|den\| > its error); otherwise ±inf (the
        numerator is resolved and the sign of the denominator is known) or NaN (the sign is
        unknown, or the numerator is zero within its error too: 0/0).
    error : float
        First-order error estimate \|value\| (δnum/\|num\| + δden/\|den\|) (δnum/\|den\|
        when num = 0); NaN when ``value`` is not finite or an input error is unknown.
    bound : float or None
        When ``value`` is not finite and the numerator is resolved: the smallest \|num/den\|
        that the errors allow, (\|num\| − δnum)/(\|den\| + δden); None otherwise.
    status : str
        "ok", or a sentence saying which quantity is zero within its error.
    """

    value: float
    error: float
    bound: float | None = None
    status: str = "ok"

    @property
    def ok(self):
        """True when the ratio has a finite value with an error estimate."""
        return self.status == "ok"

    def __float__(self):
        return float(self.value)

    def __str__(self):
        return self.text()

    def text(self, fmt=".4g"):
        """``"value +- error"``, or what the ratio is instead and why (for notes and tables)."""
        if self.ok:
            return f"{self.value:{fmt}} +- {self.error:.2g}"
        if math.isfinite(self.value):
            head = f"{self.value:{fmt}} (error unknown)"
        else:
            head = "undefined" if math.isnan(self.value) else ("inf" if self.value > 0
                                                                else "-inf")
        return f"{head}: {self.status}"


def _g(x):
    return f"{x:.3g}"


def ratio(num, num_err, den, den_err, *, name="the ratio", num_name="the numerator",
          den_name="the denominator", den_sign=None):
    r"""num/den with its error, or ±inf/NaN and a bound when den is zero within its error.

    Parameters
    ----------
    num, den : float
        Numerator and denominator (any units; the ratio has their quotient).
    num_err, den_err : float
        Their error estimates (≥ 0, same units; 0 for exact values; NaN: unknown).
    name, num_name, den_name : str
        Names for the status sentence, e.g. ``name="TMR"``, ``den_name="G_AP"``.
    den_sign : {None, 1, -1}
        The sign the denominator has by its nature (a conductance, a maximum of absolute
        values: +1).  Then a denominator of the other sign counts as zero within its error,
        and a ratio with such a denominator is ±inf rather than NaN.

    Returns
    -------
    Ratio

    Notes
    -----
    The denominator is resolved when \|den\| > δden (with ``den_sign``: den·sign > δden).
    Then value = num/den and error = \|value\|(δnum/\|num\| + δden/\|den\|), the linear
    worst-case propagation (δnum/\|den\| for num = 0).  Otherwise the ratio has no finite
    value (DESIGN.md §3a): with a resolved numerator it is infinite in magnitude, and at
    least (\|num\| − δnum)/(\|den\|₊ + δden) with \|den\|₊ = max(den·sign, 0) (or \|den\|);
    with an unresolved numerator too it is 0/0, undefined (NaN, no bound).
    """
    num, num_err, den, den_err = (float(x) for x in (num, num_err, den, den_err))
    for label, e in ((num_name, num_err), (den_name, den_err)):
        if e < 0:
            raise ValueError(f"error of {label} must be >= 0 or NaN (unknown), got {e!r}")
    if den_sign not in (None, 1, -1):
        raise ValueError(f"den_sign must be None, 1 or -1, got {den_sign!r}")
    if not (math.isfinite(num) and math.isfinite(den)):
        return Ratio(math.nan, math.nan, None,
                     f"{name} is undefined: {num_name} = {num!r}, {den_name} = {den!r}")
    size = abs(den) if den_sign is None else max(den * den_sign, 0.0)
    if size > den_err and size > 0:  # resolved (NaN den_err: see below)
        value = num / den
        err = (abs(value) * (num_err / abs(num) + den_err / abs(den)) if num
               else num_err / abs(den))
        return Ratio(value, err)
    if math.isnan(den_err):
        if den == 0:
            return Ratio(math.nan, math.nan, None,
                         f"{name} is undefined: {den_name} = 0 with an unknown error")
        return Ratio(num / den, math.nan, None,
                     f"{name}: the error of {den_name} is unknown, so whether it differs "
                     "from zero is not known")
    zero = f"{den_name} = {_g(den)} +- {_g(den_err)} is zero within its error"
    if resolved(num, num_err):
        upper = size + den_err
        bound = (abs(num) - num_err) / upper if upper > 0 else math.inf
        value = math.nan if den_sign is None else math.copysign(math.inf, num * den_sign)
        what = ("infinite" if den_sign is not None else
                "infinite in magnitude or undefined (the sign of the denominator is unknown)")
        return Ratio(value, math.nan, bound,
                     f"{zero}: {name} is {what}, |{name}| >= {_g(bound)}")
    return Ratio(math.nan, math.nan, None,
                 f"{zero} and {num_name} = {_g(num)} +- {_g(num_err)} too: {name} is 0/0, "
                 "undefined")
