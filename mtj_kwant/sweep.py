"""Bias sweeps, profiles and conductances: the user-facing computations.

Results carry the junction, the settings, error estimates, units and
provenance, and can be saved to and reloaded from JSON.
"""

from __future__ import annotations

import datetime
import json
import math
import platform
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .integrate import window_point
from .model import Junction, junction_to_dict, load_junction, magnetization_direction
from .units import UNITS

__all__ = [
    "SweepResult",
    "ProfileResult",
    "sweep",
    "profile",
    "conductance",
    "torque_components",
    "load_result",
    "PartsNotAvailable",
]

PARTS = ("window", "total", "both")


class PartsNotAvailable(NotImplementedError):
    """The requested part (total / Fermi sea) is not implemented yet."""


def torque_components(torque, m, p):
    """In-plane and out-of-plane components of a torque vector (DESIGN.md §1).

    T∥ = T·e∥ with e∥ = m×(p×m)/|m×(p×m)|, T⊥ = T·e⊥ with e⊥ = m×p/|m×p|.
    Both are 0 for collinear m and p.

    Parameters
    ----------
    torque : array_like (..., 3)
    m, p : array_like (3,)
        Unit magnetizations of the free and pinned layers.

    Returns
    -------
    (T_par, T_perp) : arrays of shape (...)
    """
    torque = np.asarray(torque, dtype=float)
    m, p = np.asarray(m, float), np.asarray(p, float)
    e_perp = np.cross(m, p)
    norm = np.linalg.norm(e_perp)
    if norm < 1e-12:
        zero = np.zeros(torque.shape[:-1])
        return zero, zero.copy()
    e_perp = e_perp / norm
    e_par = np.cross(m, np.cross(p, m))
    e_par = e_par / np.linalg.norm(e_par)
    return torque @ e_par, torque @ e_perp


def provenance():
    """Versions and time stamp for result metadata."""
    import kwant
    import scipy

    from . import __version__

    return {
        "mtj_kwant": __version__,
        "kwant": kwant.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "python": platform.python_version(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
    }


def _as_junction(junction):
    if isinstance(junction, Junction):
        return junction
    return load_junction(junction)


def _check_parts(parts):
    if parts not in PARTS:
        raise ValueError(f"parts must be one of {', '.join(PARTS)}, got {parts!r}")
    if parts != "window":
        raise PartsNotAvailable(
            "the total (Fermi-sea) torque is not available yet; use parts='window'"
        )


def _progress_bar(enabled, total, desc):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="pt", leave=False, file=sys.stderr)


@dataclass
class SweepResult:
    """Torques and current density versus bias at fixed angles and temperature.

    Lists are aligned with ``bias_V``.  Torques are in (ħ/2e) A/m², current
    densities in A/m² (see ``units``).
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

    def to_dict(self):
        out = asdict(self)
        # Flat error lists next to their quantities (DESIGN.md §4).
        for key, value in self.errors.items():
            out[f"{key}_error"] = value
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
    """Site-resolved spin density, spin current and torque density at one bias."""

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
          rtol=1e-3, solver="batched", progress=True, system=None):
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
    rtol : float
        Relative tolerance of the integrals (torque components relative to
        the larger one).
    solver : {"batched", "kwant"}
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    SweepResult
    """
    from .system import make_system

    junction = _as_junction(junction)
    _check_parts(parts)
    if temperature is None:
        temperature = junction.temperature
    if not rtol > 0:
        raise ValueError(f"rtol must be positive, got {rtol!r}")
    biases = [float(v) for v in np.atleast_1d(bias)]
    jsys = system if system is not None else make_system(junction)
    m = magnetization_direction(theta, phi)
    p = junction.pinned_direction
    rows = []
    bar = _progress_bar(progress, len(biases), "bias points")
    for v in biases:
        r = window_point(jsys, theta=theta, phi=phi, bias=v, temperature=temperature, rtol=rtol,
                         solver=solver)
        rows.append(r)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    tpar, tperp = torque_components(np.array([r.torque for r in rows]), m, p)
    # Error of a projection ≤ Σ_i |e_i| err_i.
    errs = np.array([r.errors["torque"] for r in rows])
    e_par, e_perp = _projection_errors(errs, m, p)
    return SweepResult(
        bias_V=biases,
        theta_deg=round(math.degrees(theta), 10),
        phi_deg=round(math.degrees(phi), 10),
        temperature_K=float(temperature),
        current_density=[r.current_density for r in rows],
        torque_inplane_window=tpar.tolist(),
        torque_outofplane_window=tperp.tolist(),
        errors={
            "current_density": [r.errors["current_density"] for r in rows],
            "torque_inplane_window": e_par.tolist(),
            "torque_outofplane_window": e_perp.tolist(),
        },
        converged=[r.converged for r in rows],
        n_eval=[r.n_eval for r in rows],
        parts=parts,
        rtol=rtol,
        solver=solver,
        junction=junction_to_dict(junction),
        provenance=provenance(),
        torque_vector_window=[r.torque.tolist() for r in rows],
    )


