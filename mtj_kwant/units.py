"""Physical constants and the fixed internal units of the package.

Internal units are fixed: energies in eV, lengths in nm, bias in V, temperature
in K.  Angles are radians inside the Python API and degrees at the command line
and in junction files.  There is no global unit state; conversions happen at the
edges (file loading, command line, output metadata).
"""

import math


class _CODATA:
    """SI constants, CODATA 2022 (the values of ``scipy.constants`` 1.17, written out so that
    importing the package does not import scipy.constants; tests/test_physics.py checks them
    against scipy's).  h, e and k are exact in the SI since 2019."""

    h = 6.62607015e-34              # J s
    hbar = h / (2 * math.pi)        # J s
    e = 1.602176634e-19             # C
    k = 1.380649e-23                # J/K
    m_e = 9.1093837139e-31          # kg
    mu_0 = 1.25663706127e-06        # T m/A
    gamma_e = 1.76085962784e11      # rad/(s T), electron gyromagnetic ratio |γ_e|


_c = _CODATA

#: ħ²/(2 m_e) in eV nm² (DESIGN.md §3).
HBAR2_2ME = _c.hbar**2 / (2 * _c.m_e) / _c.e * 1e18
#: Boltzmann constant in eV/K.
K_B = _c.k / _c.e
#: Conductance quantum per spin e²/h in A/V.
E2_H = _c.e**2 / _c.h
#: Electron flux of one channel per eV of energy window, times e: e/h × 1 eV, in A/eV.
E_OVER_H = _c.e / _c.h * _c.e
#: ħ in eV·fs.
HBAR_EV_FS = _c.hbar / _c.e * 1e15
#: 1 / nm² in 1 / m².
PER_NM2 = 1e18
#: 1 / nm³ in 1 / m³.
PER_NM3 = 1e27

# SI values for the magnetization dynamics (mtj_kwant.dynamics works in SI units).
#: Vacuum permeability μ₀ (T·m/A).
MU0 = _c.mu_0
#: Reduced Planck constant ħ (J·s).
HBAR_SI = _c.hbar
#: Elementary charge e (C).
E_CHARGE = _c.e
#: Boltzmann constant k_B (J/K).
K_B_SI = _c.k
#: Gyromagnetic ratio of the free electron |γ_e| (rad/(s·T)), CODATA 2022.
GAMMA_E = _c.gamma_e

#: Units of every output quantity, written into result metadata.
UNITS = {
    "bias_V": "V",
    "theta_deg": "deg",
    "phi_deg": "deg",
    "temperature_K": "K",
    "energy": "eV",
    "length": "nm",
    "current_density": "A/m^2 (e x electron flux from left to right per area)",
    "conductance": "S/m^2",
    "torque": "(hbar/2e) A/m^2 (spin current of e x flux of <sigma> per area)",
    "spin_current": "(hbar/2e) A/m^2",
    "spin_density": "<sigma> per nm^3",
    "torque_density": "(hbar/2e) A/m^2 per site",
    "spin_current_difference": "(hbar/2e) A/m^2 (J_in - J_out across the free layer)",
    "spin_flip_loss": "(hbar/2e) A/m^2 (spin lost to spin flips in the free layer; "
                      "difference = torque + loss)",
    "x_nm": "nm",
}
