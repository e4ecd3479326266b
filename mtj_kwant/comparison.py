r"""A Kwant bias sweep side by side with the analytic models, and their deviations.

:func:`compare` takes a :class:`~mtj_kwant.sweep.SweepResult` (or the path of its JSON file),
evaluates the analytic models of :mod:`mtj_kwant.analytic` for the same junction, angle,
temperature and biases, and returns a :class:`Comparison` that holds

* the Kwant data: current density J (A/m²) and the *window* parts of the in-plane and
  out-of-plane torques T∥, T⊥ ((ħ/2e)·A/m², DESIGN §1), with their integration errors;
* the predictions of each model for the same three quantities (NaN where a model does not
  predict a quantity);
* deviations (largest and RMS differences, relative to the largest \|Kwant\| value), quadratic
  bias fits (a0, a1, a2 for T∥; b0, b1, b2 for T⊥) of the Kwant data and of each model, the
  scale factors of any normalisation, and notes that say which model was skipped and why.

Models (model paper: Manchon, *Manipulating the voltage dependence of tunneling spin torques*):

``"btm"``
    Bardeen transfer matrix, Eqs. (3), (7)–(8), parameterised from the junction by
    :func:`~mtj_kwant.analytic.btm.btm_from_junction` (free electrons, normal incidence with a
    Gaussian k∥ weight).  Its per-area normalisation is only correct up to the k∥-structure of
    the interfacial factors, so by default it is scaled to the Kwant linear-response conductance
    (see :func:`compare`).
``"slonczewski"``
    Slonczewski's thick-barrier linear-response limits per area
    (:func:`~mtj_kwant.analytic.slonczewski.slonczewski_per_area`): J = G(θ)V, T∥ = P_L G₀ sin θ V,
    T⊥(window) = (window out-of-plane torkance) sin θ V.  Rectangular barrier between
    free-electron electrodes (F/I/F) only.
``"diffusion"``
    Spin diffusion in a finite free layer under a normal cap, Eq. (23), fed with the Kwant
    interfacial spin current J₀ = J∥ + iJ⊥ (F/I/F/N only).

Units: bias in V, angles in degrees in the stored data (``theta_deg``), J in A/m², torques and
spin currents in (ħ/2e)·A/m².
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .analytic.btm import btm_from_junction, btm_torques
from .analytic.diffusion import cap_eta, diffusion_torque
from .analytic.fits import PolynomialFit, fit_bias_polynomial
from .analytic.slonczewski import FreeElectronElectrode, slonczewski_per_area
from .model import Junction, JunctionWarning, junction_from_dict
from .options import Options
from .physics import magnetization_direction, torque_axes
from .ratios import ratio, resolved
from .results import Result, jsonable, restore_numbers
from .sweep import SweepResult, load_result

__all__ = ["Comparison", "compare", "QUANTITIES", "MODELS", "INTERFACIAL_FIELDS"]

#: Compared quantities (torques: window parts).
QUANTITIES = ("current_density", "torque_inplane", "torque_outofplane")
#: Known analytic models.
MODELS = ("btm", "slonczewski", "diffusion")
#: Optional SweepResult attributes with the interfacial spin current entering the free layer
#: across the barrier interface, projected on e∥ and e⊥ ((ħ/2e)·A/m², window part).
INTERFACIAL_FIELDS = ("interfacial_inplane_window", "interfacial_outofplane_window")

_RESULT_FIELDS = {
    "current_density": "current_density",
    "torque_inplane": "torque_inplane_window",
    "torque_outofplane": "torque_outofplane_window",
}
_FIT_PREFIX = {"current_density": "c", "torque_inplane": "a", "torque_outofplane": "b"}
_DIFFUSION_LENGTHS = ("lambda_J", "lambda_phi", "lambda_sf")
_DIFFUSION_CAP = ("lambda_N", "diffusion_ratio")
_BTM_NORMALISATIONS = ("conductance", "none")

UNITS = {
    "bias_V": "V",
    "theta_deg": "deg",
    "temperature_K": "K",
    "current_density": "A/m^2",
    "torque_inplane": "(hbar/2e) A/m^2 (window part)",
    "torque_outofplane": "(hbar/2e) A/m^2 (window part)",
    "deviations": "max_abs in the unit of the quantity; max_rel, rms_rel relative to scale = "
                  "max |kwant| over the compared points (NaN or inf, with a status, when the "
                  "scale is zero within its error)",
}
#: Round-off floor of a model value, relative to the largest |J| of the sweep (its natural
#: scale: a fully polarized current J carries spin current J): a model torque below it, such
#: as sin(180°) × G V, is zero within its error.
ROUND_OFF = 1e-12


# --------------------------------------------------------------------------------------------
# JSON helpers (the format of mtj_kwant.results: NaN -> null, ±inf -> "inf"/"-inf")
# --------------------------------------------------------------------------------------------
def _float(value):
    """One number as read (null -> NaN, "inf" -> inf; :func:`~mtj_kwant.results.restore_numbers`)."""
    return float(restore_numbers(value))


def _array(values):
    return np.array([_float(v) for v in values], dtype=float)


def _fit_to_dict(fit):
    return {
        "status": fit.status,
        "coefficients": list(fit.coefficients),
        "stderr": list(fit.stderr),
        "covariance": np.asarray(fit.covariance).tolist(),
        "bias_range": list(fit.bias_range),
        "degree": fit.degree,
        "rms_residual": fit.rms_residual,
        "n_points": fit.n_points,
        "chi2_reduced": fit.chi2_reduced,
        "prefix": fit.prefix,
    }


def _fit_from_dict(data):
    cov = np.array([[_float(c) for c in row] for row in data["covariance"]], dtype=float)
    cov.setflags(write=False)
    return PolynomialFit(
        coefficients=tuple(_float(c) for c in data["coefficients"]),
        stderr=tuple(_float(c) for c in data["stderr"]),
        covariance=cov,
        bias_range=tuple(_float(c) for c in data["bias_range"]),
        degree=int(data["degree"]),
        rms_residual=_float(data["rms_residual"]),
        n_points=int(data["n_points"]),
        chi2_reduced=_float(data["chi2_reduced"]),
        prefix=str(data["prefix"]),
        status=str(data.get("status", "ok")),
    )


# --------------------------------------------------------------------------------------------
# deviations and fits
# --------------------------------------------------------------------------------------------
def _deviation(reference, predicted, mask=None, reference_error=None, predicted_error=None):
    r"""Deviation of ``predicted`` from ``reference`` over the points where both are finite.

    Returns ``dict(max_abs, max_rel, rms_rel, scale, n_points, status)``: max\|Δ\|,
    max\|Δ\|/scale, RMS(Δ)/scale with scale = max\|reference\| over the same points.  No common
    point: all NaN and n_points = 0.  The relative values go through
    :func:`~mtj_kwant.ratios.ratio` with the errors of the two arrays (largest over the points;
    missing or NaN errors count as 0): when the scale is zero within its error (a torque that
    vanishes by symmetry, a current with no channel) they are inf (Δ resolved) or NaN (Δ zero
    within its error too: 0/0), and ``status`` says so; otherwise ``status`` is "ok".
    """
    ok = np.isfinite(reference) & np.isfinite(predicted)
    if mask is not None:
        ok &= mask
    n = int(ok.sum())
    if n == 0:
        nan = float("nan")
        return {"max_abs": nan, "max_rel": nan, "rms_rel": nan, "scale": nan, "n_points": 0,
                "status": "no common finite point"}

    def largest(err):
        if err is None:
            return 0.0
        return float(np.max(np.nan_to_num(np.abs(np.broadcast_to(err, reference.shape)[ok]))))

    diff = predicted[ok] - reference[ok]
    max_abs = float(np.max(np.abs(diff)))
    rms = float(np.sqrt(np.mean(diff**2)))
    scale = float(np.max(np.abs(reference[ok])))
    e_ref, e_pred = largest(reference_error), largest(predicted_error)
    names = dict(num_name="max |model - Kwant|", den_name="the scale max |Kwant|", den_sign=1)
    rel = ratio(max_abs, e_ref + e_pred, scale, e_ref, name="max_rel", **names)
    rms_rel = ratio(rms, e_ref + e_pred, scale, e_ref, name="rms_rel", **names).value
    return {"max_abs": max_abs, "max_rel": rel.value, "rms_rel": rms_rel, "scale": scale,
            "n_points": n, "status": rel.status}


def _model_error(values, kwant, rtol):
    """Error of a model's values: its quadrature tolerance and the round-off floor."""
    j = np.asarray(kwant["current_density"], float)
    j_scale = float(np.max(np.abs(j[np.isfinite(j)]), initial=0.0))
    return rtol * np.abs(values) + ROUND_OFF * j_scale


