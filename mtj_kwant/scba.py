r"""Elastic dephasing and spin relaxation in the self-consistent Born approximation (SCBA).

DESIGN.md §8: a metal layer may carry momentum (phase) relaxation and spin flip, given as
rates ħ/τ_m, ħ/τ_sf in eV.  Each scattering site j of the chain gets the local self-energies
of a δ-correlated (white-noise) disorder, in the self-consistent Born approximation

.. math::
    \Sigma_j = D^m_j \hat G_j + D^s_j \sum_{\alpha} \sigma_\alpha \hat G_j \sigma_\alpha,
    \qquad \hat G_j = \int\!\frac{d^2k_\parallel}{(2\pi)^2}\, G_{jj}(E, k_\parallel),

on the retarded function and, with Gⁿ in place of G, on the in-scattering function
(Golizadeh-Mojarad and Datta, PRB 75, 081301(R) (2007); Lake et al., J. Appl. Phys. 81,
7845 (1997)).  The strengths D (eV² nm²) follow from the rates by the golden rule
(:func:`mtj_kwant.analytic.relaxation.scba_self_energy_strengths`).  A local self-energy
couples every k∥ of one energy, so the k∥ integral is a fixed quadrature that is solved
self-consistently as a whole (:class:`ScbaEnergy`); energies stay independent.

**The level shift.**  Writing Ĝ = ĝ₀ + ĝ·σ, the Hermitian part of the scalar term, Re ĝ₀,
is a spin-independent level shift of the site.  For a δ-correlated disorder in the
continuum it diverges (as 1/a on the lattice along x, logarithmically in the k∥ integral):
it renormalises the band bottoms, which the junction file gives.  It is removed at every
energy: Σ uses ĝ₀ − c_j with c_j = Re ĝ₀,j(E) (``shift=None``; a fixed array may be given
instead).  A scalar Hermitian term commutes with every block, so the sum rules below are
unchanged by it; in the bulk of a free-electron metal Re ĝ₀ does not depend on the energy
above the band bottom, so removing it at each energy or at one reference energy differs
only near band edges.  (At each energy Σ(E) is not the boundary value of an analytic Σ(z):
the Fermi sea, an integral at complex energies, is therefore not computed.)  The spin-dependent Hermitian part (a renormalised exchange
field) converges and is kept: without it the momentum scattering would exert a spurious
torque on the spin accumulation.

**Sum rules.**  With S_j the local sources, the continuity equation at site j reads

.. math::
    I^\beta_{j-1} - I^\beta_j = \tau^\beta_j + L^\beta_j,\qquad
    \tau_j = \Delta_j\, m_j\times s_j,\qquad
    L^\beta_j = i\,\mathrm{Tr}\,\sigma_\beta\big(\Sigma_j \hat X_j - \hat X_j\Sigma_j^\dagger
        + \Sigma^{in}_j \hat G_j^\dagger - \hat G_j \Sigma^{in}_j\big)

for the particle current (β = 0: L⁰ = 0, current conservation) and the spin currents
(β = x, y, z; L the spin-flip loss, zero without spin flip), s = Tr σ X̂ the spin density
and τ the exchange torque density.  Eq. (22) of the model paper is the exchange torque
Σ_j∈free τ_j; with spin flip it differs from the spin-current difference by Σ L_j.
"""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import _scba

__all__ = ["ScbaEnergy", "BornWarning", "born_validity", "pauli", "SCBA_TOL",
           "scattering_window"]

#: Default relative tolerance of the self-consistency (residual of Σ and of Σⁱⁿ relative
#: to their size) of :class:`ScbaEnergy`; the integrated route uses 1e-2 × rtol (at most
#: 1e-6), and the residual's effect on the observables enters their error estimates.
SCBA_TOL = 1e-10


#: −Im Σ (eV) of the first iterate when no start is given (Σ = 0 would leave the pivots of
#: the scattering layers' bound states singular at nodes that hit them).
START_BROADENING = 1e-3

#: The in-scattering self-consistency is converged this much tighter than :data:`SCBA_TOL`
#: (relative to |Σⁱⁿ|, whose size is the largest density, not the current).
LESSER_TOL_FACTOR = 1e-4

#: Relative change of the observables per relative change of Σ assumed when a
#: self-consistency stops above its tolerance (its error then enters the estimate as this
#: times the relative residual).
SC_SENSITIVITY = 10.0


def pauli(x):
    """(x0, x) of 2×2 blocks (…, 4) row major: x = x0·1 + x·σ."""
    x0 = 0.5 * (x[..., 0] + x[..., 3])
    v = np.stack([0.5 * (x[..., 1] + x[..., 2]), 0.5j * (x[..., 1] - x[..., 2]),
                  0.5 * (x[..., 0] - x[..., 3])], -1)
    return x0, v


