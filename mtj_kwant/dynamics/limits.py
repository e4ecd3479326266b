r"""Analytic limits of the macrospin: stiffness fields, critical drive, Néel–Brown time.

Critical drive (linearised LLGS about m₀ = s p, s = +1 parallel, −1 antiparallel).  With the
Gilbert-form torque of :mod:`~mtj_kwant.dynamics.solve` the field-like coefficient b is
exactly a field −(ħb/2eμ₀M_sd) p, so it shifts both stiffness fields h₁, h₂ of m₀ by
−s ħb/(2eμ₀M_sd).  m₀ loses stability when the trace of the linearised flow changes sign,

.. math::

    s\,[a(x) - \alpha\, b(x)] = -\frac{2e}{\hbar}\,\alpha\mu_0 M_s d\,\bar H,
    \qquad \bar H = \tfrac12(h_1 + h_2),

with a, b evaluated at cos θ = s (Sun, PRB 62, 570 (2000), Eq. 9, with the field-like term),
or — for a large field-like term — when its determinant does, min h_i − s ħb(x)/(2eμ₀M_sd) = 0.
For a thin film with the easy axis u ∥ p in plane and H ∥ u:
h₁ = H + H_K, h₂ = H + H_K + M_s, so H̄ = H + H_K + M_s/2; for a perpendicular layer
(u ∥ p ∥ z): h₁ = h₂ = H + H_K − M_s.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ._common import E_CHARGE, HBAR, K_B, MU0, DynamicsError, DynamicsWarning
from .macrospin import Macrospin
from .torques import TorqueModel

__all__ = ["stiffness_fields", "critical_drive", "critical_current", "neel_brown_time",
           "relaxation_time"]


def _state_sign(state):
    if state == "parallel":
        return 1.0
    if state == "antiparallel":
        return -1.0
    raise DynamicsError(f"`state` must be 'parallel' or 'antiparallel', got {state!r}.")


def stiffness_fields(macrospin, m0):
    r"""The two stiffness fields (A/m) of the macrospin energy at the direction ``m0``.

    Eigenvalues of the tangent-plane Hessian of e(m) on the unit sphere divided by μ₀M_s:
    H_ij = 2e_i·Q·e_j − δ_ij m₀·∇e with e(m) = −μ₀M_s H·m + m·Q·m.

    Raises
    ------
    DynamicsError
        If m₀ is not an equilibrium direction (the tangential field exceeds 1e-9 of the
        field scale).
    """
    m0 = np.asarray(m0, float)
    m0 = m0 / np.linalg.norm(m0)
    u = np.asarray(macrospin.easy_axis)
    mu0ms = MU0 * macrospin.Ms
    Q = -macrospin.Ku * np.outer(u, u) + 0.5 * MU0 * macrospin.Ms**2 * np.diag(
        macrospin.demag_factors)
    g = -mu0ms * np.asarray(macrospin.H_applied) + 2 * Q @ m0
    tangential = g - (g @ m0) * m0
    scale = mu0ms * (np.linalg.norm(macrospin.H_applied) + macrospin.Ms
                     + abs(macrospin.anisotropy_field))
    if np.linalg.norm(tangential) > 1e-9 * scale:
        raise DynamicsError(
            f"m0 = {np.round(m0, 6).tolist()} is not an equilibrium of the macrospin (torque "
            f"field {np.linalg.norm(tangential) / mu0ms:.3g} A/m); align p, the easy axis and "
            "the applied field, or start from an equilibrium."
        )
    e1 = np.cross(m0, [1.0, 0, 0] if abs(m0[0]) < 0.9 else [0, 1.0, 0])
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(m0, e1)
    E = np.stack([e1, e2])
    hess = 2 * E @ Q @ E.T - np.eye(2) * (m0 @ g)
    return tuple(float(v) for v in np.linalg.eigvalsh(hess) / mu0ms)


def _interval_polys(table, c):
    """Per interval: polynomial coefficients (ascending, local variable) of q(x, c) at fixed c."""
    tk = np.cos(np.arange(table.C.shape[2]) * math.acos(max(-1.0, min(1.0, c))))
    return table.C @ tk                                             # (n_int, deg+1)


def _roots(coeffs_list, xl, xint, lo, hi):
    """Real roots of the piecewise polynomial in [lo, hi]."""
    edges = np.concatenate([[-math.inf], xint, [math.inf]])
    out = []
    for j, c in enumerate(coeffs_list):
        c = np.trim_zeros(np.asarray(c, float), "b")
        if c.size <= 1:
            continue
        for r in np.roots(c[::-1]):
            if abs(r.imag) > 1e-9 * max(1.0, abs(r.real)):
                continue
            x = r.real + xl[j]
            if edges[j] - 1e-12 <= x <= edges[j + 1] + 1e-12 and lo <= x <= hi:
                out.append(float(x))
    return sorted(out)


def critical_drive(macrospin, torque, *, state="parallel", direction=None):
    r"""Drive (V or A/m²) at which the state m₀ = ±p loses stability (module docstring).

    Parameters
    ----------
    macrospin : Macrospin
        p must be an equilibrium direction (e.g. along the easy axis and the field).
    torque : TorqueModel
    state : {"parallel", "antiparallel"}
    direction : {+1, -1}, optional
        Search positive or negative drives; default: the threshold closest to zero.

    Returns
    -------
    float
        The drive.  NaN, with a :class:`~mtj_kwant.dynamics.DynamicsWarning` that says why,
        if m₀ stays stable over the model's range (e.g. a TabulatedTorque or a sweep's fit,
        defined only over the computed biases, whose instability lies outside them).  0 with a
        DynamicsWarning for α = 0 (undamped): m₀ is then marginally stable (the linearised
        flow has no damping to overcome), so any drive whose damping-like torque pushes away
        from m₀ destabilises it.

    Raises
    ------
    DynamicsError
        If m₀ is not an equilibrium or is unstable already at zero drive.

    Examples
    --------
    >>> from mtj_kwant.dynamics import Macrospin, ConstantTorque
    >>> fl = Macrospin(Ms=1e6, thickness=1.0, area=1e3, alpha=0.01, Ku=1e6)
    >>> jc = critical_drive(fl, ConstantTorque(eta_par=0.5))
    >>> f"{jc:.4e}"               # A/m^2: (2e/ħ)αμ₀M_s d(H_K − M_s)/η∥, negative: P -> AP
    '-4.5175e+10'
    """
    if not isinstance(macrospin, Macrospin) or not isinstance(torque, TorqueModel):
        raise DynamicsError("critical_drive(macrospin, torque): expected a Macrospin and a "
                            "torque model.")
    s = _state_sign(state)
    if direction is not None and (isinstance(direction, bool)
                                  or direction not in (1, -1, 1.0, -1.0)):
        raise DynamicsError(f"`direction` must be +1 or -1, got {direction!r}.")
    m0 = s * np.asarray(macrospin.p)
    h1, h2 = stiffness_fields(macrospin, m0)
    al = macrospin.alpha
    d = macrospin.thickness * 1e-9
    k0 = 2 * E_CHARGE / HBAR * al * MU0 * macrospin.Ms * d * 0.5 * (h1 + h2)
    kb = HBAR / (2 * E_CHARGE * MU0 * macrospin.Ms * d)             # b -> field (A/m)
    ta, tb, _ = torque._tables()
    pa, pb = _interval_polys(ta, s), _interval_polys(tb, s)
    deg = max(pa.shape[1], pb.shape[1])
    pa = np.pad(pa, ((0, 0), (0, deg - pa.shape[1])))
    pb = np.pad(pb, ((0, 0), (0, deg - pb.shape[1])))
    f_trace = s * (pa - al * pb)
    f_trace[:, 0] += k0
    f_det = -s * kb * pb
    f_det[:, 0] += min(h1, h2)

    def value(F, x):
        j = int(np.searchsorted(ta.xint, x, side="right"))
        return np.polynomial.polynomial.polyval(x - ta.xl[j], F[j])

    x0 = min(max(0.0, torque.drive_range[0]), torque.drive_range[1])
    trace0, det0 = value(f_trace, x0), value(f_det, x0)
    marginal = det0 > 0 and trace0 == 0 and al == 0
    if marginal and (direction is None or value(f_trace, x0 + direction * 1e-9) <= 0):
        warnings.warn(
            f"critical_drive: alpha = 0 (undamped): the {state} state is marginally stable "
            "(no damping to overcome), so the critical drive is 0: any damping-like torque "
            "that pushes m away from it destabilises it.", DynamicsWarning, stacklevel=2)
        return 0.0
    if not marginal and (trace0 <= 0 or det0 <= 0):
        raise DynamicsError(f"the {state} state is unstable already at zero drive; check "
                            "the anisotropy, field and b0.")
    lo, hi = torque.drive_range
    roots = _roots(f_trace, ta.xl, ta.xint, lo, hi) + _roots(f_det, ta.xl, ta.xint, lo, hi)
    pos = [r for r in roots if r > x0]
    neg = [r for r in roots if r < x0]
    xp = min(pos) if pos else math.nan
    xn = max(neg) if neg else math.nan
    if direction is None:
        cands = [x for x in (xp, xn) if np.isfinite(x)]
        out, where = (min(cands, key=abs) if cands else math.nan), "drive"
    else:
        out = xp if direction > 0 else xn
        where = "positive drive" if direction > 0 else "negative drive"
    if math.isnan(out):
        unit = torque.drive_unit
        bounded = bool(np.isfinite(lo) or np.isfinite(hi))
        span = f" in the model's range [{lo:.6g}, {hi:.6g}] {unit}" if bounded else ""
        hint = ("; the model is defined only there (a sweep's or scan's biases): compute a "
                "wider bias range to look further" if bounded else "")
        warnings.warn(f"critical_drive: the {state} state stays stable for every {where}{span} "
                      f"(neither the damping nor a stiffness is overcome); returning "
                      f"NaN{hint}.", DynamicsWarning, stacklevel=2)
    return out


def critical_current(macrospin, torque, *, state="parallel", direction=None):
    """Charge current density (A/m²) at :func:`critical_drive` (the drive itself for
    current-driven models; J(V_c, θ = 0 or π) for voltage-driven ones, NaN without a current)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DynamicsWarning)
        x = critical_drive(macrospin, torque, state=state, direction=direction)
    for w in caught:                       # said at the caller of critical_current
        warnings.warn(str(w.message).replace("critical_drive:", "critical_current:", 1),
                      w.category, stacklevel=2)
    if torque.drive == "current" or not np.isfinite(x):
        return x
    return float(torque.current_density(x, _state_sign(state)))


