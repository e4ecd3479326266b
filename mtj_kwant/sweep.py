"""Bias sweeps, profiles and conductances: the user-facing computations.

Results carry the junction, the settings, error estimates, units and
provenance, and can be saved to and reloaded from JSON.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .continuum import base_step, lattice_point
from .integrate import bias_point
from .model import junction_to_dict, magnetization_direction
from .scan import ScanResult, as_junction, check_settings, provenance, scan, torque_components
from .units import UNITS

__all__ = [
    "SweepResult",
    "ScanResult",
    "scan",
    "ProfileResult",
    "sweep",
    "profile",
    "conductance",
    "torque_components",
    "load_result",
    "PartsNotAvailable",
]

class PartsNotAvailable(NotImplementedError):
    """Kept for backwards compatibility: every part is available now."""


@dataclass
class SweepResult:
    """Torques and current density versus bias at fixed angles and temperature.

    Lists are aligned with ``bias_V``.  Torques are in (ħ/2e) A/m², current
    densities in A/m² (see ``units``).  ``interfacial_*_window`` is the spin
    current entering the free layer across its barrier-side interface; the
    ``*_total`` and ``*_sea`` lists are filled for ``parts`` "total" and
    "both" (DESIGN.md §1).  ``errors`` holds an integration error estimate
    per list: quadrature plus, for a continuum junction, discretisation.
    ``lattice_errors`` holds the discretisation part (for a fixed
    ``lattice_spacing``: that lattice's error against the continuum, not
    included in ``errors``) and ``lattice_spacing_nm`` the finest lattice
    step used per bias (free electron).
    """

    bias_V: list
    theta_deg: float
    phi_deg: float
    temperature_K: float
    current_density: list
    torque_inplane_window: list
    torque_outofplane_window: list
    errors: dict
    converged: list
    n_eval: list
    parts: str = "window"
    rtol: float = 1e-3
    solver: str = "batched"
    junction: dict = field(default_factory=dict)
    units: dict = field(default_factory=lambda: dict(UNITS))
    provenance: dict = field(default_factory=dict)
    torque_vector_window: list = field(default_factory=list)
    interfacial_inplane_window: list = field(default_factory=list)
    interfacial_outofplane_window: list = field(default_factory=list)
    torque_inplane_total: list | None = None
    torque_outofplane_total: list | None = None
    torque_inplane_sea: list | None = None
    torque_outofplane_sea: list | None = None
    torque_vector_total: list | None = None
    lattice_errors: dict = field(default_factory=dict)
    lattice_spacing_nm: list = field(default_factory=list)

    def to_dict(self):
        out = asdict(self)
        # Flat error lists next to their quantities (DESIGN.md §4).
        for key, value in self.errors.items():
            out[f"{key}_error"] = value
        for key, value in self.lattice_errors.items():
            out[f"{key}_lattice_error"] = value
        return out

    def save(self, path):
        """Write the result as JSON."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1))
        return path

    @classmethod
    def load(cls, path):
        data = json.loads(Path(path).read_text())
        names = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in names})

    def plot(self, path=None, ax=None):
        """Current density and window torques versus bias (PNG if ``path``)."""
        from .plotting import plot_sweep

        return plot_sweep(self, path)


@dataclass
class ProfileResult:
    """Site-resolved spin density, spin current and torque density at one bias.

    ``errors`` holds the largest integration error estimate of each array (the
    profile arrays are integrated to ``rtol`` of their largest element) and
    ``error_arrays`` the estimate of every element, same shapes and units.
    Free electron: the arrays are the site values of one lattice of step
    ``lattice_spacing_nm`` (the given one, or half the base step of the
    continuum extrapolation), stated in ``lattice_note``;
    ``errors["torque_lattice"]`` is the estimated discretisation error of the
    torque (3 components).
    """

    bias_V: float
    theta_deg: float
    phi_deg: float
    temperature_K: float
    parts: str
    x_nm: list
    spin_density: list
    bond_x_nm: list
    spin_current: list
    torque_density: list
    current_density: list
    free_sites: list
    torque: list
    torque_inplane: float
    torque_outofplane: float
    errors: dict
    converged: bool
    junction: dict = field(default_factory=dict)
    units: dict = field(default_factory=lambda: dict(UNITS))
    provenance: dict = field(default_factory=dict)
    window: dict | None = None
    sea: dict | None = None
    error_arrays: dict | None = None
    lattice_spacing_nm: float | None = None
    lattice_note: str = ""

    def save(self, path):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=1))
        return path

    @classmethod
    def load(cls, path):
        data = json.loads(Path(path).read_text())
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def plot(self, path=None):
        from .plotting import plot_profile

        return plot_profile(self, path)


