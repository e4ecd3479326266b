r"""Slonczewski's free-electron limits for a ferromagnet/insulator/ferromagnet junction.

Free electrons with a parabolic band in each region, an exchange term
:math:`-(\Delta/2)\,\mathbf m\cdot\boldsymbol\sigma` in the electrodes (majority spin along
**m**, band bottoms :math:`U \mp \Delta/2`) and a spin-independent rectangular barrier of height
:math:`U_b` and thickness :math:`d`.  Wave-function matching follows BenDaniel and Duke
(:math:`\psi` and :math:`\psi'/m` continuous), so every formula below uses the *reduced*
wavevectors :math:`\tilde k = k/m` and :math:`\tilde\kappa = \kappa/m_b` (masses in units of
:math:`m_e`); with one mass everywhere they reduce to Slonczewski's expressions
[Phys. Rev. B 39, 6995 (1989)] quoted in Sec. 3 of the model paper.

Units: energies in eV, lengths in nm, wavevectors in nm⁻¹, masses in m_e, angles in radians,
conductances per area in A/(V·m²) = S/m², torkances in (ħ/2e)·A/(V·m²) (a fully polarized
current density J carries the spin current J, DESIGN §1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import integrate

from ..units import E2_H, HBAR2_2ME, PER_NM2

__all__ = [
    "HBAR2_OVER_2ME",
    "CONDUCTANCE_QUANTUM",
    "FreeElectronElectrode",
    "SlonczewskiCoefficients",
    "longitudinal_wavevector",
    "spin_wavevectors",
    "barrier_decay_constant",
    "polarization",
    "out_of_plane_factor",
    "collector_spin_factor",
    "angular_conductance",
    "inplane_torkance",
    "rectangular_barrier_transmission",
    "thick_barrier_transmission",
    "conductance_per_area",
    "slonczewski_per_area",
]

#: ħ²/(2 m_e) in eV·nm² (DESIGN §3): :data:`mtj_kwant.units.HBAR2_2ME`, under this module's name.
HBAR2_OVER_2ME = HBAR2_2ME
#: e²/h in A/V (one spin channel): :data:`mtj_kwant.units.E2_H`, under this module's name.
CONDUCTANCE_QUANTUM = E2_H


# --------------------------------------------------------------------------------------------
# validation helpers (shared with the other analytic modules)
# --------------------------------------------------------------------------------------------
def _finite(name, value):
    arr = np.asarray(value)
    if arr.dtype.kind not in "biufc":
        raise TypeError(
            f"`{name}` must be a number or an array of numbers, got {type(value).__name__}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` must be finite (no NaN or inf); got {value!r}")
    return arr


def _positive(name, value, *, allow_inf=False):
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` must be a real number or array, got {type(value).__name__}")
    if np.any(np.isnan(arr)) or (not allow_inf and np.any(np.isinf(arr))):
        raise ValueError(f"`{name}` must be finite; got {value!r}")
    if np.any(arr <= 0):
        raise ValueError(f"`{name}` must be > 0; got {value!r}. Pass a positive value.")
    return arr


def _mass(name, value):
    _positive(name, value)
    return value


# --------------------------------------------------------------------------------------------
# electrodes and wavevectors
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class FreeElectronElectrode:
    """A free-electron ferromagnetic (or normal, ``exchange=0``) electrode.

    Parameters
    ----------
    band_bottom : float
        Spin-averaged band bottom U (eV); the majority band starts at U − Δ/2, the minority
        band at U + Δ/2 (DESIGN §2, ``potential``).
    exchange : float
        Exchange splitting Δ ≥ 0 (eV).
    mass : float, optional
        Effective mass (m_e), default 1.
    """

    band_bottom: float
    exchange: float
    mass: float = 1.0

    def __post_init__(self):
        _finite("band_bottom", self.band_bottom)
        _finite("exchange", self.exchange)
        if self.exchange < 0:
            raise ValueError(
                f"`exchange` must be >= 0 (Δ of the term −(Δ/2) m·σ), got {self.exchange}; "
                "reverse the magnetization instead of the sign of Δ."
            )
        _mass("mass", self.mass)

    @property
    def majority_bottom(self) -> float:
        """Band bottom of the majority (spin along m) band, U − Δ/2 (eV)."""
        return self.band_bottom - 0.5 * self.exchange

    @property
    def minority_bottom(self) -> float:
        """Band bottom of the minority band, U + Δ/2 (eV)."""
        return self.band_bottom + 0.5 * self.exchange

    def wavevectors(self, energy, k_parallel=0.0):
        """Longitudinal majority and minority wavevectors (nm⁻¹), see :func:`spin_wavevectors`."""
        return spin_wavevectors(energy, self.band_bottom, self.exchange, self.mass, k_parallel)


def longitudinal_wavevector(energy, potential, mass=1.0, k_parallel=0.0):
    r"""Real longitudinal wavevector :math:`k_x` of a free electron (nm⁻¹).

    Parameters
    ----------
    energy : array_like
        Total energy E (eV).
    potential : array_like
        Band bottom of the channel (eV).
    mass : float
        Effective mass (m_e).
    k_parallel : array_like
        Transverse wavevector :math:`k_\parallel` (nm⁻¹), conserved across the junction.

    Returns
    -------
    ndarray
        :math:`k_x = \sqrt{m(E-U)/(\hbar^2/2m_e) - k_\parallel^2}` where the radicand is
        positive, and 0 for a closed (evanescent) channel, which then carries no current.
    """
    _mass("mass", mass)
    k2 = mass * (np.asarray(energy, float) - potential) / HBAR2_2ME - np.square(k_parallel)
    return np.sqrt(np.maximum(k2, 0.0))


def spin_wavevectors(energy, band_bottom, exchange, mass=1.0, k_parallel=0.0):
    r"""Majority and minority longitudinal wavevectors :math:`k_\uparrow, k_\downarrow` (nm⁻¹).

    Parameters
    ----------
    energy : array_like
        Energy E (eV).
    band_bottom : float
        Spin-averaged band bottom U (eV).
    exchange : float
        Exchange splitting Δ ≥ 0 (eV).
    mass : float
        Effective mass (m_e).
    k_parallel : array_like
        Transverse wavevector (nm⁻¹).

    Returns
    -------
    k_up, k_down : ndarray
        :math:`k_{\uparrow\downarrow} = \sqrt{m(E - U \pm \Delta/2)/(\hbar^2/2m_e)
        - k_\parallel^2}`;
        0 for a closed channel.

    Examples
    --------
    >>> k_up, k_down = spin_wavevectors(2.62, 0.0, 3.86)
    >>> round(float(k_up), 3), round(float(k_down), 3)
    (10.928, 4.256)
    """
    if exchange < 0:
        raise ValueError(f"`exchange` must be >= 0, got {exchange}; reverse m instead.")
    return (
        longitudinal_wavevector(energy, band_bottom - 0.5 * exchange, mass, k_parallel),
        longitudinal_wavevector(energy, band_bottom + 0.5 * exchange, mass, k_parallel),
    )


def barrier_decay_constant(energy, barrier_height, barrier_mass=1.0, k_parallel=0.0):
    r"""Decay constant :math:`\kappa = \sqrt{2m_b(U_b - E)/\hbar^2 + k_\parallel^2}` (nm⁻¹).

    Parameters
    ----------
    energy : array_like
        Energy E (eV).
    barrier_height : array_like
        Barrier potential :math:`U_b` (eV).
    barrier_mass : float
        Barrier effective mass :math:`m_b` (m_e).
    k_parallel : array_like
        Transverse wavevector (nm⁻¹).

    Raises
    ------
    ValueError
        If the electron is not evanescent in the barrier (κ² ≤ 0): the tunnelling formulas of
        this module do not apply above the barrier.
    """
    _mass("barrier_mass", barrier_mass)
    k2 = barrier_mass * (barrier_height - np.asarray(energy, float)) / HBAR2_2ME + np.square(
        k_parallel
    )
    if np.any(k2 <= 0):
        raise ValueError(
            "`energy` lies at or above the barrier top (κ² ≤ 0): tunnelling formulas need "
            f"E < barrier_height (got E={energy!r}, barrier_height={barrier_height!r}); "
            "raise `barrier_height` or lower the energy."
        )
    return np.sqrt(k2)


def polarization(k_up, k_down, kappa, *, electrode_mass=1.0, barrier_mass=1.0):
    r"""Slonczewski's effective tunnelling polarization of one electrode.

    Parameters
    ----------
    k_up, k_down : array_like
        Majority / minority longitudinal wavevectors in the electrode (nm⁻¹).
    kappa : array_like
        Barrier decay constant at the electrode interface (nm⁻¹).
    electrode_mass, barrier_mass : float
        Effective masses (m_e) for BenDaniel–Duke matching.

    Returns
    -------
    ndarray
        :math:`P = \frac{\tilde k_\uparrow-\tilde k_\downarrow}
        {\tilde k_\uparrow+\tilde k_\downarrow}\,
        \frac{\tilde\kappa^2-\tilde k_\uparrow\tilde k_\downarrow}
        {\tilde\kappa^2+\tilde k_\uparrow\tilde k_\downarrow}` with
        :math:`\tilde k = k/m`, :math:`\tilde\kappa=\kappa/m_b` (dimensionless, in [−1, 1]).

    Notes
    -----
    In the thick-barrier limit the transmission of the spin pair (σ, σ') factorizes,
    :math:`T_{\sigma\sigma'} = \rho_{L\sigma}\rho_{R\sigma'} e^{-2\kappa d}` with the interfacial
    factors :math:`\rho_\sigma = 4\tilde\kappa\tilde k_\sigma/(\tilde\kappa^2+\tilde k_\sigma^2)`,
    and :math:`P=(\rho_\uparrow-\rho_\downarrow)/(\rho_\uparrow+\rho_\downarrow)`, which gives the
    expression above.  P changes sign at
    :math:`\tilde\kappa^2 = \tilde k_\uparrow\tilde k_\downarrow` and vanishes linearly with Δ.
    A closed minority channel (``k_down = 0``) gives P = 1.

    Examples
    --------
    >>> round(float(polarization(1.1, 0.4, 5.0)), 4)
    0.4505
    """
    ku = np.asarray(k_up, float) / electrode_mass
    kd = np.asarray(k_down, float) / electrode_mass
    kt = np.asarray(kappa, float) / barrier_mass
    if np.any(ku + kd <= 0):
        raise ValueError(
            "`k_up` + `k_down` must be > 0 (at least the majority channel must be open); "
            f"got k_up={k_up!r}, k_down={k_down!r}."
        )
    return (ku - kd) / (ku + kd) * (kt**2 - ku * kd) / (kt**2 + ku * kd)


def out_of_plane_factor(
    k_up, k_down, kappa, *, electrode_mass=1.0, barrier_mass=1.0, minority_decay=0.0
):
    r"""Slonczewski's out-of-plane factor Q of a collector electrode (dimensionless).

    Parameters
    ----------
    k_up, k_down : array_like
        Majority / minority longitudinal wavevectors in the electrode (nm⁻¹); ``k_down = 0``
        for a closed (evanescent) minority channel.
    kappa : array_like
        Barrier decay constant at the electrode interface (nm⁻¹).
    electrode_mass, barrier_mass : float
        Effective masses (m_e) for BenDaniel–Duke matching.
    minority_decay : array_like, optional
        Decay constant q ≥ 0 (nm⁻¹) of a closed minority channel, whose longitudinal
        wavevector is :math:`k_\downarrow = iq`, :math:`q^2 = k_\parallel^2 - m(E-U-\Delta/2)
        /(\hbar^2/2m_e)`.  Must be 0 wherever ``k_down > 0``.  The default 0 is the limit of a
        channel closing exactly at this energy and :math:`k_\parallel`; pass the actual q for a
        closed channel, since Q depends strongly on it.

    Returns
    -------
    ndarray
        Q such that :math:`T_\perp = -Q\,T_\parallel` for the window torque per transverse
        channel (see Notes).

    Raises
    ------
    ValueError
        If ``minority_decay`` is negative, non-zero where ``k_down > 0``, or non-zero where the
        majority channel is closed too (``k_up = 0``; then :math:`T_\parallel = 0` and
        :math:`T_\perp \ne 0`: use :func:`collector_spin_factor`).

    Notes
    -----
    With reduced wavevectors :math:`\tilde k = k/m`, :math:`\tilde q = q/m`,
    :math:`\tilde\kappa = \kappa/m_b`,

    .. math::

        Q = \frac{\tilde\kappa(\tilde k_\uparrow-\tilde k_\downarrow)}
                 {\tilde\kappa^2+\tilde k_\uparrow\tilde k_\downarrow}
        \quad(\text{minority open}),\qquad
        Q = \frac{\tilde k_\uparrow^2-\tilde q\tilde\kappa}
                 {\tilde k_\uparrow(\tilde\kappa+\tilde q)}
        \quad(\text{minority closed}, k_\downarrow = iq).

    Both are :math:`Q = -\operatorname{Im}\eta/\operatorname{Re}\eta` with the collector factor
    η of :func:`collector_spin_factor`; the second reduces to :math:`\tilde k_\uparrow/
    \tilde\kappa` (the first at :math:`k_\downarrow = 0`) only for :math:`q \to 0`, and changes
    sign at :math:`\tilde q\tilde\kappa = \tilde k_\uparrow^2`.  For an open minority channel Q
    is the tangent of the spin-rotation angle on transmission from the barrier into the
    electrode: the evanescent wave is transmitted with amplitude
    :math:`t_\sigma = 2\tilde\kappa/(\tilde\kappa - i\tilde k_\sigma)`, and
    :math:`\arctan Q = \arg t_\uparrow-\arg t_\downarrow = \arctan(\tilde k_\uparrow/
    \tilde\kappa)-\arctan(\tilde k_\downarrow/\tilde\kappa)`.  For a closed one
    :math:`t_\downarrow = 2\tilde\kappa/(\tilde\kappa+\tilde q)` is real, but the transverse spin
    current is carried by the interference term :math:`(\tilde k_\uparrow + i\tilde q)
    t_\uparrow^*t_\downarrow` instead of :math:`(\tilde k_\uparrow+\tilde k_\downarrow)
    t_\uparrow^*t_\downarrow`, so that :math:`\arctan Q = \arctan(\tilde k_\uparrow/
    \tilde\kappa)-\arctan(\tilde q/\tilde k_\uparrow)`.

    Regime: for a thick barrier the window spin current carried into the collector R by
    electrons emitted from L has :math:`T_\perp = -Q_R\,T_\parallel` per transverse channel
    (conventions of DESIGN §1), up to corrections :math:`O(e^{-2\kappa d})` relative to the
    contribution of one emitted spin, at any :math:`k_\parallel` where the collector's
    majority channel is open, its minority channel open (first form) or evanescent (second
    form, with the actual q); the tests check both against an exact spinor solution of the
    rectangular barrier.  The first form with :math:`k_\downarrow = 0` is not a valid
    substitute for a closed channel: for the junction of ``tests/test_comparison.py``
    (E_F = 3 eV, Δ = 3 eV, U_b = 11 eV, d = 0.45 nm) it makes the k∥-integrated window ratio
    T⊥/T∥ −0.359 instead of −0.197 (Kwant: −0.197).  Where the collector has no open channel
    Q is undefined (:math:`T_\parallel = 0`, :math:`T_\perp \ne 0`; see
    :func:`collector_spin_factor`).

    Examples
    --------
    >>> round(float(out_of_plane_factor(10.0, 4.0, 14.0)), 4)
    0.3559
    >>> round(float(out_of_plane_factor(10.0, 0.0, 14.0, minority_decay=3.0)), 4)  # k↓ = 3i
    0.3412
    >>> round(float(out_of_plane_factor(10.0, 0.0, 14.0)), 4)  # q → 0 limit, k↑/κ
    0.7143
    """
    ku = np.asarray(k_up, float) / electrode_mass
    kd = np.asarray(k_down, float) / electrode_mass
    kt = np.asarray(kappa, float) / barrier_mass
    q = np.asarray(_finite("minority_decay", minority_decay), float) / electrode_mass
    if np.any(q < 0):
        raise ValueError(f"`minority_decay` must be >= 0 (nm⁻¹), got {minority_decay!r}.")
    closed = q > 0
    if np.any(closed & (kd > 0)):
        raise ValueError(
            "`minority_decay` must be 0 where `k_down` > 0: a channel is either open "
            f"(k_down > 0) or closed (k_down = 0, decay q > 0); got k_down={k_down!r}, "
            f"minority_decay={minority_decay!r}."
        )
    if np.any(closed & (ku <= 0)):
        raise ValueError(
            "`minority_decay` > 0 needs an open majority channel (`k_up` > 0); with both "
            "channels closed T_par = 0 and Q is undefined: use collector_spin_factor."
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        q_closed = (ku * ku - q * kt) / (ku * (kt + q))
    return np.where(closed, q_closed, kt * (ku - kd) / (kt**2 + ku * kd))


def collector_spin_factor(kx2_up, kx2_down, kappa, *, electrode_mass=1.0, barrier_mass=1.0):
    r"""Complex interfacial factor η of the spin current transmitted into a collector electrode.

    Parameters
    ----------
    kx2_up, kx2_down : array_like
        Squared longitudinal wavevectors :math:`k_x^2 = m(E-U\pm\Delta/2)/(\hbar^2/2m_e)
        - k_\parallel^2` (nm⁻²) of the collector's majority and minority channels: positive
        for a propagating channel, negative for an evanescent one (:math:`k_x = iq`,
        :math:`q = \sqrt{-k_x^2}`).
    kappa : array_like
        Barrier decay constant at the collector interface (nm⁻¹), > 0.
    electrode_mass, barrier_mass : float
        Effective masses (m_e) for BenDaniel–Duke matching.

    Returns
    -------
    ndarray of complex
        :math:`\eta = a_\parallel + i a_\perp` (dimensionless), such that the thick-barrier
        window torque per transverse channel is
        :math:`T_\parallel + iT_\perp = \tfrac12(\rho_{L\uparrow}-\rho_{L\downarrow})
        e^{-2\kappa d}\sin\theta\;\eta_R` (Notes).

    Notes
    -----
    Write :math:`\tilde c_\sigma = \tilde k_\sigma` for an open and :math:`\tilde c_\sigma =
    i\tilde q_\sigma` for a closed channel (reduced: divided by the electrode mass;
    :math:`\tilde\kappa = \kappa/m_b`).  Near the collector interface (x = d) the barrier spinor
    of the electrons emitted by L is :math:`A_\sigma e^{-\kappa(x-d)}` plus the wave reflected
    by the interface; matching ψ and ψ'/m to :math:`t_\sigma e^{i c_\sigma(x-d)}` gives
    :math:`t_\sigma = 2\tilde\kappa A_\sigma/(\tilde\kappa - i\tilde c_\sigma)`, and the
    transverse spin current :math:`j_x + ij_y = \operatorname{Im}(\psi^\dagger\sigma_x\psi') +
    i\operatorname{Im}(\psi^\dagger\sigma_y\psi')` (per mass, in the collector frame m = z) is
    :math:`(\tilde c_\uparrow^* + \tilde c_\downarrow)\,t_\uparrow^* t_\downarrow`.  Summing
    over the emitted spins, :math:`\sum A_\uparrow^*A_\downarrow` is real and proportional to
    :math:`(\rho_{L\uparrow}-\rho_{L\downarrow})e^{-2\kappa d}\sin\theta` (p in the x–z plane),
    which leaves

    .. math::

        \eta = \frac{4\tilde\kappa\,(\tilde c_\uparrow^* + \tilde c_\downarrow)}
                    {(\tilde\kappa + i\tilde c_\uparrow^*)(\tilde\kappa - i\tilde c_\downarrow)}.

    Special cases: both channels open, :math:`\eta = (\rho_\uparrow+\rho_\downarrow)(1 - iQ)`
    (Slonczewski); minority closed, :math:`\eta = \rho_\uparrow(1 - iQ)` with the Q of
    :func:`out_of_plane_factor` for ``minority_decay = q``; both closed (the electron is
    totally reflected), :math:`\eta = 4i\tilde\kappa(\tilde q_\downarrow - \tilde q_\uparrow)
    /[(\tilde\kappa+\tilde q_\uparrow)(\tilde\kappa+\tilde q_\downarrow)]`: no in-plane
    torque but an out-of-plane one of the same order :math:`e^{-2\kappa d}`.  The
    thick-barrier approximation only neglects multiple reflections in the barrier (the wave
    reflected by the collector interface, back at the emitter interface): corrections
    :math:`O(e^{-2\kappa d})` relative to the contribution of one emitted spin,
    :math:`\tfrac12\rho_{L\sigma}e^{-2\kappa d}\sin\theta\,|\eta_R|` (checked in the tests
    against an exact spinor solution of the rectangular barrier, in all these cases; over
    4000 random channels with κd in [3, 6] the deviation stays below 2.4 e^{−2κd} times that
    scale).

    Examples
    --------
    >>> eta = collector_spin_factor(100.0, 16.0, 14.0)  # both open: (ρ↑ + ρ↓)(1 − iQ)
    >>> rho = sum(4 * 14.0 * k / (14.0**2 + k**2) for k in (10.0, 4.0))
    >>> bool(np.isclose(eta, rho * (1 - 1j * out_of_plane_factor(10.0, 4.0, 14.0))))
    True
    >>> complex(np.round(collector_spin_factor(-1.0, -9.0, 14.0), 4))  # totally reflected
    0.4392j
    """
    kt = np.asarray(_positive("kappa", kappa), float) / barrier_mass
    _mass("electrode_mass", electrode_mass)
    _mass("barrier_mass", barrier_mass)

    def reduced(name, k2):
        k2 = np.asarray(_finite(name, k2), float)
        root = np.sqrt(np.abs(k2)) / electrode_mass
        return np.where(k2 >= 0, root + 0j, 1j * root)

    cu, cd = reduced("kx2_up", kx2_up), reduced("kx2_down", kx2_down)
    return 4 * kt * (np.conj(cu) + cd) / ((kt + 1j * np.conj(cu)) * (kt - 1j * cd))


def angular_conductance(theta, g0, p_left, p_right):
    r"""Angular dependence :math:`G(\theta) = G_0(1 + P_L P_R\cos\theta)`.

    Parameters
    ----------
    theta : array_like
        Angle between the magnetizations (radians).
    g0 : array_like
        Conductance at θ = π/2 (any unit, e.g. A/(V·m²)); the result has the same unit.
    p_left, p_right : array_like
        Tunnelling polarizations (:func:`polarization`).
    """
    return np.asarray(g0) * (1.0 + np.asarray(p_left) * np.asarray(p_right) * np.cos(theta))


def inplane_torkance(theta, g0, p_left):
    r"""Slonczewski's in-plane torkance :math:`dT_\parallel/dV = (\hbar/2e)\,P_L G_0\sin\theta`.

    Parameters
    ----------
    theta : array_like
        Angle between p and m (radians).
    g0 : array_like
        Conductance at θ = π/2 (A/(V·m²)).
    p_left : array_like
        Polarization of the pinned (left) electrode.

    Returns
    -------
    ndarray
        Torkance in (ħ/2e)·A/(V·m²) (numerically :math:`P_L G_0\sin\theta`); positive values
        push m toward p for V > 0.
    """
    return np.asarray(g0) * np.asarray(p_left) * np.sin(theta)


# --------------------------------------------------------------------------------------------
# transmission through a rectangular barrier
# --------------------------------------------------------------------------------------------
def _reduced(k_left, kappa, k_right, left_mass, barrier_mass, right_mass):
    _mass("left_mass", left_mass)
    _mass("barrier_mass", barrier_mass)
    _mass("right_mass", right_mass)
    kl = np.asarray(k_left, float) / left_mass
    kr = np.asarray(k_right, float) / right_mass
    kt = np.asarray(kappa, float) / barrier_mass
    if np.any(kl < 0) or np.any(kr < 0) or np.any(kt <= 0):
        raise ValueError(
            "wavevectors must satisfy k_left >= 0, k_right >= 0 and kappa > 0 (nm⁻¹); "
            f"got k_left={k_left!r}, kappa={kappa!r}, k_right={k_right!r}."
        )
    return kl, kt, kr


def rectangular_barrier_transmission(
    k_left, kappa, k_right, thickness, *, left_mass=1.0, barrier_mass=1.0, right_mass=1.0
):
    r"""Exact transmission probability through a rectangular barrier (one spin channel).

    Parameters
    ----------
    k_left, k_right : array_like
        Longitudinal wavevectors in the left and right electrodes (nm⁻¹); 0 for a closed channel.
    kappa : array_like
        Decay constant in the barrier (nm⁻¹), > 0.
    thickness : array_like
        Barrier thickness d (nm).
    left_mass, barrier_mass, right_mass : float
        Effective masses (m_e).

    Returns
    -------
    ndarray
        :math:`T = \dfrac{4\tilde k_L\tilde k_R\tilde\kappa^2}
        {\tilde\kappa^2(\tilde k_L+\tilde k_R)^2\cosh^2\kappa d
        +(\tilde\kappa^2-\tilde k_L\tilde k_R)^2\sinh^2\kappa d}`.

    Notes
    -----
    Exact for two (possibly different) electrodes and collinear spins (the spin is conserved, so
    each pair (σ, σ') is a scalar problem with :math:`k_L = k_{L\sigma}`,
    :math:`k_R = k_{R\sigma'}`).
    Writing :math:`x = e^{-2\kappa d}`, the denominator equals
    :math:`\tfrac{e^{2\kappa d}}{4}[A(1+x)^2 + B(1-x)^2]` with
    :math:`A = \tilde\kappa^2(\tilde k_L+\tilde k_R)^2`,
    :math:`B = (\tilde\kappa^2-\tilde k_L\tilde k_R)^2`,
    hence :math:`T = T_{\rm thick}/(1+\delta)` with :math:`|\delta|\le 2x+x^2`
    (see :func:`thick_barrier_transmission`).  Evaluated in that factored form, so that it does
    not overflow for thick barriers.

    Examples
    --------
    >>> float(rectangular_barrier_transmission(5.0, 5.0, 5.0, 0.0))  # no barrier, matched
    1.0
    """
    kl, kt, kr = _reduced(k_left, kappa, k_right, left_mass, barrier_mass, right_mass)
    d = _finite("thickness", thickness)
    if np.any(d < 0):
        raise ValueError(f"`thickness` must be >= 0 (nm), got {thickness!r}.")
    x = np.exp(-2.0 * np.asarray(kappa, float) * d)
    a = kt**2 * (kl + kr) ** 2
    b = (kt**2 - kl * kr) ** 2
    # T = 4 kl kr kt² / (e^{2κd}/4 [A(1+x)² + B(1−x)²]) = 16 kl kr kt² x / [A(1+x)² + B(1−x)²]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = 16.0 * kl * kr * kt**2 * x / (a * (1 + x) ** 2 + b * (1 - x) ** 2)
    return np.where(kl * kr == 0, 0.0, t)


def thick_barrier_transmission(
    k_left, kappa, k_right, thickness, *, left_mass=1.0, barrier_mass=1.0, right_mass=1.0
):
    r"""Thick-barrier (Slonczewski) transmission of one spin channel.

    Parameters are those of :func:`rectangular_barrier_transmission`.

    Returns
    -------
    ndarray
        :math:`T_{\rm thick} = \rho_L\rho_R e^{-2\kappa d}`, with the interfacial factors
        :math:`\rho = 4\tilde\kappa\tilde k/(\tilde\kappa^2 + \tilde k^2)`.

    Notes
    -----
    The leading term of :func:`rectangular_barrier_transmission` for
    :math:`x=e^{-2\kappa d}\to 0`; the relative error is bounded by
    :math:`(2x+x^2)/(1-2x-x^2)`, e.g. 1.2e-5 at κd = 6.
    """
    kl, kt, kr = _reduced(k_left, kappa, k_right, left_mass, barrier_mass, right_mass)
    d = _finite("thickness", thickness)
    rho_l = 4 * kt * kl / (kt**2 + kl**2)
    rho_r = 4 * kt * kr / (kt**2 + kr**2)
    return rho_l * rho_r * np.exp(-2.0 * np.asarray(kappa, float) * d)


# --------------------------------------------------------------------------------------------
# transverse (k∥) integrals per area
# --------------------------------------------------------------------------------------------
def _check_junction(left, right, barrier_height, thickness, barrier_mass, energy):
    for name, el in (("left", left), ("right", right)):
        if not isinstance(el, FreeElectronElectrode):
            raise TypeError(
                f"`{name}` must be a FreeElectronElectrode(band_bottom=..., exchange=..., "
                f"mass=...), "
                f"got {type(el).__name__}"
            )
    _finite("barrier_height", barrier_height)
    _positive("thickness", thickness)
    _mass("barrier_mass", barrier_mass)
    _finite("energy", energy)
    if energy >= barrier_height:
        raise ValueError(
            f"`energy` ({energy} eV) must lie below `barrier_height` ({barrier_height} eV) "
            "for tunnelling; raise the barrier or lower the energy."
        )


def _kpar_integral(func, s_max, rtol, closings=()):
    """(1/4π) ∫_0^{s_max} ds func(s), s = k∥².

    The substitution s = s_max (1 − t²) makes the integrand smooth where the last channel
    closes; channels closing inside (``closings``, values of s) become quadrature break points.
    """
    if s_max <= 0:
        return 0.0

    def integrand(t):
        return 2.0 * s_max * t * func(s_max * (1.0 - t * t))

    pts = sorted(math.sqrt(1.0 - c / s_max) for c in closings if 0.0 < c < s_max)
    val, _ = integrate.quad(
        integrand, 0.0, 1.0, epsabs=0.0, epsrel=rtol, limit=400, points=pts or None
    )
    return val / (4.0 * math.pi)


def conductance_per_area(
    energy,
    left,
    right,
    barrier_height,
    thickness,
    *,
    barrier_mass=1.0,
    alignment="parallel",
    method="exact",
    rtol=1e-10,
):
    r"""Zero-bias conductance per area of a free-electron F/I/F junction, collinear spins.

    Parameters
    ----------
    energy : float
        Fermi energy E (eV).
    left, right : FreeElectronElectrode
        Electrodes (band bottoms, exchange splittings, masses).
    barrier_height : float
        Barrier potential :math:`U_b` (eV), > E.
    thickness : float
        Barrier thickness d (nm).
    barrier_mass : float
        Barrier mass (m_e).
    alignment : {"parallel", "antiparallel"}
        Relative orientation of the magnetizations (θ = 0 or π).
    method : {"exact", "thick"}
        :func:`rectangular_barrier_transmission` or :func:`thick_barrier_transmission` per channel.
    rtol : float
        Relative tolerance of the k∥ quadrature.

    Returns
    -------
    float
        :math:`G/A = \frac{e^2}{h}\sum_{\sigma}\int\frac{d^2k_\parallel}{(2\pi)^2}
        T_{\sigma\sigma'}(E, k_\parallel)` in A/(V·m²), with σ' = σ (parallel) or −σ
        (antiparallel).

    Notes
    -----
    :math:`k_\parallel` is conserved; in each region :math:`k_x^2 = 2m(E-U)/\hbar^2 - k_\parallel^2`
    and :math:`\kappa^2 = 2m_b(U_b - E)/\hbar^2 + k_\parallel^2`.  The integral over
    :math:`s = k_\parallel^2` up to the first channel closing is done with the substitution
    :math:`s = s_{\max}(1-t^2)`, which removes the square-root end-point behaviour, and adaptive
    Gauss–Kronrod quadrature.
    """
    _check_junction(left, right, barrier_height, thickness, barrier_mass, energy)
    if alignment not in ("parallel", "antiparallel"):
        raise ValueError(f"`alignment` must be 'parallel' or 'antiparallel', got {alignment!r}.")
    if method not in ("exact", "thick"):
        raise ValueError(f"`method` must be 'exact' or 'thick', got {method!r}.")
    trans = rectangular_barrier_transmission if method == "exact" else thick_barrier_transmission
    bottoms_l = (left.majority_bottom, left.minority_bottom)
    bottoms_r = (right.majority_bottom, right.minority_bottom)
    if alignment == "antiparallel":
        bottoms_r = bottoms_r[::-1]
    kap0_2 = barrier_mass * (barrier_height - energy) / HBAR2_2ME
    total = 0.0
    for ul, ur in zip(bottoms_l, bottoms_r):
        kl0_2 = left.mass * (energy - ul) / HBAR2_2ME
        kr0_2 = right.mass * (energy - ur) / HBAR2_2ME
        s_max = min(kl0_2, kr0_2)

        def t_of_s(s, kl0_2=kl0_2, kr0_2=kr0_2):
            return float(
                trans(
                    math.sqrt(max(kl0_2 - s, 0.0)),
                    math.sqrt(kap0_2 + s),
                    math.sqrt(max(kr0_2 - s, 0.0)),
                    thickness,
                    left_mass=left.mass,
                    barrier_mass=barrier_mass,
                    right_mass=right.mass,
                )
            )

        total += _kpar_integral(t_of_s, s_max, rtol)  # both channels open on [0, s_max]
    return CONDUCTANCE_QUANTUM * total * PER_NM2


@dataclass(frozen=True)
class SlonczewskiCoefficients:
    """Thick-barrier linear-response coefficients per area (see :func:`slonczewski_per_area`).

    Attributes
    ----------
    conductance_parallel, conductance_antiparallel : float
        G(θ=0), G(π) in A/(V·m²).
    g0 : float
        (G_P + G_AP)/2 = G(π/2) in A/(V·m²).
    inplane_torkance : float
        dT∥/dV at θ = π/2 in (ħ/2e)·A/(V·m²); multiply by sin θ for other angles.
    outofplane_window_torkance : float
        d(T⊥ window part)/dV at θ = π/2 in (ħ/2e)·A/(V·m²) (electrons emitted by the left
        electrode only, including those with evanescent collector channels; the total T⊥ also
        has the Fermi-sea part, which makes it even in V for a symmetric junction).
    """

    conductance_parallel: float
    conductance_antiparallel: float
    g0: float
    inplane_torkance: float
    outofplane_window_torkance: float

    def conductance(self, theta):
        """G(θ) = g0 + (G_P − G_AP)/2 · cos θ in A/(V·m²); θ in radians."""
        half_diff = 0.5 * (self.conductance_parallel - self.conductance_antiparallel)
        return self.g0 + half_diff * np.cos(theta)


def slonczewski_per_area(
    energy, left, right, barrier_height, thickness, *, barrier_mass=1.0, rtol=1e-10
):
    r"""Slonczewski's thick-barrier conductances and torkances per area.

    Parameters
    ----------
    energy : float
        Fermi energy (eV).
    left, right : FreeElectronElectrode
        Pinned (left) and free (right) electrodes.
    barrier_height : float
        Barrier potential (eV).
    thickness : float
        Barrier thickness (nm).
    barrier_mass : float
        Barrier mass (m_e).
    rtol : float
        Relative tolerance of the k∥ quadratures.

    Returns
    -------
    SlonczewskiCoefficients

    Notes
    -----
    Per transverse channel (:math:`k_\parallel`) the thick-barrier transmission factorizes,
    :math:`T_{\sigma\sigma'} = \rho_{L\sigma}\rho_{R\sigma'}e^{-2\kappa d}`, so
    :math:`G(\theta) = G_0(1+P_LP_R\cos\theta)` with :math:`G_0 = \frac{e^2}{h}\frac12\rho_L\rho_R
    e^{-2\kappa d}` (:math:`\rho = \rho_\uparrow+\rho_\downarrow`), and the window torque
    (electrons emitted by L) is

    .. math::

        \tau_\parallel + i\tau_{\perp,w} = \frac{e^2}{h}\int\frac{d^2k_\parallel}{(2\pi)^2}
        \tfrac12(\rho_{L\uparrow}-\rho_{L\downarrow})\,e^{-2\kappa d}\,\eta_R

    with the collector factor :math:`\eta_R` of :func:`collector_spin_factor` (in units of
    ħ/2e).  Where both collector channels are open, :math:`\eta_R = \rho_R(1-iQ_R)`: the
    in-plane torkance is :math:`(\hbar/2e)P_LG_0` and the window out-of-plane torkance is
    :math:`-Q_R` times it, Slonczewski's result.  Where the collector's minority channel is
    evanescent (:math:`k_\parallel^2 > k_{R\downarrow}^2(0)`) :math:`\eta_R = \rho_{R\uparrow}
    (1-iQ_R)` with the Q of a closed channel (:func:`out_of_plane_factor` with
    ``minority_decay``), which differs from :math:`\tilde k_\uparrow/\tilde\kappa` by O(1)
    and even changes sign; where both are evanescent but the emitter's majority channel is
    open, totally reflected electrons add to :math:`\tau_{\perp,w}` only.  All of them are
    integrated over :math:`\int d^2k_\parallel/(2\pi)^2` with their :math:`k_\parallel`
    dependence (P, Q, κ depend on :math:`k_\parallel`), which is what makes the per-area
    :math:`G(\theta)` differ from :math:`G_0(1\pm P^2)` with P taken at normal incidence.
    Accuracy: corrections :math:`O(e^{-2\kappa_0 d})` (:math:`\kappa \ge \kappa_0`, its
    normal-incidence value) relative to the integral of the per-spin contributions (see
    :func:`collector_spin_factor`; a cancellation between regions of :math:`k_\parallel` can
    make the relative error of :math:`\tau_{\perp,w}` larger), plus ``rtol``.  Checked
    against a brute-force :math:`k_\parallel` integral of the exact spinor solution in the
    tests.  Against Kwant (free electrons, E_F = 3 eV, U_b = 11 eV, d = 0.45 nm, κ₀d = 6.5,
    lattice error 0.4 %): for identical electrodes with Δ = 3 eV (``tests/test_comparison.py``)
    :math:`\tau_{\perp,w}/\tau_\parallel` = −0.19684 vs −0.19702 (Slonczewski's −Q_R with
    :math:`k_\downarrow = 0` for closed channels gives −0.359); for a collector with
    U = 2.2 eV, Δ = 3 eV (minority band closed, majority closing at
    :math:`k_\parallel^2 = 60` nm⁻² inside the emitter's 118 nm⁻²) 0.7654 vs 0.7654, of which
    the totally reflected electrons contribute 0.151, and :math:`\tau_{\perp,w}` itself
    agrees to 0.4 %.
    """
    _check_junction(left, right, barrier_height, thickness, barrier_mass, energy)
    kap0_2 = barrier_mass * (barrier_height - energy) / HBAR2_2ME

    def k0_2(el, bottom):
        return el.mass * (energy - bottom) / HBAR2_2ME

    kl_u, kl_d = k0_2(left, left.majority_bottom), k0_2(left, left.minority_bottom)
    kr_u, kr_d = k0_2(right, right.majority_bottom), k0_2(right, right.minority_bottom)
    if kl_u <= 0 or kr_u <= 0:
        raise ValueError(
            "`energy` lies below the majority band bottom of an electrode: no open channel; "
            "raise `energy` or lower `band_bottom`."
        )
    mr = right.mass

    def parts(s):
        kt = math.sqrt(kap0_2 + s) / barrier_mass
        x = math.exp(-2.0 * math.sqrt(kap0_2 + s) * thickness)

        def rho(k2, m):
            k = math.sqrt(max(k2 - s, 0.0)) / m
            return 4 * kt * k / (kt * kt + k * k)

        def c(k2):  # reduced longitudinal wavevector: k/m (open) or i q/m (evanescent)
            return math.sqrt(k2 - s) / mr if k2 >= s else 1j * math.sqrt(s - k2) / mr

        rlu, rld = rho(kl_u, left.mass), rho(kl_d, left.mass)
        rru, rrd = rho(kr_u, mr), rho(kr_d, mr)
        cu, cd = c(kr_u).conjugate(), c(kr_d)
        eta = 4 * kt * (cu + cd) / ((kt + 1j * cu) * (kt - 1j * cd))  # collector_spin_factor
        spin = 0.5 * (rlu - rld) * x * eta
        g_p = (rlu * rru + rld * rrd) * x
        g_ap = (rlu * rrd + rld * rru) * x
        return g_p, g_ap, spin.real, spin.imag

    # G and T_par vanish once a majority channel closes; T_perp (window) only needs the
    # emitter's majority channel: a totally reflected electron still exerts a torque
    ranges = (min(kl_u, kr_u),) * 3 + (kl_u,)
    vals = [
        _kpar_integral(lambda s, i=i: parts(s)[i], s_max, rtol, closings=(kl_d, kr_d, kr_u))
        * CONDUCTANCE_QUANTUM
        * PER_NM2
        for i, s_max in enumerate(ranges)
    ]
    g_p, g_ap, t_par, t_perp = vals
    return SlonczewskiCoefficients(
        conductance_parallel=g_p,
        conductance_antiparallel=g_ap,
        g0=0.5 * (g_p + g_ap),
        inplane_torkance=t_par,
        outofplane_window_torkance=t_perp,
    )