def _fits(bias, values, degree):
    """Quadratic (``degree``) fits of every quantity that is finite at all biases."""
    out = {}
    for q in QUANTITIES:
        y = values.get(q)
        if y is None or not np.all(np.isfinite(y)):
            continue
        out[q] = fit_bias_polynomial(bias, y, degree, prefix=_FIT_PREFIX[q])
    return out


# --------------------------------------------------------------------------------------------
# the comparison object
# --------------------------------------------------------------------------------------------
@dataclass
class Comparison(Result):
    r"""A Kwant sweep beside the analytic models (build it with :func:`compare`).

    Attributes
    ----------
    bias_V : ndarray
        Bias voltages (V), the sweep's order.
    theta_deg : float
        Polar angle θ of the free layer (degrees), as in the sweep.
    kwant : dict
        ``"current_density"`` (A/m²), ``"torque_inplane"`` and ``"torque_outofplane"`` (window
        parts, (ħ/2e)·A/m²) as arrays aligned with ``bias_V``, and ``"<quantity>_error"``, the
        integration error estimates; when the sweep has them, also ``"interfacial_inplane"`` and
        ``"interfacial_outofplane"`` (spin current entering the free layer, (ħ/2e)·A/m²).
    models : dict
        Model name → dict of the same three quantities (arrays; NaN where the model does not
        predict the quantity or could not be evaluated at that bias).  Only models that were
        evaluated appear; skipped ones are explained in ``notes``.
    deviations : dict
        Model name → quantity → ``dict(max_abs, max_rel, rms_rel, scale, n_points)`` over all
        biases where both values are finite; ``scale`` is max \|Kwant\| over those points,
        ``max_rel`` = max \|model − Kwant\| / scale and ``rms_rel`` = RMS(model − Kwant) / scale.
        No common point: NaN values and ``n_points`` = 0.  When the scale is zero within its
        error (e.g. torques at θ = 0 or 180°, where they vanish by symmetry, or the current of
        a half-metal's antiparallel state) ``max_rel`` and ``rms_rel`` are inf (the model
        deviates by more than the errors) or NaN (0/0) and ``status`` says why; otherwise
        ``status`` is "ok" (DESIGN.md §3a).  The errors are Kwant's estimates and, for the
        model, its quadrature tolerance plus :data:`ROUND_OFF` times max \|J\|.  Use
        :meth:`deviation` to restrict the bias range (e.g. to the linear-response regime).
    fits : dict
        Source (``"kwant"`` or a model name) → quantity → :class:`~mtj_kwant.analytic.fits.
        PolynomialFit` of degree 2 (coefficients c0, c1, c2 for J; a0, a1, a2 for T∥; b0, b1, b2
        for T⊥; residual-scatter uncertainties).  Only quantities that are finite at every bias;
        empty with fewer than 3 distinct biases.
    notes : list of str
        What was skipped or approximated, and why (``"diffusion: skipped: ..."``).
    scales : dict
        Model name → normalisation applied to it, e.g. ``{"btm": {"normalisation":
        "conductance", "factor": 0.62, "factor_error": 1e-4, "bias_V": 0.01}}`` (the factor
        multiplies J, T∥ and T⊥; it is not applied, with a note, when Kwant's or the model's
        J at that bias is zero within its error).
    temperature_K : float
        Temperature of the sweep (K), also used for the models.
    settings : dict
        Arguments of :func:`compare` and derived values (``angle_pm_deg``: angle between p and m).
    junction : dict
        The sweep's junction (plain tables, :func:`~mtj_kwant.model.junction_to_dict`).
    units : dict
        Units of the stored quantities.
    status, message
        0 and "ok" (:class:`~mtj_kwant.results.Result`: ``save``, ``load``, ``to_dict``).
    """

    kind = "comparison"

    bias_V: np.ndarray
    theta_deg: float
    kwant: dict
    models: dict
    deviations: dict
    fits: dict
    notes: list
    scales: dict = field(default_factory=dict)
    temperature_K: float = 0.0
    settings: dict = field(default_factory=dict)
    junction: dict = field(default_factory=dict)
    units: dict = field(default_factory=lambda: dict(UNITS))

    # ------------------------------------------------------------------ queries
    def deviation(self, model, quantity, *, max_bias=None):
        r"""Deviation of one model and quantity, optionally for \|V\| ≤ ``max_bias`` only.

        Parameters
        ----------
        model : str
            A key of :attr:`models`.
        quantity : str
            One of :data:`QUANTITIES`.
        max_bias : float, optional
            Largest \|V\| (V) taken into account; the scale is then max \|Kwant\| over those
            points.  Default: all biases (the value stored in :attr:`deviations`).

        Returns
        -------
        dict
            ``max_abs`` (unit of the quantity), ``max_rel``, ``rms_rel``, ``scale``,
            ``n_points``.
        """
        if model not in self.models:
            raise KeyError(f"no model {model!r} in this comparison; evaluated: "
                           f"{', '.join(self.models) or 'none'} (see notes)")
        if quantity not in QUANTITIES:
            raise KeyError(f"unknown quantity {quantity!r}; use one of {', '.join(QUANTITIES)}")
        mask = None if max_bias is None else np.abs(self.bias_V) <= max_bias * (1 + 1e-12)
        values = self.models[model][quantity]
        return _deviation(self.kwant[quantity], values, mask,
                          self.kwant.get(f"{quantity}_error"),
                          _model_error(values, self.kwant, self.settings.get("rtol", 0.0)))

    # ------------------------------------------------------------------ I/O
    def to_dict(self):
        """Plain JSON-ready dict (NaN as None, ±inf as "inf"/"-inf", fits as dicts)."""
        fits = {s: {q: _fit_to_dict(f) for q, f in table.items()} for s, table in self.fits.items()}
        return jsonable({
            "kind": self.kind,
            "bias_V": self.bias_V,
            "theta_deg": self.theta_deg,
            "temperature_K": self.temperature_K,
            "kwant": self.kwant,
            "models": self.models,
            "deviations": self.deviations,
            "fits": fits,
            "scales": self.scales,
            "notes": list(self.notes),
            "settings": self.settings,
            "junction": self.junction,
            "units": self.units,
            "status": self.status,
            "message": self.message,
        })

    @classmethod
    def from_dict(cls, data):
        """Rebuild a comparison from :meth:`to_dict` output."""
        data = cls._checked(data)

        def arrays(table):
            return {k: _array(v) for k, v in table.items()}

        return cls(
            bias_V=_array(data["bias_V"]),
            theta_deg=_float(data["theta_deg"]),
            temperature_K=_float(data["temperature_K"]),
            kwant=arrays(data["kwant"]),
            models={m: arrays(t) for m, t in data["models"].items()},
            deviations={
                m: {q: {k: (int(v) if k == "n_points" else v if k == "status" else _float(v))
                        for k, v in d.items()}
                    for q, d in table.items()}
                for m, table in data["deviations"].items()
            },
            fits={s: {q: _fit_from_dict(f) for q, f in table.items()}
                  for s, table in data["fits"].items()},
            scales=data.get("scales", {}),
            notes=list(data.get("notes", [])),
            settings=data.get("settings", {}),
            junction=data.get("junction", {}),
            units=data.get("units", dict(UNITS)),
            status=data.get("status"),
            message=data.get("message"),
        )

    # ------------------------------------------------------------------ reports
    def table(self):
        """Plain-text table of the deviations (one row per model and quantity), then notes."""
        head = (f"{'model':<12} {'quantity':<18} {'max_abs':>11} {'max_rel':>10} "
                f"{'rms_rel':>10} {'scale':>11} {'n':>3}")
        lines = [f"Kwant sweep vs analytic models: theta = {self.theta_deg:g} deg, "
                 f"T = {self.temperature_K:g} K, V in [{np.min(self.bias_V):g}, "
                 f"{np.max(self.bias_V):g}] V (torques: window parts)", head, "-" * len(head)]
        for model, table in self.deviations.items():
            for q in QUANTITIES:
                d = table.get(q)
                if d is None:
                    continue
                lines.append(f"{model:<12} {q:<18} {d['max_abs']:>11.3e} {d['max_rel']:>10.3e} "
                             f"{d['rms_rel']:>10.3e} {d['scale']:>11.3e} {d['n_points']:>3d}")
        for model, table in self.deviations.items():
            for q in QUANTITIES:
                status = table.get(q, {}).get("status", "ok")
                if status not in ("ok", "no common finite point"):
                    lines.append(f"{model} {q}: {status}")
        for model, s in self.scales.items():
            lines.append(f"scale of {model}: {s.get('normalisation')} x {s.get('factor'):.6g}")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def plot(self, path=None):
        """T∥, T⊥ and J versus bias: Kwant points with error bars, model lines.

        Parameters
        ----------
        path : str or Path, optional
            PNG file to write (matplotlib, Agg backend).

        Returns
        -------
        matplotlib.figure.Figure
        """
        from .plotting import _figure, _save

        fig, axes = _figure(1, 3, (12, 3.6))
        order = np.argsort(self.bias_V)
        v = self.bias_V[order]
        labels = {
            "torque_inplane": r"$T_\parallel$ (window) ($(\hbar/2e)$ A/m$^2$)",
            "torque_outofplane": r"$T_\perp$ (window) ($(\hbar/2e)$ A/m$^2$)",
            "current_density": r"current density $J$ (A/m$^2$)",
        }
        for ax, q in zip(axes, ("torque_inplane", "torque_outofplane", "current_density")):
            err = self.kwant.get(f"{q}_error")
            ax.errorbar(v, self.kwant[q][order], yerr=None if err is None else err[order],
                        fmt="o", color="k", ms=3.5, capsize=2, label="Kwant", zorder=3)
            for n, (model, values) in enumerate(self.models.items()):
                y = values[q][order]
                if np.any(np.isfinite(y)):
                    ax.plot(v, y, "-", color=f"C{n}", lw=1.4, label=model)
            ax.axhline(0, color="0.85", lw=0.8, zorder=0)
            ax.set_xlabel("bias V (V)")
            ax.set_ylabel(labels[q])
        axes[0].legend(frameon=False, fontsize=8)
        name = self.junction.get("name", "")
        fig.suptitle(f"{name}  (θ = {self.theta_deg:g}°, T = {self.temperature_K:g} K)",
                     fontsize=9)
        return _save(fig, path)