def anderson(g, x0, tol, *, depth=6, max_iter=300, what="SCBA"):
    """Fixed point x = g(x) by Anderson acceleration (type II, Walker & Ni 2011), safeguarded.

    Parameters
    ----------
    g : callable
        Real vector → real vector of the same shape.
    x0 : ndarray
    tol : callable
        ``tol(x)``: the allowed max |g(x) − x|.
    depth : int
        Number of previous iterates kept.  The history is dropped when a step does not
        reduce the residual below the best one seen (then the best iterate's image is
        taken, a plain step).
    max_iter : int

    Returns
    -------
    x, residual, iterations, converged
        The image g(x) of the best iterate and its residual |g(x) − x|; ``converged`` is
        False when ``tol`` was not met in ``max_iter`` iterations or the residual stopped
        decreasing for 30 iterations (a residual at the round-off of a resonance node).
    """
    x = np.asarray(x0, float).copy()
    dx, df = [], []
    gx = g(x)
    f = gx - x
    best = (float(np.abs(f).max(initial=0.0)), gx, 0)
    for it in range(1, max_iter + 1):
        res = float(np.abs(f).max(initial=0.0))
        if res < best[0]:
            best = (res, gx, it)
        if res <= tol(gx):
            return gx, res, it, True
        if it - best[2] > 30:
            break
        if res > 2 * best[0]:  # the extrapolation went astray: restart from the best
            dx, df = [], []
            x_new = best[1]
        elif dx:
            dX, dF = np.array(dx).T, np.array(df).T
            gamma, *_ = np.linalg.lstsq(dF, f, rcond=1e-12)
            x_new = x + f - (dX + dF) @ gamma
        else:
            x_new = x + f
        gx_new = g(x_new)
        f_new = gx_new - x_new
        dx.append(x_new - x)
        df.append(f_new - f)
        if len(dx) > depth:
            dx.pop(0)
            df.pop(0)
        x, gx, f = x_new, gx_new, f_new
    return best[1], best[0], it, False


def _lanes(x, nc):
    """Per-node 2×2 blocks (nk, 4) complex → the kernels' chunks (nc, 8W) (padding 0)."""
    w = _scba.W
    out = np.zeros((nc * w, 4), complex)
    out[:len(x)] = x
    re = out.view(float).reshape(nc, w, 8)  # (…, 8): a0r, a0i, a1r, …
    return np.ascontiguousarray(re.transpose(0, 2, 1).reshape(nc, 8 * w))


def _reduce(weights, x):
    """Σ_k w_k x_k for chunked blocks x (nc, M, 8W) and weights (nw, nc, W): (nw, M, 4)
    complex."""
    nc, m = x.shape[0], x.shape[1]
    r = np.tensordot(weights, x.reshape(nc, m, 8, _scba.W), axes=([1, 2], [0, 3]))
    return r[..., 0::2] + 1j * r[..., 1::2]


def _node_abs_max(x, sites):
    """max over the 2×2 entries of |x_jj(node)|, for the sites, (nc, ns, W) → per node."""
    nc = x.shape[0]
    v = x[:, sites].reshape(nc, -1, 8, _scba.W)
    return np.abs(v).max(axis=(1, 2))  # (nc, W)