def load_result(path):
    """Reload a saved :class:`SweepResult` or :class:`ProfileResult`."""
    data = json.loads(Path(path).read_text())
    cls = ProfileResult if "x_nm" in data else SweepResult
    return cls.load(path)


def sweep(junction, bias, *, theta=math.pi / 2, phi=0.0, temperature=None, parts="window",
          rtol=1e-3, solver="batched", progress=True, system=None, method="auto",
          executor="auto", store=None):
    """Current density and torques versus bias.

    Parameters
    ----------
    junction : Junction or path
    bias : sequence of float
        Biases in V.
    theta, phi : float
        Free-layer angles in radians.
    temperature : float, optional
        K; default: the junction file's.
    parts : {"window", "total", "both"}
        "total" and "both" add the Fermi-sea part and the total torque
        (DESIGN.md §1); the window lists are always filled.
    rtol : float
        Relative tolerance of the integrals (torque components relative to
        the larger one).
    solver : {"batched", "kwant"}
    progress : bool
        Show a progress bar on stderr.
    system : JunctionSystem, optional
        Ignored (kept for backwards compatibility; systems are cached).
    method : {"auto", "reduced", "nested"}
    executor, store
        Parallel execution and resumable store, see
        :func:`~mtj_kwant.scan.scan`.

    Returns
    -------
    SweepResult
    """
    junction = as_junction(junction)
    check_settings(parts, rtol)
    if temperature is None:
        temperature = junction.temperature
    biases = [float(v) for v in np.atleast_1d(bias)]
    table = scan(junction, bias=biases, theta=theta, phi=phi, temperature=temperature,
                 parts=parts, rtol=rtol, solver=solver, method=method, executor=executor,
                 store=store, progress=progress)
    c = table.columns

    def vectors(suffix):
        return np.stack([c[f"torque_{x}_{suffix}"] for x in "xyz"], 1).tolist()

    keys = ["current_density", "torque_inplane_window", "torque_outofplane_window",
            "interfacial_inplane_window", "interfacial_outofplane_window"]
    extra = {}
    if parts != "window":
        for key in ("torque_inplane_total", "torque_outofplane_total", "torque_inplane_sea",
                    "torque_outofplane_sea"):
            extra[key] = c[key]
            keys.append(key)
        extra["torque_vector_total"] = vectors("total")
    errors = {key: c[f"{key}_error"] for key in keys}
    lattice_errors = {key: c[f"{key}_lattice_error"] for key in keys}
    return SweepResult(
        bias_V=biases,
        theta_deg=round(math.degrees(theta), 10),
        phi_deg=round(math.degrees(phi), 10),
        temperature_K=float(temperature),
        current_density=c["current_density"],
        torque_inplane_window=c["torque_inplane_window"],
        torque_outofplane_window=c["torque_outofplane_window"],
        errors=errors,
        converged=c["converged"],
        n_eval=c["n_eval"],
        parts=parts,
        rtol=rtol,
        solver=solver,
        junction=junction_to_dict(junction),
        provenance=provenance(),
        torque_vector_window=vectors("window"),
        interfacial_inplane_window=c["interfacial_inplane_window"],
        interfacial_outofplane_window=c["interfacial_outofplane_window"],
        lattice_errors=lattice_errors,
        lattice_spacing_nm=c["lattice_spacing_nm"],
        **extra,
    )


