r"""Integration of the macrospin LLGS equation: single trajectories, ensembles, thresholds.

The equation (Gilbert form, with the spin torque of DESIGN §1 added as a torque):

.. math::

    \dot{\mathbf m} = -\gamma_0\,\mathbf m\times(\mathbf H_\mathrm{eff}+\mathbf H_\mathrm{th})
        + \alpha\,\mathbf m\times\dot{\mathbf m}
        + \frac{\gamma\hbar}{2eM_sd}\left[a\,\mathbf m\times(\mathbf p\times\mathbf m)
        + b\,\mathbf m\times\mathbf p\right],

integrated in its explicit (Landau–Lifshitz) form,

.. math::

    (1+\alpha^2)\dot{\mathbf m} = -\gamma_0\mathbf m\times\mathbf H
        - \alpha\gamma_0\mathbf m\times(\mathbf m\times\mathbf H)
        + s\left[(a-\alpha b)\,\mathbf m\times(\mathbf p\times\mathbf m)
        + (b+\alpha a)\,\mathbf m\times\mathbf p\right],\quad s = \frac{\gamma\hbar}{2eM_sd}.

Sign: the free layer absorbs the spin current (ħ/2e)T per area and its spin angular momentum
per area is (M_s d/γ) m, so a > 0 (T∥ > 0) turns m toward p (DESIGN §1).  A constant b is
the field −(ħb/2eμ₀M_s d) p exactly.

Methods: ``"rk45"`` — adaptive Dormand–Prince 5(4), deterministic (T = 0); ``"heun"`` —
fixed-step stochastic Heun scheme, which converges to the Stratonovich solution (García-Palacios
& Lázaro, PRB 58, 14937 (1998)), with |m| renormalised after each step; at T = 0 it is the
deterministic second-order Heun method.  The thermal field is Gaussian with standard deviation
√(2αk_BT/(γ₀μ₀M_sVΔt)) per component (DESIGN §10).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import ClassVar

import numpy as np

from ..results import Result

from . import _kernels
from ._common import (E_CHARGE, HBAR, DynamicsError, DynamicsWarning, check_max_steps,
                      check_seed, finite_scalar, vector3)
from .macrospin import Macrospin
from .torques import TorqueModel

__all__ = ["Trajectory", "EnsembleResult", "SwitchingThreshold", "integrate", "ensemble", "dm_dt",
           "heun_max_dt", "switching_time", "switching_threshold", "tilted"]

METHODS = ("rk45", "heun")

#: Number of stored intervals of :func:`integrate` by default (``save_every=None``): at most
#: DEFAULT_SAMPLES + 2 stored points (≈ 0.6 MB with drive, J and energy), whatever the number
#: of steps.
DEFAULT_SAMPLES = 10_000


def tilted(axis, angle, toward=None):
    """The unit vector at ``angle`` (radians) from ``axis``, tilted toward ``toward``.

    ``toward`` defaults to a direction perpendicular to ``axis`` (x, or y if axis ∥ x).
    A non-finite ``angle`` or a non-number is refused (DynamicsError, one line).

    Examples
    --------
    >>> np.round(tilted([0, 0, 1], np.pi / 2), 12).tolist()
    [1.0, 0.0, 0.0]
    """
    a = vector3("tilted", "axis", axis, unit=True)
    angle = finite_scalar("tilted", "angle", angle, unit="rad")
    if toward is None:
        toward = (0.0, 1.0, 0.0) if abs(a[0]) > 0.9 else (1.0, 0.0, 0.0)
    w = np.array(vector3("tilted", "toward", toward))
    w = w - (w @ a) * a
    nw = np.linalg.norm(w)
    if nw == 0:
        raise DynamicsError("tilted: `toward` is parallel to `axis`; give another direction.")
    w = w / nw
    return math.cos(angle) * a + math.sin(angle) * w


def _check_pair(macrospin, torque):
    if not isinstance(macrospin, Macrospin):
        raise DynamicsError(f"expected a Macrospin, got {type(macrospin).__name__}; build one "
                            "with Macrospin(Ms=..., thickness=..., area=..., alpha=...).")
    if not isinstance(torque, TorqueModel):
        raise DynamicsError(f"expected a torque model (ConstantTorque, SlonczewskiTorque, "
                            f"PolynomialTorque, TabulatedTorque), got {type(torque).__name__}.")


def _numbers(values):
    """``values`` as a 1-D float array, or None when they are not all real numbers (text,
    booleans, None and objects are not numbers: no silent parsing of "1e11")."""
    try:
        arr = np.asarray(values)
    except (TypeError, ValueError):
        return None
    if arr.dtype.kind not in "iuf":
        return None
    return arr.astype(float).reshape(-1)


def _waveform(torque, drive):
    """(tw, xw) arrays of a constant or piecewise-linear drive."""
    unit = torque.drive_unit
    if isinstance(drive, tuple) and len(drive) == 2:
        tw, xw = _numbers(drive[0]), _numbers(drive[1])
        if tw is None or xw is None:
            raise DynamicsError(f"`drive` as (times, values) needs numbers (times in s, values in "
                                f"{unit}), got {drive!r}.", parameter="drive")
        if tw.size < 1 or tw.shape != xw.shape:
            raise DynamicsError(f"`drive` as (times, values) needs two arrays of the same length "
                                f"(>= 1), got {tw.size} times and {xw.size} values.",
                                parameter="drive")
        if not np.all(np.isfinite(tw)):
            raise DynamicsError("`drive` as (times, values): the times must be finite (s).",
                                parameter="drive")
        steps = np.diff(tw)
        if np.any(steps == 0):
            t_rep = float(tw[1:][steps == 0][0])
            raise DynamicsError(
                f"`drive` as (times, values): the time {t_rep:g} s is repeated (a jump); give "
                f"the edge a short rise time instead, e.g. {t_rep:g} and {t_rep:g} + 1e-12 s "
                "(rk45 ends a step on every knot, so a 1 ps edge costs a few steps).",
                parameter="drive")
        if np.any(steps < 0):
            raise DynamicsError("`drive` as (times, values) needs increasing times (s); sort "
                                "the knots by time.", parameter="drive")
    else:
        xw = _numbers(drive)
        if xw is None or xw.size != 1:
            raise DynamicsError(f"`drive` must be a number ({unit}) or a pair "
                                f"(times_s, values), got {drive!r}.", parameter="drive")
        tw = np.zeros(1)
    torque.check_drive(xw)
    return np.ascontiguousarray(tw), np.ascontiguousarray(xw)


def _start(macrospin, m0, n=None):
    if m0 is None:
        m0 = macrospin.p
    try:
        m = np.asarray(m0, float)
    except (TypeError, ValueError):
        raise DynamicsError(f"`m0` must be three numbers [x, y, z] (or an array (n, 3) in "
                            f"ensemble), got {m0!r}.", parameter="m0") from None
    if m.shape == (3,):
        m = vector3("integrate", "m0", m, unit=True)
        return m if n is None else np.tile(m, (n, 1))
    if n is None or m.shape != (n, 3):
        raise DynamicsError(f"`m0` must be a direction (3,) or an array (n, 3), got shape {m.shape}.")
    norm = np.linalg.norm(m, axis=1)
    if np.any(norm == 0) or not np.all(np.isfinite(m)):
        raise DynamicsError("`m0` rows must be finite non-zero directions.")
    return np.ascontiguousarray(m / norm[:, None])


def _switch(macrospin, switch_axis, threshold):
    axis = vector3("integrate", "switch_axis",
                   macrospin.easy_axis if switch_axis is None else switch_axis, unit=True)
    thr = finite_scalar("integrate", "switch_threshold", threshold)
    if not -1 < thr < 1:
        raise DynamicsError(f"integrate: `switch_threshold` is a value of m·axis and must lie in "
                            f"(-1, 1), got {thr!r} (never crossed); e.g. 0 or -0.5.")
    return np.ascontiguousarray(axis), thr


@dataclass
class Trajectory(Result):
    """One solution m(t) of the LLGS equation (a result: :mod:`mtj_kwant.results`).

    Attributes
    ----------
    t : ndarray (n,)
        Times in s.
    m : ndarray (n, 3)
        Unit magnetisation.
    drive : ndarray (n,)
        Drive (V or A/m², ``drive_unit``) at each time.
    current_density : ndarray (n,)
        Charge current density J(drive, θ(t)) in A/m² (NaN where the model has none).
    energy : ndarray (n,)
        Macrospin energy E(m) in J (Zeeman, anisotropy, demagnetising; not the spin torque).
    switching_time : float
        First time m·axis crosses ``switch_threshold`` from the side of m(0) (s), NaN if it
        did not.
    status : int
        0 reached t_end, 1 stopped at the switch, 2 max_steps exhausted, 3 step-size underflow
        (2 and 3 keep the last state reached; ``message`` says how far the run got).
    message : str
    success : bool
        status 0 or 1 (a property).
    n_steps, n_rejected : int
    method : str
    settings : dict
        Everything that produced the result (macrospin, torque, drive, tolerances, seed).
    """

    t: np.ndarray
    m: np.ndarray
    drive: np.ndarray
    drive_unit: str
    current_density: np.ndarray
    energy: np.ndarray
    switching_time: float
    n_steps: int
    n_rejected: int
    method: str
    settings: dict = field(default_factory=dict)

    @property
    def cos_theta(self):
        """m·p along the trajectory."""
        return self.m @ np.asarray(self.settings["p"])

    kind: ClassVar[str] = "trajectory"

    @property
    def success(self):
        """Whether the run ended as asked: at t_end (status 0) or at the switch (1)."""
        return self.status in (0, 1)

    @classmethod
    def from_dict(cls, data):
        """Rebuild a trajectory from :meth:`to_dict` output (arrays as NumPy arrays)."""
        out = super().from_dict(data)
        for name in ("t", "m", "drive", "current_density", "energy"):
            setattr(out, name, np.asarray(getattr(out, name), float))
        return out


_STATUS = {0: "reached t_end", 1: "stopped at the switch",
           2: "max_steps exhausted before t_end; raise max_steps or loosen rtol",
           3: "step size underflow (stiff or singular right-hand side)"}


def _status_message(status, t_reached, t_end, max_steps):
    """The message of a Trajectory: for a run that stopped early, how far it got."""
    if status == 2:
        return (f"max_steps = {max_steps} exhausted at t = {t_reached:.4g} s of t_end = "
                f"{t_end:.4g} s ({100 * t_reached / t_end:.3g} %); the last state reached is "
                "stored; raise max_steps or loosen rtol")
    if status == 3:
        return (f"step size underflow at t = {t_reached:.4g} s of t_end = {t_end:.4g} s "
                f"({100 * t_reached / t_end:.3g} %; stiff or singular right-hand side); the "
                "last state reached is stored")
    return _STATUS[status]


#: Largest memory (bytes) that :func:`integrate` (Heun) and :func:`ensemble` may allocate for
#: stored trajectories: beyond it they refuse in one line instead of exhausting the memory.
MAX_STORED_BYTES = 2 * 2**30


def _check_storage(owner, n, n_steps, stride, dt, t_end):
    """Refuse stored trajectories (n samples, n_steps // stride + 1 points) above the limit."""
    if not stride:
        return
    n_save = n_steps // stride + 1
    size = n * n_save * 3 * 8
    if size <= MAX_STORED_BYTES:
        return
    fits = t_end * n * 3 * 8 / MAX_STORED_BYTES                # save_every that fits,
    unit = 10.0 ** (math.floor(math.log10(fits)) - 1)          # rounded up to 2 digits
    fits = math.ceil(fits / unit) * unit
    raise DynamicsError(
        f"{owner}: storing {n} trajector{'y' if n == 1 else 'ies'} of {n_save} points "
        f"(save_every = {stride * dt:.3g} s over t_end = {t_end:.3g} s) needs "
        f"{size / 2**30:.3g} GiB, above the {MAX_STORED_BYTES / 2**30:g} GiB limit; store less: "
        f"a larger save_every (>= {fits:.2g} s fits)"
        + (", fewer samples, or save_every=None." if owner == "ensemble" else "."),
        parameter="save_every")


_CHUNK_BYTES = 16 * 2**20

#: Default bound of :func:`ensemble` on its whole run, n × t_end/dt Heun steps (about an hour
#: at a few 1e6 sample-steps per second): beyond it the call is refused unless the caller
#: raises ``max_total_steps``.
MAX_TOTAL_STEPS = 1e10

#: Memory per sample of :func:`ensemble`'s working state (m0, m, final m, switching time,
#: step count, masks; bytes): n × this may take at most :data:`MAX_STORED_BYTES`.
_SAMPLE_BYTES = 128


#: Largest rotation angle per Heun step, θ = ω_max Δt (DESIGN §3a: refuse, do not return garbage).
HEUN_MAX_ANGLE = 0.2


def heun_max_dt(macrospin, torque, drive=0.0):
    r"""The largest Heun time step (s) that :func:`integrate` and :func:`ensemble` accept.

    The deterministic Heun step applied to a precession by the angle θ = ωΔt per step
    multiplies the transverse amplitude by √(1 + θ⁴/4): a numerical *anti*-damping
    α_num ≈ θ³/8 (measured: 0.00088 for θ = 0.1 against 0.000875 predicted), with a phase
    error θ²/12.  With α = 0.01, θ = 0.43 cancels the damping and the energy rises; θ = 0.65
    gave m_z = 0.75 instead of 1.0.  The bound

    .. math::

        	heta = \omega_\max\Delta t \le 	heta_\max = \min\left(0.2, (0.8lpha)^{1/3}
ight)

    keeps α_num ≤ α/10 and the phase error ≤ 0.4 %.  ω_max = γ₀(|H| + ‖A‖₂) + s·max(|a| + |b|)
    bounds the precession rate over the sphere (H_eff = H + A m, A = H_K uuᵀ − M_s diag(N);
    a, b over the drive values and all angles, s = :attr:`Macrospin.spin_torque_rate`).
    The thermal kick needs no separate bound: its variance per step relative to the
    equilibrium cone is ≈ 6αθ.  α = 0 gives 0 (use rk45 for a conservative layer).
    """
    if isinstance(drive, tuple) and len(drive) == 2:
        xw = np.asarray(drive[1], float).reshape(-1)
    else:
        xw = np.asarray([float(drive)])
    return _heun_bound(macrospin, torque, xw)[0]


def _heun_bound(macrospin, torque, xw):
    """(max dt, θ_max, ω_max) of :func:`heun_max_dt` for the drive values ``xw``."""
    u = np.asarray(macrospin.easy_axis)
    A = macrospin.anisotropy_field * np.outer(u, u) - macrospin.Ms * np.diag(macrospin.demag_factors)
    w = macrospin.gamma0 * (np.linalg.norm(macrospin.H_applied) + np.linalg.norm(A, 2))
    lo, hi = float(np.min(xw)), float(np.max(xw))
    xs = np.unique(np.concatenate([xw, np.linspace(lo, hi, 9)]))[:, None]
    a, b = torque.coefficients(xs, np.linspace(-1, 1, 41)[None, :])
    w += macrospin.spin_torque_rate * float(np.max(np.abs(a) + np.abs(b)))
    theta_max = min(HEUN_MAX_ANGLE, (0.8 * macrospin.alpha) ** (1 / 3))
    return (theta_max / w if w > 0 else math.inf), theta_max, w


def _check_heun_dt(owner, macrospin, torque, xw, dt):
    dmax, theta_max, w = _heun_bound(macrospin, torque, xw)
    if macrospin.alpha == 0:
        raise DynamicsError(f"{owner}: the Heun scheme adds a numerical anti-damping θ³/8 that a "
                            "layer with alpha = 0 cannot absorb; use method='rk45' (T = 0).")
    if dt > dmax:
        raise DynamicsError(
            f"{owner}: `dt` = {dt:.3g} s is too large for the Heun scheme (ω_max·dt = "
            f"{w * dt:.3g} > {theta_max:.3g}); use dt <= {dmax:.3g} s (see heun_max_dt).")


def _heun_run(M0, dt, n_steps, P, tw, xw, xint, xl, Ca, Cb, seed, axis, thr, stop_on_switch,
              stride):
    """Stochastic Heun for the samples M0 (N, 3): (t_switch, m_final, saved or None, steps).

    The thermal-field increments are drawn in chunks from ``numpy.random.default_rng(seed)``
    (step by step, sample by sample among those still running), so a result is reproducible
    for given (seed, N).  ``saved`` (N, n_steps // stride + 1, 3) holds m every ``stride``
    steps (NaN after a sample stopped).
    """
    M = np.array(M0, dtype=float, order="C")
    N = M.shape[0]
    t_switch = np.full(N, np.nan)
    pos0 = (M @ axis - thr) >= 0
    rng = np.random.default_rng(seed)
    sdw = P[16] * math.sqrt(dt)
    active = np.arange(N)
    saved = None
    if stride:
        saved = np.full((N, n_steps // stride + 1, 3), np.nan)
        saved[:, 0] = M
    steps = np.zeros(N, dtype=np.int64)
    k = 0
    empty = np.empty((0, 0, 3))
    while k < n_steps and active.size:
        # the chunk (noise of c steps) stays within _CHUNK_BYTES whatever the stride: a
        # chunk need not end on a stored step (the kernel counts steps from k)
        chunk = max(1, _CHUNK_BYTES // (24 * active.size))
        c = min(chunk, n_steps - k)
        noise = rng.standard_normal((c, active.size, 3)) * sdw if sdw > 0 else empty
        rows = ((k + c) // stride - k // stride) if stride else 0
        out = np.full((rows, active.size, 3), np.nan)
        _kernels.heun_chunk(M, active, k * dt, dt, c, noise, P, tw, xw, xint, xl, Ca, Cb, axis,
                            thr, pos0, t_switch, bool(stop_on_switch), int(stride), out, k)
        running = np.isnan(t_switch[active]) if stop_on_switch else np.ones(active.size, bool)
        steps[active[running]] += c
        if stride and out.shape[0]:
            j0 = k // stride + 1
            saved[active, j0:j0 + out.shape[0]] = np.swapaxes(out, 0, 1)
        if stop_on_switch:
            done = active[~running]
            steps[done] += np.ceil((t_switch[done] - k * dt) / dt).astype(np.int64)
            active = active[running]
        k += c
    return t_switch, M, saved, steps


def integrate(macrospin, torque, drive, t_end, *, m0=None, method="rk45", dt=None, rtol=1e-9,
              atol=1e-12, seed=0, switch_axis=None, switch_threshold=0.0, stop_on_switch=False,
              save_every=None, max_steps=20_000_000):
    r"""Integrate the LLGS equation of ``macrospin`` under ``torque`` from 0 to ``t_end``.

    Parameters
    ----------
    macrospin : Macrospin
    torque : TorqueModel
    drive : float or (times, values)
        Constant drive, or a piecewise-linear waveform through (times in s, values), held
        constant outside; in the model's unit (V for voltage-driven models, A/m² for
        current-driven ones).  rk45 ends a step on every knot of the waveform (where its
        slope jumps) and otherwise chooses its steps freely: fine knots at the edges of a
        long pulse do not limit the steps in between.
    t_end : float
        End time in s, > 0.
    m0 : (3,) array_like, optional
        Initial direction (normalised); default p.
    method : {"rk45", "heun"}
        Adaptive Dormand–Prince 5(4) (T = 0 only), or fixed-step stochastic Heun (needs ``dt``).
    dt : float
        Heun time step in s, at most :func:`heun_max_dt` (ω_max·dt <= min(0.2, (0.8α)^(1/3)),
        else DynamicsError); reduced to t_end/ceil(t_end/dt) so that the run ends exactly at
        t_end (``settings["dt"]`` is the step used).  Also the first trial step of rk45
        (default 1e-13).
    rtol, atol : float
        rk45 tolerances on the components of m.
    seed : int >= 0 or None
        Seed of the thermal field (Heun), for ``numpy.random.default_rng``; None draws a fresh
        one (recorded in ``settings["seed"]``).
    switch_axis : (3,) array_like, optional
        Axis for the switching time (default the easy axis).
    switch_threshold : float
        Switching = m·axis crossing this value from the side of m(0), in [−1, 1].  Default 0,
        the barrier top: its first crossing comes about twice as early as the Néel–Brown
        (escape) time; use −0.5 (from +axis) for arrival in the other well (see
        :func:`ensemble`).
    stop_on_switch : bool
        End the integration at the switch.
    save_every : float or None
        Output sampling in s (the role of mumax3's autosave interval; solve_ivp's ``t_eval``
        would interpolate, this stores computed states): rk45 stores the first accepted step at
        least ``save_every`` after the previous stored point, Heun every
        round(save_every/dt) steps.  None (default): t_end / DEFAULT_SAMPLES (10 000), so a
        run stores at most 10 002 points whatever its number of steps (a 1 ms rk45 run used to
        store every step, 2.1 GB).  0: every accepted (rk45) or every (Heun) step, with memory
        growing with the run.  The initial and the final state (t_end, or the switch with
        ``stop_on_switch``) are always stored.  The switching time is found at every step,
        not from the stored points, so the sampling does not change it.
    max_steps : int
        Most steps of the run, >= 1 (default 2e7).  rk45 stops there with status 2 and keeps
        the last state reached (``t[-1]`` < t_end; the message says how far it got); Heun,
        whose number of steps is t_end/dt, refuses a run longer than that up front.

    Returns
    -------
    Trajectory

    Raises
    ------
    DynamicsError
        For invalid arguments (a drive given as text, a waveform with a repeated time,
        max_steps < 1), rk45 with T > 0, a drive outside the model's range, or stored Heun
        points above :data:`MAX_STORED_BYTES` (2 GiB).

    Examples
    --------
    >>> from mtj_kwant.dynamics import Macrospin, ConstantTorque
    >>> fl = Macrospin(Ms=1e6, thickness=1.5, area=1600, alpha=0.02, Ku=1e6)
    >>> tr = integrate(fl, ConstantTorque(eta_par=0.5), -2e11, 5e-9, m0=tilted([0, 0, 1], 0.05),
    ...                stop_on_switch=True)
    >>> tr.success, bool(tr.switching_time < 5e-9)
    (True, True)
    """
    _check_pair(macrospin, torque)
    if method not in METHODS:
        raise DynamicsError(f"`method` must be one of {', '.join(METHODS)}, got {method!r}.")
    t_end = finite_scalar("integrate", "t_end", t_end, unit="s", positive=True)
    seed = check_seed("integrate", seed)
    max_steps = check_max_steps("integrate", max_steps)
    tw, xw = _waveform(torque, drive)
    m = _start(macrospin, m0)
    axis, thr = _switch(macrospin, switch_axis, switch_threshold)
    xint, xl, Ca, Cb = _tables(torque)
    P = macrospin._params()
    if save_every is None:
        save_every = t_end / DEFAULT_SAMPLES
    save_every = finite_scalar("integrate", "save_every", save_every, unit="s", nonnegative=True)
    if method == "rk45":
        if macrospin.temperature > 0:
            raise DynamicsError("method 'rk45' is deterministic; use method='heun' (with dt) for "
                                f"temperature = {macrospin.temperature} K, or set temperature=0.")
        rtol = finite_scalar("integrate", "rtol", rtol, positive=True)
        atol = finite_scalar("integrate", "atol", atol, nonnegative=True)
        h0 = 1e-13 if dt is None else finite_scalar("integrate", "dt", dt, unit="s", positive=True)
        hmax = t_end / 4          # the waveform's knots are step boundaries (_kernels.dopri)
        ts, ms, tsw, status, steps, rejected = _kernels.dopri(
            m, t_end, P, tw, xw, xint, xl, Ca, Cb, rtol, atol, h0, hmax, int(max_steps),
            save_every, axis, thr, True, bool(stop_on_switch))
    else:
        if dt is None:
            raise DynamicsError("method 'heun' needs a fixed time step `dt` in s (e.g. 1e-13; "
                                "resolve 1/(γ₀H_eff)).")
        dt = finite_scalar("integrate", "dt", dt, unit="s", positive=True)
        _check_heun_dt("integrate", macrospin, torque, xw, dt)
        n_steps = int(math.ceil(t_end / dt - 1e-9))
        dt = t_end / n_steps                      # the last step ends exactly at t_end
        if n_steps > max_steps:
            raise DynamicsError(f"integrate: t_end/dt = {n_steps} steps exceeds max_steps = "
                                f"{max_steps}; raise max_steps or dt.", parameter="max_steps")
        stride = max(1, int(round(save_every / dt))) if save_every > 0 else 1
        _check_storage("integrate", 1, n_steps, stride, dt, t_end)
        tsw_a, m_end, saved, done = _heun_run(m[None, :], dt, n_steps, P, tw, xw, xint, xl, Ca,
                                              Cb, seed, axis, thr, stop_on_switch, stride)
        steps = int(done[0])
        k = min(steps // stride + 1, saved.shape[1])
        ms = saved[0, :k]
        ts = np.arange(k) * stride * dt
        if steps % stride:                        # the final state is always stored
            ms = np.vstack([ms, m_end[:1]])
            ts = np.append(ts, steps * dt)
        tsw = float(tsw_a[0])
        status = 1 if (stop_on_switch and np.isfinite(tsw)) else 0
        rejected = 0
    x = np.interp(ts, tw, xw) if tw.size > 1 else np.full(ts.shape, xw[0])
    cos = np.clip(ms @ np.asarray(macrospin.p), -1, 1)
    settings = dict(macrospin=asdict(macrospin), torque=_describe(torque),
                    drive=(xw.tolist() if tw.size == 1 else [tw.tolist(), xw.tolist()]),
                    t_end=t_end, method=method, dt=dt, rtol=rtol, atol=atol, seed=seed,
                    switch_axis=axis.tolist(), switch_threshold=thr, p=list(macrospin.p))
    return Trajectory(t=ts, m=ms, drive=x, drive_unit=torque.drive_unit,
                      current_density=torque.current_density(x, cos),
                      energy=macrospin.energy(ms), switching_time=float(tsw), status=int(status),
                      message=_status_message(int(status), float(ts[-1]), t_end, max_steps),
                      n_steps=int(steps), n_rejected=int(rejected), method=method,
                      settings=settings)


def _describe(torque):
    try:
        return {"model": type(torque).__name__, **asdict(torque)}
    except TypeError:
        return {"model": type(torque).__name__, "bias": torque.bias.tolist(),
                "theta": torque.theta.tolist(), "n_harmonics": torque.n_harmonics}


def _tables(torque):
    ta, tb, _ = torque._tables()
    return ta.xint, ta.xl, ta.C, tb.C



def dm_dt(macrospin, torque, m, drive, *, field=None):
    r"""The deterministic right-hand side dm/dt (1/s) of the LLGS equation at ``m``.

    Parameters
    ----------
    macrospin : Macrospin
    torque : TorqueModel
    m : array_like (..., 3)
        Unit magnetisation(s): |m| must be 1 to 1e-6 (the equation holds on the unit sphere;
        normalise with ``m / np.linalg.norm(m, axis=-1, keepdims=True)``).
    drive : float
        Drive (V or A/m²).
    field : array_like (3,), optional
        An extra field in A/m added to H_eff (e.g. one thermal-field sample).

    Returns
    -------
    ndarray (..., 3)
        The equation of the module docstring, from the same compiled kernel as
        :func:`integrate`.

    Raises
    ------
    DynamicsError
        For m that is not (..., 3) finite unit vectors, and the errors of :func:`integrate`.
    """
    _check_pair(macrospin, torque)
    tw, xw = _waveform(torque, drive)
    flat = _numbers(m)
    shape = np.shape(m)
    if flat is None or flat.size == 0 or not shape or shape[-1] != 3:
        raise DynamicsError(f"dm_dt: `m` must be unit vectors, numbers of shape (..., 3), got "
                            f"{m!r}.", parameter="m")
    m = flat.reshape(shape)
    flat = flat.reshape(-1, 3)
    if not np.all(np.isfinite(flat)):
        raise DynamicsError("dm_dt: `m` must be finite unit vectors.", parameter="m")
    norm = np.linalg.norm(flat, axis=1)
    worst = float(norm[np.argmax(np.abs(norm - 1))])
    if abs(worst - 1) > 1e-6:
        raise DynamicsError(
            f"dm_dt: `m` must be unit vectors (|m| = 1, the equation holds on the unit sphere), "
            f"got |m| = {worst:.6g}; normalise it: m / np.linalg.norm(m, axis=-1, "
            "keepdims=True).", parameter="m")
    xint, xl, Ca, Cb = _tables(torque)
    P = macrospin._params()
    h = np.zeros(3) if field is None else vector3("dm_dt", "field", field)
    out = np.array([_kernels.rhs(0.0, *row, P, tw, xw, xint, xl, Ca, Cb, *h) for row in flat])
    return out.reshape(m.shape)

def switching_time(trajectory, axis=None, threshold=0.0):
    """First time m·axis crosses ``threshold`` from the side of m(0), from stored points.

    Linear interpolation between stored points; :attr:`Trajectory.switching_time` (found
    during the integration, cubic Hermite for rk45) is more accurate.  NaN if it does not.
    """
    axis = np.asarray(trajectory.settings["switch_axis"] if axis is None else axis, float)
    g = trajectory.m @ (axis / np.linalg.norm(axis)) - threshold
    crossed = np.nonzero((g >= 0) != (g[0] >= 0))[0]
    if crossed.size == 0:
        return math.nan
    i = int(crossed[0])
    t0, t1, g0, g1 = trajectory.t[i - 1], trajectory.t[i], g[i - 1], g[i]
    return float(t0 + (t1 - t0) * g0 / (g0 - g1))


@dataclass
class EnsembleResult:
    """Switching statistics of independent stochastic macrospins.

    Attributes
    ----------
    switching_times : ndarray (n,)
        First-passage times in s through ``settings["switch_threshold"]`` (NaN: not switched
        by ``t_end``); with the threshold 0 (barrier top) about half the escape time.
    m_final : ndarray (n, 3)
        m at the switch (``stop_on_switch``) or at t_end.
    trajectories : ndarray (n, n_save, 3) or None
        Stored m every ``save_every`` (NaN after a sample stopped).
    t_end, dt : float
    seed : int
    settings : dict
    """

    switching_times: np.ndarray
    m_final: np.ndarray
    trajectories: np.ndarray | None
    t_end: float
    dt: float
    seed: int
    settings: dict = field(default_factory=dict)

    @property
    def n(self):
        return int(self.switching_times.size)

    @property
    def switched_fraction(self):
        """Fraction of samples that switched by ``t_end``."""
        return float(np.mean(np.isfinite(self.switching_times)))

    def mean_switching_time(self):
        """(mean, standard error) of the switching time in s.

        Returns (NaN, NaN) with a ``status`` note when some samples did not switch by t_end
        (the mean of a censored sample is only a lower bound); see :meth:`status`.
        """
        ts = self.switching_times
        if not np.all(np.isfinite(ts)):
            return math.nan, math.nan
        return float(ts.mean()), float(ts.std(ddof=1) / math.sqrt(ts.size))

    def status(self):
        """"ok" or why the mean switching time is not available."""
        k = int(np.sum(~np.isfinite(self.switching_times)))
        if k:
            return (f"{k} of {self.n} samples did not switch by t_end = {self.t_end:.3g} s; the "
                    "mean is censored (a lower bound): extend t_end")
        return "ok"


def ensemble(macrospin, torque, drive, t_end, *, n, dt, m0=None, seed=0, switch_axis=None,
             switch_threshold=0.0, stop_on_switch=True, save_every=None,
             max_steps=20_000_000, max_total_steps=MAX_TOTAL_STEPS):
    r"""Integrate ``n`` independent stochastic macrospins (stochastic Heun, step ``dt``).

    Parameters as in :func:`integrate`; ``m0`` may be (3,) or (n, 3).  The thermal field comes
    from ``numpy.random.default_rng(seed)`` (``seed`` an integer >= 0, or None for a fresh one,
    recorded in ``EnsembleResult.seed``): a result is reproducible for given (seed, n).
    ``save_every`` (s) stores every sample's m at that interval (None, the default: none; 0:
    every step, as in :func:`integrate`); the
    stored trajectories may take at most :data:`MAX_STORED_BYTES` (2 GiB: n × t_end/save_every
    × 24 bytes), else the call is refused in one line that says which save_every fits.
    ``max_steps`` (default 2e7, as :func:`integrate`) bounds t_end/dt, the steps of each sample:
    a longer run is refused up front instead of running for days.  ``max_total_steps``
    (default :data:`MAX_TOTAL_STEPS`, 1e10) bounds the whole run, n × t_end/dt Heun steps, in
    the same way; raise it for a longer run.  An ``n`` whose working state (about 128 bytes
    per sample) exceeds :data:`MAX_STORED_BYTES` is refused too.
    All samples advance together, step by step (vectorised over the ensemble).

    **Which time.** ``switching_times`` are first-passage times of m·axis through
    ``switch_threshold``.  The default 0 is the barrier top: a sample that reaches it falls
    back with probability about 1/2, so the mean is about *half* the Néel–Brown time of
    :func:`~.limits.neel_brown_time` (the inverse escape rate; at Δ = 10, α = 1: 0.572 µs
    against 1.016 µs).  To compare with it, count arrival in the other well:
    ``switch_threshold=-0.5`` from the parallel state along +axis (the README's comparison,
    within 1 % ± 3 %), +0.5 from the antiparallel one.

    Returns
    -------
    EnsembleResult
    """
    _check_pair(macrospin, torque)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise DynamicsError(f"ensemble: `n` must be a positive integer, got {n!r}.")
    seed = check_seed("ensemble", seed)
    max_steps = check_max_steps("ensemble", max_steps)
    t_end = finite_scalar("ensemble", "t_end", t_end, unit="s", positive=True)
    dt = finite_scalar("ensemble", "dt", dt, unit="s", positive=True)
    max_total_steps = finite_scalar("ensemble", "max_total_steps", max_total_steps,
                                    positive=True)
    tw, xw = _waveform(torque, drive)
    n_steps = t_end / dt
    if n_steps > max_steps:
        raise DynamicsError(f"ensemble: t_end/dt = {n_steps:.3g} steps per sample exceeds "
                            f"max_steps = {max_steps}; shorten t_end, or raise max_steps "
                            "(the run takes n × t_end/dt Heun steps).", parameter="max_steps")
    n_steps = int(math.ceil(n_steps - 1e-9))
    total = float(n) * n_steps
    if total > max_total_steps:
        raise DynamicsError(
            f"ensemble: n × t_end/dt = {int(n)} × {n_steps} = {total:.3g} Heun steps exceeds "
            f"max_total_steps = {max_total_steps:.3g} (hours of run time); use fewer samples, "
            "a shorter t_end or a larger dt, or raise max_total_steps.",
            parameter="max_total_steps")
    state = float(n) * _SAMPLE_BYTES
    if state > MAX_STORED_BYTES:
        raise DynamicsError(
            f"ensemble: n = {int(n)} samples need {state / 2**30:.3g} GiB of working state "
            f"(about {_SAMPLE_BYTES} bytes each), above the {MAX_STORED_BYTES / 2**30:g} GiB "
            f"limit; use at most n = {MAX_STORED_BYTES // _SAMPLE_BYTES} per call (run several "
            "calls with different seeds).", parameter="n")
    M0 = _start(macrospin, m0, int(n))
    axis, thr = _switch(macrospin, switch_axis, switch_threshold)
    xint, xl, Ca, Cb = _tables(torque)
    _check_heun_dt("ensemble", macrospin, torque, xw, dt)
    dt = t_end / n_steps                          # the last step ends exactly at t_end
    if save_every is not None:
        save_every = finite_scalar("ensemble", "save_every", save_every, unit="s",
                                   nonnegative=True)
    # save_every = 0 stores every step, as in integrate; None stores nothing
    stride = 0 if save_every is None else max(1, int(round(save_every / dt)))
    _check_storage("ensemble", int(n), n_steps, stride, dt, t_end)
    tsw, final, saved, _ = _heun_run(M0, dt, n_steps, macrospin._params(), tw, xw, xint, xl,
                                     Ca, Cb, seed, axis, thr, stop_on_switch, stride)
    settings = dict(macrospin=asdict(macrospin), torque=_describe(torque),
                    drive=(xw.tolist() if tw.size == 1 else [tw.tolist(), xw.tolist()]),
                    switch_axis=axis.tolist(), switch_threshold=thr, n=int(n))
    return EnsembleResult(switching_times=tsw, m_final=final,
                          trajectories=saved, t_end=t_end, dt=dt,
                          seed=int(seed), settings=settings)


@dataclass
class SwitchingThreshold:
    """Result of :func:`switching_threshold`.

    Attributes
    ----------
    drive : float
        Midpoint of the final bracket (V or A/m²).
    error : float
        Half-width of the final bracket.
    bracket : (float, float)
        Largest drive that did not switch, smallest that did (by t_end).
    t_end, tilt : float
    n_runs : int
    note : str
    """

    drive: float
    error: float
    bracket: tuple
    t_end: float
    tilt: float
    n_runs: int
    note: str


def switching_threshold(macrospin, torque, *, state="parallel", t_end, tilt=0.01,
                        criterion="switch", direction=None, bracket=None, rtol=1e-3, **kwargs):
    r"""The smallest drive that drives the macrospin out of ``state`` within ``t_end`` (bisection).

    Each run starts at ``tilt`` (rad) from ±p (``state`` "parallel" or "antiparallel") and
    integrates deterministically (rk45, T must be 0).

    Parameters
    ----------
    criterion : {"switch", "instability"}
        "switch": m·p changes sign by t_end (the switching drive).  "instability": the
        energy distance from ±p, E(m) − E(±p) with the field-like term's field −ħb/(2eμ₀M_sd) p
        included, is larger at t_end than at t = 0 (or the layer switched) — the threshold of
        the linearised problem, :func:`~.limits.critical_drive`.  They differ where a stable
        precession (limit cycle) exists between the two, as for in-plane layers.
    direction : {+1, -1}, optional
        Sign of the drive to search (default: the sign of :func:`~.limits.critical_drive`).
    bracket : (float, float), optional
        |drive| bracket (default [0, 3 × |critical_drive|]).
    rtol : float
        Relative width of the final bracket.
    kwargs
        Passed to :func:`integrate` (rtol, atol, ...).

    Notes
    -----
    Near the threshold the switching time diverges, so a finite ``t_end`` biases the result
    upward (by roughly (1+α²)ln(1/tilt)/(αγ₀H̄ t_end) relative, H̄ the mean stiffness field);
    a tilt shifts it by O(tilt²).  Both are the caller's to choose.
    """
    from .limits import critical_drive

    if state not in ("parallel", "antiparallel"):
        raise DynamicsError(f"`state` must be 'parallel' or 'antiparallel', got {state!r}.")
    s = 1.0 if state == "parallel" else -1.0
    p = np.asarray(macrospin.p)
    with warnings.catch_warnings():      # NaN or 0 is handled here, with its own message
        warnings.simplefilter("ignore", DynamicsWarning)
        xc = critical_drive(macrospin, torque, state=state, direction=direction)
    if direction is None:
        direction = 1.0 if xc > 0 else -1.0
    if bracket is None:
        if not np.isfinite(xc) or xc == 0:
            why = ("alpha = 0: the critical drive is 0 (marginal stability)" if xc == 0 else
                   "no analytic instability over the model's range")
            raise DynamicsError(f"switching_threshold: {why}, nothing to bracket; give "
                                "`bracket`.")
        lo, hi = 0.0, 3.0 * abs(xc)
        lo_d, hi_d = torque.drive_range
        hi = min(hi, abs(hi_d if direction > 0 else lo_d))
    else:
        lo, hi = (abs(float(v)) for v in bracket)
    if criterion not in ("switch", "instability"):
        raise DynamicsError(f"`criterion` must be 'switch' or 'instability', got {criterion!r}.")
    m0 = tilted(s * p, tilt)
    area_d = macrospin.area * 1e-18

    def switches(x):
        x = direction * x
        tr = integrate(macrospin, torque, x, t_end, m0=m0, switch_axis=s * p,
                       switch_threshold=0.0, stop_on_switch=True, **kwargs)
        if np.isfinite(tr.switching_time) or criterion == "switch":
            return np.isfinite(tr.switching_time)
        b = float(torque.coefficients(x, s)[1])
        e_b = area_d * HBAR * b / (2 * E_CHARGE)           # J per unit m·p: field-like energy
        dev = lambda m: macrospin.energy(m) + e_b * (m @ p) - (  # noqa: E731
            macrospin.energy(s * p) + e_b * s)
        return dev(tr.m[-1]) > dev(tr.m[0])

    runs = 0
    if not switches(hi):
        raise DynamicsError(f"switching_threshold: no switch at the top of the bracket "
                            f"({direction * hi:.6g} {torque.drive_unit}) within t_end; widen "
                            "the bracket or lengthen t_end.")
    runs += 1
    while hi - lo > rtol * hi:
        mid = 0.5 * (lo + hi)
        runs += 1
        if switches(mid):
            hi = mid
        else:
            lo = mid
    note = (f"criterion {criterion!r}; finite t_end biases the threshold upward (the "
            "escape time diverges at it); tilt shifts it by O(tilt^2)")
    return SwitchingThreshold(drive=direction * 0.5 * (lo + hi), error=0.5 * (hi - lo),
                              bracket=(direction * lo, direction * hi), t_end=t_end, tilt=tilt,
                              n_runs=runs, note=note)