# --------------------------------------------------------------------------------------------
# models
# --------------------------------------------------------------------------------------------
def _nan_quantities(n):
    return {q: np.full(n, np.nan) for q in QUANTITIES}


def _is_fif(junction):
    return junction.free_index == "right"


def _btm(junction, bias, angle, temperature, phase_factors, normalisation, kwant, rtol, notes,
         scales):
    r"""BTM window parts at every bias (NaN where the bias leaves the tunnelling regime)."""
    try:
        model = btm_from_junction(junction)
    except (TypeError, ValueError) as err:
        notes.append(f"btm: skipped: {err}")
        return None
    if not _is_fif(junction):
        notes.append("btm: the finite free layer is treated as a semi-infinite electrode "
                     "(interfacial torque; no quantum-well or diffusion effects)")
    out = _nan_quantities(bias.size)
    failed = []
    for n, v in enumerate(bias):
        try:
            r = btm_torques(model, [v], angle, temperature, phase_factors=phase_factors,
                            rtol=rtol)
        except ValueError:
            failed.append(v)
            continue
        out["current_density"][n] = r.current_density[0]
        out["torque_inplane"][n] = r.torque_parallel_window[0]
        out["torque_outofplane"][n] = r.torque_perpendicular_window[0]
    if failed:
        notes.append(f"btm: NaN at V = {', '.join(f'{v:g}' for v in failed)} V "
                     "(the bias window reaches the barrier top; the BTM needs tunnelling)")
    if normalisation == "conductance":
        j_model = out["current_density"]
        factor, factor_err, v_ref, status = _conductance_ratio(
            bias, kwant["current_density"], j_model, kwant["current_density_error"],
            _model_error(j_model, kwant, rtol))
        if np.isfinite(factor):
            for q in QUANTITIES:
                out[q] *= factor
            scales["btm"] = {"normalisation": "conductance", "factor": factor,
                             "factor_error": factor_err, "bias_V": v_ref}
        else:
            notes.append(f"btm: not normalised ({status}); absolute per-area values")
            scales["btm"] = {"normalisation": "none", "factor": 1.0, "bias_V": float("nan")}
    else:
        scales["btm"] = {"normalisation": "none", "factor": 1.0, "bias_V": float("nan")}
    return out


