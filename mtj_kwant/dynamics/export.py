r"""Torque parameters for mumax3, OOMMF, ubermag and cmtj, with their sign conventions.

The package's torque (DESIGN §1, §10) is T = a m×(p×m) + b m×p in (ħ/2e)·A/m², added to the
Gilbert form of the LLG equation as dm/dt ∋ γħT/(2eM_s d); a > 0 turns m toward p.  The four
codes write the Slonczewski torque as below (ε = PΛ²/[(Λ²+1) + (Λ²−1)m·p]; the export uses
Λ = 1, ε = P/2, unless the source is a :class:`~.torques.SlonczewskiTorque`).  The bias-free
part b₀ = b(0) of b is exported as a field along p in every code, since a constant b is
exactly the field H_b = −ħb₀/(2eμ₀M_sd) p.  b₀ is the interlayer exchange only when it is the
total (Fermi-sea) torque of a sweep at a computed V = 0 point; otherwise (the window part, a
fit constant extrapolated to V = 0, a model's constant) ``ExportedParameters.b0_meaning`` and
the notes say what it is.

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

import math
import textwrap
from dataclasses import dataclass, field

import numpy as np

from ._common import E_CHARGE, HBAR, MU0, DynamicsError, vector3
from .macrospin import Macrospin
from .torques import SlonczewskiTorque, TorqueModel

__all__ = ["export_parameters", "ExportedParameters", "cmtj_junction", "TARGETS", "b0_meaning",
           "ONE_RUN_PER_FILE", "drive_outside"]

TARGETS = ("mumax3", "oommf", "ubermag", "cmtj")

#: Targets whose input file holds one run (one operating point), with the reason: a MIF file
#: describes one problem (its first line is "# MIF 2.1", then one Oxs_TimeDriver), and a
#: mumax3 snippet declares its demagnetising field once (``B_N := ...``, AddFieldTerm), so two
#: snippets in one .mx3 stop at "already defined: B_N".  ``mtj-kwant export`` writes one file
#: per operating point for them.  The Python snippets (ubermag, cmtj) can follow each other.
ONE_RUN_PER_FILE = {
    "oommf": "a MIF file holds one problem: first line '# MIF 2.1', one Oxs_TimeDriver",
    "mumax3": "a .mx3 snippet declares its demagnetising field once with B_N :=, so two "
              "snippets in one file fail",
}

#: Run length written into the snippets that need one (OOMMF's stopping_time, mumax3's
#: Run, cmtj's runSimulation), s: a placeholder for the user's own.
RUN_TIME = 10e-9


def b0_meaning(part, has_zero_bias, model="fit"):
    """What b₀ = b(V = 0) of a sweep-derived torque is, in words (for notes and headers).

    Parameters
    ----------
    part : {"total", "window"}
        The torque part of the sweep.
    has_zero_bias : bool
        Whether V = 0 is one of the sweep's biases.
    model : {"fit", "table"}
        b₀ is the constant of quadratic fits, or the table's value (interpolated) at V = 0.

    Only the total torque at a computed V = 0 point is the interlayer exchange (the
    Fermi-sea torque at V = 0, DESIGN §1).
    """
    if part == "window":
        what = ("fit constant, window part only" if model == "fit"
                else "b(V = 0) of the window part only, zero up to the integration error "
                     "(the bias window is empty at V = 0)")
        return (f"{what}; not the interlayer exchange, which is the Fermi-sea torque at V = 0: "
                "export the total part of a sweep with V = 0")
    if has_zero_bias:
        return ("interlayer exchange: the total (Fermi-sea) torque at V = 0"
                + (", as fitted" if model == "fit" else ""))
    what = ("fit constant of the total torque" if model == "fit"
            else "b(V = 0) of the total torque, interpolated between the sweep's biases")
    return (f"{what}; the sweep has no V = 0 point, so it estimates the interlayer exchange "
            "but is not a computed one")


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
        operating point, a tuple for a vector, else a number or string.  Names the target
        lacks (e.g. ``demag_factors`` outside cmtj) are this package's, with their unit saying
        how the snippet writes them.
    units : dict
        Name -> unit string.
    notes : list of str
        Conventions and caveats (sign choices, what is not representable).
    b0 : float
        b₀ = b(0), exported as the field H_b along p, in (ħ/2e)·A/m² (0 if none).
    b0_meaning : str
        What b₀ is (the interlayer exchange only for the total torque at a computed V = 0).
    H_b : float
        −ħb₀/(2eμ₀M_s d) in A/m (the field along p).
    """

    target: str
    drive: np.ndarray
    drive_unit: str
    parameters: dict
    units: dict
    notes: list = field(default_factory=list)
    b0: float = 0.0
    b0_meaning: str = ""
    H_b: float = 0.0

    def _index(self, index, owner):
        n = int(np.size(self.drive))
        if isinstance(index, (str, bytes)):
            raise DynamicsError(
                f"ExportedParameters.{owner}: the argument is the index of an operating point "
                f"(0 to {n - 1}), not a target; these parameters are for {self.target!r}: call "
                f"export_parameters(source, {index!r}, ...) for another code.")
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            raise DynamicsError(f"ExportedParameters.{owner}: `index` must be an integer "
                                f"(0 to {n - 1}), got {index!r}.")
        if not -n <= index < n:
            raise DynamicsError(
                f"ExportedParameters.{owner}: `index` = {index} is out of range: there "
                f"{'is 1 operating point' if n == 1 else f'are {n} operating points'} "
                f"(index 0 to {n - 1}).")
        return int(index)

    def at(self, index):
        """The parameters at one operating point (lists replaced by their ``index`` entry)."""
        i = self._index(index, "at")
        return {k: (v[i] if isinstance(v, list) else v) for k, v in self.parameters.items()}

    def script(self, index=0):
        """A snippet of input for the target code at operating point ``index``.

        It sets every parameter of the macrospin (M_s, thickness and cell, anisotropy and its
        axis, demagnetising factors, applied field and the field of b₀, damping, γ,
        temperature where the code has one, m0) and the torque, with comments on how to
        combine it with fields of one's own and on what the code cannot represent.
        """
        i = self._index(index, "script")
        p = {k: (v[i] if isinstance(v, list) else v) for k, v in self.parameters.items()}
        return _SCRIPTS[self.target](self, p)


