"""Integration over energy and transverse momentum: per-area observables at one bias.

The window part (DESIGN.md §1) of any observable O is::

    O_window = ∫ dE [f_L(E) − f_R(E)] ∫ d²k∥/(2π)² o_L(E, k∥)

with o_L the contribution of the scattering states incoming from the left.
Three routes, chosen from the junction:

- uniform mass (free electron): the integrand depends on E_x = E − ħ²k∥²/2m
  only, and the k∥ integral is done analytically (DESIGN.md §5)::

      O_window = m/(2πħ²) ∫ dE_x o_L(E_x) W(E_x),
      W(E_x) = ∫₀^∞ dε [f_L − f_R](E_x + ε)  →  (μ_L − E_x)₊ − (μ_R − E_x)₊ at T = 0;

- tight binding: the same reduction with the square-lattice transverse band,
  W(E_x) = a⁻² ∫ dε ρ₂D(ε) [f_L − f_R](E_x + ε), ρ₂D the normalised density
  of states of ε∥ = −2t(cos k_y a + cos k_z a);
- per-layer masses: a nested (E, ε∥) quadrature, ε∥ = ħ²k∥²/2m_e,
  ∫ d²k∥/(2π)² = (1/4π)(2m_e/ħ²) ∫ dε∥.

Every integral is globally adaptive (Gauss–Kronrod 7/15) with breakpoints at
the leads' band edges, the chemical potentials and the narrow resonances
(quasi-bound quantum-well states), which are located beforehand as the poles
of G(z) = (z − H − Σ_L(z) − Σ_R(z))⁻¹ near the real axis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla

from .quadrature import adaptive_quad
from .solvers import ChainSolver, lead_self_energy, make_solver
from .units import E_OVER_H, HBAR2_2ME, K_B, PER_NM2

__all__ = [
    "WindowResult",
    "window_point",
    "find_resonances",
    "fermi",
    "tb_cumulative_dos",
]

#: Energies (in units of k_B T) beyond which Fermi functions are taken as 0 or 1.
FERMI_TAIL = 40.0


def fermi(e, mu, kT):
    """Fermi function; a step (with f(μ) = ½) at kT = 0."""
    e = np.asarray(e, dtype=float)
    if kT == 0:
        return np.where(e < mu, 1.0, np.where(e > mu, 0.0, 0.5))
    return 0.5 * (1 - np.tanh((e - mu) / (2 * kT)))


def _softplus_integral(mu_minus_e, kT):
    """∫₀^∞ dε f(E_x + ε) at chemical potential μ: kT ln(1 + e^{(μ−E_x)/kT}), (μ−E_x)₊ at T=0."""
    if kT == 0:
        return np.maximum(mu_minus_e, 0.0)
    return kT * np.logaddexp(0.0, mu_minus_e / kT)


_TB_K = (np.arange(4000) + 0.5) * (np.pi / 4000)


def tb_cumulative_dos(eps, t):
    """Fraction of the square-lattice Brillouin zone with ε∥ < eps.

    ε∥ = −2t(cos k_y a + cos k_z a); N(eps) = π⁻² ∫₀^π dk arccos(clip(−eps/2t − cos k)).
    Midpoint rule with 4000 nodes: the integrand is continuous with kinks, so
    the error is below 1e-6.
    """
    eps = np.asarray(eps, dtype=float)
    c = np.clip(-eps[..., None] / (2 * t) - np.cos(_TB_K), -1.0, 1.0)
    return np.arccos(c).mean(-1) / np.pi


_GL_U, _GL_W = np.polynomial.legendre.leggauss(160)


def _tb_fermi_integral(mu_minus_e, t, kT):
    """∫ dε ρ₂D(ε) f(E_x + ε) for f at μ; N(μ − E_x) at T = 0.

    At T > 0, by parts: ∫ N(ε) (−f')(E_x + ε) dε over ε = μ − E_x + kT u.
    """
    x = np.asarray(mu_minus_e, dtype=float)
    if kT == 0:
        return tb_cumulative_dos(x, t)
    u = FERMI_TAIL * _GL_U
    kernel = 0.25 / np.cosh(u / 2) ** 2 * FERMI_TAIL * _GL_W
    return tb_cumulative_dos(x[..., None] + kT * u, t) @ kernel


@dataclass
class WindowResult:
    """Window part of the per-area observables at one bias and angle.

    Attributes
    ----------
    current_density : float
        A/m² (e × electron flux left → right per area).
    torque : ndarray (3,)
        Torque vector on the free layer, (ħ/2e) A/m².
    errors : dict
        Error estimates of ``current_density`` and ``torque`` (same units).
    profile : dict or None
        Per-site / per-bond integrated arrays (spin_density in ⟨σ⟩/nm³,
        spin_current and torque_density in (ħ/2e) A/m², current in A/m²).
    n_eval : int
        Solver evaluations.
    converged : bool
    resonances : ndarray (n, 2)
        Narrow resonances (centre, half width in eV) that were resolved.
    """

    current_density: float
    torque: np.ndarray
    errors: dict
    n_eval: int
    converged: bool
    resonances: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    profile: dict | None = None


def _refine_pole(a_of_s, b, v, max_iter=40):
    """Solve Re λ(s) = s for the eigenvalue λ(s) of the pencil with Σ at real s (secant).

    A plain fixed-point iteration s ← Re λ(s) diverges near lead band edges,
    where |dΣ/dE| > 1; the secant iteration on g(s) = Re λ(s) − s does not.
    """
    def lam(s, near):
        vals = sla.eigvals(a_of_s(s), b, check_finite=False)
        return vals[np.argmin(np.abs(vals - near))]

    s0 = v.real
    a0 = a_of_s(s0)
    # Eigenvalues are accurate to ~1e-13 of the matrix norm: ask for no more.
    tol = 1e-13 * max(1.0, np.abs(a0).max())
    l0 = lam(s0, v)
    g0 = l0.real - s0
    s1 = l0.real
    l1 = lam(s1, l0)
    g1 = l1.real - s1
    for _ in range(max_iter):
        if abs(g1) <= tol or g1 == g0 or abs(s1 - s0) <= tol:
            break
        s0, s1, g0 = s1, s1 - g1 * (s1 - s0) / (g1 - g0), g1
        l1 = lam(s1, l1)
        g1 = l1.real - s1
    if abs(g1) > 1e-9 * max(1.0, abs(s1)):
        return None
    return complex(s1, l1.imag)


def _pole_search(a_of_s, b, lo, hi, n_grid, gamma_max, lead_rows):
    """Poles s of (A(s) − s B)⁻¹ type problems near the real segment [lo, hi].

    ``a_of_s(s0)`` returns the matrix A evaluated with self-energies at real s0
    so that the poles are the eigenvalues of the pencil (A, B).
    """
    grid = np.linspace(lo, hi, n_grid)
    spacing = (hi - lo) / max(n_grid - 1, 1)
    candidates = []
    for s0 in grid:
        vals = sla.eigvals(a_of_s(s0), b, check_finite=False)
        ok = (np.abs(vals.imag) < gamma_max) & (np.abs(vals.real - s0) <= spacing) & (
            vals.real > lo) & (vals.real < hi)
        candidates.extend(vals[ok])
    # The same pole seen from neighbouring grid points is refined once.
    candidates.sort(key=lambda v: v.real)
    unique = []
    for v in candidates:
        if unique and abs(v.real - unique[-1].real) < 1e-3 * spacing:
            continue
        unique.append(v)
    found = []
    for v in unique:
        v = _refine_pole(a_of_s, b, v)
        if v is not None and lo < v.real < hi and abs(v.imag) < gamma_max:
            found.append(v)
    found.sort(key=lambda v: v.real)
    out = []
    for v in found:
        if out and abs(v.real - out[-1].real) <= max(1e-12, 1e-3 * abs(v.imag), 1e-9):
            continue
        out.append(v)
    return np.array([[v.real, abs(v.imag)] for v in out]).reshape(-1, 2)


def find_resonances(chain_solver, lo, hi, *, energy=None, eps_par=0.0, gamma_max=0.02,
                    n_grid=None):
    """Narrow resonances of the open system along a line of (E, ε∥) space.

    With ``energy=None`` the line is E ∈ [lo, hi] at fixed ``eps_par``;
    otherwise it is ε∥ ∈ [lo, hi] at fixed ``energy``.

    Parameters
    ----------
    chain_solver : ChainSolver
    lo, hi : float
        Segment (eV).
    gamma_max : float
        Only poles with |Im| below this (eV) are returned: broader peaks are
        resolved by the adaptive quadrature alone.

    Returns
    -------
    ndarray (n, 2)
        Centre and half width of each resonance (eV).

    Notes
    -----
    The poles of G are the eigenvalues of the non-Hermitian H + Σ_L(E) +
    Σ_R(E) (energy line) or of the pencil (E − H₀ − Σ, D) with D = ∂H/∂ε∥
    (transverse line).  Σ is evaluated on the real axis at the current
    estimate and the eigenvalue is iterated to self-consistency.
    """
    cs = chain_solver
    n = cs.chain.n_sites
    if n_grid is None:
        n_grid = int(min(60, max(3, math.ceil((hi - lo) / 0.25) + 1)))

    def h_eff(e, eps):
        h = np.zeros((2 * n, 2 * n), complex)
        blocks = cs.onsite + eps * cs.slope
        for j in range(n):
            h[2 * j:2 * j + 2, 2 * j:2 * j + 2] = blocks[j]
        for j in range(n - 1):
            h[2 * j + 2:2 * j + 4, 2 * j:2 * j + 2] = -cs.t[j] * np.eye(2)
            h[2 * j:2 * j + 2, 2 * j + 2:2 * j + 4] = -cs.t[j] * np.eye(2)
        (sl, _), (sr, _) = cs.self_energies(np.array(e, complex), np.array(eps, float))
        h[:2, :2] += sl
        h[-2:, -2:] += sr
        return h

    if energy is None:
        return _pole_search(lambda s: h_eff(s, eps_par), None, lo, hi, n_grid, gamma_max, None)
    d = np.kron(np.diag(cs.slope_diag), np.eye(2))
    e_eye = energy * np.eye(2 * n)
    res = _pole_search(lambda s: e_eye - h_eff(energy, s) + s * d, d, lo, hi, n_grid,
                       gamma_max, None)
    return res


def _lead_bands(cs, eps=0.0):
    """(bottom, top) of every spin band of each lead at transverse energy eps."""
    out = []
    for hc, dh, tl in cs.leads:
        e = np.linalg.eigvalsh(hc + eps * dh)
        out.append(np.stack([e - 2 * tl, e + 2 * tl], 1))
    return out


def _resonance_points(res, lo, hi, decades=4):
    pts = []
    for c, g in res:
        pts.append(c)
        for k in range(decades):
            w = max(g, 1e-14) * 10.0**k
            pts += [c - w, c + w]
    pts = np.asarray(pts, float)
    return pts[(pts > lo) & (pts < hi)]


class _Integrand:
    """Turns solver output into the flat vector that is integrated."""

    def __init__(self, solver, profile):
        self.solver = solver
        self.profile = profile
        chain = solver.chain
        self.bond_in, self.bond_out = chain.free_bonds
        self.n = chain.n_sites
        self.size = 11 * self.n if profile else 4

    def __call__(self, energies, eps_par):
        o = self.solver.incoming(0, energies, eps_par)
        js = o["spin_current"]
        if self.bond_out is None:  # free electrode: drop the longitudinal spin current
            tq = js[:, self.bond_in]
            tq = tq - np.outer(tq @ self.solver.m, self.solver.m)
        else:
            tq = js[:, self.bond_in] - js[:, self.bond_out]
        cols = [o["current"][:, self.bond_in, None], tq]
        if self.profile:
            b = len(energies)
            cols += [o["current"], o["spin_current"].reshape(b, -1),
                     o["spin_density"].reshape(b, -1), o["torque"].reshape(b, -1),
                     o["density"]]
        return np.concatenate(cols, axis=1)

    def unpack(self, vec):
        n = self.n
        out = {"current": vec[0], "torque": vec[1:4]}
        if self.profile:
            i = 4
            for key, size, shape in (("bond_current", n - 1, (n - 1,)),
                                     ("spin_current", 3 * (n - 1), (n - 1, 3)),
                                     ("spin_density", 3 * n, (n, 3)),
                                     ("torque_density", 3 * n, (n, 3)),
                                     ("density", n, (n,))):
                out[key] = vec[i:i + size].reshape(shape)
                i += size
        return out


def _tolerance(rtol, n_total):
    def tol(value):
        cur = abs(value[0])
        tq = np.abs(value[1:4]).max()
        scale_t = max(tq, 1e-6 * cur, 1e-300)
        allowed = np.full(value.shape, np.inf)
        allowed[0] = rtol * max(cur, 1e-300)
        allowed[1:4] = rtol * scale_t
        return allowed
    return tol


def window_point(jsys, *, theta, phi=0.0, bias, temperature=0.0, rtol=1e-3,
                 solver="batched", profile=False, max_eval=400_000, progress=None,
                 method="auto"):
    """Window part of current density, torque (and optionally profiles) at one bias.

    Parameters
    ----------
    jsys : JunctionSystem
    theta, phi : float
        Free-layer angles (rad).
    bias : float
        V.
    temperature : float
        K.
    rtol : float
        Relative tolerance on the current density and on each torque
        component relative to the larger torque component.
    solver : {"batched", "kwant"}
    profile : bool
        Also integrate the site-resolved arrays.
    max_eval : int
        Evaluation budget per integral.
    progress : callable, optional
        Called with the number of new solver evaluations.
    method : {"auto", "reduced", "nested"}
        "reduced" uses the exact E_x reduction (uniform mass or tight
        binding), "nested" the (E, ε∥) quadrature (free electron only; for
        uniform masses it is a cross-check of the reduction); "auto" picks the
        reduction whenever it is exact.

    Returns
    -------
    WindowResult

    Notes
    -----
    The torque is T = J_s(entering the free layer) − J_s(leaving it).  For a
    semi-infinite free electrode the spin current entering it also carries a
    longitudinal part (along m) that flows on through the electrode; it is
    removed, so that T ⟂ m in every case.
    """
    junction = jsys.junction
    kT = K_B * float(temperature)
    mu_l = junction.fermi_energy + 0.5 * bias
    mu_r = junction.fermi_energy - 0.5 * bias
    settings = dict(theta=theta, phi=phi, bias=bias)
    cs = ChainSolver(jsys, **settings)
    sol = cs if solver == "batched" else make_solver(jsys, solver, **settings)
    integrand = _Integrand(sol, profile)
    n_comp = integrand.size
    if bias == 0:
        zero = integrand.unpack(np.zeros(n_comp))
        return _finish(jsys, integrand, zero, zero, 0, True,
                       np.zeros((0, 2)), profile, 1.0)
    tol = _tolerance(rtol, n_comp)

    if method not in ("auto", "reduced", "nested"):
        raise ValueError(f"method must be 'auto', 'reduced' or 'nested', got {method!r}")
    if method == "reduced" and not junction.uniform_mass:
        raise ValueError("method='reduced' needs one effective mass everywhere")
    if method == "nested" and junction.model != "free-electron":
        raise ValueError("method='nested' is for the free-electron model")
    if method != "nested" and junction.uniform_mass:
        bands_l, bands_r = _lead_bands(cs)
        lo = bands_l[:, 0].min()
        tail = FERMI_TAIL * kT
        if junction.model == "free-electron":
            mass = junction.effective_mass
            pref = mass / (4 * math.pi * HBAR2_2ME)  # m/(2πħ²) in 1/(eV nm²)

            def weight(ex):
                return (_softplus_integral(mu_l - ex, kT) - _softplus_integral(mu_r - ex, kT))
            hi = min(bands_l[:, 1].max(), max(mu_l, mu_r) + tail)
            extra = [mu_l, mu_r]
        else:
            t = junction.hopping
            pref = 1.0 / junction.lattice_constant**2

            def weight(ex):
                return _tb_fermi_integral(mu_l - ex, t, kT) - _tb_fermi_integral(mu_r - ex, t, kT)
            lo = max(lo, min(mu_l, mu_r) - 4 * t - tail)
            hi = min(bands_l[:, 1].max(), max(mu_l, mu_r) + 4 * t + tail)
            extra = [m + d for m in (mu_l, mu_r) for d in (-4 * t, 0.0, 4 * t)]
        res = find_resonances(cs, lo, hi)
        pts = np.concatenate([[lo, hi], bands_l.ravel(), bands_r.ravel(), extra,
                              _resonance_points(res, lo, hi)])
        pts = np.unique(pts[(pts >= lo) & (pts <= hi)])

        def f(ex):
            return integrand(ex, np.zeros_like(ex)) * weight(ex)[:, None]

        q = adaptive_quad(f, pts, tol, max_eval=max_eval, progress=progress,
                          what=f"window integral at bias {bias:g} V")
        value, error, n_eval, ok = q.value * pref, q.error * pref, q.n_eval, q.converged
    else:
        value, error, n_eval, ok, res = _nested(cs, integrand, junction, mu_l, mu_r, kT, tol,
                                                max_eval, progress, bias)
    return _finish(jsys, integrand, integrand.unpack(value), integrand.unpack(error), n_eval,
                   ok, res, profile, 1.0)


def _nested(cs, integrand, junction, mu_l, mu_r, kT, tol, max_eval, progress, bias):
    """(E, ε∥) quadrature for per-layer masses (free electron)."""
    pref = 1.0 / (4 * math.pi * HBAR2_2ME)  # ∫d²k/(2π)² = (2m_e/ħ²)/(4π) ∫ dε∥
    tail = FERMI_TAIL * kT
    e_lo, e_hi = min(mu_l, mu_r) - tail, max(mu_l, mu_r) + tail
    (hl, dl, tl), (hr, dr, tr) = cs.leads
    el0, er0 = np.linalg.eigvalsh(hl), np.linalg.eigvalsh(hr)
    trl, trr = dl[0, 0].real, dr[0, 0].real
    stats = {"n": 0, "ok": True, "res": []}

    def inner(energy):
        # ε∥ where each lead channel opens/closes; left-incoming states need an open left band.
        th_l = np.concatenate([(energy - el0 + 2 * tl) / trl, (energy - el0 - 2 * tl) / trl])
        th_r = np.concatenate([(energy - er0 + 2 * tr) / trr, (energy - er0 - 2 * tr) / trr])
        top = ((energy - el0 + 2 * tl) / trl).max()
        bottom = max(0.0, ((energy - el0 - 2 * tl) / trl).min())
        if top <= bottom:
            return np.zeros(integrand.size), None
        res = find_resonances(cs, bottom, top, energy=energy, n_grid=4)
        stats["res"].extend(res.tolist())
        pts = np.concatenate([[bottom, top], th_l, th_r, _resonance_points(res, bottom, top)])
        pts = np.unique(pts[(pts >= bottom) & (pts <= top)])
        q = adaptive_quad(lambda eps: integrand(np.full_like(eps, energy), eps), pts,
                          lambda v: tol(v) / 3, max_eval=max_eval // 10, progress=progress,
                          what=f"transverse integral at E = {energy:.6g} eV")
        stats["n"] += q.n_eval
        stats["ok"] &= q.converged
        return q.value, q.error

    errs = []

    def outer(energies):
        rows = []
        w = fermi(energies, mu_l, kT) - fermi(energies, mu_r, kT)
        for e, wi in zip(energies, w):
            val, err = inner(e)
            rows.append(val * wi)
            if err is not None:
                errs.append(np.abs(err * wi))
        return np.array(rows)

    # Breakpoints in E where a lead band edge at ε∥ = 0 falls in the window.
    edges = np.concatenate([el0 - 2 * tl, el0 + 2 * tl, er0 - 2 * tr, er0 + 2 * tr])
    pts = np.unique(np.concatenate([[e_lo, e_hi, mu_l, mu_r], edges]))
    pts = pts[(pts >= e_lo) & (pts <= e_hi)]
    q = adaptive_quad(outer, pts, tol, max_eval=max_eval // 20 + 200,
                      what=f"energy integral at bias {bias:g} V")
    # Outer error plus the inner errors propagated with the outer weights (bounded
    # by their sum times the interval length, a conservative estimate).
    inner_err = np.sum(errs, axis=0) * (e_hi - e_lo) / max(len(errs), 1) if errs else 0.0
    error = (q.error + inner_err) * pref
    res = np.array(stats["res"]).reshape(-1, 2)
    return q.value * pref, error, stats["n"], q.converged and stats["ok"], res


def _finish(jsys, integrand, val, err, n_eval, ok, res, profile, _):
    """Convert reduced integrals into SI per-area units."""
    chain = jsys.chain
    flux = E_OVER_H * PER_NM2  # A/m² per (1/(eV nm²)) · eV
    out_profile = None
    if profile:
        # spin density: (1/2π) ∫ dE Σψ†σψ per site per area, divided by the step → 1/nm³
        dens_scale = 1.0 / (2 * math.pi * chain.step)
        out_profile = {
            "x_nm": chain.x,
            "bond_x_nm": chain.bond_x,
            "spin_density": val["spin_density"] * dens_scale,
            "spin_current": val["spin_current"] * flux,
            "torque_density": val["torque_density"] * flux,
            "current_density": val["bond_current"] * flux,
            "density": val["density"] * dens_scale,
            "errors": {
                "spin_density": float(np.max(err["spin_density"]) * dens_scale),
                "spin_current": float(np.max(err["spin_current"]) * flux),
                "torque_density": float(np.max(err["torque_density"]) * flux),
            },
        }
    return WindowResult(
        current_density=float(val["current"] * flux),
        torque=np.asarray(val["torque"]) * flux,
        errors={"current_density": float(err["current"] * flux),
                "torque": np.asarray(err["torque"]) * flux},
        n_eval=int(n_eval),
        converged=bool(ok),
        resonances=res,
        profile=out_profile,
    )
