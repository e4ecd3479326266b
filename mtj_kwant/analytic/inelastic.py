r"""Interfacial inelastic scattering corrections to the tunnelling torques, Eqs. (14)–(19).

Electron–phonon and electron–magnon scattering at the interfaces make the transfer matrix of
the BTM model energy dependent (Eq. 15) and, for magnons, spin dependent (Eq. 14).  At T = 0 K
and low bias, with a boson density of states :math:`\rho(\omega)\propto\omega^\nu`, the model
paper quotes (after Levy and Fert) power-law corrections that are implemented here as
vectorised functions of the bias V (V) and the angle θ between p and m (radians); all inputs
broadcast against each other with NumPy rules.

Torques are in (ħ/2e)·A/m² when the conductance G₀ is in A/(V·m²); the coefficients ζ carry
the units that make each term a torque (given per function).

Sign convention for odd powers.  The paper writes the magnon in-plane correction as
:math:`V^{\nu+2}`; for a non-integer ν this is undefined for V < 0, and for even ν it would
make the correction even in V.  Electron–magnon (like electron–phonon) scattering does not break
the L↔R symmetry of a symmetric junction, so the in-plane torque must stay odd in V (the paper:
"neither electron–magnon nor electron–phonon scattering break the junction symmetry"; only
the out-of-plane torque and the conductance acquire even components).  We therefore write every
odd power as :math:`|V|^{n-1}V` (odd in V for any real exponent n), and every even one as
:math:`|V|^{n}`.
"""

from __future__ import annotations

import numpy as np

from .slonczewski import _finite

__all__ = [
    "elastic_inplane_torque",
    "phonon_inplane_torque",
    "phonon_outofplane_correction",
    "magnon_inplane_angular_factor",
    "magnon_outofplane_angular_factor",
    "magnon_inplane_correction",
    "magnon_outofplane_correction",
]


def _nu(nu):
    v = _finite("nu", nu)
    if v.ndim != 0:
        raise TypeError(f"`nu` must be a scalar DOS exponent, got an array of shape {v.shape}.")
    if not float(v) > -1.0:
        raise ValueError(
            f"`nu` must be > -1 so that the boson DOS ω^ν is integrable at ω → 0, got {float(v)}; "
            "use ν = 2 for Debye acoustic phonons, ν = 1/2 for 3-D ferromagnetic magnons."
        )
    return float(v)


def _polarization(name, p):
    v = _finite(name, p)
    if np.any(np.abs(v) > 1):
        raise ValueError(f"`{name}` must lie in [-1, 1], got {p!r}.")
    return v


def _odd_power(v, n):
    """|V|^(n−1) V: odd in V, |V|^n in magnitude."""
    return np.abs(v) ** (n - 1.0) * v


def elastic_inplane_torque(bias, theta, *, conductance, polarization_left):
    r"""Elastic low-bias in-plane torque :math:`T_{\parallel0} = G_0P_L\sin\theta\,V`.

    Parameters
    ----------
    bias : array_like
        Bias V (V).
    theta : array_like
        Angle between p and m (radians).
    conductance : array_like
        G₀, conductance per area at θ = π/2 (A/(V·m²)).
    polarization_left : array_like
        Tunnelling polarization of the pinned electrode, in [−1, 1].

    Returns
    -------
    ndarray
        T∥0 in (ħ/2e)·A/m².
    """
    v = _finite("bias", bias)
    th = _finite("theta", theta)
    g0 = _finite("conductance", conductance)
    pl = _polarization("polarization_left", polarization_left)
    return g0 * pl * np.sin(th) * v


def phonon_inplane_torque(bias, theta, *, conductance, polarization_left, zeta, nu):
    r"""In-plane torque with electron–phonon scattering, Eq. (16).

    Parameters
    ----------
    bias : array_like
        Bias V (V).
    theta : array_like
        Angle between p and m (radians).
    conductance : array_like
        G₀ (A/(V·m²)).
    polarization_left : array_like
        :math:`P_L` in [−1, 1].
    zeta : array_like
        :math:`\zeta_{\rm ph}` in V^-(ν+2) (electron–phonon coupling, Fermi energy, Debye
        temperature...).
    nu : float
        Exponent of the phonon DOS :math:`\rho_{\rm ph}(\omega)\propto\omega^\nu`, ν > −1.

    Returns
    -------
    ndarray
        :math:`T_\parallel = G_0P_L\sin\theta\,(1+\zeta_{\rm ph}|V|^{\nu+2})\,V` in (ħ/2e)·A/m²,
        odd in V.

    Examples
    --------
    >>> float(phonon_inplane_torque(0.1, np.pi / 2, conductance=1.0, polarization_left=0.5,
    ...                             zeta=100.0, nu=0))
    0.1
    """
    n = _nu(nu)
    v = _finite("bias", bias)
    z = _finite("zeta", zeta)
    elastic = elastic_inplane_torque(
        v, theta, conductance=conductance, polarization_left=polarization_left
    )
    return elastic * (1.0 + z * np.abs(v) ** (n + 2.0))