def profile(junction, bias, *, theta=math.pi / 2, phi=0.0, temperature=None, parts="window",
            rtol=1e-3, solver="batched", system=None):
    """Spin density, spin current and torque density profiles at one bias.

    Parameters
    ----------
    parts : {"window", "total", "both"}
        Which part the main arrays hold; with "both" they hold the total and
        ``window`` and ``sea`` hold the two parts.

    Returns
    -------
    ProfileResult
        ``spin_density`` in ⟨σ⟩ per nm³ per site, ``spin_current`` per bond in
        (ħ/2e) A/m² (positive toward +x), ``torque_density`` per site in
        (ħ/2e) A/m² (its sum over the free layer is the torque on it).
    """
    from .system import make_system

    junction = as_junction(junction)
    check_settings(parts, rtol)
    if temperature is None:
        temperature = junction.temperature
    kw = dict(theta=theta, phi=phi, bias=float(bias), temperature=temperature, rtol=rtol,
              solver=solver, parts=parts)
    step, torque_lattice, note = None, None, "tight-binding lattice model"
    if junction.model == "free-electron":
        # Site-resolved arrays live on one lattice (they are not extrapolated); the
        # discretisation error of the torque they sum to is estimated from a second one.
        step = (junction.lattice_spacing if not junction.continuum
                else base_step(junction, float(bias), temperature) / 2)
        junction = junction.at_spacing(step)
        coarse = 2 * step
        other_step, factor = ((coarse, 1 / 3) if junction._divides(coarse) and coarse <= 0.1
                              else (step / 2, 4 / 3))
        other = bias_point(make_system(junction.at_spacing(other_step)), **kw)
        note = (f"profiles on the lattice a = {step:g} nm (site values of that lattice, not "
                f"extrapolated); errors['torque_lattice'] estimates the discretisation error of "
                f"the torque from a second lattice a = {other_step:g} nm")
    jsys = system if system is not None else make_system(junction)
    r = bias_point(jsys, profile=True, **kw)
    m = magnetization_direction(theta, phi)
    window = r.profile
    keys = ("spin_density", "spin_current", "torque_density")
    if parts == "window":
        main, torque, torque_err = window, r.torque, r.errors["torque"]
    else:
        sea = window["sea"]
        main = dict(window, **{k: window[k] + sea[k] for k in keys},
                    errors={k: window["errors"][k] + sea["errors"][k] for k in keys},
                    error_arrays={k: window["error_arrays"][k] + sea["error_arrays"][k]
                                  for k in keys})
        torque, torque_err = r.torque_total, r.errors["torque_total"]
    tpar, tperp = torque_components(torque, m, junction.pinned_direction)
    if step is not None:
        other_torque = other.torque if parts == "window" else other.torque_total
        torque_lattice = (factor * np.abs(np.asarray(torque) - other_torque)).tolist()

    def arrays(d):
        return {k: np.asarray(d[k]).tolist() for k in keys}

    return ProfileResult(
        bias_V=float(bias),
        theta_deg=round(math.degrees(theta), 10),
        phi_deg=round(math.degrees(phi), 10),
        temperature_K=float(temperature),
        parts=parts,
        x_nm=main["x_nm"].tolist(),
        spin_density=main["spin_density"].tolist(),
        bond_x_nm=main["bond_x_nm"].tolist(),
        spin_current=main["spin_current"].tolist(),
        torque_density=main["torque_density"].tolist(),
        current_density=main["current_density"].tolist(),
        free_sites=jsys.chain.free.tolist(),
        torque=np.asarray(torque).tolist(),
        torque_inplane=float(tpar),
        torque_outofplane=float(tperp),
        errors=dict(main["errors"], torque=np.asarray(torque_err).tolist(),
                    current_density=r.errors["current_density"],
                    **({"torque_lattice": torque_lattice} if torque_lattice else {})),
        lattice_spacing_nm=step,
        lattice_note=note,
        error_arrays={k: np.asarray(v).tolist() for k, v in main["error_arrays"].items()},
        converged=r.converged,
        junction=junction_to_dict(junction),
        provenance=provenance(),
        window=arrays(window) if parts == "both" else None,
        sea=arrays(window["sea"]) if parts == "both" else None,
    )


def _angles_of(vec):
    x, y, z = vec
    return math.acos(max(-1.0, min(1.0, z))), math.atan2(y, x)


def conductance(junction, *, temperature=None, rtol=1e-5, dv=1e-3, solver="batched",
                system=None):
    """Zero-bias conductances per area in the parallel and antiparallel states, and the TMR.

    G = dJ/dV at V = 0, from the symmetric difference [J(δV) − J(−δV)]/(2δV)
    (error O(δV²)).

    Returns
    -------
    dict
        ``G_P``, ``G_AP`` in S/m², ``TMR`` = (G_P − G_AP)/G_AP.
    """
    from .system import make_system

    junction = as_junction(junction)
    if temperature is None:
        temperature = junction.temperature
    cache = {}

    def build(j):
        key = j.lattice_spacing
        if key not in cache:
            cache[key] = system if (system is not None and j == junction) else make_system(j)
        return cache[key]

    theta_p, phi_p = _angles_of(junction.pinned_direction)
    out = {}
    for key, (th, ph) in (("G_P", (theta_p, phi_p)), ("G_AP", (math.pi - theta_p, phi_p + math.pi))):
        js = [lattice_point(junction, system=build, theta=th, phi=ph, bias=s * dv,
                            temperature=temperature, rtol=rtol, solver=solver).current_density
              for s in (1, -1)]
        out[key] = (js[0] - js[1]) / (2 * dv)
    out["TMR"] = (out["G_P"] - out["G_AP"]) / out["G_AP"]
    out["units"] = {"G_P": "S/m^2", "G_AP": "S/m^2", "TMR": "1"}
    return out
