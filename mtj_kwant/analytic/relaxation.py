r"""From scattering rates ħ/τ to the lengths of the spin-diffusion model, Eqs. (20)–(23).

DESIGN §8 gives a layer elastic scattering as two rates in eV, the NEGF convention:
``momentum`` = ħ/τ_m (Σ_jj = D G_jj) and ``spin_flip`` = ħ/τ_sf
(Σ_jj = D_s Σ_α σ_α G_jj σ_α).  This module maps those rates and the layer's spin-split bands
onto the diffusion constant D and the lengths λ_sf, λ_J, λ_φ of Eqs. (20)–(23) of the model
paper (:mod:`mtj_kwant.analytic.diffusion`).  It also fixes the strengths of the two
self-energies that a self-consistent Born (SCBA) solver needs for the same rates
(:func:`scba_strengths`), and their per-site values on a junction's chain
(:func:`scba_self_energy_strengths`, with the simple-cubic density of states
:func:`tight_binding_dos` for the tight-binding model).

Units: energies and rates in eV, lengths in nm, times in fs, velocities in nm/fs
(1 nm/fs = 10⁶ m/s), diffusion constants in nm²/fs (1 nm²/fs = 10⁻³ m²/s), densities of states
per spin in 1/(eV nm³).  ħ = 0.6582 eV fs (``HBAR_EV_FS``).

Conventions adopted here (they are also the conventions of the coming SCBA solver):

1. Golden rule for a white-noise (site-local) disorder.  For Σ(r) = γ G(r, r), with
   ⟨V(r)V(r')⟩ = γ δ³(r − r'), the broadening of spin σ is Γ_σ = γ A_σ(r, r) = 2π γ N_σ(E),
   with N_σ the density of states per spin and volume.  The out-scattering rate is
   1/τ_σ = Γ_σ/ħ, the broadening–lifetime relation of Datta, *Electronic Transport in
   Mesoscopic Systems* (Cambridge, 1995).  The form Σ = D G is the phenomenological dephasing
   model of Golizadeh-Mojarad and Datta, PRB **75**, 081301(R) (2007).  On a lattice with volume Ω per site the same self-energy reads Σ_jj = D G_jj
   with D = γ/Ω, because the local density of states per site is N_σ Ω.
2. ħ/τ_m is the *spin-averaged* rate, (ħ/τ_m↑ + ħ/τ_m↓)/2 = 2π γ_m N̄ with
   N̄ = (N↑ + N↓)/2.  One disorder strength γ_m acts on both spins, so the spin-resolved rates
   are ħ/τ_m,σ = (ħ/τ_m) N_σ/N̄ (minority electrons of an Fe-like band scatter less, as they
   have the smaller density of states).
3. ħ/τ_sf is the rate at which a spin accumulation relaxes, the 1/τ_sf of Eq. (20) and of
   λ_sf = √(Dτ_sf) (DESIGN §8).  With Σ = γ_s Σ_α σ_α G σ_α the flip rates are
   1/τ_{σ→σ̄} = 4π γ_s N_σ̄/ħ, and a spin chemical-potential difference μ↑ − μ↓ relaxes at
   1/τ_↑↓ + 1/τ_↓↑ = 8π γ_s N̄/ħ ≡ 1/τ_sf, in a ferromagnet as in a normal metal.  In a
   normal metal every spin component then decays at 1/τ_sf (transverse as longitudinal).
4. Every event of these δ-correlated potentials is isotropic, so the transport time is the
   total out-scattering time.  Besides the momentum part, the spin-flip self-energy broadens
   spin σ by 2πγ_s(N_σ + 2N_σ̄) (σ_z keeps the spin, σ_x and σ_y flip it), i.e.
   1/τ_tr,σ = (ħ/τ_m) N_σ/N̄ + (ħ/τ_sf)(N_σ + 2N_σ̄)/(4N̄), all over ħ.  For τ_sf ≫ τ_m this
   is DESIGN's D = v_F²τ_m/3; for a normal metal the spin-flip part is (3/4)ħ/τ_sf.

The rates of a junction file are those at the layer's Fermi energy.  The SCBA strengths γ are
properties of the disorder and do not depend on energy; at another energy the rates follow the
density of states, ħ/τ(E) = 2πγ N̄(E).  The map is lowest-order (Born) in γ: it assumes
ħ/τ ≪ E_F − (band bottom), i.e. k_F ℓ ≫ 1 for both spins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..transverse import tb_dos
from ..units import HBAR2_2ME, HBAR_EV_FS

__all__ = [
    "HBAR_EV_FS",
    "SpinBands",
    "free_electron_bands",
    "DiffusionParameters",
    "diffusion_parameters",
    "diffusion_parameters_from_bands",
    "ScbaStrengths",
    "scba_strengths",
    "tight_binding_dos",
    "scba_self_energy_strengths",
]


# --------------------------------------------------------------------------------------------
# bands
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SpinBands:
    """Fermi-surface data of the two spin bands of one layer (majority ↑ along m).

    Attributes
    ----------
    k_up, k_down : float
        Fermi wavevectors (nm⁻¹), > 0.
    v_up, v_down : float
        Fermi velocities (nm/fs), > 0.
    dos_up, dos_down : float
        Densities of states per spin and volume at E_F (1/(eV nm³)), > 0.
    exchange : float
        Exchange splitting Δ ≥ 0 (eV); the spin precesses at angular frequency Δ/ħ
        (exchange term −(Δ/2) m·σ, DESIGN §1).
    """

    k_up: float
    k_down: float
    v_up: float
    v_down: float
    dos_up: float
    dos_down: float
    exchange: float

    def __post_init__(self):
        for name in ("k_up", "k_down", "v_up", "v_down", "dos_up", "dos_down"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v > 0):
                raise ValueError(
                    f"`{name}` must be a finite number > 0, got {v!r}: both spins need a "
                    "Fermi surface (the diffusion model does not cover a half metal)."
                )
        if not (np.isfinite(self.exchange) and self.exchange >= 0):
            raise ValueError(f"`exchange` must be a finite number >= 0 eV, got {self.exchange!r}.")


def free_electron_bands(fermi_energy, band_bottom, exchange, mass=1.0):
    r"""Spin bands of the package's free-electron layer at the Fermi energy.

    Parameters
    ----------
    fermi_energy : float
        E_F (eV), same reference as ``band_bottom``.
    band_bottom : float
        Spin-averaged band bottom U (eV); the bands start at U ∓ Δ/2.
    exchange : float
        Exchange splitting Δ ≥ 0 (eV).
    mass : float
        Effective mass (m_e), > 0.

    Returns
    -------
    SpinBands
        :math:`k_\sigma = \sqrt{m(E_F - U \pm \Delta/2)/(\hbar^2/2m_e)}`,
        :math:`v_\sigma = \hbar k_\sigma/(m m_e)`,
        :math:`N_\sigma = m m_e k_\sigma/(2\pi^2\hbar^2)` (per spin and volume).

    Raises
    ------
    ValueError
        If a spin band has no Fermi surface (E_F at or below U ± Δ/2).

    Examples
    --------
    >>> b = free_electron_bands(2.62, 0.0, 3.86)
    >>> round(b.k_up, 3), round(b.k_down, 3)
    (10.928, 4.256)
    """
    for name, v in (("fermi_energy", fermi_energy), ("band_bottom", band_bottom),
                    ("exchange", exchange), ("mass", mass)):
        if not np.isfinite(v):
            raise ValueError(f"`{name}` must be finite, got {v!r}.")
    if mass <= 0:
        raise ValueError(f"`mass` must be > 0 (in m_e), got {mass!r}.")
    if exchange < 0:
        raise ValueError(f"`exchange` must be >= 0 eV, got {exchange!r}; reverse m instead.")
    out = {}
    for spin, sign in (("up", -1.0), ("down", +1.0)):
        kinetic = fermi_energy - (band_bottom + sign * 0.5 * exchange)
        if kinetic <= 0:
            raise ValueError(
                f"the {spin} band has no Fermi surface: E_F = {fermi_energy} eV lies at or below "
                f"its bottom {band_bottom + sign * 0.5 * exchange} eV (U ± Δ/2)."
            )
        k = np.sqrt(mass * kinetic / HBAR2_2ME)
        out[f"k_{spin}"] = float(k)
        # ħ²/m_e = 2 HBAR2_2ME (eV nm²); v = ħk/m = (ħ²/m) k / ħ.
        out[f"v_{spin}"] = float(2.0 * HBAR2_2ME * k / (mass * HBAR_EV_FS))
        out[f"dos_{spin}"] = float(mass * k / (2.0 * np.pi**2 * 2.0 * HBAR2_2ME))
    return SpinBands(exchange=float(exchange), **out)


# --------------------------------------------------------------------------------------------
# the map
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DiffusionParameters:
    """Diffusion constants and lengths of one layer for given rates (shape of the broadcast rates).

    Attributes
    ----------
    bands : SpinBands
        The Fermi-surface data used.
    momentum, spin_flip : float or ndarray
        The rates ħ/τ_m, ħ/τ_sf (eV).
    tau_m, tau_sf : float or ndarray
        τ_m = ħ/(ħ/τ_m), τ_sf (fs); inf for a zero rate.
    tau_up, tau_down : float or ndarray
        Transport (total out-scattering) times per spin (fs), convention 4 of the module.
    mean_free_path_up, mean_free_path_down : float or ndarray
        ℓ_σ = v_σ τ_σ (nm).
    mean_free_path : float or ndarray
        DOS-weighted mean (N↑ℓ↑ + N↓ℓ↓)/(N↑ + N↓) (nm).
    D_up, D_down : float or ndarray
        D_σ = v_σ² τ_σ/3 (nm²/fs).
    D : float or ndarray
        The single D_F of Eqs. (20)–(21): (N↑D↑ + N↓D↓)/(N↑ + N↓) (nm²/fs).
    lambda_sf : float or ndarray
        √(D τ_sf) (nm), the λ_sf of Eq. (23) (DESIGN §8).
    lambda_sf_longitudinal : float or ndarray
        Valet–Fert length of the longitudinal accumulation, 1/λ² = 1/(D↑τ_↑↓) + 1/(D↓τ_↓↑) (nm).
    tau_J, lambda_J : float or ndarray
        Precession time ħ/Δ (fs) and length √(D τ_J) (nm); inf for Δ = 0.
    tau_phi, lambda_phi : float or ndarray
        Dephasing length π/|k↑ − k↓| (nm, rate independent) and τ_φ = λ_φ²/D (fs).
    precession_per_scattering : float or ndarray
        Δ τ_m/ħ: the precession angle between two momentum-relaxing collisions.  The
        transverse part of Eqs. (20)–(21) is a valid description only when it is ≲ 1
        (equivalently λ_J ≳ ℓ); above, the transverse spin is absorbed ballistically within
        ~ℓ of the interface.
    """

    bands: SpinBands
    momentum: np.ndarray
    spin_flip: np.ndarray
    tau_m: np.ndarray
    tau_sf: np.ndarray
    tau_up: np.ndarray
    tau_down: np.ndarray
    mean_free_path_up: np.ndarray
    mean_free_path_down: np.ndarray
    mean_free_path: np.ndarray
    D_up: np.ndarray
    D_down: np.ndarray
    D: np.ndarray
    lambda_sf: np.ndarray
    lambda_sf_longitudinal: np.ndarray
    tau_J: float
    lambda_J: np.ndarray
    tau_phi: np.ndarray
    lambda_phi: float
    precession_per_scattering: np.ndarray

    @property
    def D_si(self):
        """D in m²/s (1 nm²/fs = 10⁻³ m²/s)."""
        return self.D * 1e-3

    def diffusion_lengths(self):
        """``dict(lambda_J=..., lambda_phi=..., lambda_sf=...)`` for :func:`~.diffusion.diffusion_torque`."""
        return {"lambda_J": self.lambda_J, "lambda_phi": self.lambda_phi, "lambda_sf": self.lambda_sf}


def _rate(name, value):
    r = np.asarray(value)
    if r.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` must be a real rate ħ/τ in eV, got {value!r}.")
    if np.any(~np.isfinite(r)):
        raise ValueError(f"`{name}` must be a finite rate ħ/τ in eV, got {value!r}.")
    if np.any(r < 0):
        raise ValueError(f"`{name}` must be a rate ħ/τ >= 0 eV, got {value!r}.")
    return r.astype(float)


def _scalar(x):
    x = np.asarray(x)
    return float(x) if x.ndim == 0 else x


def _hbar_over(rate):
    """ħ/rate in fs, inf for rate 0."""
    with np.errstate(divide="ignore"):
        return np.where(rate > 0, HBAR_EV_FS / np.where(rate > 0, rate, 1.0), np.inf)


def diffusion_parameters_from_bands(bands, momentum, spin_flip):
    r"""Map the rates ħ/τ_m, ħ/τ_sf and a layer's spin bands onto D, λ_sf, λ_J, λ_φ.

    Parameters
    ----------
    bands : SpinBands
        Fermi wavevectors, velocities and densities of states of both spins, and Δ
        (:func:`free_electron_bands`, or from any band structure).
    momentum : float or array_like
        ħ/τ_m ≥ 0 (eV), spin-averaged momentum-relaxation rate (DESIGN §8 ``momentum``).
    spin_flip : float or array_like
        ħ/τ_sf ≥ 0 (eV), relaxation rate of the spin accumulation (``spin_flip``).
        ``momentum`` and ``spin_flip`` broadcast together.

    Returns
    -------
    DiffusionParameters
        Arrays of the broadcast shape (floats for scalar rates).

    Raises
    ------
    ValueError
        If a rate is negative or not finite.

    Notes
    -----
    With N̄ = (N↑ + N↓)/2 (conventions 2–4 of the module docstring):

    .. math::
        \frac{\hbar}{\tau_\sigma} = \frac{\hbar}{\tau_m}\frac{N_\sigma}{\bar N}
          + \frac{\hbar}{\tau_{sf}}\frac{N_\sigma + 2N_{\bar\sigma}}{4\bar N},\qquad
        D_\sigma = \frac{v_\sigma^2\tau_\sigma}{3},\qquad
        D = \frac{N_\uparrow D_\uparrow + N_\downarrow D_\downarrow}{N_\uparrow + N_\downarrow},

    D↑,↓ is Einstein's relation per spin (σ_σ = e²N_σD_σ, the 3D kinetic D = v²τ/3).
    The one D of Eqs. (20)–(21) is taken as the DOS-weighted mean, the charge diffusion
    constant σ/(e²N) fixed by the layer's conductivity and total density of states.  The
    choice of mean matters only where the transverse diffusion model is outside its
    validity: that model needs Δτ_m/ħ ≲ 1, which with k_Fℓ ≫ 1 implies Δ ≪ E_F, where
    D↑ = D↓ + O(Δ/E_F).

    Lengths of Eq. (23), :math:`\lambda_i = \sqrt{D\tau_i}` as in Eqs. (20)–(21):

    * :math:`\lambda_{sf} = \sqrt{D\tau_{sf}}` (DESIGN §8).  The longitudinal accumulation of
      a ferromagnet relaxes over the Valet–Fert length (PRB **48**, 7099 (1993)),
      :math:`\lambda_{sf,\parallel}^{-2} = (D_\uparrow\tau_{\uparrow\downarrow})^{-1}
      + (D_\downarrow\tau_{\downarrow\uparrow})^{-1}` with
      :math:`1/\tau_{\sigma\bar\sigma} = N_{\bar\sigma}/((N_\uparrow+N_\downarrow)\tau_{sf})`,
      returned as ``lambda_sf_longitudinal``; for Δ = 0 both are equal.
    * :math:`\tau_J = \hbar/\Delta`, :math:`\lambda_J = \sqrt{\hbar D/\Delta}`: a spin transverse
      to m precesses at Δ/ħ under −(Δ/2)m·σ.  This is the precession length of Zhang, Levy &
      Fert, PRL **88**, 236601 (2002), there written √(2ħD₀/J) for their s–d constant J, and
      the Larmor length of Petitjean, Luc & Waintal, PRL **109**, 117204 (2012).
    * :math:`\lambda_\phi = \pi/|k_\uparrow - k_\downarrow|` and
      :math:`\tau_\phi = \lambda_\phi^2/D`.  The model paper's λ_φ (Sec. 3.1, Fig. 1) is the
      length over which the Fermi-surface average of the precession e^{i(k↑−k↓)x} (Sec. 3.2;
      Stiles & Zangwill, PRB **66**, 014407 (2002)) cancels the transverse spin.  That
      averaging gives a power law, not an exponential, so a length scale has to be chosen.
      We take half a precession period, the form in which the transverse spin coherence
      length is usually quoted (e.g. Brataas, Bauer & Kelly, Phys. Rep. **427**, 157 (2006)).  For Δ ≪ E_F the flux-weighted
      average ∫₀¹ 2μ e^{iqx/μ} dμ, q = k↑ − k↓, has fallen to 0.46 at x = λ_φ.  λ_φ does not
      depend on the rates: transverse spin is absorbed in a ballistic layer too.  Eq. (23)
      depends on τ_φ only through λ_φ.  Petitjean et al. fit the corresponding length ℓ_⊥ to
      ballistic or ab-initio results, and so can the user here.

    Ballistic limit: both rates → 0 give τ, ℓ, D, λ_sf, λ_J → ∞ and λ_φ finite.  Then
    1/L² → 1/λ_φ² and Eq. (23) gives an interfacial torque for d ≫ λ_φ (Sec. 3).

    Examples
    --------
    >>> p = diffusion_parameters(2.62, 0.0, 3.86, momentum=0.05, spin_flip=0.01)
    >>> round(p.D, 2), round(p.lambda_sf, 1), round(p.lambda_J, 2), round(p.lambda_phi, 3)
    (3.63, 15.5, 0.79, 0.471)
    """
    if not isinstance(bands, SpinBands):
        raise TypeError(f"`bands` must be a SpinBands, got {type(bands).__name__}.")
    hm = _rate("momentum", momentum)
    hs = _rate("spin_flip", spin_flip)
    hm, hs = np.broadcast_arrays(hm, hs)
    b = bands
    n_up, n_dn = b.dos_up, b.dos_down
    n_bar = 0.5 * (n_up + n_dn)
    rate_up = hm * n_up / n_bar + hs * (n_up + 2 * n_dn) / (4 * n_bar)
    rate_dn = hm * n_dn / n_bar + hs * (n_dn + 2 * n_up) / (4 * n_bar)
    tau_up, tau_dn = _hbar_over(rate_up), _hbar_over(rate_dn)
    l_up, l_dn = b.v_up * tau_up, b.v_down * tau_dn
    d_up, d_dn = b.v_up**2 * tau_up / 3.0, b.v_down**2 * tau_dn / 3.0
    n_tot = n_up + n_dn
    d_f = (n_up * d_up + n_dn * d_dn) / n_tot
    tau_sf = _hbar_over(hs)
    with np.errstate(invalid="ignore"):
        lam_sf = np.sqrt(d_f * tau_sf)
        # 1/λ² = (1/τ_sf) (N↓/D↑ + N↑/D↓)/(N↑+N↓); inf when τ_sf or D is inf
        inv_l2 = np.where(
            np.isinf(tau_sf) | np.isinf(d_up),
            0.0,
            (n_dn / d_up + n_up / d_dn) / (n_tot * np.where(np.isinf(tau_sf), 1.0, tau_sf)),
        )
        lam_sf_long = np.where(inv_l2 > 0, 1.0 / np.sqrt(np.where(inv_l2 > 0, inv_l2, 1.0)), np.inf)
    tau_j = HBAR_EV_FS / b.exchange if b.exchange > 0 else np.inf
    lam_j = np.sqrt(d_f * tau_j)
    dk = abs(b.k_up - b.k_down)
    lam_phi = np.pi / dk if dk > 0 else np.inf
    with np.errstate(invalid="ignore", divide="ignore"):
        tau_phi = np.where(np.isinf(d_f), 0.0, lam_phi**2 / d_f) if np.isfinite(lam_phi) else np.full(
            d_f.shape, np.inf
        )
    tau_m = _hbar_over(hm)
    precession = b.exchange * tau_m / HBAR_EV_FS if b.exchange > 0 else np.zeros(tau_m.shape)
    mfp = (n_up * l_up + n_dn * l_dn) / n_tot
    return DiffusionParameters(
        bands=b, momentum=_scalar(hm), spin_flip=_scalar(hs), tau_m=_scalar(tau_m),
        tau_sf=_scalar(tau_sf), tau_up=_scalar(tau_up), tau_down=_scalar(tau_dn),
        mean_free_path_up=_scalar(l_up), mean_free_path_down=_scalar(l_dn),
        mean_free_path=_scalar(mfp), D_up=_scalar(d_up), D_down=_scalar(d_dn), D=_scalar(d_f),
        lambda_sf=_scalar(lam_sf), lambda_sf_longitudinal=_scalar(lam_sf_long),
        tau_J=float(tau_j), lambda_J=_scalar(lam_j), tau_phi=_scalar(tau_phi),
        lambda_phi=float(lam_phi), precession_per_scattering=_scalar(precession),
    )


def diffusion_parameters(fermi_energy, band_bottom, exchange, momentum, spin_flip, *, mass=1.0):
    r"""D, mean free paths, λ_sf, λ_J, λ_φ of a free-electron layer for rates ħ/τ_m, ħ/τ_sf.

    Parameters
    ----------
    fermi_energy : float
        E_F (eV).
    band_bottom : float
        Spin-averaged band bottom U of the layer (eV), the layer's ``potential``.
    exchange : float
        Δ ≥ 0 (eV); 0 for a normal metal (then λ_J = λ_φ = ∞ and λ_sf is the λ_N of a cap).
    momentum, spin_flip : float or array_like
        ħ/τ_m and ħ/τ_sf ≥ 0 (eV), DESIGN §8; broadcast together.
    mass : float
        Effective mass (m_e).

    Returns
    -------
    DiffusionParameters
        See :func:`diffusion_parameters_from_bands` for the formulas and sources.

    Raises
    ------
    ValueError
        For a negative rate, or a spin band without a Fermi surface.

    Examples
    --------
    Bundled Fe-like free layer (``fifn_2nm``: U = 0, Δ = 3.86 eV, E_F = 2.62 eV):

    >>> p = diffusion_parameters(2.62, 0.0, 3.86, momentum=0.05, spin_flip=0.01)
    >>> round(p.mean_free_path_up, 1), round(p.mean_free_path_down, 1)
    (10.6, 8.9)
    """
    return diffusion_parameters_from_bands(
        free_electron_bands(fermi_energy, band_bottom, exchange, mass), momentum, spin_flip
    )


# --------------------------------------------------------------------------------------------
# SCBA strengths
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScbaStrengths:
    r"""Strengths of the SCBA self-energies for given rates (convention of the coming solver).

    Attributes
    ----------
    momentum : float
        γ_m (eV² nm³): Σ(r) = γ_m G(r, r), on a lattice Σ_jj = (γ_m/Ω) G_jj.
    spin_flip : float
        γ_s (eV² nm³): Σ(r) = γ_s Σ_α σ_α G(r, r) σ_α.
    dos : float
        N̄ = (N↑ + N↓)/2 used (1/(eV nm³) per spin).
    """

    momentum: float
    spin_flip: float
    dos: float

    def per_site(self, site_volume):
        """(D, D_s) in eV² for a lattice with ``site_volume`` Ω (nm³) per site: γ/Ω.

        For the package's chain with an integral over k∥ (DESIGN §5, §8), a site is a slab
        of spacing a and Σ_jj = (γ/a) ∫ d²k∥/(2π)² G_jj(k∥): pass ``site_volume=a`` and
        read the result in eV² nm².
        """
        if not (np.isfinite(site_volume) and site_volume > 0):
            raise ValueError(f"`site_volume` must be a finite volume > 0 nm³, got {site_volume!r}.")
        return self.momentum / site_volume, self.spin_flip / site_volume


def scba_strengths(momentum, spin_flip, dos_up, dos_down):
    r"""The SCBA strengths γ_m, γ_s that produce the rates ħ/τ_m, ħ/τ_sf of DESIGN §8.

    Parameters
    ----------
    momentum, spin_flip : float
        ħ/τ_m, ħ/τ_sf ≥ 0 (eV) at the Fermi energy.
    dos_up, dos_down : float
        Densities of states per spin and volume at E_F (1/(eV nm³)), e.g. ``SpinBands.dos_up``;
        their sum must be > 0.

    Returns
    -------
    ScbaStrengths
        :math:`\gamma_m = (\hbar/\tau_m)/(2\pi\bar N)`,
        :math:`\gamma_s = (\hbar/\tau_{sf})/(8\pi\bar N)`, :math:`\bar N = (N_\uparrow+N_\downarrow)/2`.

    Notes
    -----
    This is the convention the SCBA solver will use (module docstring, points 1–3).
    Golden rule: :math:`\Gamma_\sigma = i(\Sigma-\Sigma^\dagger)_{\sigma\sigma} = 2\pi\gamma_m N_\sigma`,
    so the spin-averaged momentum rate is :math:`2\pi\gamma_m\bar N`.  For the spin-flip
    self-energy, :math:`\sum_\alpha\sigma_\alpha\,\mathrm{diag}(G_\uparrow,G_\downarrow)\,\sigma_\alpha
    = \mathrm{diag}(G_\uparrow+2G_\downarrow,\;G_\downarrow+2G_\uparrow)`.  The flip rates are
    then :math:`4\pi\gamma_s N_{\bar\sigma}/\hbar`, and their sum :math:`8\pi\gamma_s\bar N/\hbar`
    is the 1/τ_sf at which μ↑ − μ↓ relaxes.  In a normal metal, out-scattering
    (3·2πγ_sN) and in-scattering (Σ_α σ_α σ σ_α = −σ, i.e. −2πγ_sN) of the spin density
    add to the same 8πγ_sN for every component.  The Born map ignores the self-consistent change
    of the density of states (relative size ~ħ/(τE_F)) and the real part of Σ, a constant shift
    of the band bottom that a lattice solver either keeps or subtracts.

    Examples
    --------
    >>> s = scba_strengths(0.05, 0.01, 1.0, 1.0)
    >>> round(2 * np.pi * s.momentum * s.dos, 12), round(8 * np.pi * s.spin_flip * s.dos, 12)
    (0.05, 0.01)
    """
    hm = float(_rate("momentum", momentum))
    hs = float(_rate("spin_flip", spin_flip))
    for name, v in (("dos_up", dos_up), ("dos_down", dos_down)):
        if not (np.isfinite(v) and v >= 0):
            raise ValueError(f"`{name}` must be a density of states >= 0 (1/(eV nm³)), got {v!r}.")
    n_bar = 0.5 * (dos_up + dos_down)
    if n_bar <= 0:
        raise ValueError("`dos_up` + `dos_down` must be > 0: no states at the Fermi energy.")
    return ScbaStrengths(
        momentum=hm / (2 * np.pi * n_bar), spin_flip=hs / (8 * np.pi * n_bar), dos=float(n_bar)
    )


# --------------------------------------------------------------------------------------------
# per-site strengths on a junction's chain
# --------------------------------------------------------------------------------------------
def tight_binding_dos(energy, onsite, hopping, lattice_constant):
    r"""Density of states per spin and volume of the simple-cubic band, 1/(eV nm³).

    Parameters
    ----------
    energy : float
        E (eV).
    onsite : float
        Band centre ε (eV): the band is ε − 2t(cos k_x a + cos k_y a + cos k_z a), from
        ε − 6t to ε + 6t.  For spin σ of a layer pass ε_layer ∓ Δ/2 (majority: −).
    hopping : float
        t > 0 (eV), the same along x and in the plane (DESIGN §3).
    lattice_constant : float
        a > 0 (nm).

    Returns
    -------
    float
        N(E) ≥ 0 in 1/(eV nm³); 0 outside the band.  ∫ N dE = 1/a³.

    Raises
    ------
    ValueError
        A parameter that is not finite, or t ≤ 0, a ≤ 0.

    Notes
    -----
    The band is a 1D chain along x plus the square-lattice ε∥:
    :math:`N(E) = a^{-3}\int d\varepsilon_\parallel\,\rho_{2D}(\varepsilon_\parallel)\,
    \rho_{1D}(E-\varepsilon-\varepsilon_\parallel)`, with
    :math:`\rho_{1D}(x) = 1/(\pi\sqrt{4t^2-x^2})` and ρ₂D the normalised DOS of
    ε∥ = −2t(cos k_y a + cos k_z a) (:func:`mtj_kwant.transverse.tb_dos`, an elliptic K).
    The substitution x = −2t cos k removes the inverse square roots of ρ₁D
    (ρ₁D dx = dk/π):

    .. math:: N(E) = \frac{1}{\pi a^3}\int_0^\pi dk\;\rho_{2D}(E - \varepsilon + 2t\cos k),

    integrated by adaptive quadrature (QUADPACK QAGP) with break points at the logarithmic
    van Hove singularity of ρ₂D (argument 0) and at its band edges (argument ±4t).
    Relative accuracy ~1e-10, checked in the tests against a Gaussian-broadened k-grid sum
    and the exact moments (∫N = a⁻³, ∫(E−ε)²N = 6t²a⁻³).

    Examples
    --------
    >>> n = tight_binding_dos(0.0, 0.0, 1.0, 1.0)   # band centre, 1/(eV nm³)
    >>> 0.14 < n < 0.15
    True
    """
    from scipy.integrate import quad

    for name, v in (("energy", energy), ("onsite", onsite), ("hopping", hopping),
                    ("lattice_constant", lattice_constant)):
        if isinstance(v, bool) or not np.isfinite(v):
            raise ValueError(f"`{name}` must be a finite number, got {v!r}.")
    if hopping <= 0:
        raise ValueError(f"`hopping` must be > 0 eV, got {hopping!r}.")
    if lattice_constant <= 0:
        raise ValueError(f"`lattice_constant` must be > 0 nm, got {lattice_constant!r}.")
    t = float(hopping)
    x = float(energy) - float(onsite)
    if abs(x) >= 6.0 * t:
        return 0.0
    points = []
    for edge in (0.0, 4.0 * t, -4.0 * t):  # x + 2t cos k = edge
        c = (edge - x) / (2.0 * t)
        if -1.0 < c < 1.0:
            points.append(float(np.arccos(c)))
    value, _ = quad(lambda k: float(tb_dos(x + 2.0 * t * np.cos(k), t)), 0.0, np.pi,
                    points=sorted(points) or None, limit=200, epsabs=0.0, epsrel=1e-11)
    return value / (np.pi * float(lattice_constant) ** 3)


def _layer_dos(junction, index, layer):
    """(N↑, N↓) of a scattering layer at E_F, 1/(eV nm³); refuses a band without Fermi surface."""
    from ..model import JunctionError

    key = f"layer[{index}]"
    pot = layer.potential
    if callable(pot) or isinstance(pot, tuple):
        raise JunctionError(f"{key}.scattering: a layer with scattering needs a constant "
                            "potential (one number); its rates are defined for the layer's bulk "
                            "bands at E_F")
    e_f, delta = junction.fermi_energy, layer.exchange
    fe = junction.model == "free-electron"
    t = None if fe else junction.hopping_of(layer)
    centres = (pot - 0.5 * delta, pot + 0.5 * delta)  # majority, minority
    for spin, centre in zip(("majority (up)", "minority (down)"), centres):
        low, high = (centre, np.inf) if fe else (centre - 6.0 * t, centre + 6.0 * t)
        if not low < e_f < high:
            band = f"from {low:g} eV" + ("" if np.isinf(high) else f" to {high:g} eV")
            raise JunctionError(
                f"{key}.scattering: the {spin} band ({band}) has no Fermi surface at "
                f"E_F = {e_f:g} eV; the rates ħ/τ are defined on the Fermi surfaces of both "
                "spins (a half metal or an empty/full band cannot carry [layer.scattering])")
    if fe:
        b = free_electron_bands(e_f, pot, delta, junction.mass_of(layer))
        return b.dos_up, b.dos_down
    return tuple(tight_binding_dos(e_f, c, t, junction.lattice_constant) for c in centres)


def scba_self_energy_strengths(junction, chain=None):
    r"""Per-site strengths (D_m, D_s) of the SCBA self-energies of a junction's chain.

    Parameters
    ----------
    junction : mtj_kwant.model.Junction
        Its layers' ``scattering`` tables give the rates ħ/τ_m, ħ/τ_sf (eV) at E_F
        (DESIGN §8).
    chain : mtj_kwant.model.Chain, optional
        The discretised junction the solver works on; default ``junction.chain()``.  For a
        continuum free-electron junction, pass the chain of the lattice actually used
        (``junction.at_spacing(a).chain()``): D depends on the step a.

    Returns
    -------
    D_m, D_s : ndarray, shape (N,)
        In eV² nm², N = ``chain.n_sites``; zero on electrode (pad) sites and in layers
        without scattering.  The self-energies of site j are

        .. math::
            \Sigma_j = D_{m,j}\int\frac{d^2k_\parallel}{(2\pi)^2}G_{jj}(E,k_\parallel)
            \;+\; D_{s,j}\sum_{\alpha=x,y,z}\sigma_\alpha\Big[\int\frac{d^2k_\parallel}{(2\pi)^2}
            G_{jj}(E,k_\parallel)\Big]\sigma_\alpha

        (eV), with G_jj the 2×2 chain Green's function (1/eV) and ∫d²k∥/(2π)² in nm⁻²
        (tight binding: the Brillouin-zone average divided by a²).

    Raises
    ------
    JunctionError
        A scattering layer (nonzero rate) whose majority or minority band has no Fermi
        surface at E_F (half metal, E_F below a band bottom; tight binding also above a
        band top), or with a potential profile instead of one number; a ``chain`` that
        does not belong to ``junction``.  One line, naming ``layer[i].scattering``.

    Notes
    -----
    *Disorder strengths.*  For each layer with scattering, its bulk spin bands at the
    junction's Fermi energy (no bias: right of the barrier the potential and μ_R shift
    together by −eV/2, so the kinetic energy at the Fermi level is unchanged) give the
    densities of states per spin and volume N↑, N↓ (1/(eV nm³)):

    * free electron: :func:`free_electron_bands` with band bottom U = the layer's potential,
      Δ its exchange, m its effective mass (or the junction's):
      N_σ = m m_e k_σ/(2π²ħ²);
    * tight binding: :func:`tight_binding_dos` of the band ε_layer − 2t(cos k_x a +
      cos k_y a + cos k_z a) ∓ Δ/2 with the layer's hopping t and the lattice constant a.

    With N̄ = (N↑ + N↓)/2, :func:`scba_strengths` gives γ_m = (ħ/τ_m)/(2πN̄) and
    γ_s = (ħ/τ_sf)/(8πN̄) (eV² nm³; conventions 1–3 of the module docstring).

    *From γ to the chain.*  The Born self-energy of white-noise disorder
    ⟨V(r)V(r′)⟩ = γ δ³(r − r′) is local, Σ(r) = γ G(r, r), and does not depend on k∥.  A site
    of the layered chain is a plane of thickness a = ``chain.step`` (nm): chain states are
    |j⟩ = √a |x_j⟩, so the continuum Green's function at x_j is G(x_j, x_j; k∥) = G_jj(k∥)/a
    (1/(eV nm)), and

    .. math::
        G(\mathbf r,\mathbf r) = \frac1a\int\frac{d^2k_\parallel}{(2\pi)^2}
        G_{jj}(E,k_\parallel)\quad[1/(\mathrm{eV\,nm^3})].

    A local potential enters the chain's onsite energy as it is, so Σ_jj = γ G(r, r) and
    D = γ/a (eV² nm³ / nm = eV² nm²), i.e. :meth:`ScbaStrengths.per_site` with
    ``site_volume = a``.  In tight binding this is γ/a³ times the Brillouin-zone average of
    G_jj, the lattice form Σ_jj = (γ/Ω) G_jj of the module docstring with Ω = a³.
    Consequently 2π D_m a N̄ = ħ/τ_m and 8π D_s a N̄ = ħ/τ_sf on every site of the layer.

    The free-electron densities of states are those of the continuum bands, not of the
    discretised chain (which differ by O((k a)²)); the rates are therefore those of the
    continuum model, which the a → 0 extrapolation of DESIGN §3 targets.  A layer whose
    table has both rates 0 gives zeros and is not checked for a Fermi surface.

    Examples
    --------
    >>> import mtj_kwant as mk
    >>> j = mk.junction_with(mk.load_junction("fifn_2nm"),
    ...                      {"layer[1].scattering.momentum": 0.05})
    >>> chain = j.chain()
    >>> d_m, d_s = scba_self_energy_strengths(j, chain)
    >>> d_m.shape == (chain.n_sites,), float(d_s.max())
    (True, 0.0)
    """
    from ..model import JunctionError

    if chain is None:
        chain = junction.chain()
    n = chain.n_sites
    n_layers = len(junction.layers)
    if chain.model != junction.model or (n and int(np.max(chain.layer_index)) != n_layers):
        raise JunctionError("chain: it does not belong to this junction (model or number of "
                            "layers differ); pass junction.chain() or leave chain out")
    a = float(chain.step)
    d_m, d_s = np.zeros(n), np.zeros(n)
    for i, layer in enumerate(junction.layers):
        sc = layer.scattering
        if sc is None or not sc.active:
            continue
        sites = np.asarray(chain.layer_index) == i
        if not (np.all(chain.momentum_rate[sites] == sc.momentum)
                and np.all(chain.spin_flip_rate[sites] == sc.spin_flip)):
            raise JunctionError(f"chain: its rates on layer[{i}] differ from "
                                f"layer[{i}].scattering; pass junction.chain()")
        n_up, n_dn = _layer_dos(junction, i, layer)
        gm, gs = scba_strengths(sc.momentum, sc.spin_flip, n_up, n_dn).per_site(a)
        d_m[sites], d_s[sites] = gm, gs
    return d_m, d_s
