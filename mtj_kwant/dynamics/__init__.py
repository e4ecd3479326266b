r"""Magnetization dynamics of the free layer (macrospin LLGS) driven by the computed torques.

The free layer is one macrospin m(t) (:class:`Macrospin`: M_s, thickness, area, damping,
uniaxial anisotropy, demagnetising factors, applied field, pinned-layer direction p,
temperature).  A torque model gives T(x, θ) = a m×(p×m) + b m×p in (ħ/2e)·A/m² (DESIGN §1)
as a function of the drive x (current density or bias) and cos θ = m·p:

- :class:`ConstantTorque` (constant efficiencies η∥, η⊥, and b₀),
- :class:`SlonczewskiTorque` (P, Λ, ε′ of mumax3 / OOMMF / ubermag),
- :class:`PolynomialTorque` (a₁, a₂, b₀, b₁, b₂ of the bias fits, × sin θ),
- :class:`TabulatedTorque` (T∥(V, θ), T⊥(V, θ), J(V, θ) of a scan, interpolated).

:func:`integrate` solves the Landau–Lifshitz–Gilbert–Slonczewski equation (rk45, or the
stochastic Heun scheme with a thermal field), :func:`ensemble` runs many thermal samples,
:func:`critical_drive` / :func:`neel_brown_time` give the analytic limits and
:func:`export_parameters` writes the torque parameters for mumax3, OOMMF, ubermag and cmtj.
Conventions and the conversion to dm/dt are in :mod:`~mtj_kwant.dynamics.solve`.

Example::

    from mtj_kwant.dynamics import Macrospin, ConstantTorque, integrate, critical_drive, tilted
    fl = Macrospin(Ms=1.0e6, thickness=1.5, area=40 * 40, alpha=0.01, Ku=1.0e6)
    torque = ConstantTorque(eta_par=0.5)
    jc = critical_drive(fl, torque)                   # A/m^2, < 0: switches P -> AP
    tr = integrate(fl, torque, 2 * jc, 20e-9, m0=tilted(fl.p, 0.01), stop_on_switch=True)
    print(jc, tr.switching_time)

No part of this subpackage imports Kwant or cmtj (cmtj is imported only by
:func:`~mtj_kwant.dynamics.export.cmtj_junction`).
"""

from ._common import DynamicsError, DynamicsWarning
from .export import ExportedParameters, cmtj_junction, export_parameters
from .limits import (critical_current, critical_drive, neel_brown_time, relaxation_time,
                     stiffness_fields)
from .macrospin import Macrospin
from .solve import (EnsembleResult, SwitchingThreshold, Trajectory, dm_dt, ensemble, heun_max_dt,
                    integrate,
                    switching_threshold, switching_time, tilted)
from .torques import (ConstantTorque, PolynomialTorque, SlonczewskiTorque, TabulatedTorque,
                      TorqueModel)

__all__ = [
    "DynamicsError", "DynamicsWarning", "Macrospin",
    "TorqueModel", "ConstantTorque", "SlonczewskiTorque", "PolynomialTorque", "TabulatedTorque",
    "integrate", "ensemble", "heun_max_dt", "dm_dt", "Trajectory", "EnsembleResult", "switching_time",
    "switching_threshold", "SwitchingThreshold", "tilted",
    "stiffness_fields", "critical_drive", "critical_current", "neel_brown_time",
    "relaxation_time",
    "export_parameters", "ExportedParameters", "cmtj_junction",
]