def _conductance_ratio(bias, j_kwant, j_model, e_kwant, e_model):
    r"""Ratio of the linear-response conductances, from the smallest nonzero \|V\|.

    :math:`s = \sum_S \mathrm{sign}(V) J_{\rm Kwant} / \sum_S \mathrm{sign}(V) J_{\rm model}`
    over the points S with the smallest nonzero \|V\| (both signs if present), i.e. the ratio
    of J/V at that bias, through :func:`~mtj_kwant.ratios.ratio` with the errors ``e_kwant``
    and ``e_model``.  Returns ``(s, error, v_ref, status)``; s is NaN, with the reason in
    ``status``, when there is no such bias or when either sum is zero within its error (a
    current that vanishes, e.g. the antiparallel state of half-metals: no conductance to
    match, and a factor from round-off would be a huge number).
    """
    ok = (bias != 0) & np.isfinite(j_kwant) & np.isfinite(j_model)
    if not ok.any():
        return float("nan"), float("nan"), float("nan"), "no nonzero bias with finite currents"
    v_ref = float(np.min(np.abs(bias[ok])))
    sel = ok & np.isclose(np.abs(bias), v_ref, rtol=1e-9, atol=0)
    sign = np.sign(bias[sel])
    num, den = float(np.sum(sign * j_kwant[sel])), float(np.sum(sign * j_model[sel]))
    num_err = float(np.sum(np.nan_to_num(np.abs(e_kwant[sel]))))
    den_err = float(np.sum(np.nan_to_num(np.abs(e_model[sel]))))
    where = f"|V| = {v_ref:g} V"
    if not resolved(num, num_err):
        return (float("nan"), float("nan"), v_ref,
                f"Kwant's J at {where} is zero within its error ({num / sign.size:.3g} +- "
                f"{num_err / sign.size:.2g} A/m^2): no conductance to match")
    r = ratio(num, num_err, den, den_err, name="the scale factor",
              num_name=f"Kwant's J at {where}", den_name=f"the model's J at {where}")
    if not r.ok:
        return float("nan"), float("nan"), v_ref, r.status
    return r.value, r.error, v_ref, "ok"


