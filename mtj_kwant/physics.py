r"""Shared physics without Kwant: occupations and torque geometry.

One Fermi function, its energy derivative and its integral over the transverse energy, and
the geometry of the torque components (DESIGN.md §1), for the integration layer, the analytic
models and the dynamics alike.  NumPy only; the constants are in :mod:`mtj_kwant.units`.

Units: energies, chemical potentials and k_B T in eV; angles in radians.

Examples
--------
>>> from mtj_kwant.physics import fermi, magnetization_direction, torque_components
>>> float(fermi(0.0, 0.0, 0.025)), float(fermi(-1.0, 0.0, 0.0))
(0.5, 1.0)
>>> m, p = magnetization_direction(math.pi / 2), np.array([0.0, 0.0, 1.0])
>>> [float(t) for t in torque_components([0.0, 0.0, 2.0], m, p)]  # T = 2 p: T∥ = 2, T⊥ = 0
[2.0, 0.0]
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "fermi",
    "fermi_slope",
    "fermi_integral",
    "magnetization_direction",
    "torque_axes",
    "torque_components",
    "COLLINEAR",
    "FERMI_TAIL",
]

#: Energies (in units of k_B T) beyond which Fermi functions are taken as 0 or 1: the
#: integration ranges of finite temperature end there (e^{−40} = 4e-18).
FERMI_TAIL = 40.0

#: |m × p| below which m and p count as collinear: e∥, e⊥ are undefined and T∥ = T⊥ = 0.
COLLINEAR = 1e-12


# --------------------------------------------------------------------------------------------
# occupations
# --------------------------------------------------------------------------------------------
def fermi(e, mu, kT):
    r"""Fermi–Dirac occupation of energy ``e`` at chemical potential ``mu``.

    Parameters
    ----------
    e : array_like
        Energies (eV).
    mu : float
        Chemical potential μ (eV).
    kT : float
        Thermal energy k_B T ≥ 0 (eV).

    Returns
    -------
    ndarray
        f(E), same shape as ``e``.

    Notes
    -----
    .. math::

        f(E) = \frac{1}{e^{(E-\mu)/k_BT} + 1}
             = \frac12\left[1 - \tanh\frac{E-\mu}{2k_BT}\right],

    evaluated in the tanh form, which saturates instead of overflowing for any
    \|E − μ\|/k_BT.  At k_B T = 0 it is the step 1 (E < μ), ½ (E = μ), 0 (E > μ).
    The same function as sisl's ``fermi_dirac(E, kT, mu)``, with μ before kT.
    """
    e = np.asarray(e, dtype=float)
    if kT == 0:
        return np.where(e < mu, 1.0, np.where(e > mu, 0.0, 0.5))
    return 0.5 * (1 - np.tanh((e - mu) / (2 * kT)))


def fermi_slope(e, mu, kT):
    r"""Minus the energy derivative of the Fermi function, −∂f/∂E (1/eV), at k_B T > 0.

    The occupation weight of linear response: ∂(f_L − f_R)/∂V = e × (−∂f/∂E) at V = 0.

    Parameters
    ----------
    e : array_like
        Energies (eV).
    mu : float
        Chemical potential μ (eV).
    kT : float
        Thermal energy k_B T > 0 (eV); at k_B T = 0, −∂f/∂E is δ(E − μ), which the
        callers integrate analytically.

    Returns
    -------
    ndarray
        −∂f/∂E ≥ 0, same shape as ``e``; ∫ (−∂f/∂E) dE = 1.

    Notes
    -----
    .. math::

        -\frac{\partial f}{\partial E} = f(1-f)/k_BT
        = \frac{1}{4k_BT\,\cosh^2\!\left[(E-\mu)/2k_BT\right]},

    with the argument of cosh clipped at ±350 (cosh² stays finite; the value there,
    below 1e-300/k_BT, is zero for every purpose).
    """
    x = (np.asarray(e, dtype=float) - mu) / (2 * kT)
    return 0.25 / (kT * np.cosh(np.clip(x, -350, 350)) ** 2)


def fermi_integral(mu_minus_e, kT):
    r"""Integral of the Fermi function over the transverse energy, ∫₀^∞ f(E + ε) dε (eV).

    The weight of the k∥ integral of a free-electron junction with one mass (DESIGN.md §5):
    with E the longitudinal energy, ∫ d²k∥/(2π)² f(E + ħ²k∥²/2m) = (m/2πħ²) ×
    ``fermi_integral(μ − E, kT)``.

    Parameters
    ----------
    mu_minus_e : array_like
        μ − E (eV).
    kT : float
        Thermal energy k_B T ≥ 0 (eV).

    Returns
    -------
    ndarray or float
        Same shape as ``mu_minus_e``.

    Notes
    -----
    .. math::

        \int_0^\infty f(E+\varepsilon)\,d\varepsilon
        = k_BT\,\ln\!\left(1 + e^{(\mu-E)/k_BT}\right)
        \;\xrightarrow{k_BT\to 0}\; (\mu - E)_+ ,

    k_BT times the complete Fermi–Dirac integral F₀; evaluated as
    k_BT · logaddexp(0, (μ − E)/k_BT), without overflow for any (μ − E)/k_BT.
    """
    if kT == 0:
        return np.maximum(mu_minus_e, 0.0)
    return kT * np.logaddexp(0.0, mu_minus_e / kT)


# --------------------------------------------------------------------------------------------
# torque geometry
# --------------------------------------------------------------------------------------------
def magnetization_direction(theta, phi=0.0):
    """Unit vector m = (sinθ cosφ, sinθ sinφ, cosθ).

    Parameters
    ----------
    theta, phi : float
        Polar and azimuthal angles in radians.

    Returns
    -------
    ndarray (3,)
    """
    return np.array(
        [math.sin(theta) * math.cos(phi), math.sin(theta) * math.sin(phi), math.cos(theta)]
    )


def torque_axes(m, p):
    r"""The unit vectors of the torque components (DESIGN.md §1), or None for collinear m, p.

    Parameters
    ----------
    m, p : array_like (3,)
        Unit magnetizations of the free and pinned layers.

    Returns
    -------
    (e_par, e_perp) : ndarrays (3,), or None
        e∥ = m×(p×m)/\|m×(p×m)\| (in the plane of m and p, toward p) and
        e⊥ = m×p/\|m×p\|; None when \|m×p\| < :data:`COLLINEAR`, where both are undefined.
    """
    m, p = np.asarray(m, float), np.asarray(p, float)
    e_perp = np.cross(m, p)
    norm = np.linalg.norm(e_perp)
    if norm < COLLINEAR:
        return None
    e_par = np.cross(m, np.cross(p, m))
    return e_par / np.linalg.norm(e_par), e_perp / norm


def torque_components(torque, m, p):
    """In-plane and out-of-plane components of a torque vector (DESIGN.md §1).

    T∥ = T·e∥ with e∥ = m×(p×m)/|m×(p×m)|, T⊥ = T·e⊥ with e⊥ = m×p/|m×p|
    (:func:`torque_axes`).  They include the sin θ factor; T∥ > 0 pushes m toward p.
    Both are 0 for collinear m and p.

    Parameters
    ----------
    torque : array_like (..., 3)
    m, p : array_like (3,)
        Unit magnetizations of the free and pinned layers.

    Returns
    -------
    (T_par, T_perp) : arrays of shape (...)
    """
    torque = np.asarray(torque, dtype=float)
    axes = torque_axes(m, p)
    if axes is None:
        zero = np.zeros(torque.shape[:-1])
        return zero, zero.copy()
    return torque @ axes[0], torque @ axes[1]