def _f(v):
    return f"{float(v) + 0.0:.10g}"       # + 0.0: no "-0"


def _vec(v, sep=", "):
    return sep.join(_f(x) for x in v)


def _b0_comment(ex, c, what):
    if ex.b0 == 0:
        if not ex.b0_meaning:
            return [f"{c} no b0 field: b0 = 0 (all of the field-like torque is the efficiency "
                    f"{what})"]
        return ([f"{c} no b0 field: all of the field-like torque is the efficiency {what}"]
                + [f"{c}   {line}" for line in textwrap.wrap(f"({ex.b0_meaning})", 86)])
    return ([f"{c} H_b = {_f(ex.H_b)} A/m along p is the field of b0 = {_f(ex.b0)} (hbar/2e) A/m^2"]
            + [f"{c}   {line}" for line in textwrap.wrap(f"({ex.b0_meaning})", 86)])


def _mumax3(ex, p):
    ms, n, d = p["Msat"], p["demag_factors"], p["FreeLayerThickness"]
    L = p["SetCellSize"][0]
    b_app = [x - y for x, y in zip(p["B_ext"], p["B_b0"])]
    lines = [
        "// mumax3 (.mx3): the macrospin is one cell of the free layer, area L*L, height d",
        "SetGridSize(1, 1, 1)",
        f"SetCellSize({_vec(p['SetCellSize'])})",
        f"Msat = {_f(ms)}", f"alpha = {_f(p['alpha'])}", f"GammaLL = {_f(p['GammaLL'])}",
        f"Ku1 = {_f(p['Ku1'])}", f"anisU = vector({_vec(p['anisU'])})",
        "// demagnetising factors N = (" + _vec(n) + ") of the macrospin: mumax3's demag of",
        "// one cell would be that cuboid's own, so it is off and -mu0 Ms N m is added as a",
        "// custom field (B_N in T, with its energy density -Ms B_N.m/2)",
        "EnableDemag = false",
    ]
    if any(x != 0 for x in n):
        k = [-MU0 * ms * x for x in n]
        lines += [
            f"B_N := MulMV(ConstVector({_f(k[0])}, 0, 0), ConstVector(0, {_f(k[1])}, 0), "
            f"ConstVector(0, 0, {_f(k[2])}), m)",
            "AddFieldTerm(B_N)",
            f"AddEdensTerm(Mul(Const({_f(-0.5 * ms)}), Dot(B_N, m)))",
        ]
    lines += [
        "// B_ext = mu0 H_applied + mu0 H_b p: applied " + f"({_vec(b_app)}) T" + " plus the",
        f"// field of b0 ({_vec(p['B_b0'])}) T along FixedLayer.  B_ext is one quantity: a field",
        "// of your own must be added to these components (a second B_ext = ... replaces it);",
        "// FixedLayer is the torque's polarisation p, not a field, and J switches the torque",
        *_b0_comment(ex, "//", "EpsilonPrime"),
        f"B_ext = vector({_vec(p['B_ext'])})",
        "DisableZhangLiTorque = true",
        "FixedLayerPosition = FIXEDLAYER_TOP",
        f"FixedLayer = vector({_vec(p['FixedLayer'])})",
        f"FreeLayerThickness = {_f(d)}",
        f"Pol = {_f(p['Pol'])}", f"Lambda = {_f(p['Lambda'])}",
        f"EpsilonPrime = {_f(p['EpsilonPrime'])}", f"J = vector(0, 0, {_f(p['J'])})",
        f"m = Uniform({_vec(p['m'])})",
    ]
    T = p["Temp"]
    if T > 0:
        lines += [
            f"// temperature {_f(T)} K: mumax3's Temp needs an even number of cells (CURAND, see",
            "// engine/temperature.go), so this one-cell macrospin cannot use it; two cells",
            f"// (SetGridSize(2, 1, 1), SetCellSize({_f(L / 2)}, {_f(L)}, {_f(d)})) with a large",
            "// Aex approximate it, or run the thermal macrospin in cmtj or mtj_kwant.dynamics",
            f"// Temp = {_f(T)}",
        ]
    else:
        lines.append("// T = 0 K: no thermal field (Temp = 0, the default)")
    lines.append(f"// Run({_f(RUN_TIME)})  // with the length of your run")
    return "\n".join(lines)


