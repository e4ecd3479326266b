r"""The free layer as one macrospin: parameters, effective field and energy.

All inputs are SI except the geometry, which follows the package's length unit (nm):
M_s in A/m, K_u in J/m³, fields in A/m, temperature in K, thickness in nm, area in nm²,
γ in rad/(s·T).  Time is in seconds everywhere in :mod:`mtj_kwant.dynamics`.

The frame is the micromagnetic one: the film normal is z (thin-film demagnetising factors
(0, 0, 1)).  The transport model of the package has no spin–orbit coupling, so its torques
depend only on the angle between m and p, and the dynamics frame can be chosen freely: give
the fixed-layer direction ``p`` in this frame.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace

import numpy as np

from ._common import (GAMMA_E, K_B, MU0, DynamicsError, DynamicsWarning, finite_scalar,
                      strict_keywords, vector3)

__all__ = ["Macrospin", "PLAUSIBLE"]


#: Plausible magnitudes of the macrospin's parameters: (low, high) of the value (|value| for
#: Ku and H_applied), and the one-line reasons for values below and above.  A value outside
#: is a unit mistake (metres for nm, tesla for A/m) or an absurd number that would overflow
#: later (M_s = 1e300 gave an OverflowError in the integrator).
PLAUSIBLE = {
    "Ms": (1e3, 1e7,
           "is in A/m, got {v:g}: below any ferromagnet's (plausible 1e3 to 1e7 A/m, e.g. "
           "1.1e6 for CoFeB); from mu0*Ms in T multiply by 7.958e5, from emu/cm^3 by 1000",
           "= {v:g} A/m is above any material's magnetisation (plausible 1e3 to 1e7 A/m; "
           "Fe has 1.7e6)"),
    "thickness": (0.01, 1e5,
                  "is in nm, got {v:g}: did you give metres? (e.g. thickness=1.5 for 1.5 nm; "
                  "plausible 0.01 to 1e5 nm)",
                  "= {v:g} nm is not a macrospin's thickness (plausible 0.01 to 1e5 nm)"),
    "area": (1.0, 1e12,
             "is in nm^2, got {v:g}: did you give m^2? (e.g. area=40 * 40 for a 40 nm x 40 nm "
             "pillar; plausible 1 to 1e12 nm^2)",
             "= {v:g} nm^2 is not a macrospin's area (plausible 1 to 1e12 nm^2)"),
    "Ku": (0.0, 1e8, "",
           "= {v:g} J/m^3 is beyond any material's anisotropy (|Ku| up to ~2e7 J/m^3 for "
           "SmCo5; plausible |Ku| <= 1e8)"),
    "H_applied": (0.0, 1e9, "",
                  "has |H| = {v:g} A/m, beyond any laboratory field (plausible |H| <= 1e9 "
                  "A/m; the field is in A/m: 1 T is 7.958e5 A/m)"),
    "temperature": (0.0, 1e4, "",
                    "= {v:g} K is above any Curie temperature (plausible 0 to 1e4 K)"),
}


def _plausible(key, value):
    """Refuse ``value`` of parameter ``key`` outside :data:`PLAUSIBLE` (one line)."""
    lo, hi, below, above = PLAUSIBLE[key]
    v = abs(value) if key in ("Ku", "H_applied") else value
    if v < lo and below:
        raise DynamicsError(f"Macrospin: `{key}` {below.format(v=value)}.", parameter=key)
    if v > hi:
        raise DynamicsError(f"Macrospin: `{key}` {above.format(v=value)}.", parameter=key)


#: Accepted gyromagnetic ratios γ of :class:`Macrospin` in rad/(s·T) (the electron's is
#: 1.76e11; outside this range the value is a unit slip, e.g. γ₀ = μ₀γ or γ/2π).
GAMMA_RANGE = (1e9, 1e13)


@strict_keywords
@dataclass(frozen=True, kw_only=True, eq=True)
class Macrospin:
    r"""A uniformly magnetised free layer (macrospin) with anisotropy, fields and temperature.

    Parameters
    ----------
    Ms : float
        Saturation magnetisation M_s in A/m, in the plausible range [1e3, 1e7] (CoFeB 1.1e6,
        Fe 1.7e6): values outside it (μ₀M_s in T, emu/cm³, or an absurd magnitude) are refused.
    thickness : float
        Free-layer thickness d in nm, in [0.01, 1e5] (it converts the torque per area into a
        torque per volume).  A value below 0.01 is refused as metres given for nm.
    area : float
        Junction area A in nm², in [1, 1e12] (volume V = A·d for the thermal field; current
        I = J·A).  A value below 1 is refused as m² given for nm².
    alpha : float
        Gilbert damping α >= 0.  α > 0 for a physical layer; α = 0 is the undamped
        (conservative) limit, which the energy-conservation check integrates, accepted only at
        ``temperature = 0`` (rk45; the Heun scheme needs α > 0).  Negative or NaN: refused.
    Ku : float
        First-order uniaxial anisotropy constant K_u in J/m³ (energy −K_u (m·u)²; a negative
        value makes ``easy_axis`` a hard axis), |K_u| <= 1e8.  Default 0.
    easy_axis : (3,) array_like
        Anisotropy axis u (normalised).  Default (0, 0, 1).
    demag_factors : (3,) array_like or "thin film"
        Diagonal demagnetising factors (N_x, N_y, N_z) with N_x + N_y + N_z = 1, or (0, 0, 0)
        when the shape anisotropy is already folded into ``Ku``.  Default "thin film" = (0, 0, 1).
    H_applied : (3,) array_like
        Applied field H in A/m, |H| <= 1e9 (1 T is 7.958e5 A/m).  Default 0.
    p : (3,) array_like
        Magnetisation direction of the pinned (fixed) layer, normalised.  Default (0, 0, 1).
    temperature : float
        Temperature T in K, in [0, 1e4] (thermal field; 0 = deterministic).  Default 0.
    gamma : float
        Gyromagnetic ratio γ in rad/(s·T), in [1e9, 1e13] (``GAMMA_RANGE``).  Default
        |γ_e| = 1.76085962784e11
        (free electron, CODATA 2018).

    Raises
    ------
    DynamicsError
        (a ValueError) for a non-positive M_s, d, A or γ, a negative α or T, α = 0 with T > 0,
        a magnitude outside the plausible ranges above (with the unit it expects: e.g.
        "`thickness` is in nm, got 1.5e-09: did you give metres?"), demagnetising factors
        that do not sum to 1, a zero direction, or an unknown keyword, in one line that names
        the parameter.

    Notes
    -----
    Energy density (J/m³) and effective field (A/m), H_eff = −(1/μ₀M_s) ∂e/∂m:

    .. math::

        e(\mathbf m) = -\mu_0 M_s\,\mathbf H\cdot\mathbf m - K_u(\mathbf u\cdot\mathbf m)^2
                       + \tfrac12\mu_0 M_s^2\sum_i N_i m_i^2,\qquad
        \mathbf H_\mathrm{eff} = \mathbf H + \frac{2K_u}{\mu_0M_s}(\mathbf u\cdot\mathbf m)\mathbf u
                       - M_s\,\mathrm{diag}(N)\,\mathbf m .

    γ₀ = μ₀γ (m/(A·s)) is the gyromagnetic ratio that multiplies fields in A/m; DESIGN §10's
    "γ" in γ(ħ/2e)T/(μ₀M_s d) and 2αk_BT/(γμ₀M_sVΔt) is this γ₀ (the formulas are
    dimensionally right only with it).

    Examples
    --------
    >>> fl = Macrospin(Ms=1.0e6, thickness=1.5, area=40 * 40, alpha=0.01, Ku=1.0e6)
    >>> round(fl.anisotropy_field / 1e3, 1)        # 2K_u/(μ₀M_s), kA/m
    1591.5
    >>> fl.demag_factors
    (0.0, 0.0, 1.0)
    """

    Ms: float
    thickness: float
    area: float
    alpha: float
    Ku: float = 0.0
    easy_axis: tuple = (0.0, 0.0, 1.0)
    demag_factors: tuple | str = "thin film"
    H_applied: tuple = (0.0, 0.0, 0.0)
    p: tuple = (0.0, 0.0, 1.0)
    temperature: float = 0.0
    gamma: float = GAMMA_E

    def __post_init__(self):
        name = "Macrospin"
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 (frozen dataclass)
        set_("Ms", finite_scalar(name, "Ms", self.Ms, unit="A/m", positive=True))
        set_("thickness", finite_scalar(name, "thickness", self.thickness, unit="nm",
                                        positive=True))
        set_("area", finite_scalar(name, "area", self.area, unit="nm^2", positive=True))
        set_("alpha", finite_scalar(name, "alpha", self.alpha, nonnegative=True))
        set_("Ku", finite_scalar(name, "Ku", self.Ku, unit="J/m^3"))
        set_("temperature", finite_scalar(name, "temperature", self.temperature, unit="K",
                                          nonnegative=True))
        gamma = finite_scalar(name, "gamma", self.gamma, unit="rad/(s T)", positive=True)
        if not GAMMA_RANGE[0] <= gamma <= GAMMA_RANGE[1]:
            raise DynamicsError(
                f"{name}: `gamma` = {gamma:.4g} rad/(s T) lies outside the physical range "
                f"[{GAMMA_RANGE[0]:g}, {GAMMA_RANGE[1]:g}] rad/(s T) of gyromagnetic ratios "
                f"(the free electron's is {GAMMA_E:.6g}; gamma is γ, not γ₀ = μ₀γ or "
                "γ/2π in Hz/T).", parameter="gamma")
        set_("gamma", gamma)
        for key in ("Ms", "thickness", "area", "Ku", "temperature"):
            _plausible(key, getattr(self, key))
        if self.alpha == 0 and self.temperature > 0:
            raise DynamicsError(
                "Macrospin: `alpha` = 0 with `temperature` > 0: the thermal field (variance ∝ α) "
                "vanishes and the layer never thermalises; give alpha > 0 or temperature = 0."
            )
        set_("easy_axis", tuple(vector3(name, "easy_axis", self.easy_axis, unit=True).tolist()))
        set_("H_applied", tuple(vector3(name, "H_applied", self.H_applied).tolist()))
        h_big = float(np.max(np.abs(self.H_applied)))            # |H| without overflow
        _plausible("H_applied", h_big and h_big * float(np.linalg.norm(
            np.asarray(self.H_applied) / h_big)))
        set_("p", tuple(vector3(name, "p", self.p, unit=True).tolist()))
        n = self.demag_factors
        if isinstance(n, str):
            if n.replace("-", " ").replace("_", " ").strip().lower() != "thin film":
                raise DynamicsError(
                    f"Macrospin: `demag_factors` must be (Nx, Ny, Nz) or \"thin film\", got {n!r}."
                )
            n = (0.0, 0.0, 1.0)
        v = vector3(name, "demag_factors", n)
        if np.any(v < 0) or np.any(v > 1):
            raise DynamicsError(
                f"Macrospin: `demag_factors` must lie in [0, 1], got {tuple(v.tolist())}."
            )
        total = float(v.sum())
        if not (abs(total - 1.0) < 1e-6 or total == 0.0):
            raise DynamicsError(
                f"Macrospin: `demag_factors` must sum to 1 (an ellipsoid), or be (0, 0, 0) with "
                f"the shape anisotropy folded into Ku; got {tuple(v.tolist())} (sum {total:.6g})."
            )
        set_("demag_factors", tuple(v.tolist()))

    # ---- derived quantities -------------------------------------------------------------
    @property
    def volume(self):
        """Free-layer volume V = A·d in m³."""
        return self.area * self.thickness * 1e-27

    @property
    def gamma0(self):
        """γ₀ = μ₀γ in m/(A·s): dm/dt = −γ₀ m×H for H in A/m."""
        return MU0 * self.gamma

    @property
    def anisotropy_field(self):
        """H_K = 2K_u/(μ₀M_s) in A/m."""
        return 2.0 * self.Ku / (MU0 * self.Ms)

    @property
    def spin_torque_rate(self):
        r"""γħ/(2eM_s d) in 1/s per (ħ/2e)·A/m²: a torque T (DESIGN §1 units) gives dm/dt = this × T.

        Notes
        -----
        Angular-momentum balance of the free layer: its spin angular momentum per volume is
        M_s/γ along m (the model's majority spin is along m, DESIGN §1), and the absorbed
        spin current per area is (ħ/2e)T, so (M_s d/γ) dm/dt = (ħ/2e)T, i.e.
        dm/dt = γ(ħ/2e)T/(M_s d) = γ₀(ħ/2e)T/(μ₀M_s d).
        """
        from ._common import E_CHARGE, HBAR

        return self.gamma * HBAR / (2.0 * E_CHARGE * self.Ms * self.thickness * 1e-9)

    @property
    def thermal_field_density(self):
        r"""√(2αk_BT/(γ₀μ₀M_sV)) in (A/m)·√s: the thermal-field standard deviation is this/√Δt.

        Notes
        -----
        Brown's fluctuation–dissipation relation for the Gilbert equation with H in A/m:
        ⟨H_i(t)H_j(t')⟩ = 2αk_BT/(γ₀μ₀M_sV) δ_ij δ(t − t') (Brown, Phys. Rev. 130, 1677 (1963)).
        """
        return math.sqrt(2.0 * self.alpha * K_B * self.temperature
                         / (self.gamma0 * MU0 * self.Ms * self.volume))

    @property
    def stability_factor(self):
        r"""Δ = K_eff V/(k_BT) of an axially symmetric macrospin at zero field.

        K_eff = K_u − ½μ₀M_s²(N_u − N_⊥) for the easy axis u along a principal axis of the
        demagnetising tensor.  inf at T = 0.  NaN with a
        :class:`~mtj_kwant.dynamics.DynamicsWarning` when K_eff < 0: ``easy_axis`` is then a
        hard axis (e.g. a thin film whose shape anisotropy exceeds K_u), and Δ of that axis
        is not a barrier.  An in-plane easy axis of a thin film (unequal transverse
        demagnetising factors) is refused, see :attr:`effective_anisotropy`.
        """
        keff = self.effective_anisotropy
        if keff < 0:
            warnings.warn(
                f"Macrospin.stability_factor: K_eff = {keff:.4g} J/m^3 < 0, so easy_axis "
                f"{self.easy_axis} is a hard axis (the shape anisotropy "
                f"{keff - self.Ku:.4g} J/m^3 outweighs Ku = {self.Ku:.4g}); there is no barrier "
                "along it: returning NaN (raise Ku or give the real easy axis).",
                DynamicsWarning, stacklevel=2)
            return math.nan
        if self.temperature == 0:
            return math.inf
        return keff * self.volume / (K_B * self.temperature)

    @property
    def effective_anisotropy(self):
        """K_eff = K_u − ½μ₀M_s²(N_u − N_⊥) in J/m³ (easy axis along x, y or z, N_⊥ equal).

        Raises DynamicsError when the macrospin is not axially symmetric about its easy axis
        (e.g. an in-plane thin film: the transverse factors 0 and 1 differ), a case that
        :attr:`stability_factor` and :func:`~mtj_kwant.dynamics.neel_brown_time` do not
        support; :func:`~mtj_kwant.dynamics.ensemble` simulates it.
        """
        u = np.asarray(self.easy_axis)
        i = int(np.argmax(np.abs(u)))
        n = np.asarray(self.demag_factors)
        others = [n[j] for j in range(3) if j != i]
        if abs(abs(u[i]) - 1) > 1e-12:
            raise DynamicsError(
                "Macrospin: K_eff, stability_factor and neel_brown_time need the easy axis "
                f"along x, y or z (a principal axis of the demagnetising tensor); got easy_axis "
                f"{self.easy_axis}: not supported, use ensemble() for switching times.")
        if abs(others[0] - others[1]) > 1e-12:
            raise DynamicsError(
                "Macrospin: K_eff, stability_factor and neel_brown_time need an axially "
                f"symmetric macrospin; easy axis {'xyz'[i]} has unequal transverse "
                f"demagnetising factors {others[0]:g} and {others[1]:g} (an in-plane thin "
                "film), whose two-axis barrier is not supported: use ensemble() for switching "
                "times.")
        return self.Ku - 0.5 * MU0 * self.Ms**2 * (n[i] - others[0])

    def with_(self, **changes):
        """A copy with some parameters changed (validated)."""
        return replace(self, **changes)

    # ---- field and energy ---------------------------------------------------------------
    def effective_field(self, m):
        """Effective field H_eff(m) in A/m (no thermal or spin-torque part).

        Parameters
        ----------
        m : array_like (..., 3)
            Unit magnetisation(s).

        Returns
        -------
        ndarray (..., 3)
        """
        m = np.asarray(m, float)
        u = np.asarray(self.easy_axis)
        mu = m @ u
        return (np.asarray(self.H_applied) + self.anisotropy_field * mu[..., None] * u
                - self.Ms * np.asarray(self.demag_factors) * m)

    def energy_density(self, m):
        """Energy density e(m) in J/m³ (Notes of the class), shape (...)."""
        m = np.asarray(m, float)
        u = np.asarray(self.easy_axis)
        return (-MU0 * self.Ms * (m @ np.asarray(self.H_applied)) - self.Ku * (m @ u) ** 2
                + 0.5 * MU0 * self.Ms**2 * ((m * m) @ np.asarray(self.demag_factors)))

    def energy(self, m):
        """Energy E(m) = V e(m) in J, shape (...)."""
        return self.volume * self.energy_density(m)

    def _params(self):
        """The float64 parameter vector of the compiled kernels (see ``_kernels``)."""
        return np.array([
            self.gamma0, self.alpha, *self.H_applied, self.anisotropy_field, *self.easy_axis,
            *(self.Ms * np.asarray(self.demag_factors)), *self.p, self.spin_torque_rate,
            self.thermal_field_density,
        ], dtype=float)
