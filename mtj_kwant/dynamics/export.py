r"""Torque parameters for mumax3, OOMMF, ubermag and cmtj, with their sign conventions.

The package's torque (DESIGN §1, §10) is T = a m×(p×m) + b m×p in (ħ/2e)·A/m², added to the
Gilbert form of the LLG equation as dm/dt ∋ γħT/(2eM_s d); a > 0 turns m toward p.  The four
codes write the Slonczewski torque as below (ε = PΛ²/[(Λ²+1) + (Λ²−1)m·p]; the export uses
Λ = 1, ε = P/2, unless the source is a :class:`~.torques.SlonczewskiTorque`).  The bias-free
part b₀ of b (interlayer exchange) is exported as a field along p in every code, since a
constant b is exactly the field H_b = −ħb₀/(2eμ₀M_sd) p.

========================  =================================  ==========================================
code (term)               torque (dm/dt), their symbols      exported values (J: current density, A/m²)
========================  =================================  ==========================================
mumax3 (Slonczewski,      Gilbert form γβε m×(p×m) − γβε′    J_z = J with FixedLayerPosition =
``cuda/slonczewski2.cu``) m×p, β = ħJ_z/(eM_s d), p =        FIXEDLAYER_TOP (J_z > 0: electrons from
                          FixedLayer                         the fixed into the free layer, our V > 0);
                                                             Pol = a/J, Lambda = 1, EpsilonPrime =
                                                             −(b−b₀)/(2J), B_ext += μ₀H_b (T),
                                                             GammaLL = γ (rad/(T·s)), FreeLayerThickness = d
OOMMF                     same, γ_G β ε with β = ħJ/(μ₀eM_s  J = J, P = a/J, Lambda = 1, eps_prime =
(``Oxs_SpinXferEvolve``)  d) (d: cell edge along             −(b−b₀)/(2J), mp = p, gamma_G = μ₀γ
                          J_direction)                       (m/(A·s)), one cell of height d along z;
                                                             Oxs_FixedZeeman H_b (A/m)
ubermag                   γ₀βε m×(m_p×m) − γ₀βε′ m×m_p,      J, P = |a/J| (P > 0 is required: when a/J < 0
(``mm.Slonczewski``)      β = |ħ/μ₀e| J/(tM_s)               J and eps_prime change sign), Lambda = 1,
                                                             eps_prime, mp = p; mm.Zeeman(H_b),
                                                             mm.Precession(gamma0 = μ₀γ)
cmtj (``createSTTLayer``) Landau–Lifshitz form without the   current J, spinPolarisation = (a − α(b−b₀))/J,
                          α cross terms: (1+α²)dm/dt ∋       SlonczewskiSpacerLayerParameter = 1, beta =
                          γ₀a_Jη[m×(p×m) + β m×p],           ((b−b₀) + αa)/(a − α(b−b₀)), Ms = μ₀M_s (T),
                          a_J = ħJ/(eμ₀M_s d)                H += H_b (A/m); constants: γ₀ = μ₀γ
========================  =================================  ==========================================

mumax3, OOMMF and ubermag add the spin torque to the Gilbert form, as this package does, so
their (P, ε′) carry over directly: a = 2Jε, b − b₀ = −2Jε′.  cmtj adds it to the
Landau–Lifshitz form, so the exported (η, β) fold in the α cross terms
(a − αb and b + αa are the Landau–Lifshitz coefficients of the Gilbert-form a, b).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._common import E_CHARGE, HBAR, MU0, DynamicsError
from .macrospin import Macrospin
from .torques import SlonczewskiTorque, TorqueModel

__all__ = ["export_parameters", "ExportedParameters", "cmtj_junction", "TARGETS"]

TARGETS = ("mumax3", "oommf", "ubermag", "cmtj")


@dataclass
class ExportedParameters:
    """Torque and macrospin parameters in a target code's names, units and conventions.

    Attributes
    ----------
    target : str
    drive : ndarray (n,)
        Operating points (V or A/m², ``drive_unit``); list-valued parameters are aligned.
    parameters : dict
        Name in the target code -> value: a list over ``drive`` where it depends on the
        operating point, a tuple for a vector, else a number or string.
    units : dict
        Name -> unit string.
    notes : list of str
        Conventions and caveats (sign choices, what is not representable).
    """

    target: str
    drive: np.ndarray
    drive_unit: str
    parameters: dict
    units: dict
    notes: list = field(default_factory=list)

    def at(self, index):
        """The parameters at one operating point (lists replaced by their ``index`` entry)."""
        return {k: (v[index] if isinstance(v, list) else v) for k, v in self.parameters.items()}

    def script(self, index=0):
        """A snippet of input for the target code at operating point ``index``."""
        p = self.at(index)
        f = lambda v: f"{v:.10g}"  # noqa: E731
        vec = lambda v: ", ".join(f(x) for x in v)  # noqa: E731
        if self.target == "mumax3":
            return "\n".join([
                f"Msat = {f(p['Msat'])}", f"alpha = {f(p['alpha'])}",
                f"Ku1 = {f(p['Ku1'])}", f"anisU = vector({vec(p['anisU'])})",
                f"B_ext = vector({vec(p['B_ext'])})", f"GammaLL = {f(p['GammaLL'])}",
                "FixedLayerPosition = FIXEDLAYER_TOP",
                f"FixedLayer = vector({vec(p['FixedLayer'])})",
                f"FreeLayerThickness = {f(p['FreeLayerThickness'])}",
                f"Pol = {f(p['Pol'])}", f"Lambda = {f(p['Lambda'])}",
                f"EpsilonPrime = {f(p['EpsilonPrime'])}", f"J = vector(0, 0, {f(p['J'])})",
            ])
        if self.target == "oommf":
            return "\n".join([
                "Specify Oxs_SpinXferEvolve:evolver {",
                f"  alpha {f(p['alpha'])}", f"  gamma_G {f(p['gamma_G'])}",
                f"  J {f(p['J'])}", "  J_direction -z",
                f"  mp {{{' '.join(f(x) for x in p['mp'])}}}",
                f"  P {f(p['P'])}", f"  Lambda {f(p['Lambda'])}",
                f"  eps_prime {f(p['eps_prime'])}", "}",
                "Specify Oxs_FixedZeeman {",
                f"  field {{{' '.join(f(x) for x in p['H_exchange'])}}}", "}",
            ])
        if self.target == "ubermag":
            return "\n".join([
                "import micromagneticmodel as mm",
                f"system.dynamics = (mm.Precession(gamma0={f(p['gamma0'])}) + "
                f"mm.Damping(alpha={f(p['alpha'])})",
                f"    + mm.Slonczewski(J={f(p['J'])}, mp=({vec(p['mp'])}), P={f(p['P'])}, "
                f"Lambda={f(p['Lambda'])}, eps_prime={f(p['eps_prime'])}))",
                f"system.energy += mm.Zeeman(H=({vec(p['H_exchange'])}))",
            ])
        return "\n".join([
            "import cmtj",
            "from cmtj import constants",
            f"constants.PhysicalConstants.set_gyromagnetic_ratio({f(p['gyromagnetic_ratio'])})",
            f"constants.PhysicalConstants.set_magnetic_permeability({f(p['magnetic_permeability'])})",
            f"layer = cmtj.Layer.createSTTLayer('free', mag=cmtj.CVector(*m0), "
            f"anis=cmtj.CVector({vec(p['anis'])}), Ms={f(p['Ms'])}, "
            f"thickness={f(p['thickness'])}, cellSurface={f(p['cellSurface'])}, "
            f"demagTensor=[cmtj.CVector(*row) for row in {list(p['demagTensor'])}], "
            f"damping={f(p['damping'])}, "
            f"SlonczewskiSpacerLayerParameter={f(p['SlonczewskiSpacerLayerParameter'])}, "
            f"beta={f(p['beta'])}, spinPolarisation={f(p['spinPolarisation'])})",
            f"layer.setReferenceLayer(cmtj.CVector({vec(p['reference'])}))",
            "junction = cmtj.Junction([layer])",
            f"junction.setLayerAnisotropyDriver('free', cmtj.constantDriver({f(p['K'])}))",
            f"junction.setLayerCurrentDriver('free', cmtj.constantDriver({f(p['current'])}))",
            f"junction.setLayerExternalFieldDriver('free', cmtj.AxialDriver({vec(p['H'])}))",
        ])


def _as_torque(source, part):
    if isinstance(source, TorqueModel):
        return source
    from ..sweep import SweepResult
    from .torques import PolynomialTorque

    if isinstance(source, SweepResult) or isinstance(source, (str, bytes)) or hasattr(
            source, "__fspath__"):
        return PolynomialTorque.from_sweep(source, part=part)
    raise DynamicsError(f"export_parameters: `source` must be a torque model or a sweep result "
                        f"(or its JSON path), got {type(source).__name__}.")


def export_parameters(source, target, *, macrospin, drive, part="total"):
    r"""The torque parameters of ``source`` at the operating points ``drive`` for ``target``.

    Parameters
    ----------
    source : TorqueModel, SweepResult or path
        A sweep is fitted with :meth:`PolynomialTorque.from_sweep` (``part``).
    target : {"mumax3", "oommf", "ubermag", "cmtj"}
    macrospin : Macrospin
        Supplies M_s, d, α, γ, p and (for the complete parameter sets) anisotropy and field.
    drive : float or array_like
        Operating points: biases (V) for voltage-driven models, current densities (A/m²) for
        current-driven ones.  The codes take constant efficiencies, so a bias-dependent
        torque is exported point by point.

    Returns
    -------
    ExportedParameters

    Raises
    ------
    DynamicsError
        For an unknown target, a model without a current density (voltage-driven, J needed by
        every target), or a torque the target cannot represent (cmtj with Λ ≠ 1 and ε′ ≠ 0).

    Notes
    -----
    Conventions in the module docstring.  For a voltage-driven model the exported current is
    J(V, θ = 90°); torque coefficients whose θ dependence is not sin θ (a tabulated model) are
    exported at θ = 90° and the largest deviation over θ is given in ``notes``.
    """
    if target not in TARGETS:
        raise DynamicsError(f"export_parameters: unknown target {target!r}; choose one of "
                            f"{', '.join(TARGETS)}.")
    if not isinstance(macrospin, Macrospin):
        raise DynamicsError("export_parameters: `macrospin` must be a Macrospin (M_s, thickness, "
                            "alpha, p, ...).")
    torque = _as_torque(source, part)
    x = np.atleast_1d(np.asarray(drive, float))
    torque.check_drive(x)
    al = macrospin.alpha
    d = macrospin.thickness * 1e-9
    ms = macrospin.Ms
    p = np.asarray(macrospin.p)
    notes = []
    slon = isinstance(torque, SlonczewskiTorque)
    a, b = (np.asarray(v, float) for v in torque.coefficients(x, 0.0))
    lo, hi = torque.drive_range
    b_eq = float(torque.coefficients(0.0, 0.0)[1]) if lo <= 0 <= hi else 0.0
    if slon:
        b_eq = 0.0
    bb = b - b_eq
    J = x.copy() if torque.drive == "current" else np.asarray(
        torque.current_density(x, 0.0), float)
    if not np.all(np.isfinite(J)):
        raise DynamicsError("export_parameters: the torque model has no current density, which "
                            "every target needs; give PolynomialTorque(current=(c1, c2, c3)) or "
                            "a sweep/scan with current_density.")
    # angular shape check (a, b ∝ sin θ?)
    cgrid = np.linspace(-1, 1, 21)
    if not slon:
        aa, bv = torque.coefficients(x[:, None], cgrid[None, :])
        dev = max(float(np.max(np.abs(aa - a[:, None]))) / max(float(np.max(np.abs(a))), 1e-300),
                  float(np.max(np.abs(bv - b[:, None]))) / max(float(np.max(np.abs(b))), 1e-300))
        if dev > 1e-9:
            notes.append(f"the torque is not exactly ∝ sin θ (largest relative deviation of a, b "
                         f"over θ: {dev:.3g}); exported at θ = 90°")
    h_b = -HBAR * b_eq / (2 * E_CHARGE * MU0 * ms * d)               # A/m along p
    H_b = (h_b * p).tolist()
    with np.errstate(divide="ignore", invalid="ignore"):
        zero = J == 0
        pol = np.where(zero, 0.0, a / np.where(zero, 1.0, J))
        epsp = np.where(zero, 0.0, -bb / (2 * np.where(zero, 1.0, J)))
    if np.any(zero & ((a != 0) | (bb != 0))):
        raise DynamicsError("export_parameters: a torque at zero current (J = 0) cannot be "
                            "written as an efficiency; drop that operating point.")
    if np.any(zero):
        notes.append("J = 0 at some operating points: their efficiencies are set to 0")
    if slon:
        pol = np.full(x.shape, torque.P)
        epsp = np.full(x.shape, torque.epsilon_prime)
        lam = torque.Lambda
    else:
        lam = 1.0
    ln = lambda v: [float(t) for t in v]  # noqa: E731  (per operating point: a list)
    tv = lambda v: tuple(float(t) for t in v)  # noqa: E731  (a vector: a tuple)
    u = tv(macrospin.easy_axis)
    params, units = {}, {}
    if target == "mumax3":
        params = dict(Msat=ms, alpha=al, Ku1=macrospin.Ku, anisU=u,
                      B_ext=tv(MU0 * (np.asarray(macrospin.H_applied) + h_b * p)),
                      GammaLL=macrospin.gamma, FixedLayer=tv(p), FreeLayerThickness=d,
                      FixedLayerPosition="FIXEDLAYER_TOP", J=ln(J), Pol=ln(pol), Lambda=lam,
                      EpsilonPrime=ln(epsp))
        units = dict(Msat="A/m", alpha="", Ku1="J/m^3", anisU="", B_ext="T", GammaLL="rad/(T s)",
                     FixedLayer="", FreeLayerThickness="m", FixedLayerPosition="", J="A/m^2 (z)",
                     Pol="", Lambda="", EpsilonPrime="")
        notes.append("mumax3: J_z > 0 with FIXEDLAYER_TOP drives electrons from the fixed into "
                     "the free layer (this package's V > 0); Pol < 0 is a negative efficiency")
    elif target == "oommf":
        params = dict(alpha=al, gamma_G=macrospin.gamma0, J=ln(J), J_direction="-z",
                      mp=tv(p), P=ln(pol), Lambda=lam, eps_prime=ln(epsp),
                      H_exchange=tv(H_b), Ms=ms, thickness=d)
        units = dict(alpha="", gamma_G="m/(A s)", J="A/m^2", J_direction="", mp="", P="",
                     Lambda="", eps_prime="", H_exchange="A/m (Oxs_FixedZeeman)", Ms="A/m",
                     thickness="m (one cell along J_direction)")
        notes.append("OOMMF: with a fixed mp (propagate_mp 0) J > 0 turns m toward mp; beta "
                     "uses the cell edge along J_direction, so mesh the free layer as one cell "
                     "of height d along z")
        if lam < 1:
            raise DynamicsError(f"export_parameters: OOMMF needs Lambda >= 1, got {lam}.")
    elif target == "ubermag":
        flip = pol < 0
        params = dict(gamma0=macrospin.gamma0, alpha=al, J=ln(np.where(flip, -J, J)),
                      mp=tv(p), P=ln(np.abs(pol)), Lambda=lam,
                      eps_prime=ln(np.where(flip, -epsp, epsp)), H_exchange=tv(H_b), Ms=ms)
        units = dict(gamma0="m/(A s)", alpha="", J="A/m^2", mp="", P="", Lambda="",
                     eps_prime="", H_exchange="A/m (mm.Zeeman)", Ms="A/m")
        if np.any(flip):
            notes.append("ubermag requires P > 0: where a/J < 0 the exported J and eps_prime "
                         "carry the sign (J·P and J·eps_prime are unchanged)")
    else:  # cmtj
        if slon:
            if lam != 1.0 and torque.epsilon_prime != 0.0:
                raise DynamicsError(
                    "export_parameters: cmtj cannot represent Lambda != 1 together with "
                    "epsilon_prime != 0 (its field-like term is beta times the angle-dependent "
                    "damping-like one); use Lambda = 1 or epsilon_prime = 0.")
            if lam != 1.0:
                spin_pol = np.full(x.shape, torque.P)
                beta = np.full(x.shape, al)
            else:
                # a = PJ, b = -2Jε' -> a - αb = J(P + 2αε'), b + αa = J(-2ε' + αP)
                spin_pol = np.full(x.shape, torque.P + 2 * al * torque.epsilon_prime)
                beta = (-2 * torque.epsilon_prime + al * torque.P) / spin_pol
        else:
            ll_a = a - al * bb
            ll_b = bb + al * a
            with np.errstate(divide="ignore", invalid="ignore"):
                spin_pol = np.where(zero, 0.0, ll_a / np.where(zero, 1.0, J))
                beta = np.where(ll_a == 0, 0.0, ll_b / np.where(ll_a == 0, 1.0, ll_a))
            if np.any((ll_a == 0) & (ll_b != 0)):
                raise DynamicsError("export_parameters: a purely field-like torque (a − αb = 0) "
                                    "cannot be written in cmtj's form (field-like = beta × "
                                    "damping-like); drop that operating point.")
        n = macrospin.demag_factors
        params = dict(Ms=MU0 * ms, thickness=d, cellSurface=macrospin.area * 1e-18,
                      damping=al, K=macrospin.Ku, anis=u,
                      demagTensor=((n[0], 0.0, 0.0), (0.0, n[1], 0.0), (0.0, 0.0, n[2])),
                      H=tv(np.asarray(macrospin.H_applied) + h_b * p),
                      reference=tv(p), current=ln(J), spinPolarisation=ln(spin_pol),
                      SlonczewskiSpacerLayerParameter=lam, beta=ln(beta),
                      temperature=macrospin.temperature,
                      gyromagnetic_ratio=macrospin.gamma0, magnetic_permeability=MU0,
                      hbar=HBAR, elementary_charge=E_CHARGE)
        units = dict(Ms="T (mu0 Ms)", thickness="m", cellSurface="m^2", damping="", K="J/m^3",
                     anis="", demagTensor="", H="A/m", reference="", current="A/m^2",
                     spinPolarisation="", SlonczewskiSpacerLayerParameter="", beta="",
                     temperature="K", gyromagnetic_ratio="m/(A s) (cmtj GYRO, global)",
                     magnetic_permeability="T m/A (global)", hbar="J s (global)",
                     elementary_charge="C (global)")
        notes.append("cmtj: its constants are global (cmtj.constants.PhysicalConstants); set "
                     "gyromagnetic_ratio etc. as listed, its defaults differ (GYRO 220880)")
    return ExportedParameters(target=target, drive=x, drive_unit=torque.drive_unit,
                              parameters=params, units=units, notes=notes)


def cmtj_junction(exported, index=0, *, m0, set_constants=True):
    """A one-layer cmtj.Junction ("free") from cmtj-exported parameters at operating point ``index``.

    Parameters
    ----------
    exported : ExportedParameters
        From ``export_parameters(..., "cmtj", ...)``.
    m0 : (3,) array_like
        Initial magnetisation.
    set_constants : bool
        Set cmtj's global constants (γ₀, μ₀, ħ, e) to the exported values (default True; they
        stay set — call ``cmtj.constants.PhysicalConstants.resetToDefaults()`` to undo).

    Returns
    -------
    cmtj.Junction
        Run it with ``junction.runSimulation(t_end, dt, dt_log)`` and read
        ``junction.getLog()["free_mx"]`` etc.
    """
    if exported.target != "cmtj":
        raise DynamicsError(f"cmtj_junction needs parameters exported for 'cmtj', got "
                            f"{exported.target!r}.")
    import cmtj
    from cmtj import constants

    p = exported.at(index)
    if set_constants:
        pc = constants.PhysicalConstants
        pc.set_gyromagnetic_ratio(p["gyromagnetic_ratio"])
        pc.set_magnetic_permeability(p["magnetic_permeability"])
        pc.set_hbar(p["hbar"])
        pc.set_elementary_charge(p["elementary_charge"])
    m0 = np.asarray(m0, float)
    m0 = m0 / np.linalg.norm(m0)
    layer = cmtj.Layer.createSTTLayer(
        id="free", mag=cmtj.CVector(*m0), anis=cmtj.CVector(*p["anis"]), Ms=p["Ms"],
        thickness=p["thickness"], cellSurface=p["cellSurface"],
        demagTensor=[cmtj.CVector(*row) for row in p["demagTensor"]], damping=p["damping"],
        SlonczewskiSpacerLayerParameter=p["SlonczewskiSpacerLayerParameter"], beta=p["beta"],
        spinPolarisation=p["spinPolarisation"])
    layer.setReferenceLayer(cmtj.CVector(*p["reference"]))
    junction = cmtj.Junction([layer])
    junction.setLayerAnisotropyDriver("free", cmtj.constantDriver(p["K"]))
    junction.setLayerCurrentDriver("free", cmtj.constantDriver(p["current"]))
    junction.setLayerExternalFieldDriver("free", cmtj.AxialDriver(*p["H"]))
    if p["temperature"] > 0:
        junction.setLayerTemperatureDriver("free", cmtj.constantDriver(p["temperature"]))
    return junction