def _oommf(ex, p):
    L, _, d = p["cellsize"]
    ms = p["Ms"]
    lines = [
        "# MIF 2.1",
        "# OOMMF (the line above must stay the file's first): the macrospin is one cell of the",
        "# free layer, area L*L, height d along z (J_direction: Oxs_SpinXferEvolve takes d as",
        "# the cell edge along it)",
        "Specify Oxs_BoxAtlas:atlas {",
        f"  xrange {{0 {_f(L)}}}", f"  yrange {{0 {_f(L)}}}", f"  zrange {{0 {_f(d)}}}", "}",
        "Specify Oxs_RectangularMesh:mesh {",
        f"  cellsize {{{_vec(p['cellsize'], ' ')}}}", "  atlas :atlas", "}",
        "Specify Oxs_UniaxialAnisotropy:anisotropy {",
        f"  K1 {_f(p['K1'])}", f"  axis {{{_vec(p['axis'], ' ')}}}", "}",
        "# demagnetising factors N = (" + _vec(p["demag_factors"]) + ") of the macrospin as",
        "# hard axes K1 = -mu0 Ms^2 N_i / 2 (no Oxs_Demag: one cell would give that cuboid's own)",
    ]
    for i, Ni in enumerate(p["demag_factors"]):
        if Ni:
            axis = ["0", "0", "0"]
            axis[i] = "1"
            lines += [f"Specify Oxs_UniaxialAnisotropy:demag_{'xyz'[i]} {{",
                      f"  K1 {_f(-0.5 * MU0 * ms**2 * Ni)}", f"  axis {{{' '.join(axis)}}}", "}"]
    lines += [
        "# fields are energy terms, the spin torque is in the evolver: a field of your own is",
        "# one more Oxs_FixedZeeman (or Oxs_UZeeman) block with its own name; the field of b0",
        "# is a separate block, so that it stays on when J is changed",
        "Specify Oxs_FixedZeeman:applied {", f"  field {{{_vec(p['field'], ' ')}}}", "}",
        *_b0_comment(ex, "#", "eps_prime"),
    ]
    if ex.b0 != 0:
        lines += ["Specify Oxs_FixedZeeman:b0 {", f"  field {{{_vec(p['H_b0'], ' ')}}}", "}"]
    T = p["temperature"]
    if T > 0:
        lines += [
            f"# temperature {_f(T)} K: Oxs_SpinXferEvolve has no thermal field; the contributed",
            "# Xf_ThermSpinXferEvolve (OOMMF app/oxs/contrib, built into OOMMF separately) takes",
            f"# the same keys plus temperature {_f(T)} and uniform_seed, with method rk2heun and",
            "# min_timestep = max_timestep (a fixed step)",
        ]
    else:
        lines.append("# T = 0 K: no thermal field")
    lines += [
        "Specify Oxs_SpinXferEvolve:evolver {",
        f"  alpha {_f(p['alpha'])}", f"  gamma_G {_f(p['gamma_G'])}",
        f"  J {_f(p['J'])}", f"  J_direction {p['J_direction']}",
        f"  mp {{{_vec(p['mp'], ' ')}}}",
        f"  P {_f(p['P'])}", f"  Lambda {_f(p['Lambda'])}",
        f"  eps_prime {_f(p['eps_prime'])}", "}",
        f"# stopping_time: the length of your run ({_f(RUN_TIME)} s here)",
        "Specify Oxs_TimeDriver {", "  evolver :evolver", "  mesh :mesh", f"  Ms {_f(ms)}",
        f"  m0 {{{_vec(p['m0'], ' ')}}}", f"  stopping_time {_f(RUN_TIME)}", "}",
    ]
    return "\n".join(lines)