def _slonczewski_applicable(junction):
    """None if Slonczewski's limits apply, else the reason."""
    if junction.model != "free-electron":
        return f"the junction is {junction.model} (the limits need free-electron bands)"
    if not _is_fif(junction):
        return ("the junction is F/I/F/N (finite free layer): the limits are for semi-infinite "
                "electrodes")
    if len(junction.layers) != 1 or junction.layers[0].kind != "barrier":
        return "the scattering region is not a single barrier layer"
    barrier = junction.layers[0]
    if not isinstance(barrier.potential, (int, float)):
        return "the barrier is not rectangular (trapezoidal or user-defined profile)"
    if barrier.exchange != 0:
        return "the barrier has an exchange splitting (spin filter)"
    return None


def _slonczewski(junction, bias, angle, temperature, rtol, notes):
    reason = _slonczewski_applicable(junction)
    if reason is not None:
        notes.append(f"slonczewski: skipped: {reason}")
        return None
    barrier = junction.layers[0]

    def electrode(el):
        return FreeElectronElectrode(band_bottom=el.potential, exchange=el.exchange,
                                     mass=junction.mass_of(el))

    try:
        c = slonczewski_per_area(junction.fermi_energy, electrode(junction.left),
                                 electrode(junction.right), barrier.potential,
                                 barrier.thickness, barrier_mass=junction.mass_of(barrier),
                                 rtol=min(rtol, 1e-8))
    except ValueError as err:
        notes.append(f"slonczewski: skipped: {err}")
        return None
    if temperature > 0:
        notes.append("slonczewski: zero-temperature linear response (the sweep's "
                     f"T = {temperature:g} K is not used)")
    s = math.sin(angle)
    return {
        "current_density": float(c.conductance(angle)) * bias,
        "torque_inplane": c.inplane_torkance * s * bias,
        "torque_outofplane": c.outofplane_window_torkance * s * bias,
    }