def phonon_outofplane_correction(bias, theta, *, conductance, polarization_right, phase_left, zeta, nu):
    r"""Electron–phonon correction to the out-of-plane torque, Eq. (17).

    Parameters
    ----------
    bias : array_like
        Bias V (V).
    theta : array_like
        Angle between p and m (radians).
    conductance : array_like
        G₀ (A/(V·m²)).
    polarization_right : array_like
        :math:`P_R` in [−1, 1].
    phase_left : array_like
        Interfacial spin-rotation angle :math:`\phi_L` (radians).
    zeta : array_like
        :math:`\zeta_{\rm ph}` in V^-(ν+2) (the same coefficient as in Eq. 16).
    nu : float
        Phonon DOS exponent, ν > −1.

    Returns
    -------
    ndarray
        :math:`T_\perp - T_{\perp0} = G_0P_R\phi_L\sin\theta\,\zeta_{\rm ph}|V|^{\nu+3}` in
        (ħ/2e)·A/m², even in V.
    """
    n = _nu(nu)
    v = _finite("bias", bias)
    th = _finite("theta", theta)
    g0 = _finite("conductance", conductance)
    pr = _polarization("polarization_right", polarization_right)
    ph = _finite("phase_left", phase_left)
    z = _finite("zeta", zeta)
    return g0 * pr * ph * np.sin(th) * z * np.abs(v) ** (n + 3.0)


def magnon_inplane_angular_factor(theta, polarization):
    r"""Angular factor :math:`\sin\theta\,[P(1+P)-(1-P)(1+P\cos\theta)]` of Eq. (18).

    Parameters
    ----------
    theta : array_like
        Angle between p and m (radians).
    polarization : array_like
        P of both (identical) electrodes, in [−1, 1].

    Notes
    -----
    Vanishes at θ = 0 and π (collinear magnetizations); at θ = π/2 it equals
    :math:`P(1+P)-(1-P)`.
    """
    th = _finite("theta", theta)
    p = _polarization("polarization", polarization)
    return np.sin(th) * (p * (1.0 + p) - (1.0 - p) * (1.0 + p * np.cos(th)))


def magnon_outofplane_angular_factor(theta, polarization, phase):
    r"""Angular factor :math:`P\phi\sin\theta\,(1-\cos\theta)` of Eq. (19).

    Parameters
    ----------
    theta : array_like
        Angle between p and m (radians).
    polarization : array_like
        P in [−1, 1].
    phase : array_like
        Interfacial spin-rotation angle ϕ (radians).
    """
    th = _finite("theta", theta)
    p = _polarization("polarization", polarization)
    ph = _finite("phase", phase)
    return p * ph * np.sin(th) * (1.0 - np.cos(th))


def magnon_inplane_correction(bias, theta, *, polarization, zeta, nu):
    r"""Electron–magnon correction to the in-plane torque, Eq. (18), symmetric electrodes.

    Parameters
    ----------
    bias : array_like
        Bias V (V).
    theta : array_like
        Angle between p and m (radians).
    polarization : array_like
        P of both electrodes, in [−1, 1].
    zeta : array_like
        Prefactor :math:`\zeta_m` in (ħ/2e)·A/(m²·V^(ν+2)) (the paper gives Eq. 18 only up to
        a proportionality constant: magnon efficiency Q_m, G₀, ...).
    nu : float
        Exponent of the magnon DOS :math:`\rho_m(\omega)=\omega^\nu`, ν > −1 (ν = 1/2 for
        quadratic magnons in 3-D).

    Returns
    -------
    ndarray
        :math:`T_\parallel - T_{\parallel0} = \zeta_m\sin\theta[P(1+P)-(1-P)(1+P\cos\theta)]
        \,|V|^{\nu+1}V`, odd in V (module Notes).

    Examples
    --------
    >>> round(float(magnon_inplane_correction(-0.2, np.pi / 2, polarization=0.5, zeta=1.0, nu=0)), 12)
    -0.01
    """
    n = _nu(nu)
    v = _finite("bias", bias)
    z = _finite("zeta", zeta)
    return z * magnon_inplane_angular_factor(theta, polarization) * _odd_power(v, n + 2.0)


def magnon_outofplane_correction(bias, theta, *, polarization, phase, zeta, nu):
    r"""Electron–magnon correction to the out-of-plane torque, Eq. (19), symmetric electrodes.

    Parameters
    ----------
    bias : array_like
        Bias V (V).
    theta : array_like
        Angle between p and m (radians).
    polarization : array_like
        P of both electrodes, in [−1, 1].
    phase : array_like
        Interfacial spin-rotation angle ϕ (radians).
    zeta : array_like
        Prefactor in (ħ/2e)·A/(m²·V^(ν+2)).
    nu : float
        Magnon DOS exponent, ν > −1.

    Returns
    -------
    ndarray
        :math:`T_\perp - T_{\perp0} = \zeta_m P\phi\sin\theta(1-\cos\theta)|V|^{\nu+2}`, even in V.
    """
    n = _nu(nu)
    v = _finite("bias", bias)
    z = _finite("zeta", zeta)
    return z * magnon_outofplane_angular_factor(theta, polarization, phase) * np.abs(v) ** (n + 2.0)