def _ubermag(ex, p):
    ms = p["Ms"]
    lines = [
        "import discretisedfield as df",
        "import micromagneticmodel as mm",
        "",
        "# the macrospin is one cell of the free layer, area L*L, height d along z (oommfc's",
        "# Slonczewski thickness is the cell edge along J_direction, -z by default)",
        f"mesh = df.Mesh(p1=(0, 0, 0), p2=({_vec(p['p2'])}), n=(1, 1, 1))",
    ]
    T = p["T"]
    if T > 0:
        lines += [
            f"# T = {_f(T)} K: oommfc needs the evolver given explicitly for T > 0, e.g.",
            "# import oommfc; oommfc.TimeDriver(evolver=oommfc.Xf_ThermSpinXferEvolver(",
            "#     method='rk2heun', ...)),",
            "# an OOMMF extension that must be installed (Oxs_SpinXferEvolve has no thermal field)",
        ]
    lines += [
        f"system = mm.System(name='mtj_free_layer', T={_f(T)})",
        "# demagnetising factors N = (" + _vec(p["demag_factors"]) + ") as hard axes",
        "# K = -mu0 Ms^2 N_i / 2 (no mm.Demag: one cell would give that cuboid's own)",
        "# fields are energy terms (system.energy), the spin torque is a dynamics term: a field",
        "# of your own is one more mm.Zeeman with its own name=...",
        *_b0_comment(ex, "#", "eps_prime"),
        f"system.energy = (mm.UniaxialAnisotropy(K={_f(p['K'])}, u=({_vec(p['u'])}))",
    ]
    for i, Ni in enumerate(p["demag_factors"]):
        if Ni:
            u = ["0", "0", "0"]
            u[i] = "1"
            lines.append(f"                 + mm.UniaxialAnisotropy(K={_f(-0.5 * MU0 * ms**2 * Ni)}"
                         f", u=({', '.join(u)}), name='demag_{'xyz'[i]}')")
    lines.append(f"                 + mm.Zeeman(H=({_vec(p['H'])}), name='applied')")
    if ex.b0 != 0:
        lines.append(f"                 + mm.Zeeman(H=({_vec(p['H_b0'])}), name='b0')")
    lines[-1] += ")"
    lines += [
        f"system.dynamics = (mm.Precession(gamma0={_f(p['gamma0'])}) + "
        f"mm.Damping(alpha={_f(p['alpha'])})",
        f"                   + mm.Slonczewski(J={_f(p['J'])}, mp=({_vec(p['mp'])}), "
        f"P={_f(p['P'])}, Lambda={_f(p['Lambda'])}, eps_prime={_f(p['eps_prime'])}))",
        f"system.m = df.Field(mesh, nvdim=3, value=({_vec(p['m'])}), norm={_f(ms)})",
        "# run (with the length of your run; oommfc picks Oxs_SpinXferEvolve at T = 0):",
        f"# import oommfc; oommfc.TimeDriver().drive(system, t={_f(RUN_TIME)}, n=100)",
    ]
    return "\n".join(lines)


