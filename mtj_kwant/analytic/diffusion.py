r"""Diffusion of the tunnelling spin torque in a free layer under a normal-metal cap, Eqs. (20)–(25).

Geometry: tunnel barrier | free ferromagnet (0 < x < d) | normal-metal cap (x > d, semi-infinite).
The barrier injects a transverse spin current :math:`J_0 = J_\parallel + iJ_\perp` into the free
layer at x = 0.  In the frame where m = z, transverse vectors are written as complex numbers
:math:`a = a_x + i a_y`; with p in the (x, z) plane and :math:`p_x > 0`, x is the in-plane
direction :math:`\mathbf e_\parallel` and y the out-of-plane direction
:math:`\mathbf e_\perp = \mathbf m\times\mathbf p/|\mathbf m\times\mathbf p|` of DESIGN §1, so
:math:`a_x + ia_y = a_\parallel + ia_\perp`.

Steady state (Eqs. 20–21) in the free layer,
:math:`\partial_x J = -\frac{1}{\tau_J}\mathbf s\times\mathbf m-\frac{1}{\tau_\phi}\mathbf m\times
(\mathbf s\times\mathbf m)-\frac{\mathbf s}{\tau_{sf}}`, :math:`J = -D_F\partial_x\mathbf s`,
becomes for the transverse part (:math:`\mathbf s\times\mathbf z\to -is`,
:math:`\mathbf m\times(\mathbf s\times\mathbf m)\to s`, :math:`\lambda_i^2 = D_F\tau_i`)

.. math::  \partial_x^2 s = s/L^2,\qquad \frac1{L^2} = -\frac{i}{\lambda_J^2}+\frac1{\lambda_\phi^2}
           +\frac1{\lambda_{sf}^2} = \frac1{L_0^2}+\frac1{\lambda_{sf}^2},

and in the cap (no exchange) :math:`\partial_x^2 s = s/\lambda_N^2`, :math:`J = -D_N\partial_x s`.
The branch of :math:`1/L = \sqrt{1/L^2}` is the principal one, :math:`\mathrm{Re}(1/L) > 0`.
Boundary conditions: :math:`J(0^+) = J_0`; s and J continuous at x = d; s → 0 for x → ∞.
s is the quantity that is continuous at the F/N interface (a spin accumulation measured as a
spin chemical potential, or a density when both metals have the same density of states); the
ratio :math:`D_N/D_F` of the coefficients relating J to :math:`-\partial_x s` in the two metals
(conductivities if s is a chemical potential) is the ``diffusion_ratio`` of this module.

Units: lengths in nm; J₀ in any unit (e.g. (ħ/2e)·A/m²); torques per area *averaged over the
free layer* as in Eq. (22), :math:`T = \frac1\Omega\int_\Omega(-\nabla\cdot J - s/\tau_{sf})`, so
T has a factor 1/d and the unit of J₀ per nm; ``d * T`` is the total torque per area.
Accumulation profiles are returned as :math:`D_F\,s(x)` (unit of J₀ × nm) unless
``diffusion_free`` (D_F) is given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_bvp

from .slonczewski import _finite

__all__ = [
    "inverse_lengths",
    "cap_eta",
    "diffusion_torque",
    "mixing_coefficients",
    "thick_layer_limit",
    "DiffusionProfile",
    "DiffusionBVPSolution",
    "spin_accumulation_profile",
    "solve_diffusion_bvp",
    "FIGURE4_PARAMETERS",
    "figure4_profiles",
]


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------
def _length(name, value, *, allow_inf):
    v = np.asarray(value)
    if v.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` must be a real length in nm, got {value!r}.")
    if np.any(np.isnan(v)) or (not allow_inf and np.any(np.isinf(v))):
        raise ValueError(f"`{name}` must be a finite length in nm, got {value!r}.")
    if np.any(v <= 0):
        raise ValueError(
            f"`{name}` must be > 0 nm, got {value!r}"
            + ("; use np.inf to switch the process off." if allow_inf else ".")
        )
    return v.astype(float)


def inverse_lengths(lambda_J, lambda_phi, lambda_sf):
    r"""Return :math:`1/L_0^2`, :math:`1/L^2` (nm⁻², complex) and :math:`1/L` (nm⁻¹, Re > 0).

    Parameters
    ----------
    lambda_J : float
        Spin precession length :math:`\lambda_J = \sqrt{D_F\tau_J}` (nm); np.inf for none.
    lambda_phi : float
        Spin dephasing length :math:`\lambda_\phi = \sqrt{D_F\tau_\phi}` (nm); np.inf for none.
    lambda_sf : float
        Spin-flip length of the free layer :math:`\lambda_{sf} = \sqrt{D_F\tau_{sf}}` (nm);
        np.inf for none.

    Notes
    -----
    :math:`1/L_0^2 = -i/\lambda_J^2 + 1/\lambda_\phi^2`, :math:`1/L^2 = 1/L_0^2 + 1/\lambda_{sf}^2`
    (Eq. 23), :math:`1/L` the principal square root.
    """
    lj = _length("lambda_J", lambda_J, allow_inf=True)
    lp = _length("lambda_phi", lambda_phi, allow_inf=True)
    ls = _length("lambda_sf", lambda_sf, allow_inf=True)
    if np.any(np.isinf(lj) & np.isinf(lp) & np.isinf(ls)):
        raise ValueError(
            "at least one of `lambda_J`, `lambda_phi`, `lambda_sf` must be finite: without "
            "precession, dephasing or spin flip the transverse spin never decays."
        )
    inv_l0 = -1j / lj**2 + 1.0 / lp**2
    inv_l2 = inv_l0 + 1.0 / ls**2
    return inv_l0, inv_l2, np.sqrt(inv_l2)


def cap_eta(lambda_J, lambda_phi, lambda_sf, lambda_N, diffusion_ratio):
    r"""The cap parameter η of Eq. (23), :math:`\eta = \dfrac{D_F\,\lambda_N}{D_N\,L}`.

    Parameters
    ----------
    lambda_J, lambda_phi, lambda_sf : float
        Free-layer lengths (nm), see :func:`inverse_lengths`.
    lambda_N : float
        Spin-diffusion (relaxation) length of the cap (nm), > 0.
    diffusion_ratio : float
        :math:`D_N/D_F` (> 0; np.inf for a perfect spin sink, s(d) = 0).

    Returns
    -------
    complex
        η (dimensionless, Re η > 0); η → ∞ for an insulating cap (D_N → 0), η → 0 for a
        perfect sink.

    Notes
    -----
    Derivation.  In the cap :math:`s_N = s(d)\,e^{-(x-d)/\lambda_N}`, so
    :math:`J(d) = (D_N/\lambda_N)\,s(d)`.  In the free layer
    :math:`s = A\cosh(x/L)+B\sinh(x/L)`; :math:`J(0) = -D_F B/L = J_0` and the continuity of s
    and J at d give :math:`A = -B(\eta c+s_h)/(\eta s_h + c)` with :math:`c=\cosh(d/L)`,
    :math:`s_h=\sinh(d/L)` and η as above.  Then
    :math:`\int_0^d s\,dx = (J_0L^2/D_F)(c+\eta s_h-1)/(c+\eta s_h)`, and since
    :math:`-\partial_xJ - s/\tau_{sf} = (D_F/L_0^2)\,s`, Eq. (22) gives Eq. (23).  η depends only
    on bulk properties of the two layers (through L, λ_N and D_N/D_F).
    """
    _, _, inv_l = inverse_lengths(lambda_J, lambda_phi, lambda_sf)
    ln = _length("lambda_N", lambda_N, allow_inf=False)
    r = _length("diffusion_ratio", diffusion_ratio, allow_inf=True)
    return ln * inv_l / r


def _eta(eta):
    e = np.asarray(eta)
    if e.dtype.kind not in "biufc":
        raise TypeError(f"`eta` must be a (complex) number, got {eta!r}.")
    if np.any(np.isnan(e)):
        raise ValueError("`eta` must not be NaN; compute it with cap_eta(...).")
    if np.any(np.real(e) < 0):
        raise ValueError(
            f"`eta` must have Re(eta) >= 0 (η = D_F λ_N/(D_N L) with Re(1/L) > 0), got {eta!r}; "
            "compute it with cap_eta(...)."
        )
    return e


def _absorbed_fraction(d, inv_l, eta):
    r"""(cosh z + η sinh z − 1)/(cosh z + η sinh z) with z = d/L, overflow-free."""
    z = d * inv_l
    ex = np.exp(-z)
    e2 = ex * ex
    eta = np.asarray(eta)
    with np.errstate(invalid="ignore", over="ignore"):
        frac = 1.0 - 2.0 * ex / ((1.0 + e2) + eta * (1.0 - e2))
    return np.where(np.isinf(eta), 1.0 + 0j, frac)


def diffusion_torque(J0, d, lambda_J, lambda_phi, lambda_sf, eta):
    r"""Layer-averaged torque :math:`T_\parallel + iT_\perp` of Eq. (23).

    Parameters
    ----------
    J0 : complex or array_like
        Interfacial spin current :math:`J_0 = J_\parallel + iJ_\perp` injected at x = 0 (any
        unit, e.g. (ħ/2e)·A/m²).
    d : float or array_like
        Free-layer thickness (nm), > 0 (vectorised).
    lambda_J, lambda_phi, lambda_sf : float
        Precession, dephasing and spin-flip lengths of the free layer (nm); np.inf switches a
        process off.
    eta : complex
        Cap parameter :math:`\eta = D_F\lambda_N/(D_N L)` (:func:`cap_eta`); np.inf for an
        insulating cap, 0 for a perfect spin sink.

    Returns
    -------
    complex ndarray
        :math:`T_\parallel + iT_\perp = \frac{J_0}{d}\frac{L^2}{L_0^2}
        \frac{\cosh(d/L)+\eta\sinh(d/L)-1}{\cosh(d/L)+\eta\sinh(d/L)}` (unit of J₀ per nm),
        the torque per area averaged over the free layer (Eq. 22); ``d * T`` is the total.

    Notes
    -----
    Derived in :func:`cap_eta`.  Evaluated as
    :math:`1 - 2e^{-z}/[(1+e^{-2z})+\eta(1-e^{-2z})]`, z = d/L, which does not overflow for
    thick layers.  Limits: d → ∞ gives :math:`J_0L^2/(L_0^2d)` (the 1/d law,
    :func:`thick_layer_limit`), and additionally λ_sf → ∞ gives :math:`J_0/d` (all the injected
    transverse spin current is absorbed).

    Examples
    --------
    >>> t = diffusion_torque(J0=1.0, d=50.0, lambda_J=1.0, lambda_phi=1.0, lambda_sf=np.inf, eta=1.0)
    >>> complex(np.round(50.0 * t, 12))
    (1+0j)
    """
    j0 = np.asarray(J0)
    if j0.dtype.kind not in "biufc" or np.any(~np.isfinite(j0)):
        raise ValueError(f"`J0` must be a finite (complex) spin current, got {J0!r}.")
    dd = _length("d", d, allow_inf=False)
    inv_l0, inv_l2, inv_l = inverse_lengths(lambda_J, lambda_phi, lambda_sf)
    e = _eta(eta)
    return j0 / dd * (inv_l0 / inv_l2) * _absorbed_fraction(dd, inv_l, e)


def mixing_coefficients(d, lambda_J, lambda_phi, lambda_sf, eta):
    r"""Mixing coefficients α, β of Eqs. (24)–(25) for the layer-integrated torque.

    Parameters
    ----------
    d, lambda_J, lambda_phi, lambda_sf, eta
        As in :func:`diffusion_torque`.

    Returns
    -------
    alpha, beta : ndarray
        Dimensionless, defined by :math:`d\,T_\parallel = \alpha J_\parallel + \beta J_\perp`,
        :math:`d\,T_\perp = -\beta J_\parallel + \alpha J_\perp`.

    Notes
    -----
    Eq. (23) is :math:`d\,(T_\parallel+iT_\perp) = M J_0` with complex
    :math:`M = (L^2/L_0^2)(\dots)`; expanding :math:`MJ_0` gives Eqs. (24)–(25) with
    :math:`\alpha = \mathrm{Re}\,M` and :math:`\beta = -\mathrm{Im}\,M`.  We define α, β for
    :math:`d\,T` (total torque per area) so that the ballistic limit reads α = 1, β = 0; divide
    by d for the layer-averaged torque of Eq. (22).  With precession (finite λ_J) and spin flip,
    β > 0 in the thick-layer limit: :math:`M = a/(a+b)` with :math:`a = 1/L_0^2`,
    :math:`b=1/\lambda_{sf}^2`, :math:`\mathrm{Im}\,M = b\,\mathrm{Im}\,a/|a+b|^2 < 0`.
    """
    m = diffusion_torque(1.0, d, lambda_J, lambda_phi, lambda_sf, eta) * np.asarray(d, float)
    return np.real(m), -np.imag(m)


def thick_layer_limit(J0, d, lambda_J, lambda_phi, lambda_sf):
    r"""The 1/d law, :math:`(J_0/d)\,L^2/L_0^2`, reached by Eq. (23) for d ≫ |L|.

    Parameters are those of :func:`diffusion_torque` (no η: the cap no longer matters).

    Notes
    -----
    The relative deviation of :func:`diffusion_torque` from this limit is
    :math:`2e^{-z}/[(1+e^{-2z})+\eta(1-e^{-2z})]`, z = d/L, i.e. O(exp(−d Re(1/L))).
    """
    dd = _length("d", d, allow_inf=False)
    inv_l0, inv_l2, _ = inverse_lengths(lambda_J, lambda_phi, lambda_sf)
    return np.asarray(J0) / dd * (inv_l0 / inv_l2)


# --------------------------------------------------------------------------------------------
# profiles
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DiffusionProfile:
    """Transverse spin accumulation and spin current across free layer and cap.

    Attributes
    ----------
    x : ndarray
        Positions (nm); the barrier interface is at 0, the free layer/cap interface at ``d``.
    accumulation : ndarray (complex)
        :math:`s_x + i s_y` (frame m = z); :math:`D_F s` in units of J₀·nm unless
        ``diffusion_free`` was given.
    spin_current : ndarray (complex)
        :math:`J_x + iJ_y` (unit of J₀), positive toward +x.
    d, lambda_J, lambda_phi, lambda_sf, lambda_N, diffusion_ratio : float
        Parameters (nm, dimensionless ratio D_N/D_F).
    J0 : complex
        Injected spin current.
    """

    x: np.ndarray
    accumulation: np.ndarray
    spin_current: np.ndarray
    d: float
    lambda_J: float
    lambda_phi: float
    lambda_sf: float
    lambda_N: float
    diffusion_ratio: float
    J0: complex

    @property
    def in_plane(self):
        """In-plane (∥ e∥) component of the accumulation, Re s."""
        return self.accumulation.real

    @property
    def out_of_plane(self):
        """Out-of-plane (∥ e⊥) component of the accumulation, Im s."""
        return self.accumulation.imag


def spin_accumulation_profile(
    x, J0, d, lambda_J, lambda_phi, lambda_sf, lambda_N, diffusion_ratio, *, diffusion_free=1.0
):
    r"""Closed-form transverse accumulation s(x) and spin current J(x) in free layer and cap.

    Parameters
    ----------
    x : array_like
        Positions (nm), ≥ 0 (free layer for x ≤ d, cap for x > d).
    J0 : complex
        Injected spin current :math:`J_\parallel + iJ_\perp`.
    d : float
        Free-layer thickness (nm).
    lambda_J, lambda_phi, lambda_sf : float
        Free-layer lengths (nm), see :func:`inverse_lengths`.
    lambda_N : float
        Spin-diffusion length of the cap (nm).
    diffusion_ratio : float
        :math:`D_N/D_F`.
    diffusion_free : float
        :math:`D_F`; the accumulation returned is :math:`D_F s/\text{diffusion\_free}`
        (default 1: returns :math:`D_F s`, in units of J₀·nm).

    Returns
    -------
    DiffusionProfile

    Notes
    -----
    With k = 1/L, z = kd, :math:`\mathcal D = \eta(1-e^{-2z}) + (1+e^{-2z})`:

    .. math::
        D_F s(x) &= \frac{J_0}{k}\,\frac{(\eta+1)e^{-kx} + (\eta-1)e^{k(x-2d)}}{\mathcal D},
        \qquad J(x) = J_0\,\frac{(\eta+1)e^{-kx} - (\eta-1)e^{k(x-2d)}}{\mathcal D}
        \quad (0\le x\le d),\\
        D_F s(x) &= D_F s(d)\,e^{-(x-d)/\lambda_N},\qquad J(x) = \frac{D_N}{\lambda_N}s(x)
        \quad (x > d).
    """
    xx = _finite("x", x).astype(float)
    if np.any(xx < 0):
        raise ValueError("`x` must be >= 0 nm (the barrier interface is at x = 0).")
    dd = float(_length("d", d, allow_inf=False))
    ln = float(_length("lambda_N", lambda_N, allow_inf=False))
    ratio = float(_length("diffusion_ratio", diffusion_ratio, allow_inf=False))
    dfree = float(_length("diffusion_free", diffusion_free, allow_inf=False))
    _, _, k = inverse_lengths(lambda_J, lambda_phi, lambda_sf)
    k = complex(k)
    eta = complex(cap_eta(lambda_J, lambda_phi, lambda_sf, ln, ratio))
    j0 = complex(J0)
    e2 = np.exp(-2 * k * dd)
    den = eta * (1 - e2) + (1 + e2)
    xf = np.minimum(xx, dd)
    grow = np.exp(k * (xf - 2 * dd))
    decay = np.exp(-k * xf)
    s_free = j0 / k * ((eta + 1) * decay + (eta - 1) * grow) / den
    j_free = j0 * ((eta + 1) * decay - (eta - 1) * grow) / den
    s_d = j0 / k * 2 * eta * np.exp(-k * dd) / den
    s_cap = s_d * np.exp(-(xx - dd) / ln)
    inside = xx <= dd
    s = np.where(inside, s_free, s_cap)
    j = np.where(inside, j_free, ratio / ln * s_cap)
    return DiffusionProfile(
        x=xx, accumulation=s / dfree, spin_current=j, d=dd, lambda_J=float(lambda_J),
        lambda_phi=float(lambda_phi), lambda_sf=float(lambda_sf), lambda_N=ln,
        diffusion_ratio=ratio, J0=j0,
    )


@dataclass(frozen=True)
class DiffusionBVPSolution:
    """Numerical solution of the free layer/cap boundary-value problem.

    Attributes
    ----------
    profile : DiffusionProfile
        s (as D_F s) and J on the solver mesh, free layer then cap.
    torque : complex
        Layer-averaged torque T∥ + iT⊥ (Eq. 22), unit of J₀ per nm.
    success : bool
        ``scipy.integrate.solve_bvp`` status.
    message : str
        Solver message.
    """

    profile: DiffusionProfile
    torque: complex
    success: bool
    message: str


def solve_diffusion_bvp(
    J0, d, lambda_J, lambda_phi, lambda_sf, lambda_N, diffusion_ratio, *, cap_length=None, tol=1e-9
):
    r"""Solve Eqs. (20)–(21) in free layer + cap numerically with ``scipy.integrate.solve_bvp``.

    Independent of the closed form: it integrates the real vector equations
    :math:`\partial_x\mathbf s = -\mathbf J/D`, :math:`\partial_x\mathbf J = -D[\mathbf s\times\mathbf m
    /\lambda_J^2 + \mathbf m\times(\mathbf s\times\mathbf m)/\lambda_\phi^2 + \mathbf s/\lambda_{sf}^2]`
    (m = z; the cap has only :math:`\mathbf s/\lambda_N^2`), with :math:`D_F = 1`,
    :math:`D_N` = ``diffusion_ratio``, both layers mapped onto t ∈ [0, 1] and solved as one coupled
    system (10 real unknowns: s, J in each layer and :math:`\int_0^x s`), boundary conditions
    J(0) = J₀, continuity of s and J at x = d, and s = 0 at the end of a cap of length
    ``cap_length`` (default 30 λ_N, error ~e^{-30}).

    Parameters
    ----------
    J0, d, lambda_J, lambda_phi, lambda_sf, lambda_N, diffusion_ratio
        As in :func:`spin_accumulation_profile`.
    cap_length : float, optional
        Length of the cap kept in the computation (nm).
    tol : float
        ``solve_bvp`` tolerance.

    Returns
    -------
    DiffusionBVPSolution
        With the torque :math:`T = \frac1d\left[J(0)-J(d)-\frac{D_F}{\lambda_{sf}^2}\int_0^d s\,dx\right]`,
        i.e. Eq. (22) integrated.
    """
    dd = float(_length("d", d, allow_inf=False))
    ln = float(_length("lambda_N", lambda_N, allow_inf=False))
    ratio = float(_length("diffusion_ratio", diffusion_ratio, allow_inf=False))
    inverse_lengths(lambda_J, lambda_phi, lambda_sf)  # validation
    lj, lp, ls = (float(v) for v in (lambda_J, lambda_phi, lambda_sf))
    ell = 30.0 * ln if cap_length is None else float(_length("cap_length", cap_length, allow_inf=False))
    j0 = complex(J0)
    z = np.array([0.0, 0.0, 1.0])

    def rhs_free(s, _):
        s3 = np.vstack([s, np.zeros(s.shape[1])])
        src = (
            np.cross(s3.T, z).T / lj**2
            + np.cross(z, np.cross(s3.T, z)).T / lp**2
            + s3 / ls**2
        )
        return -src[:2]

    def fun(t, y):
        sF, jF, sN, jN = y[0:2], y[2:4], y[4:6], y[6:8]
        dy = np.empty_like(y)
        dy[0:2] = dd * (-jF)
        dy[2:4] = dd * rhs_free(sF, None)
        dy[4:6] = ell * (-jN / ratio)
        dy[6:8] = ell * (-ratio * sN / ln**2)
        dy[8:10] = dd * sF
        return dy

    def bc(ya, yb):
        return np.array([
            ya[2] - j0.real, ya[3] - j0.imag,  # J_F(0) = J0
            yb[0] - ya[4], yb[1] - ya[5],  # s continuous at d
            yb[2] - ya[6], yb[3] - ya[7],  # J continuous at d
            yb[4], yb[5],  # s -> 0 far in the cap
            ya[8], ya[9],  # running integral of s starts at 0
        ])

    t = np.linspace(0.0, 1.0, 401)
    sol = solve_bvp(fun, bc, t, np.zeros((10, t.size)), tol=tol, max_nodes=200000)
    y = sol.sol(sol.x)
    s_free = y[0] + 1j * y[1]
    j_free = y[2] + 1j * y[3]
    s_cap = y[4] + 1j * y[5]
    j_cap = y[6] + 1j * y[7]
    yb = sol.sol(1.0)
    int_s = yb[8] + 1j * yb[9]
    j_d = yb[2] + 1j * yb[3]
    torque = (j0 - j_d - int_s / ls**2) / dd
    x = np.concatenate([dd * sol.x, dd + ell * sol.x[1:]])
    profile = DiffusionProfile(
        x=x,
        accumulation=np.concatenate([s_free, s_cap[1:]]),
        spin_current=np.concatenate([j_free, j_cap[1:]]),
        d=dd, lambda_J=lj, lambda_phi=lp, lambda_sf=ls, lambda_N=ln, diffusion_ratio=ratio, J0=j0,
    )
    return DiffusionBVPSolution(
        profile=profile, torque=complex(torque), success=bool(sol.success), message=sol.message
    )


# --------------------------------------------------------------------------------------------
# Fig. 4 of the model paper
# --------------------------------------------------------------------------------------------
#: Parameters of Fig. 4.  From the paper: d = 2 nm, (λ_φ, λ_N) = (0.5, 1), (1.5, 1), (1.5, 10) nm.
#: Chosen here (not given in the paper): λ_J = 1 nm — λ_J = sqrt(D τ_J) with τ_J = ħ/J_sd ≈ 0.7 fs
#: for J_sd ≈ 1 eV and D = v_F ℓ/3 ≈ 1e-3 m²/s (v_F ≈ 1e6 m/s, ℓ ≈ 3 nm) gives ≈ 0.8 nm, the
#: order expected for a transition-metal ferromagnet; λ_sf(free) = 5 nm, of the order measured in
#: CoFe/NiFe alloys; D_N/D_F = 1; J₀ = 1 (purely in-plane injection).
FIGURE4_PARAMETERS = {
    "d": 2.0,
    "lambda_J": 1.0,
    "lambda_sf": 5.0,
    "diffusion_ratio": 1.0,
    "J0": 1.0 + 0.0j,
    "cases": {
        "solid": {"lambda_phi": 0.5, "lambda_N": 1.0},
        "dashed": {"lambda_phi": 1.5, "lambda_N": 1.0},
        "dotted": {"lambda_phi": 1.5, "lambda_N": 10.0},
    },
}


def figure4_profiles(x=None):
    r"""Spin-accumulation profiles of Fig. 4 of the model paper.

    Parameters
    ----------
    x : array_like, optional
        Positions (nm); default 501 points on [0, 5] nm (free layer 0–2 nm, cap beyond).

    Returns
    -------
    dict
        ``{"solid": DiffusionProfile, "dashed": ..., "dotted": ...}`` with the line styles of
        Fig. 4 (λ_φ = 0.5 nm / λ_N = 1 nm, λ_φ = 1.5 nm / λ_N = 1 nm, λ_φ = 1.5 nm /
        λ_N = 10 nm); ``profile.in_plane`` and ``profile.out_of_plane`` are the red and black
        curves (as D_F s, J₀ = 1).  The other parameters are in :data:`FIGURE4_PARAMETERS`.

    Examples
    --------
    >>> prof = figure4_profiles()
    >>> sorted(prof)
    ['dashed', 'dotted', 'solid']
    """
    xx = np.linspace(0.0, 5.0, 501) if x is None else x
    p = FIGURE4_PARAMETERS
    return {
        name: spin_accumulation_profile(
            xx, p["J0"], p["d"], p["lambda_J"], case["lambda_phi"], p["lambda_sf"], case["lambda_N"],
            p["diffusion_ratio"],
        )
        for name, case in p["cases"].items()
    }