def relaxation_time(macrospin):
    r"""Brown's free-diffusion time τ_N = (1+α²)μ₀M_sV/(2αγ₀k_BT) in s."""
    if macrospin.temperature == 0 or macrospin.alpha == 0:
        return math.inf
    return ((1 + macrospin.alpha**2) * MU0 * macrospin.Ms * macrospin.volume
            / (2 * macrospin.alpha * macrospin.gamma0 * K_B * macrospin.temperature))


def neel_brown_time(macrospin, torque=None, drive=0.0, *, state="parallel"):
    r"""Mean thermal escape time (s) from the state m₀ = ±p of an axially symmetric macrospin.

    Brown's high-barrier escape rate from one well of the potential
    βU(z) = −σ(z² + 2hz), z = m·u (Brown, Phys. Rev. 130, 1677 (1963); Coffey & Kalmykov,
    J. Appl. Phys. 112, 121301 (2012)):

    .. math::

        \tau = \frac{\sqrt\pi\,\tau_N}{\sigma^{3/2}(1-h^2)(1+h)}\,e^{\sigma(1+h)^2},\qquad
        \tau_N = \frac{(1+\alpha^2)\mu_0M_sV}{2\alpha\gamma_0k_BT},

    σ = K_eff V/k_BT, h the field along m₀ over H_K,eff = 2K_eff/(μ₀M_s) (positive:
    stabilising).  The spin torque enters as the pseudo-field (c_a − αc_b)/(αγ₀) along p
    (c = γħ(a, b)/(2eM_sd)), which is exact for constant a, b in this geometry (the
    non-conservative potential of Li & Zhang, PRB 69, 134416 (2004)), so the barrier is
    σ(1 + h)² = Δ(1 − I/I_c)².  Coefficients that depend on θ are taken at θ = 90°.

    Valid for σ(1+h)² ≫ 1: the relative error is about −1/σ(1+h)² to −1.5/σ(1+h)² (measured
    against the exact first-passage time to z = ∓0.9; the formula is short by that much).
    Below σ(1+h)² = :data:`NEEL_BROWN_WARN_BARRIER` = 15, where that error exceeds 10 %, the
    number is returned with a :class:`~mtj_kwant.dynamics.DynamicsWarning` that states the
    estimated error.  Needs u ∥ p ∥ H and equal transverse demagnetising factors: an in-plane
    thin film (transverse factors 0 and 1) is refused, use :func:`~.solve.ensemble` for it.

    Returns
    -------
    float
        τ in s; inf at T = 0.  NaN, with a :class:`~mtj_kwant.dynamics.DynamicsWarning` that
        says why, where the formula does not apply: an effective barrier σ(1+h)² below
        :data:`NEEL_BROWN_MIN_BARRIER` = 5 (error above ~30 %, e.g. I/I_c > 0.65 at Δ = 41.5),
        or |h| >= 1 (h <= −1: the state is unstable, the drive is beyond I_c; h >= 1: there is
        no second well).

    Raises
    ------
    DynamicsError
        A drive that is not a finite number, or outside the torque model's range (a
        TabulatedTorque's bias table), with the message of :func:`~.solve.integrate`.

    Notes
    -----
    This is the inverse escape rate: the mean time to reach the other well.  The first
    crossing of the barrier top (m·u = 0, the ``switch_threshold`` 0 of
    :func:`~.solve.ensemble`) comes about twice as early; compare with an ensemble run with
    ``switch_threshold`` = −0.5 (from the parallel state along +u), as the README does.
    """
    s = _state_sign(state)
    u = np.asarray(macrospin.easy_axis)
    p = np.asarray(macrospin.p)
    H = np.asarray(macrospin.H_applied)
    if abs(abs(u @ p) - 1) > 1e-12 or np.linalg.norm(H - (H @ u) * u) > 1e-9 * (1 + np.linalg.norm(H)):
        raise DynamicsError("neel_brown_time needs an axially symmetric macrospin: easy axis, "
                            "p and applied field along one axis.")
    keff = macrospin.effective_anisotropy
    if keff <= 0:
        raise DynamicsError(f"neel_brown_time: K_eff = {keff:.4g} J/m^3 <= 0: easy_axis is not an "
                            "easy axis (the shape anisotropy outweighs Ku), so there is no "
                            "barrier to escape over.")
    if torque is not None:
        if isinstance(drive, bool):
            raise DynamicsError(f"neel_brown_time: `drive` must be a number "
                                f"({torque.drive_unit}), got {drive!r}.")
        try:
            drive = float(drive)
        except (TypeError, ValueError):
            raise DynamicsError(f"neel_brown_time: `drive` must be a number "
                                f"({torque.drive_unit}), got {drive!r}.") from None
        torque.check_drive([drive])
    if macrospin.temperature <= 0:
        return math.inf
    hk = 2 * keff / (MU0 * macrospin.Ms)
    m0 = s * p
    h_field = (H @ m0) / hk
    h_stt = 0.0
    if torque is not None:
        a, b = (float(v) for v in torque.coefficients(drive, 0.0))
        rate = macrospin.spin_torque_rate
        h_stt = rate * (a - macrospin.alpha * b) / (macrospin.alpha * macrospin.gamma0) \
            * (p @ m0) / hk
    h = h_field + h_stt
    sigma = keff * macrospin.volume / (K_B * macrospin.temperature)
    if h <= -1:
        return _nan(f"neel_brown_time: h = {h:.4g} <= -1, the state is unstable (drive beyond "
                    "the critical drive); returning NaN.")
    if h >= 1:
        return _nan(f"neel_brown_time: h = {h:.4g} >= 1, there is no second well to escape to; "
                    "returning NaN.")
    barrier = sigma * (1 + h) ** 2
    if barrier < NEEL_BROWN_MIN_BARRIER:
        return _nan(f"neel_brown_time: effective barrier sigma*(1+h)^2 = {barrier:.3g} < "
                    f"{NEEL_BROWN_MIN_BARRIER:g} (sigma = {sigma:.4g}, h = {h:.4g}), outside the "
                    "high-barrier formula's validity; returning NaN (use ensemble()).")
    if barrier < NEEL_BROWN_WARN_BARRIER:
        warnings.warn(f"neel_brown_time: effective barrier sigma*(1+h)^2 = {barrier:.3g} (sigma = "
                      f"{sigma:.4g}, h = {h:.4g}) is low for the high-barrier formula: its "
                      f"result is short by about {100 / barrier:.0f} to {150 / barrier:.0f} % "
                      "(use ensemble() for a better number).", DynamicsWarning, stacklevel=2)
    tau_n = relaxation_time(macrospin)
    return (math.sqrt(math.pi) * tau_n / (sigma**1.5 * (1 - h * h) * (1 + h))
            * math.exp(barrier))


#: Smallest effective barrier σ(1+h)² (in k_BT) at which :func:`neel_brown_time` reports a number.
NEEL_BROWN_MIN_BARRIER = 5.0

#: Effective barrier σ(1+h)² below which :func:`neel_brown_time` warns: its estimated error
#: 1/σ(1+h)² to 1.5/σ(1+h)² exceeds 10 %.
NEEL_BROWN_WARN_BARRIER = 15.0


def _nan(reason):
    warnings.warn(reason, DynamicsWarning, stacklevel=3)
    return math.nan