def _cmtj(ex, p):
    T = p["temperature"]
    lines = [
        "import cmtj",
        "from cmtj import constants",
        "",
        "# cmtj's constants are global: gamma0 = mu0*gamma of the macrospin (its default differs)",
        f"constants.PhysicalConstants.set_gyromagnetic_ratio({_f(p['gyromagnetic_ratio'])})",
        f"constants.PhysicalConstants.set_magnetic_permeability({_f(p['magnetic_permeability'])})",
        f"constants.PhysicalConstants.set_hbar({_f(p['hbar'])})",
        f"constants.PhysicalConstants.set_elementary_charge({_f(p['elementary_charge'])})",
        f"layer = cmtj.Layer.createSTTLayer('free', mag=cmtj.CVector({_vec(p['mag'])}), "
        f"anis=cmtj.CVector({_vec(p['anis'])}), Ms={_f(p['Ms'])}, "
        f"thickness={_f(p['thickness'])}, cellSurface={_f(p['cellSurface'])}, "
        f"demagTensor=[cmtj.CVector({_vec(p['demagTensor'][0])}), "
        f"cmtj.CVector({_vec(p['demagTensor'][1])}), cmtj.CVector({_vec(p['demagTensor'][2])})], "
        f"damping={_f(p['damping'])}, "
        f"SlonczewskiSpacerLayerParameter={_f(p['SlonczewskiSpacerLayerParameter'])}, "
        f"beta={_f(p['beta'])}, spinPolarisation={_f(p['spinPolarisation'])})",
        f"layer.setReferenceLayer(cmtj.CVector({_vec(p['reference'])}))",
        "junction = cmtj.Junction([layer])",
        f"junction.setLayerAnisotropyDriver('free', cmtj.constantDriver({_f(p['K'])}))",
        f"junction.setLayerCurrentDriver('free', cmtj.constantDriver({_f(p['current'])}))",
        "# one external-field driver per layer (a second call replaces it): H = H_applied +",
        "# H_b p, so add a field of your own to these components; the torque's polarisation is",
        "# the reference layer, not a field",
        *_b0_comment(ex, "#", "beta"),
        f"junction.setLayerExternalFieldDriver('free', cmtj.AxialDriver({_vec(p['H'])}))",
    ]
    if T > 0:
        lines += [f"# T = {_f(T)} K (cmtj switches to its Euler-Heun solver for a temperature "
                  "driver)",
                  f"junction.setLayerTemperatureDriver('free', cmtj.constantDriver({_f(T)}))"]
    else:
        lines.append("# T = 0 K: no temperature driver")
    lines.append(f"# junction.runSimulation({_f(RUN_TIME)}, 1e-13, 1e-12); "
                 "log = junction.getLog()  # free_mx, free_my, free_mz")
    return "\n".join(lines)


_SCRIPTS = {"mumax3": _mumax3, "oommf": _oommf, "ubermag": _ubermag, "cmtj": _cmtj}


def _as_torque(source, part):
    """(torque model, b₀ meaning or None) of ``source``."""
    if isinstance(source, TorqueModel):
        return source, None
    from ..sweep import SweepResult
    from .torques import PolynomialTorque

    from .torques import sweep_data

    if isinstance(source, bytes):
        source = source.decode()
    if isinstance(source, (str, SweepResult)) or hasattr(source, "__fspath__"):
        # checked once (lengths, non-finite entries, unconverged points), then fitted
        data = sweep_data("export_parameters", source, part=part, min_biases=4)
        torque = PolynomialTorque._from_sweep_data(data)
        return torque, b0_meaning(part, bool(np.any(data.bias == 0.0)), "fit")
    raise DynamicsError(f"export_parameters: `source` must be a torque model or a sweep result "
                        f"(or its JSON path), got {type(source).__name__}.")


def _drive_values(drive, torque):
    unit = torque.drive_unit
    what = "current densities (A/m^2)" if torque.drive == "current" else "biases (V)"
    try:
        arr = np.asarray(drive)
    except (TypeError, ValueError):
        arr = np.asarray([object()])
    if arr.dtype.kind not in "iuf":
        raise DynamicsError(f"export_parameters: `drive` must be a number or a list of numbers "
                            f"({what} for this {type(torque).__name__}), got {drive!r}.")
    x = np.atleast_1d(arr.astype(float)).reshape(-1)
    if x.size == 0:
        raise DynamicsError(f"export_parameters: `drive` is empty; give at least one operating "
                            f"point in {unit} (e.g. drive=[{0.1 if unit == 'V' else 1e11:g}]).")
    if not np.all(np.isfinite(x)):
        raise DynamicsError(f"export_parameters: `drive` must be finite, got {drive!r}.",
                            parameter="drive")
    outside = drive_outside(torque, x)
    if outside:
        raise DynamicsError(f"export_parameters: `drive` {outside}", parameter="drive")
    return x


