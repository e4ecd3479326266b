r"""Bardeen transfer-matrix (BTM) model of tunnelling spin torques (model paper, Eqs. 3–13).

The tunnelling current spinor of Eq. (3) is built from the interfacial densities of states
:math:`\hat\rho_i = \frac12\mathrm{diag}(\rho_i+\Delta\rho_i,\ \rho_i-\Delta\rho_i)` of the left
(pinned, magnetization **p**) and right (free, **m**) electrodes, a spin-independent tunnelling
weight :math:`|T|^2`, and a spin rotation on transmission by the angle :math:`\phi_i` (Eq. 6).
This module evaluates

* the charge current density (trace of Eq. 3),
* the in-plane and out-of-plane torques of Eqs. (7)–(8) at any bias and temperature,
  with their *window* parts (electrons emitted by the left electrode, weighted by
  :math:`f_L - f_R`, DESIGN §1),
* the symmetric form of Eqs. (10)–(11), in which the parity of the torques in V is exact
  (Eqs. 12–13),

for electrodes given as callables or tables of energy, or from a free-electron
parameterization (Fermi energy, band bottoms, Δ, masses, barrier profile).

Conventions (DESIGN §1): energies in eV, bias in V, temperature in K, angles in radians.
The bias shifts each electrode rigidly: the left DOS, phase and Fermi level move up by eV/2
(:math:`\rho_L(\varepsilon) = \rho_L^{(0)}(\varepsilon - eV/2)`, :math:`\mu_L = E_F + eV/2`),
the right ones down by eV/2.  The paper's Eq. (9) writes the opposite signs (its :math:`f_L` is
centred at :math:`\varepsilon_F - eV/2`), i.e. its V is minus ours; odd-in-V terms therefore
change sign with respect to the paper, parities do not.  T∥ > 0 pushes m toward p.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import numpy as np
from scipy import integrate

from ..physics import fermi
from ..units import E2_H, HBAR2_2ME, K_B, PER_NM2
from .slonczewski import (
    FreeElectronElectrode,
    _finite,
    _positive,
)

__all__ = [
    "BTM_PREFACTOR",
    "BTMElectrode",
    "BTMModel",
    "BarrierSegment",
    "FreeElectronBTM",
    "BTMIngredients",
    "BTMResult",
    "free_electron_btm",
    "btm_from_junction",
    "btm_torques",
    "btm_current",
    "btm_conductance",
    "symmetric_form_torques",
]

#: Prefactor 2πe/ħ of Eq. (3) with ħ in eV·s, in A/eV (= 4π² e²/h).  With |T|²·ρ_L·ρ_R in m⁻²
#: the currents and torques come out in A/m².
BTM_PREFACTOR = 4.0 * math.pi**2 * E2_H


# --------------------------------------------------------------------------------------------
# ingredients
# --------------------------------------------------------------------------------------------
def _as_function(name, value):
    if callable(value):
        return value
    v = _finite(name, value)
    if v.ndim != 0:
        raise TypeError(f"`{name}` must be a callable of energy (eV) or a scalar, got an array; "
                        "use BTMElectrode.from_table for tabulated values.")
    v = float(v)
    return lambda e, v=v: v


@dataclass(frozen=True, kw_only=True)
class BTMElectrode:
    r"""Interfacial ingredients of one electrode at zero bias (Eq. 6).

    Parameters
    ----------
    dos : callable or float
        Total interfacial density of states :math:`\rho_i(\varepsilon)` (both spins; any unit,
        see :class:`BTMModel`), as a function of the energy ε in eV on the common zero-bias scale.
    dos_difference : callable or float
        :math:`\Delta\rho_i = \rho_{i\uparrow} - \rho_{i\downarrow}` (majority minus minority).
    phase : callable or float, optional
        Spin-rotation angle :math:`\phi_i(\varepsilon)` (radians) of the electrons *emitted* by
        this electrode (Eqs. 5–8), default 0 (rigid-spin picture).
    band_bottom : float
        Energy (eV) below which ρ and Δρ vanish (the integrals of Eqs. 7–8 over the Fermi sea
        start there).
    band_top : float, optional
        Highest energy (eV) at which the ingredients are defined (default +inf).
    nodes : tuple of float, optional
        Energies (eV) where the ingredients have kinks (quadrature break points).

    Notes
    -----
    Construct tables with :meth:`from_table`.  Callables receive a float and return a float.
    """

    dos: Callable | float
    dos_difference: Callable | float
    phase: Callable | float = 0.0
    band_bottom: float
    band_top: float = math.inf
    nodes: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "dos", _as_function("dos", self.dos))
        object.__setattr__(
            self, "dos_difference", _as_function("dos_difference", self.dos_difference)
        )
        object.__setattr__(self, "phase", _as_function("phase", self.phase))
        _finite("band_bottom", self.band_bottom)
        if not (self.band_top > self.band_bottom):
            raise ValueError(
                f"`band_top` ({self.band_top} eV) must be above `band_bottom` "
                f"({self.band_bottom} eV)."
            )
        object.__setattr__(self, "nodes", tuple(float(x) for x in self.nodes))

    @classmethod
    def from_table(cls, energy, dos, dos_difference, phase=0.0):
        r"""Electrode from tabulated ingredients, linearly interpolated.

        Parameters
        ----------
        energy : array_like
            Strictly increasing energies (eV), at least 2.
        dos, dos_difference : array_like
            ρ and Δρ at these energies.
        phase : array_like or float
            ϕ (radians) at these energies, or one value for all.

        Notes
        -----
        ρ and Δρ are zero below ``energy[0]``; integrals that need energies above
        ``energy[-1]`` raise ValueError.
        """
        e = _finite("energy", energy).astype(float)
        if e.ndim != 1 or e.size < 2:
            raise ValueError("`energy` must be a 1-D table with at least 2 entries (eV).")
        if np.any(np.diff(e) <= 0):
            raise ValueError("`energy` must be strictly increasing; sort the table first.")
        tables = {}
        for name, vals in (("dos", dos), ("dos_difference", dos_difference), ("phase", phase)):
            v = _finite(name, vals).astype(float)
            if v.ndim == 0 and name == "phase":
                v = np.full_like(e, float(v))
            if v.shape != e.shape:
                raise ValueError(
                    f"`{name}` must have the shape of `energy` {e.shape}, got {v.shape}."
                )
            tables[name] = v

        def interp(y, left):
            return lambda x: float(np.interp(x, e, y, left=left, right=y[-1]))

        return cls(
            dos=interp(tables["dos"], 0.0),
            dos_difference=interp(tables["dos_difference"], 0.0),
            phase=interp(tables["phase"], tables["phase"][0]),
            band_bottom=float(e[0]),
            band_top=float(e[-1]),
            nodes=tuple(e[1:-1]),
        )


class BTMIngredients(NamedTuple):
    """Biased ingredients (callables of the energy ε in eV) handed to the integrals."""

    rho_l: Callable
    drho_l: Callable
    phi_l: Callable
    rho_r: Callable
    drho_r: Callable
    phi_r: Callable
    weight: Callable  # |T|²(ε) at this bias
    lower: float  # below this energy ρ_L ρ_R = 0 (eV)
    upper: float  # ingredients valid below this energy (eV)
    points: tuple  # quadrature break points (eV)
    mu_l: float
    mu_r: float


def _check_bias(bias):
    b = _finite("bias", bias).astype(float)
    if b.ndim > 1:
        raise ValueError("`bias` must be a scalar or a 1-D array of voltages (V).")
    return b


@dataclass(frozen=True, kw_only=True)
class BTMModel:
    r"""A BTM junction from two :class:`BTMElectrode` and a tunnelling weight.

    Parameters
    ----------
    left, right : BTMElectrode
        Pinned (left) and free (right) electrodes.
    fermi_energy : float
        Common Fermi energy at zero bias (eV).
    transmission : float or callable, optional
        Tunnelling weight :math:`|T|^2`, a constant or a callable ``transmission(energy, bias)``
        (eV, V) — a bias-dependent weight models an asymmetric barrier.  Default 1.

    Notes
    -----
    Currents and torques are :data:`BTM_PREFACTOR` (2πe/ħ, A/eV) times integrals of
    :math:`|T|^2\rho\rho` over energy (eV): they are in A/m² when :math:`|T|^2\rho_L\rho_R` is
    given in m⁻² (e.g. ρ in eV⁻¹ per interface site and :math:`|T|^2` in eV²·m⁻²).  With
    arbitrary units they are only *proportional* to the physical values: the overall
    :math:`|T|^2` scale is a free parameter of the BTM.  Each electrode's ingredients follow its
    own electrochemical potential (Eq. 9): the left ones are evaluated at ε − eV/2, the right
    ones at ε + eV/2.
    """

    left: BTMElectrode
    right: BTMElectrode
    fermi_energy: float
    transmission: Callable | float = 1.0

    def __post_init__(self):
        for name in ("left", "right"):
            if not isinstance(getattr(self, name), BTMElectrode):
                got = type(getattr(self, name)).__name__
                raise TypeError(f"`{name}` must be a BTMElectrode, got {got}")
        _finite("fermi_energy", self.fermi_energy)
        t = self.transmission
        if not callable(t):
            v = float(_finite("transmission", t))
            if v < 0:
                raise ValueError(f"`transmission` (|T|²) must be >= 0, got {v}.")
            object.__setattr__(self, "transmission", lambda e, V, v=v: v)

    def ingredients(self, bias: float) -> BTMIngredients:
        """Ingredients at bias ``bias`` (V), rigidly shifted as in Eq. (9)."""
        u = 0.5 * bias
        le, re = self.left, self.right
        pts = [x + u for x in le.nodes] + [x - u for x in re.nodes]
        pts += [le.band_bottom + u, re.band_bottom - u]
        return BTMIngredients(
            rho_l=lambda e: le.dos(e - u),
            drho_l=lambda e: le.dos_difference(e - u),
            phi_l=lambda e: le.phase(e - u),
            rho_r=lambda e: re.dos(e + u),
            drho_r=lambda e: re.dos_difference(e + u),
            phi_r=lambda e: re.phase(e + u),
            weight=lambda e: self.transmission(e, bias),
            lower=max(le.band_bottom + u, re.band_bottom - u),
            upper=min(le.band_top + u, re.band_top - u),
            points=tuple(pts),
            mu_l=self.fermi_energy + u,
            mu_r=self.fermi_energy - u,
        )


# --------------------------------------------------------------------------------------------
# free-electron parameterisation
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class BarrierSegment:
    """One layer of the tunnel barrier.

    Parameters
    ----------
    thickness : float
        Thickness (nm), > 0.
    potential_left, potential_right : float
        Conduction-band edge at the left and right edges of the layer at zero bias (eV); equal
        values for a rectangular layer, different for a trapezoid.
    mass : float
        Effective mass (m_e).
    """

    thickness: float
    potential_left: float
    potential_right: float
    mass: float = 1.0

    def __post_init__(self):
        _positive("thickness", self.thickness)
        _finite("potential_left", self.potential_left)
        _finite("potential_right", self.potential_right)
        _positive("mass", self.mass)


@dataclass(frozen=True, kw_only=True)
class FreeElectronBTM:
    r"""Free-electron BTM model with a per-area normalisation (results in A/m²).

    Build it with :func:`free_electron_btm` or :func:`btm_from_junction`.

    Parameters
    ----------
    fermi_energy : float
        Fermi energy (eV).
    left, right : FreeElectronElectrode
        Pinned (left) and free (right) electrodes.
    barrier : tuple of BarrierSegment
        Barrier layers from left to right; the bias drops linearly across them (DESIGN §1).

    Notes
    -----
    At :math:`k_\parallel = 0` the thick-barrier transmission factorizes (see
    :func:`~mtj_kwant.analytic.slonczewski.thick_barrier_transmission`); the ingredients are

    * :math:`\rho_{i\sigma}(\varepsilon) = 4\tilde\kappa_i\tilde k_{i\sigma}/
      (\tilde\kappa_i^2+\tilde k_{i\sigma}^2)` (dimensionless interfacial factors,
      :math:`\tilde k = k/m`, :math:`\tilde\kappa=\kappa/m_b`, κ taken at the barrier edge next
      to electrode i; 0 for a closed channel), :math:`\rho_i = \rho_{i\uparrow}+
      \rho_{i\downarrow}`, :math:`\Delta\rho_i = \rho_{i\uparrow}-\rho_{i\downarrow}`, so that
      :math:`\Delta\rho_i/\rho_i` is Slonczewski's polarization;
    * the spin-rotation angles :math:`\phi^{\rm int}_i` with :math:`\tan\phi^{\rm int}_i = Q_i`,
      the out-of-plane factor of electrode i
      (:func:`~mtj_kwant.analytic.slonczewski.out_of_plane_factor`):

      .. math::

          \phi^{\rm int}_i = \arctan\frac{\tilde k_{i\uparrow}}{\tilde\kappa_i}
          - \arctan\frac{\tilde k_{i\downarrow}}{\tilde\kappa_i}\ \ (\text{minority open}),
          \qquad
          \phi^{\rm int}_i = \arctan\frac{\tilde k_{i\uparrow}}{\tilde\kappa_i}
          - \arctan\frac{\tilde q_{i\downarrow}}{\tilde k_{i\uparrow}}\ \
          (\text{minority closed}, k_{i\downarrow} = iq_{i\downarrow}).

      For an open channel this is the phase difference :math:`\arg t_\uparrow-\arg t_\downarrow`
      of the transmission amplitudes :math:`t_\sigma = 2\tilde\kappa/(\tilde\kappa-i\tilde
      k_\sigma)` of the evanescent wave into the electrode.  For a closed minority channel
      :math:`t_\downarrow = 2\tilde\kappa/(\tilde\kappa+\tilde q)` is real, but the transverse
      spin current it carries, :math:`(\tilde k_\uparrow+i\tilde q)t_\uparrow^*t_\downarrow`
      (:func:`~mtj_kwant.analytic.slonczewski.collector_spin_factor`), adds the phase
      :math:`\arctan(\tilde q/\tilde k_\uparrow)`: setting :math:`k_\downarrow = 0` there is
      right only at the minority band edge, q → 0.  Electrons emitted by L are rotated on
      entering the collector R, hence :math:`\phi_L = -\phi^{\rm int}_R` and
      :math:`\phi_R = -\phi^{\rm int}_L`, each evaluated in the collector's frame; a closed
      minority channel of the *emitter* only sets its :math:`\rho_{i\downarrow} = 0` (no
      electron is emitted from it, and its spin is conserved at the emitter interface).
      With this sign the f_L and f_R terms of Eqs. (7)–(8), taken with
      :math:`(1,\tan\phi)`, are the thick-barrier spin currents of left- and right-emitted
      electrons at :math:`k_\parallel = 0`, to relative :math:`O(e^{-2\kappa d})`, whenever
      the collector's majority channel is open, its minority channel open or closed
      (:math:`T_\perp = -Q_R T_\parallel` for the window part; checked in
      ``tests/test_analytic_slonczewski.py`` and ``tests/test_analytic_btm.py`` against exact
      spinor solutions of the rectangular barrier).  Energies at which the collector has no
      open channel are left out (ρ = 0), although totally reflected electrons exert an
      out-of-plane torque there (the :math:`\eta` of both-closed channels in
      :func:`~mtj_kwant.analytic.slonczewski.collector_spin_factor`), which Eq. (8), ∝ ρ of
      the collector, cannot represent.  The paper's Eq. (9) attaches :math:`\phi_i` to the
      emitter instead; for a symmetric junction at low bias the two coincide;
    * :math:`|T|^2` from the WKB exponent of the biased barrier and the Gaussian
      :math:`k_\parallel` integral around normal incidence,
      :math:`\int\frac{d^2k_\parallel}{(2\pi)^2}e^{-2\int\kappa\,dx}\simeq
      e^{-2\int\kappa_0dx}\big/\big(4\pi\int dx/\kappa_0\big)`, times
      :math:`4\tilde\kappa_1\tilde\kappa_2/(\tilde\kappa_1+\tilde\kappa_2)^2` for every internal
      interface of a multi-layer barrier, divided by 4π² so that
      :data:`BTM_PREFACTOR`·|T|² = (e²/h)·(per-area weight).

    Regime of validity.  Per-area quantities are normal-incidence ingredients times the
    Gaussian weight, i.e. :math:`\int d^2k_\parallel F(k_\parallel^2)e^{-2\kappa d}` is replaced
    by :math:`F(0)\times\int d^2k_\parallel e^{-2\kappa d}`.  For a rectangular barrier the
    relative correction to the current is, to first order,

    .. math::

        \delta = \frac{\kappa_0}{d}\,\frac{F_1}{F_0} + \frac{1}{2\kappa_0 d},\qquad
        \frac{F_1}{F_0} = \frac{d\ln F}{d(k_\parallel^2)}\Big|_0,\qquad
        \frac{d\ln\rho_\sigma}{d(k_\parallel^2)} = \frac{1}{2\kappa_0^2}
        - \frac{1}{2k_\sigma^2}\ \ (\text{equal masses}),

    with :math:`F = \rho_{L\sigma}\rho_{R\sigma'}` summed over the channel pairs.  The
    expansion parameter is therefore :math:`(\kappa_0/d)/k_\sigma^2` for the smallest open
    :math:`k_\sigma` (tunnelling-cone width² over the Fermi-sphere radius² of that channel),
    not :math:`1/\kappa_0 d`: the BTM current and torques are quantitative only when
    :math:`\kappa_0/(d\,k_\sigma^2) \ll 1` for every open channel *and*
    :math:`\kappa_0 d \gg 1` (the :math:`1/2\kappa_0 d` term; the thick-barrier ingredients
    themselves have corrections :math:`O(e^{-2\kappa_0 d})`).  Example: for E_F = 3 eV,
    Δ = 3 eV, U_b = 11 eV, d = 0.45 nm (``tests/test_comparison.py``), κ₀d = 6.5 but
    :math:`\kappa_0/(d k_\downarrow^2) = 0.82`; the BTM conductance G(π/2) is 1.63 times the
    exact per-area value (G_P: 1.44 times) and its T∥/J is P at normal incidence, 0.137,
    instead of the k∥-averaged 0.305 (relative bias dependences fare better: there the
    a2/a1 of T∥ is within 6 % of the Kwant value).  Eq. (7) with its :math:`\cos\phi`
    factors gives the thick-barrier in-plane torque times :math:`\cos\phi`;
    ``btm_torques(..., phase_factors="thick_barrier")`` replaces :math:`(\cos\phi,\sin\phi)`
    by :math:`(1,\tan\phi)`, which is the thick-barrier result at :math:`k_\parallel = 0`
    (see above).  The model requires every energy of the integrals to lie below the barrier
    (tunnelling).
    """

    fermi_energy: float
    left: FreeElectronElectrode
    right: FreeElectronElectrode
    barrier: tuple

    def __post_init__(self):
        _finite("fermi_energy", self.fermi_energy)
        for name in ("left", "right"):
            if not isinstance(getattr(self, name), FreeElectronElectrode):
                got = type(getattr(self, name)).__name__
                raise TypeError(f"`{name}` must be a FreeElectronElectrode, got {got}")
        seg = tuple(self.barrier)
        if not seg or not all(isinstance(s, BarrierSegment) for s in seg):
            raise TypeError("`barrier` must be a non-empty sequence of BarrierSegment.")
        object.__setattr__(self, "barrier", seg)

    # biased edge potentials of every segment: list of (U_left_edge, U_right_edge, thickness, mass)
    def _segments(self, bias):
        u = 0.5 * bias
        total = sum(s.thickness for s in self.barrier)
        x = 0.0
        out = []
        for s in self.barrier:
            phi_a = u - 2.0 * u * x / total
            x += s.thickness
            phi_b = u - 2.0 * u * x / total
            out.append((s.potential_left + phi_a, s.potential_right + phi_b, s.thickness, s.mass))
        return out

    def barrier_minimum(self, bias: float) -> float:
        """Lowest conduction-band edge in the biased barrier (eV)."""
        return min(min(a, b) for a, b, _, _ in self._segments(bias))

    def ingredients(self, bias: float) -> BTMIngredients:
        """Ingredients at bias ``bias`` (V); see the class Notes."""
        u = 0.5 * bias
        segs = self._segments(bias)
        le, re = self.left, self.right
        m1, mn = segs[0][3], segs[-1][3]

        def kap(pot, mass, e):
            return math.sqrt(max(mass * (pot - e) / HBAR2_2ME, 0.0))

        def kx2(el, bottom, shift, e):  # signed k_x² (nm⁻²) at k∥ = 0, < 0 if evanescent
            return el.mass * (e - shift - bottom) / HBAR2_2ME

        def factors(el, shift, pot, mass, e):
            kt = kap(pot, mass, e) / mass
            ku2 = kx2(el, el.majority_bottom, shift, e)
            kd2 = kx2(el, el.minority_bottom, shift, e)
            ku = math.sqrt(max(ku2, 0.0)) / el.mass  # reduced wavevectors k/m
            kd = math.sqrt(max(kd2, 0.0)) / el.mass
            ru = 4 * kt * ku / (kt * kt + ku * ku) if ku > 0 else 0.0
            rd = 4 * kt * kd / (kt * kt + kd * kd) if kd > 0 else 0.0
            if ku <= 0:  # no open channel: ρ = 0, the phase does not enter
                phase = 0.0
            elif kd > 0:
                phase = math.atan2(ku, kt) - math.atan2(kd, kt)
            else:  # evanescent minority channel, k_down = i q (class Notes)
                phase = math.atan2(ku, kt) - math.atan2(math.sqrt(-kd2) / el.mass, ku)
            return ru, rd, phase

        def fl(e):
            return factors(le, u, segs[0][0], m1, e)

        def fr(e):
            return factors(re, -u, segs[-1][1], mn, e)

        def weight(e):
            expo = 0.0
            inv = 0.0
            pref = 1.0
            prev = None
            for a, b, t, m in segs:
                ka, kb = kap(a, m, e), kap(b, m, e)
                if ka + kb <= 0:
                    return 0.0
                expo += (2.0 * t / 3.0) * (ka * ka + ka * kb + kb * kb) / (ka + kb)
                inv += 2.0 * t / (ka + kb)
                if prev is not None:
                    k1, k2 = prev, ka / m
                    pref *= 4 * k1 * k2 / (k1 + k2) ** 2
                prev = kb / m
            per_area = math.exp(-2.0 * expo) / (4.0 * math.pi * inv) * PER_NM2  # m⁻²
            return pref * per_area / (4.0 * math.pi**2)

        bottoms = [le.majority_bottom + u, le.minority_bottom + u,
                   re.majority_bottom - u, re.minority_bottom - u]
        return BTMIngredients(
            rho_l=lambda e: sum(fl(e)[:2]),
            drho_l=lambda e: fl(e)[0] - fl(e)[1],
            phi_l=lambda e: -fr(e)[2],
            rho_r=lambda e: sum(fr(e)[:2]),
            drho_r=lambda e: fr(e)[0] - fr(e)[1],
            phi_r=lambda e: -fl(e)[2],
            weight=weight,
            lower=max(le.majority_bottom + u, re.majority_bottom - u),
            upper=self.barrier_minimum(bias),
            points=tuple(bottoms),
            mu_l=self.fermi_energy + u,
            mu_r=self.fermi_energy - u,
        )


def free_electron_btm(
    fermi_energy,
    left_band_bottom,
    left_exchange,
    right_band_bottom,
    right_exchange,
    barrier_height,
    barrier_thickness,
    *,
    left_mass=1.0,
    right_mass=1.0,
    barrier_mass=1.0,
):
    r"""Free-electron BTM model from plain parameters.

    Parameters
    ----------
    fermi_energy : float
        Fermi energy (eV).
    left_band_bottom, right_band_bottom : float
        Spin-averaged band bottoms U of the electrodes (eV).
    left_exchange, right_exchange : float
        Exchange splittings Δ ≥ 0 (eV).
    barrier_height : float or (float, float)
        Barrier potential (eV) at zero bias, or (left edge, right edge) for a trapezoid.
    barrier_thickness : float
        Barrier thickness d (nm).
    left_mass, right_mass, barrier_mass : float
        Effective masses (m_e).

    Returns
    -------
    FreeElectronBTM

    Examples
    --------
    >>> model = free_electron_btm(2.62, 0.0, 3.86, 0.0, 3.86, 3.62, 1.0, barrier_mass=0.4)
    >>> g = btm_conductance(model, 0.0, theta=np.pi / 2)  # A/(V·m²)
    >>> f"{g[0]:.3e}"
    '9.708e+10'
    """
    if np.ndim(barrier_height) == 0:
        ua = ub = float(_finite("barrier_height", barrier_height))
    else:
        pair = _finite("barrier_height", barrier_height)
        if pair.shape != (2,):
            raise ValueError(
                "`barrier_height` must be a number or a (left_edge, right_edge) pair (eV), "
                f"got shape {pair.shape}."
            )
        ua, ub = (float(x) for x in pair)
    return FreeElectronBTM(
        fermi_energy=fermi_energy,
        left=FreeElectronElectrode(
            band_bottom=left_band_bottom, exchange=left_exchange, mass=left_mass
        ),
        right=FreeElectronElectrode(
            band_bottom=right_band_bottom, exchange=right_exchange, mass=right_mass
        ),
        barrier=(
            BarrierSegment(
                thickness=barrier_thickness,
                potential_left=ua,
                potential_right=ub,
                mass=barrier_mass,
            ),
        ),
    )


def _attr(obj, name, where):
    try:
        return getattr(obj, name)
    except AttributeError:
        raise TypeError(
            f"{where} has no attribute `{name}`; btm_from_junction needs a junction with "
            "fermi_energy, effective_mass, left, right and layers (DESIGN §2)."
        ) from None


def btm_from_junction(junction) -> FreeElectronBTM:
    r"""Free-electron BTM model of a junction description (duck-typed, DESIGN §2).

    Parameters
    ----------
    junction : object
        Needs ``fermi_energy`` (eV), ``effective_mass`` (m_e, default for every part),
        ``left`` and ``right`` with ``potential`` (eV), ``exchange`` (eV) and
        ``effective_mass`` (m_e or None), and ``layers``: a sequence of objects with ``kind``
        ("barrier" or "metal"), ``thickness`` (nm), ``potential`` (eV, or a (left_edge,
        right_edge) pair), ``exchange`` (eV) and ``effective_mass`` (m_e or None).  An optional
        ``model`` attribute must be "free-electron".

    Returns
    -------
    FreeElectronBTM

    Notes
    -----
    The barrier stack runs from the first to the last layer of kind "barrier" (the bias drops
    across it, DESIGN §1).  The BTM electrodes are the metals that touch the stack: the metal
    layer just left (right) of it if there is one — e.g. the free layer of an F/I/F/N junction,
    treated here as semi-infinite, since the BTM only knows interfacial densities of states —
    otherwise ``junction.left`` (``junction.right``).  Other metal layers do not enter.

    Raises
    ------
    TypeError
        If an attribute is missing.
    ValueError
        For a junction without a barrier, a metal layer inside the barrier stack, a barrier
        with exchange splitting (spin filter) or a non free-electron model.
    """
    model = getattr(junction, "model", "free-electron")
    if model != "free-electron":
        raise ValueError(
            f"btm_from_junction needs a free-electron junction, got model={model!r}; "
            "the BTM parameterisation uses parabolic bands."
        )
    ef = float(_attr(junction, "fermi_energy", "junction"))
    m0 = _attr(junction, "effective_mass", "junction")
    m0 = 1.0 if m0 is None else float(m0)
    layers = tuple(_attr(junction, "layers", "junction"))

    def mass(obj, where):
        m = _attr(obj, "effective_mass", where)
        return m0 if m is None else float(m)

    kinds = [_attr(layer, "kind", f"junction.layers[{i}]") for i, layer in enumerate(layers)]
    idx = [i for i, k in enumerate(kinds) if k == "barrier"]
    if not idx:
        raise ValueError("junction has no layer of kind 'barrier'; the BTM needs a tunnel barrier.")
    first, last = idx[0], idx[-1]
    segments = []
    for i in range(first, last + 1):
        layer = layers[i]
        where = f"junction.layers[{i}]"
        if kinds[i] != "barrier":
            raise ValueError(
                f"{where} is a '{kinds[i]}' layer inside the barrier stack "
                f"(layers {first}..{last}); "
                "the BTM needs a single insulating stack between two metals."
            )
        if float(_attr(layer, "exchange", where)) != 0.0:
            raise ValueError(
                f"{where} is a barrier with exchange={layer.exchange} eV (spin filter), which the "
                "BTM model does not describe; set its exchange to 0."
            )
        pot = _attr(layer, "potential", where)
        if np.ndim(pot) == 0:
            ua = ub = float(pot)
        else:
            ua, ub = (float(p) for p in pot)
        segments.append(
            BarrierSegment(
                thickness=float(_attr(layer, "thickness", where)),
                potential_left=ua,
                potential_right=ub,
                mass=mass(layer, where),
            )
        )

    def electrode(obj, where):
        pot = _attr(obj, "potential", where)
        if np.ndim(pot) != 0:
            raise ValueError(
                f"{where}.potential must be a number for a BTM electrode, got {pot!r}; "
                "a trapezoidal potential is only meaningful in a barrier."
            )
        return FreeElectronElectrode(
            band_bottom=float(pot),
            exchange=float(_attr(obj, "exchange", where)),
            mass=mass(obj, where),
        )

    left_obj, left_where = _attr(junction, "left", "junction"), "junction.left"
    if first > 0:
        left_obj, left_where = layers[first - 1], f"junction.layers[{first - 1}]"
    right_obj, right_where = _attr(junction, "right", "junction"), "junction.right"
    if last < len(layers) - 1:
        right_obj, right_where = layers[last + 1], f"junction.layers[{last + 1}]"
    return FreeElectronBTM(
        fermi_energy=ef,
        left=electrode(left_obj, left_where),
        right=electrode(right_obj, right_where),
        barrier=tuple(segments),
    )


# --------------------------------------------------------------------------------------------
# integrals
# --------------------------------------------------------------------------------------------
def _fermi(e, mu, kt):
    """f(e) at μ and k_B T (eV) as a float: :func:`mtj_kwant.physics.fermi`."""
    return float(fermi(e, mu, kt))


def _quad(func, a, b, points, rtol):
    """∫_a^b func with break points; absolute tolerance scaled to the size of the integrand."""
    if not b > a:
        return 0.0
    inner = sorted({p for p in points if a < p < b})
    grid = np.linspace(a, b, 33)
    scale = (b - a) * max(abs(func(x)) for x in np.concatenate([grid, inner]))
    if scale == 0.0:
        return 0.0
    val, _ = integrate.quad(
        func, a, b, points=inner or None, epsabs=1e-3 * rtol * scale, epsrel=rtol,
        limit=max(200, 8 * len(inner) + 50),
    )
    return val


def _tail(rtol):
    """Number of k_B T beyond μ after which f (or 1 − f) < rtol/100."""
    return math.log(100.0 / rtol)


def _window(func, ing, kt, rtol):
    """∫ dε func(ε) [f_L(ε) − f_R(ε)] over the bias window (steps at T = 0)."""
    pts = ing.points + (ing.mu_l, ing.mu_r)
    if kt == 0.0:
        lo, hi = sorted((ing.mu_l, ing.mu_r))
        sign = 1.0 if ing.mu_l >= ing.mu_r else -1.0
        return sign * _quad(func, max(lo, ing.lower), hi, pts, rtol)
    lo = min(ing.mu_l, ing.mu_r) - _tail(rtol) * kt
    hi = max(ing.mu_l, ing.mu_r) + _tail(rtol) * kt
    return _quad(
        lambda e: func(e) * (_fermi(e, ing.mu_l, kt) - _fermi(e, ing.mu_r, kt)),
        max(lo, ing.lower), hi, pts, rtol,
    )


def _sea(func, ing, kt, rtol):
    """∫ dε func(ε) f_R(ε) over the Fermi sea of the right electrode."""
    pts = ing.points + (ing.mu_l, ing.mu_r)
    if kt == 0.0:
        return _quad(func, ing.lower, ing.mu_r, pts, rtol)
    top = ing.mu_r + _tail(rtol) * kt
    return _quad(lambda e: func(e) * _fermi(e, ing.mu_r, kt), ing.lower, top, pts, rtol)


@dataclass(frozen=True)
class BTMResult:
    """Charge current and torques of the BTM model on a bias grid.

    Attributes
    ----------
    bias : ndarray
        Bias voltages (V).
    theta : float
        Angle between p and m (radians).
    temperature : float
        Temperature (K).
    current_density : ndarray
        Charge current density (A/m² for per-area models; see :class:`BTMModel`).
    torque_parallel, torque_perpendicular : ndarray
        T∥ and T⊥ of Eqs. (7)–(8) (include sin θ; units of the current, i.e. (ħ/2e)·A/m²).
    torque_parallel_window, torque_perpendicular_window : ndarray
        Their window parts: electrons emitted by the left electrode, weighted by f_L − f_R.
    phase_factors : str
        "paper" (cos ϕ, sin ϕ) or "thick_barrier" (1, tan ϕ).
    """

    bias: np.ndarray
    theta: float
    temperature: float
    current_density: np.ndarray
    torque_parallel: np.ndarray
    torque_perpendicular: np.ndarray
    torque_parallel_window: np.ndarray
    torque_perpendicular_window: np.ndarray
    phase_factors: str = "paper"
    units: dict = field(
        default_factory=lambda: {
            "bias": "V", "theta": "rad", "temperature": "K",
            "current_density": "A/m^2 (per-area models; otherwise proportional)",
            "torque": "(hbar/2e) A/m^2 (per-area models; otherwise proportional)",
        }
    )


def _check_model(model):
    if not hasattr(model, "ingredients"):
        raise TypeError(
            f"`model` must be a BTMModel or FreeElectronBTM (got {type(model).__name__}); "
            "build one with free_electron_btm, btm_from_junction or BTMModel(...)."
        )


def _check_common(theta, temperature, rtol, phase_factors):
    th = float(_finite("theta", theta))
    temp = float(_finite("temperature", temperature))
    if temp < 0:
        raise ValueError(f"`temperature` must be >= 0 K, got {temp}.")
    if not (0 < rtol < 1e-2):
        raise ValueError(f"`rtol` must be in (0, 1e-2), got {rtol}.")
    if phase_factors not in ("paper", "thick_barrier"):
        raise ValueError(
            f"`phase_factors` must be 'paper' or 'thick_barrier', got {phase_factors!r}."
        )
    return th, temp


def _check_range(model, ing, kt, bias, rtol):
    top = max(ing.mu_l, ing.mu_r) + _tail(rtol) * kt
    if top >= ing.upper:
        if isinstance(model, FreeElectronBTM):
            what = "the lowest barrier edge"
            fix = ", or raise the barrier (the BTM needs tunnelling)."
        else:
            what, fix = "the top of an electrode table", ", or extend the table."
        raise ValueError(
            f"at bias {bias} V the integration reaches {top:.4g} eV, at or above {what} "
            f"({ing.upper:.4g} eV); lower the bias or temperature{fix}"
        )


def btm_torques(
    model, bias, theta=math.pi / 2, temperature=0.0, *, phase_factors="paper", rtol=1e-9
):
    r"""Charge current and spin torques of the BTM model, Eqs. (3), (7) and (8).

    Parameters
    ----------
    model : BTMModel or FreeElectronBTM
        The junction.
    bias : float or array_like
        Bias voltages V (V); :math:`\mu_{L,R} = E_F \pm eV/2`.
    theta : float
        Angle between p and m (radians).
    temperature : float
        Temperature (K); 0 uses step functions with break points at μ_L, μ_R.
    phase_factors : {"paper", "thick_barrier"}
        Use :math:`(\cos\phi, \sin\phi)` as in Eqs. (7)–(8), or :math:`(1, \tan\phi)`, the
        thick-barrier free-electron form of one transverse channel (k∥ = 0, collector
        majority channel open; see :class:`FreeElectronBTM` for its regime).
    rtol : float
        Relative tolerance of the energy quadratures.

    Returns
    -------
    BTMResult

    Notes
    -----
    With :math:`K` = :data:`BTM_PREFACTOR` (2πe/ħ) and ingredients evaluated at the bias
    (Eq. 9),

    .. math::

        J &= K\int d\varepsilon\,|T|^2\tfrac12(\rho_L\rho_R
             +\Delta\rho_L\Delta\rho_R\cos\theta)(f_L-f_R),\\
        T_\parallel &= K\sin\theta\int d\varepsilon\,|T|^2\tfrac12\rho_R\Delta\rho_L
                 (\cos\phi_L f_L-\cos\phi_R f_R),\\
        T_\perp &= K\sin\theta\int d\varepsilon\,|T|^2\tfrac12(\rho_R\Delta\rho_L\sin\phi_L f_L
                 +\rho_L\Delta\rho_R\sin\phi_R f_R).

    The factor ½ and the sin θ (omitted in the paper's Eqs. 7–8) follow from the spin trace of
    Eq. (3): :math:`\mathrm{Tr}[\boldsymbol\sigma\,\tfrac12\{\hat\rho_L,\hat\rho_R\}]` has the
    transverse part :math:`\tfrac12\rho_R\Delta\rho_L\,\mathbf p_\perp`, so that for
    energy-independent ingredients and ϕ = 0, :math:`T_\parallel = P_L\sin\theta\,J(\pi/2)`
    (Slonczewski's torkance, a fully polarized current J carrying spin current J).  For
    accuracy the f_L and f_R terms are regrouped into a window part,
    :math:`\int(\dots)_L(f_L-f_R)`, and a Fermi-sea part weighted by f_R (mathematically
    identical; the sea part of T∥ vanishes when :math:`\phi_L=\phi_R`).  Integrals use adaptive
    Gauss–Kronrod quadrature with break points at μ_L, μ_R and the band edges.

    Caveat of the paper's form: when :math:`\phi_L(\varepsilon)\ne\phi_R(\varepsilon)` (different
    electrodes, asymmetric barrier) the Fermi-sea term :math:`\cos\phi_L-\cos\phi_R` gives an
    in-plane torque at V = 0, which is unphysical (the equilibrium torque is purely
    out-of-plane, DESIGN §1); it is O(ϕ²), i.e. beyond the paper's assumption ϕ ≪ 1, but can
    reach tens of percent of T∥ at 0.1 V for free-electron electrodes with different
    exchange splittings.  ``phase_factors="thick_barrier"`` has T∥(0) = 0 identically and is the
    thick-barrier free-electron result at k∥ = 0 (to :math:`O(e^{-2\kappa d})`, for energies
    where the collector's majority channel is open); prefer it for quantitative comparisons,
    keeping in mind that the per-area free-electron BTM is a normal-incidence theory (see the
    regime of validity in :class:`FreeElectronBTM`).

    Examples
    --------
    >>> el = BTMElectrode(dos=1.0, dos_difference=0.5, band_bottom=-5.0)
    >>> res = btm_torques(BTMModel(left=el, right=el, fermi_energy=0.0), 0.2)
    >>> float(res.torque_parallel[0] / res.current_density[0])  # = P_L at θ = π/2
    0.5
    """
    _check_model(model)
    b = _check_bias(bias)
    th, temp = _check_common(theta, temperature, rtol, phase_factors)
    kt = K_B * temp
    st, ct = math.sin(th), math.cos(th)
    if phase_factors == "paper":
        cf, sf = math.cos, math.sin
    else:
        cf, sf = (lambda p: 1.0), math.tan

    out = {k: np.empty(b.size) for k in ("j", "tp", "tq", "tpw", "tqw")}
    for n, v in enumerate(np.atleast_1d(b)):
        ing = model.ingredients(float(v))
        _check_range(model, ing, kt, float(v), rtol)
        w, rl, dl, pl = ing.weight, ing.rho_l, ing.drho_l, ing.phi_l
        rr, dr, pr = ing.rho_r, ing.drho_r, ing.phi_r
        j = _window(lambda e: w(e) * 0.5 * (rl(e) * rr(e) + dl(e) * dr(e) * ct), ing, kt, rtol)
        par_w = _window(lambda e: w(e) * 0.5 * rr(e) * dl(e) * cf(pl(e)), ing, kt, rtol)
        par_s = _sea(lambda e: w(e) * 0.5 * rr(e) * dl(e) * (cf(pl(e)) - cf(pr(e))), ing, kt, rtol)
        perp_w = _window(lambda e: w(e) * 0.5 * rr(e) * dl(e) * sf(pl(e)), ing, kt, rtol)
        perp_s = _sea(
            lambda e: w(e) * 0.5 * (rr(e) * dl(e) * sf(pl(e)) + rl(e) * dr(e) * sf(pr(e))),
            ing, kt, rtol,
        )
        out["j"][n] = BTM_PREFACTOR * j
        out["tpw"][n] = BTM_PREFACTOR * st * par_w
        out["tqw"][n] = BTM_PREFACTOR * st * perp_w
        out["tp"][n] = BTM_PREFACTOR * st * (par_w + par_s)
        out["tq"][n] = BTM_PREFACTOR * st * (perp_w + perp_s)
    shape = b.shape if b.ndim else (1,)
    return BTMResult(
        bias=np.atleast_1d(b).copy(),
        theta=th,
        temperature=temp,
        current_density=out["j"].reshape(shape),
        torque_parallel=out["tp"].reshape(shape),
        torque_perpendicular=out["tq"].reshape(shape),
        torque_parallel_window=out["tpw"].reshape(shape),
        torque_perpendicular_window=out["tqw"].reshape(shape),
        phase_factors=phase_factors,
    )


def btm_current(model, bias, theta=0.0, temperature=0.0, *, rtol=1e-9):
    """Charge current density of the BTM model (A/m² for per-area models), trace of Eq. (3).

    Parameters are those of :func:`btm_torques`; returns an array shaped like ``bias`` (1-D).
    """
    _check_model(model)
    b = _check_bias(bias)
    th, temp = _check_common(theta, temperature, rtol, "paper")
    kt, ct = K_B * temp, math.cos(th)
    out = np.empty(b.size)
    for n, v in enumerate(np.atleast_1d(b)):
        ing = model.ingredients(float(v))
        _check_range(model, ing, kt, float(v), rtol)
        def integrand(e, ing=ing):
            return ing.weight(e) * 0.5 * (
                ing.rho_l(e) * ing.rho_r(e) + ing.drho_l(e) * ing.drho_r(e) * ct
            )

        out[n] = BTM_PREFACTOR * _window(integrand, ing, kt, rtol)
    return out


def btm_conductance(model, bias=0.0, theta=0.0, temperature=0.0, *, step=1e-3, rtol=1e-11):
    r"""Differential conductance dJ/dV (A/(V·m²) for per-area models).

    Parameters
    ----------
    model, bias, theta, temperature
        As in :func:`btm_torques`.
    step : float
        Finite-difference step h (V).
    rtol : float
        Quadrature tolerance of each current evaluation.

    Notes
    -----
    Fourth-order central difference
    :math:`[-J(V+2h)+8J(V+h)-8J(V-h)+J(V-2h)]/12h`; truncation error
    :math:`h^4 J^{(5)}/30`, rounding error about rtol·|J|/h.
    """
    _positive("step", step)
    b = np.atleast_1d(_check_bias(bias))
    stencil = np.array([-2, -1, 1, 2]) * step
    coef = np.array([1, -8, 8, -1]) / (12 * step)
    out = np.empty(b.size)
    for n, v in enumerate(b):
        out[n] = coef @ btm_current(model, v + stencil, theta, temperature, rtol=rtol)
    return out


# --------------------------------------------------------------------------------------------
# symmetric form, Eqs. (10)–(11)
# --------------------------------------------------------------------------------------------
def symmetric_form_torques(
    tau_parallel, tau_perpendicular, bias, *, energy_range, points=(), rtol=1e-11
):
    r"""Torques in the symmetric form of Eqs. (10)–(11).

    Parameters
    ----------
    tau_parallel, tau_perpendicular : callable
        Spectral torques :math:`\tau_\parallel(\varepsilon)`, :math:`\tau_\perp(\varepsilon)` of a
        symmetric junction (ε in eV; occupations included), one float in, one float out.
    bias : float or array_like
        Bias voltages (V).
    energy_range : (float, float)
        Fixed, bias-independent integration range [a, b] (eV).
    points : sequence of float
        Energies where τ has kinks (break points).
    rtol : float
        Relative quadrature tolerance.

    Returns
    -------
    t_parallel, t_perpendicular : ndarray
        :math:`T_\parallel(V) = \int_a^b d\varepsilon\,[\tau_\parallel(\varepsilon-eV/2)-
        \tau_\parallel(\varepsilon+eV/2)]` and
        :math:`T_\perp(V) = \int_a^b d\varepsilon\,[\tau_\perp(\varepsilon-eV/2)+
        \tau_\perp(\varepsilon+eV/2)]`, in the units of τ × eV.

    Notes
    -----
    Eq. (10) of the paper reads :math:`\int[\tau_\parallel(\varepsilon+eV/2)-
    \tau_\parallel(\varepsilon-eV/2)]` because its Eq. (9) puts the left electrode at
    :math:`\varepsilon_F - eV/2`; with the project's :math:`\mu_L = E_F + eV/2` the left (emitter)
    term is :math:`\tau(\varepsilon - eV/2)`.  In this form T∥ is exactly odd and T⊥ exactly even
    in V for *any* τ and any fixed range (Eqs. 12–13): V → −V swaps the two terms.  The
    assumption behind it is that each term of Eqs. (7)–(8) depends on energy only through one
    electrode's shifted energy; in the full model ρ_R and Δρ_L are shifted in opposite
    directions, which breaks the parity (:func:`btm_torques` shows the resulting V² term in T∥
    and, for different electrodes, a linear term in T⊥).  Since
    :math:`\int_a^b[\tau(\varepsilon-u)-\tau(\varepsilon+u)]
    = \int_{a-u}^{a+u}\tau - \int_{b-u}^{b+u}\tau`,
    T∥ only depends on τ near the ends of the range (for a τ that vanishes at both ends the
    shifts cancel); it is evaluated in that end-point form, which avoids cancellation.

    Examples
    --------
    >>> from mtj_kwant.physics import fermi
    >>> tau = lambda e: fermi(e, 0.0, 0.01)  # wide band, constant spectral torque, f(ε) at 116 K
    >>> tpar, tperp = symmetric_form_torques(tau, tau, [-0.1, 0.1], energy_range=(-2.0, 2.0))
    >>> np.round(tpar, 12).tolist()
    [-0.1, 0.1]
    """
    for name, f in (("tau_parallel", tau_parallel), ("tau_perpendicular", tau_perpendicular)):
        if not callable(f):
            raise TypeError(f"`{name}` must be a callable of energy (eV), got {type(f).__name__}.")
    rng = _finite("energy_range", energy_range).astype(float)
    if rng.shape != (2,) or not rng[1] > rng[0]:
        raise ValueError(f"`energy_range` must be (a, b) with a < b in eV, got {energy_range!r}.")
    a, b = rng
    b_arr = _check_bias(bias)
    pts = tuple(float(p) for p in points)
    tpar = np.empty(b_arr.size)
    tperp = np.empty(b_arr.size)

    def q(f, lo, hi):
        if hi == lo:
            return 0.0
        if hi < lo:
            return -q(f, hi, lo)
        return _quad(f, lo, hi, pts, rtol)

    for n, v in enumerate(np.atleast_1d(b_arr)):
        u = 0.5 * float(v)
        tpar[n] = q(tau_parallel, a - u, a + u) - q(tau_parallel, b - u, b + u)
        tperp[n] = q(tau_perpendicular, a - u, b - u) + q(tau_perpendicular, a + u, b + u)
    shape = b_arr.shape if b_arr.ndim else (1,)
    return tpar.reshape(shape), tperp.reshape(shape)