def _diffusion_parameters(params):
    allowed = _DIFFUSION_LENGTHS + _DIFFUSION_CAP + ("eta",)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValueError(f"unknown diffusion parameter(s) {', '.join(unknown)}; "
                         f"allowed: {', '.join(allowed)}")
    missing = [k for k in _DIFFUSION_LENGTHS if k not in params]
    if missing:
        raise ValueError(f"diffusion parameters miss {', '.join(missing)} (nm; np.inf "
                         "switches a process off)")
    lengths = {k: float(params[k]) for k in _DIFFUSION_LENGTHS}
    has_cap = [k in params for k in _DIFFUSION_CAP]
    if any(has_cap) if "eta" in params else not all(has_cap):
        raise ValueError("give the cap either as `eta` or as both `lambda_N` (nm) and "
                         "`diffusion_ratio` (D_N/D_F)")
    eta = params["eta"] if "eta" in params else cap_eta(
        **lengths, lambda_N=params["lambda_N"], diffusion_ratio=params["diffusion_ratio"])
    return lengths, complex(eta)


def _diffusion(junction, result, params, n, notes):
    if _is_fif(junction):
        notes.append("diffusion: skipped: the junction is F/I/F (no finite free layer)")
        return None
    fields_ = [getattr(result, name, None) for name in INTERFACIAL_FIELDS]
    if any(f is None or len(f) == 0 for f in fields_):
        notes.append("diffusion: skipped: the sweep has no interfacial spin current "
                     f"({' / '.join(INTERFACIAL_FIELDS)})")
        return None
    if params is None:
        notes.append("diffusion: skipped: no diffusion parameters (pass diffusion={'lambda_J': "
                     "..., 'lambda_phi': ..., 'lambda_sf': ..., 'eta': ...})")
        return None
    lengths, eta = _diffusion_parameters(params)
    j_par, j_perp = (np.asarray(f, dtype=float) for f in fields_)
    if j_par.shape != (n,) or j_perp.shape != (n,):
        raise ValueError(f"{' and '.join(INTERFACIAL_FIELDS)} must have one value per bias "
                         f"({n}), got {j_par.shape} and {j_perp.shape}")
    layer = junction.layers[junction.free_index]
    d = layer.thickness * (junction.lattice_constant if junction.model == "tight-binding"
                           else 1.0)
    torque = d * diffusion_torque(j_par + 1j * j_perp, d, eta=eta, **lengths)
    return {"current_density": np.full(n, np.nan),
            "torque_inplane": np.real(torque), "torque_outofplane": np.imag(torque)}