def drive_outside(torque, drive):
    """Why operating points ``drive`` lie outside ``torque.drive_range``, or "" if none does.

    The one message of the refusal, shared by :func:`export_parameters` ("`drive` ...") and
    ``mtj-kwant export`` ("--bias: ..."): a model from a sweep (its table or its fits) is
    defined over the sweep's biases only, and the export does not extrapolate.
    """
    lo, hi = torque.drive_range
    x = np.asarray(drive, float).reshape(-1)
    tol = 1e-9 * max(abs(lo), abs(hi), 1.0) if np.isfinite(lo) and np.isfinite(hi) else 0.0
    out = x[(x < lo - tol) | (x > hi + tol)]
    if not out.size:
        return ""
    unit = torque.drive_unit
    span = ("the sweep's biases" if unit == "V" and np.isfinite(lo) and np.isfinite(hi)
            else "the model's range")
    return (f"{out[0]:.10g} {unit} lies outside {span} [{lo:g}, {hi:g}] {unit}; the export does "
            "not extrapolate.")


def export_parameters(source, target, *, macrospin, drive, part="total", m0=None,
                      b0_meaning=None):
    r"""The torque parameters of ``source`` at the operating points ``drive`` for ``target``.

    Parameters
    ----------
    source : TorqueModel, SweepResult or path
        A sweep is checked (:func:`~.torques.sweep_data`) and fitted with
        :meth:`PolynomialTorque.from_sweep` (``part``; at least 4 biases); a sweep at
        θ = 0 or 180° (no torque) is refused.
    target : {"mumax3", "oommf", "ubermag", "cmtj"}
    macrospin : Macrospin
        Supplies M_s, d, area, α, γ, p, anisotropy and axis, demagnetising factors, applied
        field and temperature: the snippets carry all of them.
    drive : float or array_like
        Operating points (at least one): biases (V) for voltage-driven models, current
        densities (A/m²) for current-driven ones.  The codes take constant efficiencies, so a
        bias-dependent torque is exported point by point.
    part : {"total", "window"}
        The torque part of a sweep ``source``.
    m0 : (3,) array_like, optional
        Initial magnetisation for the snippets (normalised); default p, as :func:`integrate`.
    b0_meaning : str, optional
        What b₀ = b(0) of a torque model ``source`` is, for the notes (default: derived from a
        sweep ``source``, see :func:`b0_meaning`; for a model, "its constant field-like
        coefficient").

    Returns
    -------
    ExportedParameters

    Raises
    ------
    DynamicsError
        For an unknown or non-string target, an empty or non-numeric drive, a drive outside
        the model's range (a sweep's biases: the export does not extrapolate, with the message
        of ``mtj-kwant export --bias``), a model without a current density (voltage-driven, J
        needed by every target), a torque the target cannot represent (cmtj with Λ ≠ 1 and
        ε′ ≠ 0), or a sweep ``source`` that is malformed (:func:`~.torques.sweep_data`: one
        line naming the file, key and bias) or has fewer than 4 biases (the fit).  Unconverged
        bias points of a sweep give a :class:`~mtj_kwant.dynamics.DynamicsWarning`.

    Notes
    -----
    Conventions in the module docstring.  For a voltage-driven model the exported current is
    J(V, θ = 90°); torque coefficients whose θ dependence is not sin θ (a tabulated model) are
    exported at θ = 90° and the largest deviation over θ is given in ``notes``.  The
    macrospin is one cell (area A as an L×L square, height d); its demagnetising factors are
    written as a custom field (mumax3), as hard-axis uniaxial anisotropies K = −μ₀M_s²N_i/2
    (OOMMF, ubermag: the same energy as ½μ₀M_s²Σ N_i m_i²) or as cmtj's demagTensor.
    """
    if not isinstance(target, str) or target not in TARGETS:
        raise DynamicsError(f"export_parameters: unknown target {target!r}; choose one of "
                            f"{', '.join(TARGETS)} (a string).")
    if not isinstance(macrospin, Macrospin):
        raise DynamicsError("export_parameters: `macrospin` must be a Macrospin (M_s, thickness, "
                            "alpha, p, ...).")
    torque, meaning = _as_torque(source, part)
    if b0_meaning is not None:
        meaning = str(b0_meaning)
    x = _drive_values(drive, torque)
    m_start = np.asarray(macrospin.p if m0 is None else vector3("export_parameters", "m0", m0,
                                                                 unit=True))
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
    if meaning is None:
        meaning = ("the constant field-like coefficient b(0) of the torque model"
                   if b_eq != 0 else "")
    if not lo <= 0 <= hi:
        meaning = (f"the model is defined for {torque.drive_unit} in [{lo:g}, {hi:g}] only, not "
                   "at 0 (it does not extrapolate), so there is no b0 to export")
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
    if b_eq != 0:
        notes.append(f"b0 = {b_eq:.6g} (ħ/2e) A/m² ({meaning}) is exported as the field "
                     f"H_b = {h_b:.6g} A/m along p, which stays on when J is changed")
    with np.errstate(divide="ignore", invalid="ignore"):
        zero = J == 0
        pol = np.where(zero, 0.0, a / np.where(zero, 1.0, J))
        epsp = np.where(zero, 0.0, -bb / (2 * np.where(zero, 1.0, J)))
    if np.any(zero):
        # the table and the fit alike (bias 0 of a sweep): no current, no efficiency; a torque
        # left there (a fit's constant) is not spin transfer and is dropped, with its value
        left = zero & ((a != 0) | (bb != 0))
        dropped = ""
        if np.any(left):
            i = int(np.flatnonzero(left)[0])
            dropped = (f" (the model's a = {a[i]:.4g}, b - b0 = {bb[i]:.4g} (ħ/2e) A/m² at "
                       f"{x[i]:g} {torque.drive_unit}, with no current to carry them, are "
                       "dropped)")
        notes.append("J = 0 at some operating points: their efficiencies are set to 0"
                     + dropped)
    if slon:
        pol = np.full(x.shape, torque.P)
        epsp = np.full(x.shape, torque.epsilon_prime)
        lam = torque.Lambda
    else:
        lam = 1.0
    ln = lambda v: [float(t) for t in v]  # noqa: E731  (per operating point: a list)
    tv = lambda v: tuple(float(t) for t in v)  # noqa: E731  (a vector: a tuple)
    u = tv(macrospin.easy_axis)
    n_dm = tv(macrospin.demag_factors)
    side = math.sqrt(macrospin.area) * 1e-9                          # m, the cell's L
    cell = (side, side, d)
    H_app = tv(macrospin.H_applied)
    T = macrospin.temperature
    m0t = tv(m_start)
    params, units = {}, {}
    if target == "mumax3":
        params = dict(Msat=ms, alpha=al, Ku1=macrospin.Ku, anisU=u,
                      B_ext=tv(MU0 * (np.asarray(macrospin.H_applied) + h_b * p)),
                      B_b0=tv(MU0 * h_b * p),
                      GammaLL=macrospin.gamma, FixedLayer=tv(p), FreeLayerThickness=d,
                      FixedLayerPosition="FIXEDLAYER_TOP", J=ln(J), Pol=ln(pol), Lambda=lam,
                      EpsilonPrime=ln(epsp), SetGridSize=(1, 1, 1), SetCellSize=cell,
                      EnableDemag=False, demag_factors=n_dm, m=m0t, Temp=T)
        units = dict(Msat="A/m", alpha="", Ku1="J/m^3", anisU="", B_ext="T", GammaLL="rad/(T s)",
                     B_b0="T (the field of b0, included in B_ext)",
                     FixedLayer="", FreeLayerThickness="m", FixedLayerPosition="", J="A/m^2 (z)",
                     Pol="", Lambda="", EpsilonPrime="", SetGridSize="cells",
                     SetCellSize="m (one cell: area L*L, height d)", EnableDemag="",
                     demag_factors="(macrospin N; a custom field, AddFieldTerm)",
                     m="(initial, Uniform)", Temp="K (not usable with one cell)")
        notes.append("mumax3: J_z > 0 with FIXEDLAYER_TOP drives electrons from the fixed into "
                     "the free layer (this package's V > 0); Pol < 0 is a negative efficiency")
    elif target == "oommf":
        params = dict(alpha=al, gamma_G=macrospin.gamma0, J=ln(J), J_direction="-z",
                      mp=tv(p), P=ln(pol), Lambda=lam, eps_prime=ln(epsp),
                      H_b0=tv(H_b), Ms=ms, thickness=d, cellsize=cell, K1=macrospin.Ku, axis=u,
                      demag_factors=n_dm, field=H_app, m0=m0t, temperature=T)
        units = dict(alpha="", gamma_G="m/(A s)", J="A/m^2", J_direction="", mp="", P="",
                     Lambda="", eps_prime="", H_b0="A/m (Oxs_FixedZeeman:b0)", Ms="A/m",
                     thickness="m (one cell along J_direction)", cellsize="m",
                     K1="J/m^3 (Oxs_UniaxialAnisotropy)", axis="",
                     demag_factors="(macrospin N; hard-axis Oxs_UniaxialAnisotropy terms)",
                     field="A/m (Oxs_FixedZeeman:applied)", m0="(Oxs_TimeDriver)",
                     temperature="K (Xf_ThermSpinXferEvolve only)")
        notes.append("OOMMF: with a fixed mp (propagate_mp 0) J > 0 turns m toward mp; beta "
                     "uses the cell edge along J_direction, so mesh the free layer as one cell "
                     "of height d along z")
        if lam < 1:
            raise DynamicsError(f"export_parameters: OOMMF needs Lambda >= 1, got {lam}.")
    elif target == "ubermag":
        flip = pol < 0
        params = dict(gamma0=macrospin.gamma0, alpha=al, J=ln(np.where(flip, -J, J)),
                      mp=tv(p), P=ln(np.abs(pol)), Lambda=lam,
                      eps_prime=ln(np.where(flip, -epsp, epsp)), H_b0=tv(H_b), Ms=ms,
                      p2=cell, K=macrospin.Ku, u=u, demag_factors=n_dm, H=H_app, m=m0t, T=T)
        units = dict(gamma0="m/(A s)", alpha="", J="A/m^2", mp="", P="", Lambda="",
                     eps_prime="", H_b0="A/m (mm.Zeeman, name='b0')", Ms="A/m",
                     p2="m (df.Mesh, one cell)", K="J/m^3 (mm.UniaxialAnisotropy)", u="",
                     demag_factors="(macrospin N; hard-axis mm.UniaxialAnisotropy terms)",
                     H="A/m (mm.Zeeman, name='applied')", m="(initial, df.Field value)",
                     T="K (mm.System)")
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
                      temperature=T, mag=m0t,
                      gyromagnetic_ratio=macrospin.gamma0, magnetic_permeability=MU0,
                      hbar=HBAR, elementary_charge=E_CHARGE)
        units = dict(Ms="T (mu0 Ms)", thickness="m", cellSurface="m^2", damping="", K="J/m^3",
                     anis="", demagTensor="", H="A/m", reference="", current="A/m^2",
                     spinPolarisation="", SlonczewskiSpacerLayerParameter="", beta="",
                     temperature="K", mag="(initial)",
                     gyromagnetic_ratio="m/(A s) (cmtj GYRO, global)",
                     magnetic_permeability="T m/A (global)", hbar="J s (global)",
                     elementary_charge="C (global)")
        notes.append("cmtj: its constants are global (cmtj.constants.PhysicalConstants); set "
                     "gyromagnetic_ratio etc. as listed, its defaults differ (GYRO 220880)")
    return ExportedParameters(target=target, drive=x, drive_unit=torque.drive_unit,
                              parameters=params, units=units, notes=notes, b0=b_eq,
                              b0_meaning=meaning, H_b=float(h_b))


def cmtj_junction(exported, index=0, *, m0=None, set_constants=True):
    """A one-layer cmtj.Junction ("free") from cmtj-exported parameters at operating point ``index``.

    Parameters
    ----------
    exported : ExportedParameters
        From ``export_parameters(..., "cmtj", ...)``.
    m0 : (3,) array_like, optional
        Initial magnetisation (default: the exported one, ``parameters["mag"]``).
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
    p = exported.at(index)
    m0 = np.asarray(p["mag"] if m0 is None else vector3("cmtj_junction", "m0", m0, unit=True))
    import cmtj
    from cmtj import constants

    if set_constants:
        pc = constants.PhysicalConstants
        pc.set_gyromagnetic_ratio(p["gyromagnetic_ratio"])
        pc.set_magnetic_permeability(p["magnetic_permeability"])
        pc.set_hbar(p["hbar"])
        pc.set_elementary_charge(p["elementary_charge"])
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
