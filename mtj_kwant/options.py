"""The numerical settings of a computation, validated once.

:func:`~mtj_kwant.scan.scan`, :func:`~mtj_kwant.sweep.sweep`, :func:`~mtj_kwant.sweep.profile`,
:func:`~mtj_kwant.sweep.conductance` and :func:`~mtj_kwant.comparison.compare` keep their
keyword arguments (``mk.sweep(junction, bias, rtol=1e-4)``) and build one :class:`Options`
from them on entry; its construction checks every value, and an invalid one raises
:class:`OptionsError` with a one-line message that names the argument and what to give.

Examples
--------
>>> Options(rtol=1e-4, parts="both").settings()
{'parts': 'both', 'rtol': 0.0001, 'solver': 'batched', 'method': 'auto'}
>>> Options(rtol=0)
Traceback (most recent call last):
...
mtj_kwant.options.OptionsError: rtol must be a number between 1e-12 (the integrals' round-off) and 1, e.g. 1e-3; got 0
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

__all__ = ["Options", "OptionsError", "PARTS", "SOLVERS", "METHODS", "MIN_RTOL"]

#: Which parts of the steady state are computed (DESIGN.md §1).
PARTS = ("window", "total", "both")
#: Solvers of the window part: the batched Green's-function solver or Kwant's scattering states.
SOLVERS = ("batched", "kwant")
#: Transverse integration: chosen from the junction, the E_x reduction, or nested (E, k∥).
METHODS = ("auto", "reduced", "nested")
#: The smallest relative tolerance accepted: the integrated vectors carry round-off of order
#: 1e-13 of their scale, so a tighter tolerance can only exhaust the budgets.
MIN_RTOL = 1e-12


class OptionsError(ValueError):
    """An invalid setting.

    Attributes
    ----------
    argument : str
        The keyword argument at fault (``"rtol"``), for front ends that call it otherwise
        (the command line says ``--rtol``).
    reason : str
        What is wrong and what to give, without the argument's name.
    """

    def __init__(self, argument, reason):
        self.argument, self.reason = argument, reason
        super().__init__(f"{argument} {reason}")


@dataclass(frozen=True, kw_only=True)
class Options:
    """Numerical settings shared by scans, sweeps, profiles, conductances and comparisons.

    Parameters
    ----------
    parts : {"window", "total", "both"}
        "total" and "both" add the Fermi sea and the total (DESIGN.md §1).
    rtol : float
        Relative tolerance of the integrals, in [:data:`MIN_RTOL`, 1).
    solver : {"batched", "kwant"}
    method : {"auto", "reduced", "nested"}
    executor : "auto", None, "serial", int or Executor
        Where the points run (:func:`~mtj_kwant.runner.run_points`; "auto" as in
        :func:`~mtj_kwant.scan.scan`).

    Raises
    ------
    OptionsError
        A value out of its range (a ValueError naming the argument).
    TypeError
        An ``executor`` that is none of the above.
    """

    parts: str = "window"
    rtol: float = 1e-3
    solver: str = "batched"
    method: str = "auto"
    executor: object = "auto"

    def __post_init__(self):
        self.validate()

    def validate(self):
        """Check every setting; raise :class:`OptionsError` (or TypeError) for the first bad one."""
        if self.parts not in PARTS:
            raise OptionsError("parts", f"must be one of {', '.join(PARTS)}, got {self.parts!r}")
        rtol = self.rtol
        if (not isinstance(rtol, numbers.Real) or isinstance(rtol, bool)
                or not MIN_RTOL <= rtol < 1):
            raise OptionsError("rtol", f"must be a number between {MIN_RTOL:g} (the integrals' "
                                       f"round-off) and 1, e.g. 1e-3; got {rtol!r}")
        if self.solver not in SOLVERS:
            raise OptionsError("solver", f"must be 'batched' or 'kwant', got {self.solver!r}")
        if self.method not in METHODS:
            raise OptionsError("method", f"must be 'auto', 'reduced' or 'nested', got "
                                         f"{self.method!r}")
        executor = self.executor
        if isinstance(executor, str) and executor not in ("auto", "serial"):
            raise OptionsError("executor", f"must be 'auto', 'serial', a number of processes or "
                                           f"an Executor, got {executor!r}")
        if not (isinstance(executor, str) and executor == "auto"):
            from .runner import _EXECUTORS, _check_executor

            try:
                _check_executor(executor)
            except TypeError:
                raise TypeError(f"executor must be 'auto', {_EXECUTORS}; got {executor!r}") \
                    from None

    def settings(self):
        """The settings that determine the numbers (stored in results, and in the fingerprint of
        a resumable store): ``parts``, ``rtol``, ``solver``, ``method``."""
        return {"parts": self.parts, "rtol": self.rtol, "solver": self.solver,
                "method": self.method}
