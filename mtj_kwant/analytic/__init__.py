"""Analytic models of tunnelling spin torques (NumPy/SciPy only; no Kwant).

Submodules
----------
btm
    Bardeen transfer-matrix model, Eqs. (3)–(13) of the model paper: currents and torques at
    any bias and temperature, the symmetric form (10)–(11), a free-electron parameterisation
    and :func:`btm_from_junction`.
slonczewski
    Slonczewski's free-electron limits: polarization P, out-of-plane factor Q, exact and
    thick-barrier transmissions, per-area conductances and torkances.
inelastic
    Electron–phonon and electron–magnon corrections, Eqs. (16)–(19).
diffusion
    Spin diffusion in a free layer under a normal-metal cap, Eqs. (20)–(25).
relaxation
    The map from scattering rates ħ/τ_m, ħ/τ_sf and a layer's bands to D, λ_sf, λ_J, λ_φ of
    the diffusion model, and the SCBA strengths for the same rates (DESIGN §8).
fits
    Polynomial fits of T(V) with uncertainties (a0, a1, a2 / b0, b1, b2).
"""

from .btm import (
    BTMElectrode,
    BTMModel,
    BTMResult,
    FreeElectronBTM,
    btm_conductance,
    btm_current,
    btm_from_junction,
    btm_torques,
    free_electron_btm,
    symmetric_form_torques,
)
from .diffusion import (
    cap_eta,
    diffusion_torque,
    figure4_profiles,
    mixing_coefficients,
    solve_diffusion_bvp,
    spin_accumulation_profile,
    thick_layer_limit,
)
from .fits import PolynomialFit, fit_bias_polynomial, fit_inplane, fit_outofplane
from .inelastic import (
    magnon_inplane_correction,
    magnon_outofplane_correction,
    phonon_inplane_torque,
    phonon_outofplane_correction,
)
from .relaxation import (
    diffusion_parameters,
    diffusion_parameters_from_bands,
    free_electron_bands,
    scba_strengths,
)
from .slonczewski import (
    FreeElectronElectrode,
    conductance_per_area,
    out_of_plane_factor,
    polarization,
    rectangular_barrier_transmission,
    slonczewski_per_area,
    thick_barrier_transmission,
)

__all__ = [
    # btm
    "BTMElectrode",
    "BTMModel",
    "BTMResult",
    "FreeElectronBTM",
    "btm_conductance",
    "btm_current",
    "btm_from_junction",
    "btm_torques",
    "free_electron_btm",
    "symmetric_form_torques",
    # slonczewski
    "FreeElectronElectrode",
    "conductance_per_area",
    "out_of_plane_factor",
    "polarization",
    "rectangular_barrier_transmission",
    "slonczewski_per_area",
    "thick_barrier_transmission",
    # inelastic
    "magnon_inplane_correction",
    "magnon_outofplane_correction",
    "phonon_inplane_torque",
    "phonon_outofplane_correction",
    # diffusion
    "cap_eta",
    "diffusion_torque",
    "figure4_profiles",
    "mixing_coefficients",
    "solve_diffusion_bvp",
    "spin_accumulation_profile",
    "thick_layer_limit",
    # relaxation
    "diffusion_parameters",
    "diffusion_parameters_from_bands",
    "free_electron_bands",
    "scba_strengths",
    # fits
    "PolynomialFit",
    "fit_bias_polynomial",
    "fit_inplane",
    "fit_outofplane",
]