def _projection_errors(errs, m, p):
    e_perp = np.cross(m, p)
    if np.linalg.norm(e_perp) < 1e-12:
        return np.zeros(len(errs)), np.zeros(len(errs))
    e_perp /= np.linalg.norm(e_perp)
    e_par = np.cross(m, np.cross(p, m))
    e_par /= np.linalg.norm(e_par)
    return errs @ np.abs(e_par), errs @ np.abs(e_perp)


def profile(junction, bias, *, theta=math.pi / 2, phi=0.0, temperature=None, parts="window",
            rtol=1e-3, solver="batched", system=None):
    """Spin density, spin current and torque density profiles at one bias.

    Returns
    -------
    ProfileResult
        ``spin_density`` in ⟨σ⟩ per nm³ per site, ``spin_current`` per bond in
        (ħ/2e) A/m² (positive toward +x), ``torque_density`` per site in
        (ħ/2e) A/m² (its sum over the free layer is the torque on it).
    """
    from .system import make_system

    junction = _as_junction(junction)
    _check_parts(parts)
    if temperature is None:
        temperature = junction.temperature
    jsys = system if system is not None else make_system(junction)
    r = window_point(jsys, theta=theta, phi=phi, bias=float(bias), temperature=temperature,
                     rtol=rtol, solver=solver, profile=True)
    m = magnetization_direction(theta, phi)
    tpar, tperp = torque_components(r.torque, m, junction.pinned_direction)
    pr = r.profile
    return ProfileResult(
        bias_V=float(bias),
        theta_deg=round(math.degrees(theta), 10),
        phi_deg=round(math.degrees(phi), 10),
        temperature_K=float(temperature),
        parts=parts,
        x_nm=pr["x_nm"].tolist(),
        spin_density=pr["spin_density"].tolist(),
        bond_x_nm=pr["bond_x_nm"].tolist(),
        spin_current=pr["spin_current"].tolist(),
        torque_density=pr["torque_density"].tolist(),
        current_density=pr["current_density"].tolist(),
        free_sites=jsys.chain.free.tolist(),
        torque=r.torque.tolist(),
        torque_inplane=float(tpar),
        torque_outofplane=float(tperp),
        errors=dict(pr["errors"], torque=r.errors["torque"].tolist(),
                    current_density=r.errors["current_density"]),
        converged=r.converged,
        junction=junction_to_dict(junction),
        provenance=provenance(),
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

    junction = _as_junction(junction)
    if temperature is None:
        temperature = junction.temperature
    jsys = system if system is not None else make_system(junction)
    theta_p, phi_p = _angles_of(junction.pinned_direction)
    out = {}
    for key, (th, ph) in (("G_P", (theta_p, phi_p)), ("G_AP", (math.pi - theta_p, phi_p + math.pi))):
        js = [window_point(jsys, theta=th, phi=ph, bias=s * dv, temperature=temperature,
                           rtol=rtol, solver=solver).current_density for s in (1, -1)]
        out[key] = (js[0] - js[1]) / (2 * dv)
    out["TMR"] = (out["G_P"] - out["G_AP"]) / out["G_AP"]
    out["units"] = {"G_P": "S/m^2", "G_AP": "S/m^2", "TMR": "1"}
    return out