# --------------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------------
def _rebuild_junction(tables):
    if not tables:
        raise ValueError("the sweep result carries no junction; pass junction=...")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", JunctionWarning)
            return junction_from_dict(tables)
    except (ValueError, TypeError) as err:
        raise ValueError(
            f"cannot rebuild the junction from the sweep result ({err}); a junction with a "
            "user-defined (callable) potential is stored as text: pass junction=..."
        ) from None


def compare(result, junction=None, *, models=MODELS, diffusion=None,
            btm_phase_factors="thick_barrier", btm_normalisation="conductance", rtol=1e-6,
            fit_degree=2):
    r"""Put a Kwant sweep beside the analytic models and measure their deviations.

    Parameters
    ----------
    result : SweepResult or str or Path
        A window-part sweep (:func:`mtj_kwant.sweep`) or the path of its saved JSON.
    junction : Junction, optional
        The junction of the sweep; default: rebuilt from ``result.junction``.
    models : sequence of str
        Models to evaluate, among :data:`MODELS`.
    diffusion : dict, optional
        Diffusion parameters: ``lambda_J``, ``lambda_phi``, ``lambda_sf`` (nm, np.inf switches a
        process off) and the cap, either ``eta`` (complex, Eq. 23) or ``lambda_N`` (nm) and
        ``diffusion_ratio`` (D_N/D_F, see :func:`~mtj_kwant.analytic.diffusion.cap_eta`).
        Without it the diffusion model is skipped (with a note).
    btm_phase_factors : {"thick_barrier", "paper"}
        Passed to :func:`~mtj_kwant.analytic.btm.btm_torques`.
    btm_normalisation : {"conductance", "none"}
        "conductance" multiplies the BTM J, T∥ and T⊥ by one factor s, the ratio of the Kwant to
        the BTM J/V at the smallest nonzero \|V\| of the sweep (the linear-response
        conductance); s is recorded in ``scales["btm"]``.  "none" keeps the BTM's own per-area
        values (A/m²).
    rtol : float
        Relative tolerance of the analytic quadratures (BTM energy integrals, Slonczewski k∥
        integrals, which use at most 1e-8).
    fit_degree : int
        Degree of the bias fits.

    Returns
    -------
    Comparison

    Notes
    -----
    Every model is evaluated at the sweep's biases, temperature and at the angle between p and
    m, θ_pm = arccos(p·m) with m = (sin θ cos φ, sin θ sin φ, cos θ) (equal to θ when p = z).
    Only window parts are compared (electrons emitted by the pinned electrode, DESIGN §1).

    * **BTM** (Eqs. 3, 7–8, ingredients rigidly shifted as in Eq. 9 with the project's sign of V):
      :func:`~mtj_kwant.analytic.btm.btm_from_junction` and
      :func:`~mtj_kwant.analytic.btm.btm_torques`, window parts ``torque_parallel_window`` and
      ``torque_perpendicular_window``.  The free-electron BTM is normalised per area with a
      Gaussian k∥ weight around normal incidence and normal-incidence interface factors, so
      its J, and its ratio T∥/J = P_L(k∥ = 0), are off when the interface factors vary over the
      k∥ range of tunnelling (width² ≈ κ/d); hence the default conductance normalisation, which
      leaves the BTM's shapes, its ratios T∥/J and T⊥/T∥, and its relative bias dependence
      (e.g. a2/a1) to be compared.  An F/I/F/N free layer is treated as semi-infinite.
    * **Slonczewski** (Sec. 3 of the paper; Slonczewski, PRB 39, 6995 (1989)):
      :func:`~mtj_kwant.analytic.slonczewski.slonczewski_per_area`, k∥-integrated thick-barrier
      limits, J = G(θ)V with G(θ) = G₀ + ½(G_P − G_AP) cos θ, T∥ = (ħ/2e) τ∥ sin θ V with the
      in-plane torkance τ∥ = P_L G₀, T⊥(window) = τ⊥,w sin θ V with the window out-of-plane
      torkance (the Fermi-sea part that makes the *total* T⊥ even in V is not compared).
      Linear response at T = 0: valid for \|V\| small compared with the energy scales of the
      bands and the barrier (use :meth:`Comparison.deviation` with ``max_bias``).  Skipped
      unless the junction is a free-electron F/I/F with one rectangular, non-magnetic barrier.
    * **Diffusion** (Eq. 23): total torque per area
      T∥ + iT⊥ = d · T_Eq.23(J₀ = J∥ + iJ⊥, d), with d the free-layer thickness (nm) and J₀ the
      Kwant interfacial spin current (SweepResult attributes :data:`INTERFACIAL_FIELDS`); Eq. 23
      is the layer average, hence the factor d.  It does not predict J (NaN).  Skipped for
      F/I/F junctions, without interfacial data, or without ``diffusion`` parameters.

    The junction is rebuilt from the stored tables with
    :func:`~mtj_kwant.model.junction_from_dict`.

    Examples
    --------
    >>> import mtj_kwant as mk                                          # doctest: +SKIP
    >>> res = mk.sweep("fe_mgo_fe", [-0.02, -0.01, 0, 0.01, 0.02])
    >>> comp = compare(res)                                             # doctest: +SKIP
    >>> print(comp.table())                                             # doctest: +SKIP
    >>> comp.deviation("slonczewski", "torque_inplane", max_bias=0.02)  # doctest: +SKIP
    """
    Options(rtol=rtol)
    if isinstance(result, (str, Path)):
        result = load_result(result)
    if not isinstance(result, SweepResult):
        raise TypeError(f"`result` must be a SweepResult or the path of one, "
                        f"got {type(result).__name__}")
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise ValueError(f"unknown model(s) {', '.join(map(repr, unknown))}; "
                         f"choose from {', '.join(MODELS)}")
    if btm_normalisation not in _BTM_NORMALISATIONS:
        raise ValueError(f"`btm_normalisation` must be one of {', '.join(_BTM_NORMALISATIONS)}, "
                         f"got {btm_normalisation!r}")
    if junction is None:
        junction = _rebuild_junction(result.junction)
    elif not isinstance(junction, Junction):
        raise TypeError(f"`junction` must be a Junction, got {type(junction).__name__}")

    bias = np.asarray(result.bias_V, dtype=float)
    kwant = {q: np.asarray(getattr(result, f), dtype=float) for q, f in _RESULT_FIELDS.items()}
    for q, f in _RESULT_FIELDS.items():
        err = result.errors.get(f)
        kwant[f"{q}_error"] = (np.full(bias.size, np.nan) if err is None
                               else np.asarray(err, dtype=float))
    for name in INTERFACIAL_FIELDS:
        values = getattr(result, name, None)
        if values is not None and len(values):
            kwant[name.removesuffix("_window")] = np.asarray(values, dtype=float)

    m = magnetization_direction(math.radians(result.theta_deg), math.radians(result.phi_deg))
    angle = math.acos(max(-1.0, min(1.0, float(np.dot(junction.pinned_direction, m)))))
    temperature = float(result.temperature_K)
    notes, scales, predictions = [], {}, {}
    for name in models:
        if name == "btm":
            out = _btm(junction, bias, angle, temperature, btm_phase_factors, btm_normalisation,
                       kwant, rtol, notes, scales)
        elif name == "slonczewski":
            out = _slonczewski(junction, bias, angle, temperature, rtol, notes)
        else:
            out = _diffusion(junction, result, diffusion, bias.size, notes)
        if out is not None:
            predictions[name] = out

    if torque_axes(m, junction.pinned_direction) is None and predictions:
        # as for Kwant's (mtj_kwant.scan): e∥, e⊥ are undefined, the components are 0 by
        # definition (DESIGN.md §1); a model's sin(180°) round-off is not a torque
        for values in predictions.values():
            for q in ("torque_inplane", "torque_outofplane"):
                values[q] = np.where(np.isfinite(values[q]), 0.0, values[q])
        notes.append("torques: m and p are collinear, so T∥ = T⊥ = 0 by definition (DESIGN.md "
                     "§1), for the models too; their relative deviations are 0/0, undefined")
    deviations = {name: {q: _deviation(kwant[q], values[q], None, kwant[f"{q}_error"],
                                       _model_error(values[q], kwant, rtol))
                         for q in QUANTITIES}
                  for name, values in predictions.items()}
    fits = {}
    if np.unique(bias).size > fit_degree:
        fits["kwant"] = _fits(bias, kwant, fit_degree)
        fits.update({name: _fits(bias, values, fit_degree)
                     for name, values in predictions.items()})
    else:
        notes.append(f"fits: skipped: a degree-{fit_degree} fit needs at least "
                     f"{fit_degree + 1} distinct biases")
    diff_settings = None if diffusion is None else dict(diffusion)
    return Comparison(
        bias_V=bias,
        theta_deg=float(result.theta_deg),
        kwant=kwant,
        models=predictions,
        deviations=deviations,
        fits=fits,
        notes=notes,
        scales=scales,
        temperature_K=temperature,
        settings={
            "models": list(models),
            "btm_phase_factors": btm_phase_factors,
            "btm_normalisation": btm_normalisation,
            "rtol": rtol,
            "fit_degree": fit_degree,
            "diffusion": diff_settings,
            "angle_pm_deg": math.degrees(angle),
            "phi_deg": float(result.phi_deg),
        },
        junction=dict(result.junction),
    )