class ScbaEnergy:
    """The SCBA of a chain at one real energy on a fixed k∥ quadrature.

    Parameters
    ----------
    solver : ChainSolver
        The chain (blocks, hoppings, leads) at fixed θ, φ, bias.
    d_m, d_s : ndarray (N,)
        Strengths of the momentum and spin-flip self-energies per site (eV² nm²), with
        the k∥ measure ∫d²k∥/(2π)² in the quadrature weights.
    energy : float
        eV.
    eps : ndarray (nk,)
        Transverse energies of the nodes (eV).
    weights : ndarray (nw, nk)
        Quadrature weights (1/(eV nm²) · eV): row 0 is the rule used, the others (e.g. the
        embedded lower-order rule, per-panel rules) only evaluate sums for error estimates.
    shift : ndarray (N,) or None
        The removed scalar level shift c_j (eV²·nm²-weighted Re ĝ₀, module docstring);
        None: Re ĝ₀ at this energy (the reference).

    Attributes
    ----------
    sigma : ndarray (N, 4) complex
        Converged retarded self-energy of the scatterers (eV).
    iterations, residual
        Of the retarded self-consistency.
    """

    def __init__(self, solver, d_m, d_s, energy, eps, weights, shift=None, sigma0=None,
                 tol=SCBA_TOL):
        self.solver = solver
        onsite, slope, t, _ = solver._kernel_args()
        self.onsite, self.slope, self.t = onsite, slope, t
        self.n = n = onsite.shape[0]
        self.d_m, self.d_s = np.asarray(d_m, float), np.asarray(d_s, float)
        self.sites = np.flatnonzero((self.d_m > 0) | (self.d_s > 0))
        # a slice when contiguous (views instead of copies in the iterations)
        self._idx = (slice(self.sites[0], self.sites[-1] + 1)
                     if len(self.sites) and np.all(np.diff(self.sites) == 1) else self.sites)
        self._range = ((int(self.sites[0]), int(self.sites[-1])) if len(self.sites)
                       else (0, n - 1))
        self.a = (self.d_m + 3 * self.d_s)[self.sites]
        self.b = (self.d_m - self.d_s)[self.sites]
        self.energy = float(energy)
        self.eps = np.ascontiguousarray(eps, float)
        self.weights = np.atleast_2d(np.asarray(weights, float))
        nk, w = len(self.eps), _scba.W
        self.nc = nc = -(-nk // w)
        # chunks of W lanes; padding lanes repeat the last node with weight 0
        eps_pad = np.full(nc * w, self.eps[-1] if nk else 0.0)
        eps_pad[:nk] = self.eps
        self._eps = eps_pad.reshape(nc, w)
        wpad = np.zeros((len(self.weights), nc * w))
        wpad[:, :nk] = self.weights
        self._w = wpad.reshape(len(self.weights), nc, w)
        z = np.full(nc * w, self.energy, complex)
        sl, sr = (lead.self_energy(z, eps_pad)[0].reshape(nc * w, 4) for lead in solver.leads)
        self.sig_l, self.sig_r = _lanes(sl, nc), _lanes(sr, nc)
        self.gam_l = _lanes(1j * (sl - sl[:, [0, 2, 1, 3]].conj()), nc)
        self.gam_r = _lanes(1j * (sr - sr[:, [0, 2, 1, 3]].conj()), nc)
        # zeros: the kernels read row j ∓ 1 times a zero hopping at the chain's ends
        self.gl = np.zeros((nc, n, 8 * w))
        self.gr = np.zeros_like(self.gl)
        self.gd = np.zeros_like(self.gl)
        self.tol = tol
        self._solve_retarded(shift, sigma0)

    # -- the retarded self-consistency ---------------------------------------------------
    def _sigma_of(self, gloc, shift):
        """Σ at the scattering sites (ns, 4) from the k∥ sums Ĝ there (ns, 4)."""
        g0 = 0.5 * (gloc[:, 0] + gloc[:, 3])
        c = g0.real if shift is None else shift
        out = self.b[:, None] * gloc
        diag = (self.a - self.b) * g0 - self.a * c
        out[:, 0] += diag
        out[:, 3] += diag
        return out, g0.real

    def _sweep(self, sig_sites, full=True):
        """The retarded sweeps with Σ at the scatterers; ``full=False`` after a full one
        updates only the scatterers' range (nothing outside it depends on Σ)."""
        sig = np.zeros((self.n, 4), complex)
        sig[self.sites] = sig_sites
        on8 = np.ascontiguousarray(self.onsite + sig).view(float)
        lo, hi = (0, self.n - 1) if full else self._range
        _scba.retarded(self.energy, self._eps, on8, self.slope, self.t,
                       self.sig_l, self.sig_r, self.gl, self.gr, self.gd, lo, hi)
        return sig

    def _solve_retarded(self, shift, sigma0):
        ns = len(self.sites)
        self.shift_used = shift
        w = self._w[:1]
        if ns == 0:
            self.sigma = self._sweep(np.zeros((0, 4), complex))
            self.iterations, self.residual, self.converged = 0, 0.0, True
            self.relative_residual = 0.0
            self.reference_shift = np.zeros(0)
            return
        sh = None if shift is None else np.asarray(shift, float)[self.sites]

        dmax = float(np.maximum(np.abs(self.a), np.abs(self.b)).max())
        floor = [0.0]

        idx = self._idx

        first = [True]

        def g(x):
            sig = x.view(complex).reshape(ns, 4)
            self._sweep(sig, full=first[0])
            first[0] = False
            gloc = _reduce(w, self.gd[:, idx])[0]
            if not floor[0]:  # round-off of Σ: ~1e-16 of the terms D |G| summed over nodes
                floor[0] = 1e-14 * dmax * float(np.sum(np.abs(w[0]) * _node_abs_max(
                    self.gd, idx)))
            new, _ = self._sigma_of(gloc, sh)
            return np.ascontiguousarray(new).view(float).ravel()

        if sigma0 is None:  # a small broadening: no pivot of a bound state is singular
            sigma0 = np.zeros((self.n, 4), complex)
            sigma0[:, 0] = sigma0[:, 3] = -START_BROADENING * 1j
        x0 = np.ascontiguousarray(np.asarray(sigma0, complex)[self.sites]).view(float).ravel()
        x, self.residual, self.iterations, self.converged = anderson(
            g, x0, lambda v: max(self.tol * np.abs(v).max(initial=0.0), floor[0], 1e-300))
        self.relative_residual = self.residual / max(np.abs(x).max(), 1e-300)
        self.sigma = self._sweep(x.view(complex).reshape(ns, 4))
        gloc = _reduce(w, self.gd[:, self._idx])[0]
        self.reference_shift = 0.5 * (gloc[:, 0] + gloc[:, 3]).real

    def shift_array(self):
        """The removed level shift c_j (N,) at this energy (0 off the scattering sites)."""
        out = np.zeros(self.n)
        out[self.sites] = self.reference_shift
        return out

    # -- the in-scattering (window) solution ----------------------------------------------
    def window(self, lead, src0=None):
        """Gⁿ of the states injected by ``lead`` with the scatterers' in-scattering solved.

        X = G(Γ_lead + Σⁱⁿ[X̂])G†, Σⁱⁿ_j = D^m X̂_j + D^s Σ_α σ_α X̂_j σ_α: linear in X̂,
        solved by Anderson acceleration (GMRES-like for a linear map).

        Parameters
        ----------
        lead : {0, 1}
        src0 : ndarray (N, 4) complex, optional
            A start for Σⁱⁿ (e.g. the solution at a neighbouring energy, ``"sigma_in"``).

        Returns
        -------
        dict with (per weight row w)
            ``sigma_in`` (N, 4): the converged Σⁱⁿ;
            ``bond`` (nw, N − 1, 4): particle and spin currents on every bond;
            ``site`` (nw, N, 4): Tr σ_β X̂_j (density, spin density);
            ``loss`` (nw, N, 3): spin-flip loss L_j (module docstring);
            ``source`` (nw, N): the particle source L⁰_j (0 at self-consistency);
            ``iterations``, ``residual``.
        """
        ns, nc, wl = len(self.sites), self.nc, _scba.W
        w = self._w[:1]
        xloc = np.empty((nc, self.n, 8 * wl))
        bond = np.empty((nc, max(self.n - 1, 0), 4 * wl))
        scratch = np.zeros((2, nc, self.n, 8 * wl))  # zeros: see self.gl
        use_l, use_r = lead == 0, lead == 1
        first = [True]

        def run(src_sites, with_bonds=False):
            # the first pass covers the chain; later ones the scatterers' range (the
            # sources outside it do not change)
            src = np.zeros((self.n, 4), complex)
            src[self.sites] = src_sites
            lo, hi = (0, self.n - 1) if (first[0] or with_bonds) else self._range
            first[0] = False
            _scba.lesser(self.t, src.view(float), self.gam_l, self.gam_r, use_l, use_r,
                         self.gl, self.gr, self.gd, scratch[0], scratch[1], xloc, bond,
                         with_bonds, lo, hi)
            return src

        def sig_in(xs):
            x0 = 0.5 * (xs[:, 0] + xs[:, 3])
            out = self.b[:, None] * xs
            diag = (self.a - self.b) * x0
            out[:, 0] += diag
            out[:, 3] += diag
            return out

        if ns:
            dmax = float(np.maximum(np.abs(self.a), np.abs(self.b)).max())
            floor = [0.0]

            idx = self._idx

            def g(x):
                run(x.view(complex).reshape(ns, 4))
                xs = _reduce(w, xloc[:, idx])[0]
                if not floor[0]:
                    floor[0] = 1e-14 * dmax * float(np.sum(np.abs(w[0]) * _node_abs_max(
                        xloc, idx)))
                return np.ascontiguousarray(sig_in(xs)).view(float).ravel()
            # Σⁱⁿ is set by the largest density at a scattering site, which can exceed the
            # current that flows by many orders (states injected toward a barrier): its
            # tolerance is LESSER_TOL_FACTOR tighter than the retarded one's
            x0 = np.zeros(ns * 8) if src0 is None else np.ascontiguousarray(
                np.asarray(src0, complex)[self.sites]).view(float).ravel()
            x, residual, iterations, converged = anderson(
                g, x0, lambda v: max(
                    self.tol * LESSER_TOL_FACTOR * np.abs(v).max(initial=0.0), floor[0],
                    1e-300), max_iter=600)
            src_sites = x.view(complex).reshape(ns, 4)
        else:
            src_sites, residual, iterations, converged = np.zeros((0, 4), complex), 0.0, 0, True
        src = run(src_sites, True)
        W = self._w
        xs = _reduce(W, xloc)                        # (nw, N, 4)
        gs = _reduce(W, self.gd)
        site = np.stack([(xs[..., 0] + xs[..., 3]).real, (xs[..., 1] + xs[..., 2]).real,
                         (1j * (xs[..., 1] - xs[..., 2])).real, (xs[..., 0] - xs[..., 3]).real],
                        -1)
        # L = i Tr σ (Σ X − X Σ† + Σⁱⁿ G† − G Σⁱⁿ) per weight row (sources of row 0)
        sig = self.sigma[None]
        srcb = src[None]
        comm = (_mul4(sig, xs) - _mul4(xs, _dag4(sig)) + _mul4(srcb, _dag4(gs))
                - _mul4(gs, srcb))
        tr = 1j * np.stack([comm[..., 0] + comm[..., 3], comm[..., 1] + comm[..., 2],
                            1j * (comm[..., 1] - comm[..., 2]), comm[..., 0] - comm[..., 3]], -1)
        bonds = np.tensordot(W, bond.reshape(nc, -1, 4, wl), axes=([1, 2], [0, 3]))
        return {"sigma_in": src, "bond": bonds, "site": site, "loss": tr[..., 1:].real,
                "source": tr[..., 0].real, "iterations": iterations, "residual": residual, "converged": converged,
                "xloc": xs, "gloc": gs}


def _mul4(a, b):
    """Products of 2×2 blocks (…, 4) row major."""
    return np.stack([a[..., 0] * b[..., 0] + a[..., 1] * b[..., 2],
                     a[..., 0] * b[..., 1] + a[..., 1] * b[..., 3],
                     a[..., 2] * b[..., 0] + a[..., 3] * b[..., 2],
                     a[..., 2] * b[..., 1] + a[..., 3] * b[..., 3]], -1)


def _dag4(a):
    return a[..., [0, 2, 1, 3]].conj()


# ------------------------------------------------------------------------------------------
# the transverse quadrature at one energy
# ------------------------------------------------------------------------------------------
from .quadrature import NODES as _GK_NODES, WK as _GK_WK, WG as _GK_WG  # noqa: E402

#: Panels of the transverse quadrature are bisected until each is at most this wide in the
#: quadrature variable (eV for the continuum below the tail; v ∈ [−1, 1] for tight binding).
MAX_PANEL = 1.0
#: Refinement rounds of the transverse grid at one energy.
MAX_ROUNDS = 12


class TransverseGrid:
    """Gauss–Kronrod (7/15) panels of the transverse integral ∫d²k∥/(2π)² at one energy.

    Continuum transverse model: ε∥ ∈ [0, ε_c] in panels, and a tail [ε_c, ∞) in u = ε_c/ε
    ∈ (0, 1] (integrands decay as 1/ε∥² there, bounded in u); tight binding: the variable v
    of :meth:`~mtj_kwant.transverse.SquareLatticeTransverse.variable` over [−1, 1] with the
    density ρ₂D in the weights.

    Parameters
    ----------
    tm : transverse model
    panels : sequence of (a, b, tail)
        Panel ends in the quadrature variable; ``tail`` True for a panel in u.
    cut : float
        ε_c (eV) of the tail.

    Attributes
    ----------
    eps : ndarray (nk,)
        Transverse energies of the nodes (eV).
    weights : ndarray (2 + n_panels, nk)
        Kronrod rule, embedded Gauss rule, and per panel (Kronrod − Gauss) on its nodes
        (the panels' error estimates).
    """

    def __init__(self, tm, panels, cut=None):
        self.tm, self.cut = tm, cut
        self.panels = [tuple(p) for p in panels]
        arr = np.array([(a, b) for a, b, _ in self.panels], float)
        tail = np.array([bool(k) for _, _, k in self.panels])
        a, b = arr[:, :1], arr[:, 1:]
        # x = a + (b − a)(1 − cos πs)/2, s ∈ [0, 1]: the Jacobian vanishes at both ends and
        # removes the square-root branch points of the lead self-energies at the channel
        # thresholds (panel ends)
        s01 = 0.5 * (1.0 + _GK_NODES)
        x = a + (b - a) * 0.5 * (1.0 - np.cos(np.pi * s01))   # (np, 15)
        jac_s = (b - a) * 0.25 * np.pi * np.sin(np.pi * s01)
        wk, wg = jac_s * _GK_WK, jac_s * _GK_WG
        if tm.kind == "free-electron":
            eps, jac = x.copy(), np.ones_like(x)
            if tail.any():
                u = x[tail]
                eps[tail] = cut / u
                jac[tail] = cut / u**2
            dens = np.full_like(x, tm.nested_prefactor)
        else:
            from .transverse import tb_dos
            t = tm.t
            eps = 4 * t * np.sign(x) * x**2
            dens = tb_dos(eps, t) * 8 * t * np.abs(x) * tm.nested_prefactor
            jac = np.ones_like(x)
        self.eps = np.ascontiguousarray(eps.ravel())
        f = jac * dens
        npn = len(arr)
        w = np.zeros((2 + npn, npn, 15))
        w[0], w[1] = wk * f, wg * f
        for p in range(npn):
            w[2 + p, p] = (wk[p] - wg[p]) * f[p]
        self.weights = w.reshape(2 + npn, -1)

    def __len__(self):
        return len(self.eps)

    def edges(self):
        """(ends of the ordinary panels, ends of the tail panels): a seed for
        :func:`transverse_grid` at a nearby energy."""
        main = [x for a, b, k in self.panels if not k for x in (a, b)]
        tail = [x for a, b, k in self.panels if k for x in (a, b)]
        return np.unique(main), np.unique(tail)

    def refined(self, bad):
        """The grid with the panels flagged in ``bad`` bisected."""
        out = []
        for (a, b, k), split in zip(self.panels, bad):
            if split:
                m = 0.5 * (a + b)
                out += [(a, m, k), (m, b, k)]
            else:
                out.append((a, b, k))
        return TransverseGrid(self.tm, out, self.cut)


def _breakpoints(points, lo, hi):
    """Sorted unique breakpoints in [lo, hi] without gaps below 1e-9 of the range (panels
    of zero width would put nodes on a bound state's exact energy)."""
    pts = np.unique(np.clip(np.asarray(points, float), lo, hi))
    keep = np.r_[True, np.diff(pts) > 1e-9 * (hi - lo)]
    pts = pts[keep]
    pts[-1] = hi
    return pts


def transverse_grid(solver, tm, energy, width=0.0, seed=None):
    """The first transverse grid at ``energy``: breakpoints at the leads' channel thresholds
    and around the ballistic system's narrow resonances (half widths raised to ``width``, the
    scatterers' broadening), panels no wider than :data:`MAX_PANEL`, and (continuum) the
    tail beyond 1 eV above the highest threshold.  ``seed``: the panel ends of a grid refined
    at a nearby energy (:meth:`TransverseGrid.edges`), added as breakpoints (the refinement
    then starts where that energy's ended)."""
    from .integrate import _resonance_points, _subdivide, find_resonances
    # breakpoints at the resonances' centre and 10^k half widths out, k < decades: two
    # decades once the scatterers' broadening is known (below it nothing is narrower)
    decades = 1 if width > 0 else 4
    main_seed, tail_seed = (np.zeros(0), np.zeros(0)) if seed is None else seed
    th = np.concatenate([lead.thresholds(energy) for lead in solver.leads])
    if tm.kind == "free-electron":
        th = th[th > 0]
        cut = th.max(initial=0.0) + 1.0
        if seed is None:
            res = find_resonances(solver, 0.0, cut, energy=energy, step=5e-3)
            res[:, 1] = np.maximum(res[:, 1], width)
            marks = _resonance_points(res, 0.0, cut, decades)
        else:  # the seed's panels were refined around the resonances of a nearby energy
            marks = main_seed[main_seed < cut]
        pts = np.r_[0.0, th, cut, marks]
        pts = _subdivide(_breakpoints(pts, 0.0, cut), MAX_PANEL)
        panels = [(a, b, False) for a, b in zip(pts[:-1], pts[1:])]
        tail = _breakpoints(np.r_[0.0, 0.5, 1.0, tail_seed], 0.0, 1.0)
        panels += [(a, b, True) for a, b in zip(tail[:-1], tail[1:])]
        return TransverseGrid(tm, panels, cut)
    lo, hi = -4 * tm.t, 4 * tm.t
    res = find_resonances(solver, lo, hi, energy=energy, step=5e-3)
    res[:, 1] = np.maximum(res[:, 1], width)
    v = tm.variable(np.clip(np.r_[th, _resonance_points(res, lo, hi, decades)], lo, hi))
    pts = _subdivide(_breakpoints(np.r_[-1.0, 0.0, 1.0, v, main_seed], -1.0, 1.0), 0.25)
    return TransverseGrid(tm, [(a, b, False) for a, b in zip(pts[:-1], pts[1:])])


# ------------------------------------------------------------------------------------------
# one energy, adaptive in k∥; the window part at one bias
# ------------------------------------------------------------------------------------------
class _Packer:
    """The integrated vector of the SCBA window: the ballistic layout's vector
    (:class:`mtj_kwant.integrate._Layout`) with the torque replaced by the exchange torque of
    Eq. (22) (for a finite free layer), then the spin-current difference J_in − J_out (3) and
    the spin-flip loss Σ_free L (3)."""

    def __init__(self, layout, chain, site_mag):
        self.layout = layout
        self.free = np.flatnonzero(chain.free)
        self.finite = not layout.fif
        self.delta = chain.delta
        self.mag = site_mag
        self.n = chain.n_sites
        self.size = layout.size + 6 + (3 * self.n if layout.profile else 0)

    def __call__(self, r):
        lay = self.layout
        v = lay.pack(r["bond"][:, lay.bonds], r["site"])
        diff = v[:, 1:4].copy()
        s = r["site"][:, self.free, 1:]
        tau = (self.delta[self.free, None] * np.cross(self.mag[self.free], s)).sum(1)
        loss = r["loss"][:, self.free].sum(1)
        if self.finite:
            v[:, 1:4] = tau
        cols = [v, diff, loss]
        if lay.profile:  # the spin-flip loss of every site
            cols.append(r["loss"].reshape(len(v), -1))
        return np.concatenate(cols, 1)

    def tolerance(self, base):
        lay = self.layout

        def tol(value):  # the extra vectors: as the torque
            out = np.empty(value.shape)
            out[:lay.size] = base(value[:lay.size])
            out[lay.size:] = out[1:4].max()
            return out
        return tol


def solve_energy(solver, d_m, d_s, tm, energy, lead, pack, tol, *, shift=None, sigma0=None,
                 sigma_in0=None, max_rounds=MAX_ROUNDS, width=0.0, seed=None,
                 scba_tol=SCBA_TOL):
    """The SCBA window vector at one energy, the transverse grid refined until its
    (Kronrod − Gauss) error meets ``tol``.

    Returns
    -------
    dict
        ``value`` (size,), ``error`` (size,): k∥ quadrature error plus the measured
        non-conservation of the particle current (self-consistency) on the current;
        ``sigma`` (N, 4); ``scba`` (ScbaEnergy); ``nodes``; ``rounds``; ``converged``.
    """
    grid = transverse_grid(solver, tm, energy, width, seed)
    iters = 0
    for rnd in range(1, max_rounds + 1):
        se = ScbaEnergy(solver, d_m, d_s, energy, grid.eps, grid.weights, shift=shift,
                        sigma0=sigma0, tol=scba_tol)
        r = se.window(lead, sigma_in0)
        sigma_in0 = r["sigma_in"]
        iters += se.iterations + r["iterations"]
        vec = pack(r)
        panel_err = np.abs(vec[2:])
        err = panel_err.sum(0)
        allowed = tol(vec[0])
        # the self-energy's own quadrature error (Σ is real-linear in Ĝ once its scalar
        # Hermitian part is removed), relative to its size
        if len(se.sites):
            sig_rows = np.stack([se._sigma_of(row, None)[0] for row in r["gloc"][:, se.sites]])
            g_panel = np.abs(sig_rows[2:]).max(axis=(1, 2))
            g_allowed = min(1.0, float(np.min(allowed / np.maximum(np.abs(vec[0]), 1e-300)))) \
                * np.abs(sig_rows[0]).max()
        else:
            g_panel, g_allowed = np.zeros(len(vec) - 2), 0.0
        ok = bool(np.all(err <= allowed)) and g_panel.sum() <= g_allowed
        if ok or rnd == max_rounds:
            break
        share = allowed / len(grid.panels)
        bad = np.any(panel_err > share, axis=1) | (g_panel > g_allowed / len(grid.panels))
        if not bad.any():
            bad = panel_err.max(1) >= panel_err.max()
        grid = grid.refined(bad)
        sigma0 = se.sigma
    cur = r["bond"][0, :, 0]
    err = err.copy()
    err[0] += float(cur.max() - cur.min()) if len(cur) else 0.0
    # the self-consistency's residual (met tolerance, or stopped above it at a node whose
    # ballistic resonance is narrower than Σ): SC_SENSITIVITY × its relative size × |value|
    rel = se.relative_residual + r["residual"] / max(
        float(np.abs(r["xloc"][0][se.sites]).max(initial=0.0)) * float(
            np.abs(se.b).max(initial=0.0)), 1e-300)
    sc_ok = se.converged and r["converged"]
    err += SC_SENSITIVITY * rel * np.abs(vec[0])
    return {"value": vec[0], "error": err, "sigma": se.sigma, "sigma_in": r["sigma_in"],
            "scba": se, "nodes": len(grid), "grid": grid,
            "rounds": rnd, "converged": ok and (sc_ok or rel < 1e-6), "iterations": iters}


class BornWarning(UserWarning):
    """A scattering rate is not small against the layer's Fermi energy: the (self-consistent)
    Born approximation and the golden-rule map of the rates are outside their validity."""


#: A rate above this fraction of the smallest Fermi energy of the layer's spin bands
#: (measured from the band edge) is warned about (:class:`BornWarning`).
BORN_LIMIT = 0.2


def born_validity(junction):
    """``[(layer index, largest rate, smallest Fermi energy)]`` (eV) of the scattering layers
    whose rate exceeds :data:`BORN_LIMIT` × the smallest distance of E_F to an edge of the
    layer's spin bands (free electron: the minority band bottom; tight binding: bottom and
    top).  The SCBA needs ħ/τ ≪ that energy (k_F ℓ ≫ 1)."""
    out = []
    ef = junction.fermi_energy
    for i, lay in enumerate(junction.layers):
        sc = lay.scattering
        if sc is None or not sc.active or not isinstance(lay.potential, (int, float)):
            continue
        u, half = float(lay.potential), 0.5 * lay.exchange
        if junction.model == "free-electron":
            scale = ef - (u + half)
        else:
            t = junction.hopping_of(lay)
            scale = min(ef - (u + half - 6 * t), (u - half + 6 * t) - ef)
        rate = max(sc.momentum, sc.spin_flip)
        if scale > 0 and rate > BORN_LIMIT * scale:  # scale ≤ 0: no Fermi surface, refused
            out.append((i, rate, scale))                # with the strengths
    return out


_BORN_WARNED = set()


def scattering_window(jsys, *, theta, phi=0.0, bias, temperature=0.0, rtol=1e-3, profile=False,
                      reference=0, max_eval=400_000, progress=None, linear_response=False,
                      strengths=None, threads=None):
    """Window part at one bias with elastic scattering (SCBA), as a :class:`PointResult`.

    Parameters
    ----------
    jsys : JunctionSystem
    theta, phi, bias, temperature, rtol, profile, reference, max_eval, progress,
    linear_response
        As for :func:`mtj_kwant.integrate.bias_point` (window part only).
    strengths : (ndarray, ndarray), optional
        The self-energy strengths (D_m, D_s) per chain site (eV² nm²); default from the
        junction's rates (:func:`mtj_kwant.analytic.relaxation.scba_self_energy_strengths`).
    threads : int, optional
        Energies solved at once (threads; the compiled kernels release the GIL); default
        the number of CPUs.  The result does not depend on it beyond the self-consistency
        tolerance (each energy starts from the solution of the previous batch).

    Returns
    -------
    PointResult
        ``torque`` is the exchange torque of Eq. (22) on a finite free layer (the
        interfacial spin-current difference for a free electrode); ``spin_current_difference``
        and ``spin_flip_loss`` (both (ħ/2e) A/m²) hold J_in − J_out and the spin-flip loss
        summed over the free layer (difference = ``torque`` + loss, Eq. (22) and the
        module's sum rule, up to the errors); ``scba`` in
        the result holds the self-consistency record.

    Notes
    -----
    Window part with the left electrode as the reference (``reference=0``)::

        O = ∫ dE [f_L − f_R] o[X(E)],  X = G (Γ_L + Σⁱⁿ[X̂]) G†

    at every energy on an adaptive transverse quadrature (:func:`solve_energy`); the
    energy integral is adaptive Gauss–Kronrod.  The errors add the energy quadrature's, the
    transverse quadrature's (propagated through the energy integral) and, on the current,
    the largest deviation of the particle current between bonds (the self-consistency).
    """
    from .integrate import (UNDERFLOW, _Layout, _to_si, _tolerance, is_collinear,
                            window_result)
    from .physics import FERMI_TAIL, fermi, fermi_slope
    from .quadrature import adaptive_quad
    from .solvers import ChainSolver
    from .units import K_B

    junction, chain = jsys.junction, jsys.chain
    for i, rate, scale in born_validity(junction):
        key = (junction.name, i, rate)
        if key in _BORN_WARNED:  # once per junction and layer (not per lattice or point)
            continue
        _BORN_WARNED.add(key)
        warnings.warn(f"layer[{i}].scattering: a rate of {rate:g} eV is not small against the "
                      f"layer's smallest Fermi energy ({scale:.3g} eV from a band edge): the "
                      f"Born approximation needs ħ/τ ≪ it (here > {BORN_LIMIT:g}×); the result "
                      "is outside the model's validity", BornWarning, stacklevel=3)
    if strengths is None:
        from .analytic.relaxation import scba_self_energy_strengths
        strengths = scba_self_energy_strengths(junction, chain)
    d_m, d_s = (np.asarray(x, float) for x in strengths)
    kT = K_B * float(temperature)
    mu_l = junction.fermi_energy + 0.5 * bias
    mu_r = junction.fermi_energy - 0.5 * bias
    sol = ChainSolver(jsys, theta=theta, phi=phi, bias=bias)
    tm = jsys.transverse
    layout = _Layout(chain, sol.site_magnetization, sol.m, profile)
    layout.lead = reference
    collinear = is_collinear(sol)
    pack = _Packer(layout, chain, sol.site_magnetization)
    base = _tolerance(rtol, layout, collinear=collinear)
    tol = pack.tolerance(base)
    sign = 1.0 if reference == 0 else -1.0
    record = {"energies": [], "nodes": [], "rounds": [], "iterations": 0, "k_errors": [],
              "n": 0, "converged": True}
    state = {"sigma": None, "sigma_in": None, "scale": None}

    threads = max(1, min(int(threads if threads is not None else (os.cpu_count() or 1)), 16))
    pool = ThreadPoolExecutor(threads) if threads > 1 else None
    # a first solution at the Fermi energy: the scatterers' broadening, and a start for Σ
    ref = solve_energy(sol, d_m, d_s, tm, junction.fermi_energy, reference, pack,
                       lambda v: tol(v) / 3, scba_tol=float(np.clip(1e-2 * rtol, 1e-12, 1e-6)))
    shift = None  # the level shift removed at every energy (module docstring)
    state["sigma"], state["sigma_in"] = ref["sigma"], ref["sigma_in"]
    seed = ref["grid"].edges()  # every energy starts from the panels refined at E_F
    # the narrowest broadening by the scatterers, −Im Σ (the resonances' breakpoints below
    # it only cost evaluations)
    sig_sites = ref["sigma"][ref["scba"].sites]
    width = float(np.min(-0.5 * (sig_sites[:, 0] + sig_sites[:, 3]).imag)) \
        if len(sig_sites) else 0.0

    # the self-consistency to 1e-2 of the tolerance (its residual enters the errors)
    scba_tol = float(np.clip(1e-2 * rtol, 1e-12, 1e-6))

    def inner_many(energies):
        """The window vectors at ``energies``, solved on ``threads`` threads (the kernels
        release the GIL); each starts from the last Σ, Σⁱⁿ of the previous batch."""
        scale = state["scale"]

        def tol_k(value):
            a = np.abs(value)
            if scale is not None:
                a = np.maximum(a, scale)
            return tol(a) / 3

        def one(energy):
            return solve_energy(sol, d_m, d_s, tm, energy, reference, pack, tol_k,
                                shift=shift, sigma0=state["sigma"],
                                sigma_in0=state["sigma_in"], width=max(width, 0.0),
                                seed=seed, scba_tol=scba_tol)
        energies = [float(e) for e in np.atleast_1d(energies)]
        outs = list(pool.map(one, energies)) if pool is not None else list(map(one, energies))
        for energy, out in zip(energies, outs):
            a = np.abs(out["value"])
            state["scale"] = a if state["scale"] is None else np.maximum(state["scale"], a)
            record["energies"].append(energy)
            record["nodes"].append(out["nodes"])
            record["rounds"].append(out["rounds"])
            record["iterations"] += out["iterations"]
            record["converged"] &= out["converged"]
            record["k_errors"].append(out["error"])
            record["n"] += 1
            if progress is not None:
                progress(out["nodes"])
        state["sigma"], state["sigma_in"] = outs[-1]["sigma"], outs[-1]["sigma_in"]
        return np.array([out["value"] for out in outs])

    def inner(energy):
        return inner_many([energy])[0]

    tail = FERMI_TAIL * kT
    e_lo, e_hi = min(mu_l, mu_r) - tail, max(mu_l, mu_r) + tail

    def propagated(weight):
        """The transverse quadrature's error through the energy integral: the mean of
        |weight(E)| × error(E) over the energies solved, times the range (the weights of an
        interpolatory rule are positive and sum to the range)."""
        es = np.array(record["energies"])
        errs = np.array(record["k_errors"])
        return np.mean(np.abs(weight(es))[:, None] * errs, axis=0) * (e_hi - e_lo)

    if linear_response:
        if bias != 0:
            raise ValueError("linear_response needs bias=0")
        if kT == 0:
            value = sign * inner(mu_l)
            err = record["k_errors"][-1].copy()
            q_conv = True
        else:
            q = adaptive_quad(lambda es: sign * fermi_slope(es, mu_l, kT)[:, None]
                              * inner_many(es), [e_lo, mu_l, e_hi], tol,
                              max_eval=max_eval, what="SCBA energy integral")
            value, q_conv = q.value, q.converged
            err = q.error + propagated(lambda es: fermi_slope(es, mu_l, kT))
    elif bias == 0:
        value, err, q_conv = np.zeros(pack.size), np.zeros(pack.size), True
    else:
        edges = np.concatenate([lead.bands().ravel() for lead in sol.leads])
        pts = np.unique(np.r_[e_lo, e_hi, mu_l, mu_r, edges])
        pts = pts[(pts >= e_lo) & (pts <= e_hi)]

        def outer(es):
            w = sign * (fermi(es, mu_l, kT) - fermi(es, mu_r, kT))
            return w[:, None] * inner_many(es)
        q = adaptive_quad(outer, pts, tol, max_eval=max_eval, what=f"SCBA energy integral at "
                          f"bias {bias:g} V")
        value, q_conv = q.value, q.converged
        err = q.error + propagated(lambda es: fermi(es, mu_l, kT) - fermi(es, mu_r, kT))
    if pool is not None:
        pool.shutdown()
    main, extra = value[:layout.size], value[layout.size:layout.size + 6]
    main_err, extra_err = err[:layout.size], err[layout.size:layout.size + 6]
    site_loss = value[layout.size + 6:].reshape(-1, 3)
    site_loss_err = err[layout.size + 6:].reshape(-1, 3)
    flux = _to_si(jsys, {"torque": extra})["torque"]
    flux_err = _to_si(jsys, {"torque": extra_err})["torque"]
    if not np.any(d_s > 0):
        # without spin flip the loss vanishes identically at self-consistency: what is
        # computed measures the self-consistency error, which the torque's error covers
        main_err[1:4] += np.abs(extra[3:])
        flux_err[3:] += np.abs(flux[3:])
        flux[3:] = 0.0
        site_loss_err += np.abs(site_loss)
        site_loss = np.zeros_like(site_loss)
    out = window_result(jsys, layout, main, main_err, collinear, profile,
                        n_eval=int(sum(record["nodes"])),
                        converged=bool(q_conv and record["converged"]), reference=reference)
    out.errors["spin_current_difference"] = np.maximum(flux_err[:3], UNDERFLOW)
    out.errors["spin_flip_loss"] = np.maximum(flux_err[3:], UNDERFLOW)
    if profile:
        to_flux = _to_si(jsys, {"torque": 1.0})["torque"]
        out.profile["spin_flip_loss"] = site_loss * to_flux
        out.profile["error_arrays"]["spin_flip_loss"] = np.maximum(site_loss_err * to_flux,
                                                                   UNDERFLOW)
        out.profile["errors"]["spin_flip_loss"] = float(
            out.profile["error_arrays"]["spin_flip_loss"].max())
    out.spin_current_difference = np.asarray(flux[:3])
    out.spin_flip_loss = np.asarray(flux[3:])
    out.scba = {"energies": len(record["energies"]), "transverse_nodes_mean":
                float(np.mean(record["nodes"])) if record["nodes"] else 0.0,
                "iterations": int(record["iterations"]),
                "max_rounds": int(max(record["rounds"], default=0))}
    return out
