"""Spectral observables of a layered junction at given (energy, transverse energy) points.

Two interchangeable solvers compute the contribution of the scattering states
incoming from one electrode, per unit energy and per transverse channel:

- :class:`KwantSolver` — the reference path: ``kwant.wave_function`` with
  bound ``kwant.operator.Density`` and ``kwant.operator.Current``, one point at
  a time.
- :class:`ChainSolver` — batched recursive Green's functions for layered chains.
  It takes the onsite and hopping blocks from the finalized Kwant system
  (``hamiltonian_submatrix`` and the leads' cell Hamiltonian and hopping), so
  the model is defined once, in Kwant, and solves many points at once, at real
  or complex energies.

Both implement the solver protocol that integration needs (:class:`Solver`);
both return the same quantities in Kwant's reduced units (energies in eV,
ħ = 1, scattering states normalised to unit incoming flux)::

    current[b]          particle current on bond b (j -> j+1), positive toward +x;
                        for left-incoming states this is the transmission
    spin_current[b, i]  the same for σ_i
    spin_density[j, i]  Σ_n ψ_n(j)† σ_i ψ_n(j)      (2π × local spin DOS, 1/eV)
    density[j]          Σ_n |ψ_n(j)|²
    torque[j, i]        Δ_j (m_j × spin_density[j])_i  (exchange torque, flux units)

Notes
-----
For a state ψ the particle current from site j to j+1 through the hopping
H_{j+1,j} = −t_j is J = 2 Im(ψ_{j+1}† H_{j+1,j} O ψ_j) for an onsite operator
O that commutes with the hopping.  In Green's-function form, with the lead
broadening Γ_α = i(Σ_α − Σ_α†) and A_α = G Γ_α G† = Σ_n ψ_n ψ_n†, the
spin density is Tr[σ A_α(j, j)] and the bond current is
−2 t_j Im Tr[O A_α(j, j+1)].  The exchange term −(Δ/2) m·σ gives
d⟨σ⟩/dt = Δ ⟨σ⟩ × m (ħ = 1), so in a steady state the spin current flowing
into a site minus the one flowing out equals Δ m × ⟨σ⟩: the exchange torque
that site exerts, which is what ``torque`` holds.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from . import _rgf
from .model import magnetization_direction
from .system import SIGMA

_SCRATCH = threading.local()


def kernel_workspace(n_sites):
    """Scratch rows (2, ≥ n_sites, 8 W) for :func:`mtj_kwant._rgf.window` and ``sea``.

    One array per thread, kept and grown to the longest chain seen: a fresh
    array per call would cost a page fault per 4 kB, which on chains of a few
    hundred sites exceeded the arithmetic of a call ten times (measured on
    the finest lattice of ``fifn_2nm``, 484 sites, 60 points: 26 ns against
    2.9 ns per site and point).
    """
    work = getattr(_SCRATCH, "work", None)
    if work is None or work.shape[1] < n_sites:
        work = np.empty((2, n_sites, 8 * _rgf.W))
        _SCRATCH.work = work
    return work

__all__ = ["Solver", "Lead", "block_log_det", "KwantSolver", "ChainSolver", "make_solver", "OBSERVABLES",
           "lead_self_energy", "KwantPointError", "EDGE_WINDOW"]

OBSERVABLES = ("current", "spin_current", "spin_density", "density", "torque")

#: Relative distance from a lead band edge within which :class:`KwantSolver` moves an
#: energy off the edge (times the leads' energy scale; see the Notes of :class:`KwantSolver`).
EDGE_WINDOW = 1e-12


class KwantPointError(ValueError):
    """Kwant could not compute the scattering states at one (energy, transverse energy) point.

    The message is one line naming the bias, the energy, the transverse energy and the
    nearest lead band edge.  Attributes: ``bias`` (V), ``energy``, ``eps_par``, ``edge``
    (eV; ``edge`` the nearest band edge of either lead, None if unknown).
    """

    def __init__(self, message, *, bias=None, energy=None, eps_par=None, edge=None):
        super().__init__(message)
        self.bias, self.energy, self.eps_par, self.edge = bias, energy, eps_par, edge

    def __reduce__(self):  # picklable with its attributes (worker processes)
        return (_kwant_point_error, (str(self), self.bias, self.energy, self.eps_par, self.edge))


def _kwant_point_error(message, bias, energy, eps_par, edge):
    return KwantPointError(message, bias=bias, energy=energy, eps_par=eps_par, edge=edge)


@dataclass(frozen=True, eq=False)
class Lead:
    """A semi-infinite chain electrode: its bands and its retarded self-energy.

    The cell Hamiltonian is ``h + ε∥ dh`` (2×2, eV; ``dh = c·1`` with c the
    electrode's transverse factor) and the hopping between cells ``−t·1``.

    Parameters
    ----------
    h, dh : ndarray (2, 2)
        Cell Hamiltonian at ε∥ = 0 and its derivative with respect to ε∥.
    t : float
        Hopping (eV).
    """

    h: np.ndarray
    dh: np.ndarray
    t: float

    @classmethod
    def from_kwant(cls, flead, p0, p1, d_eps):
        """The lead of a finalized Kwant system, read at parameters ``p0`` (ε∥ = 0) and ``p1``
        (ε∥ = ``d_eps``).

        Raises
        ------
        NotImplementedError
            Spin-dependent hopping or transverse term (not a chain lead of DESIGN.md §3).
        """
        hc0 = flead.cell_hamiltonian(params=p0)
        hc1 = flead.cell_hamiltonian(params=p1)
        v = flead.inter_cell_hopping(params=p0)
        tl = -v[0, 0].real
        if not np.allclose(v, -tl * np.eye(2)):
            raise NotImplementedError("the solvers need spin-independent lead hoppings")
        dh = (hc1 - hc0) / d_eps
        if not np.allclose(dh, dh[0, 0] * np.eye(2), atol=1e-12):
            raise NotImplementedError("the solvers need a spin-independent transverse term")
        return cls(hc0, dh, tl)

    @property
    def transverse(self):
        """c: the cell energies move by c ε∥ (1 for one mass, t_lead/t in tight binding)."""
        return float(self.dh[0, 0].real)

    def levels(self, eps=0.0):
        """Eigenvalues of the cell Hamiltonian at transverse energy ``eps`` (eV), ascending."""
        return np.linalg.eigvalsh(self.h + eps * self.dh)

    def bands(self, eps=0.0):
        """(n, 2): bottom and top of every spin band at transverse energy ``eps`` (eV)."""
        e = self.levels(eps)
        return np.stack([e - 2 * self.t, e + 2 * self.t], 1)

    def bottom(self, eps=0.0):
        """The lowest band bottom at transverse energy ``eps`` (eV)."""
        return self.levels(eps)[0] - 2 * self.t

    def thresholds(self, energy):
        """Transverse energies where a channel opens or closes at ``energy`` (eV)."""
        e, c = self.levels(), self.transverse
        return np.concatenate([(energy - e + 2 * self.t) / c, (energy - e - 2 * self.t) / c])

    def open_range(self, energy):
        """(lowest, highest) transverse energy with an open channel at ``energy``, unclipped."""
        e, c = self.levels(), self.transverse
        return ((energy - e - 2 * self.t) / c).min(), ((energy - e + 2 * self.t) / c).max()

    def self_energy(self, z, eps):
        """Σ (…, 2, 2) and the number of propagating channels (:func:`lead_self_energy`)."""
        return lead_self_energy(self.h + np.asarray(eps)[..., None, None] * self.dh, self.t, z)

    def kernel_args(self):
        """(eigenvalues, eigenvectors (4,), c, t) for the kernels of :mod:`mtj_kwant._rgf`."""
        ev, u = np.linalg.eigh(self.h)
        return (ev.astype(float), np.ascontiguousarray(u.reshape(4), complex), self.transverse,
                float(self.t))


class Solver:
    """What integration needs from a solver (the protocol of :func:`~mtj_kwant.integrate.bias_point`).

    One junction system at fixed θ, φ (rad) and bias (V).  Attributes:
    ``chain`` (:class:`~mtj_kwant.model.Chain`), ``m`` (free direction),
    ``site_magnetization`` (N, 3), ``leads`` (two :class:`Lead`), ``name``,
    ``has_sea`` (whether the Fermi-sea methods exist).

    Window part (every solver):

    - ``bond_window(lead, energies, eps_par, bonds, sites=False, scale=False)``:
      currents on bonds (…, nb, 4), site densities (…, N, 4) and, with
      ``scale``, the round-off scale of each bond's currents (…, nb; 0 where
      unknown) of the states incoming from ``lead`` at real energies;
    - ``log_det(z, eps_par)``: log det(z − H − Σ_L − Σ_R) on a continuous
      branch (its imaginary part locates narrow resonances).

    Fermi sea (``has_sea``): ``spectrum_bottom(eps_par)``, a lower bound of the
    spectrum; ``bond_sea(z, eps_par, bonds, sites=False)``, the analytic h(z)
    of all states; ``coupling_bond()`` and ``coupling(z, eps_par, bond)``, the
    coupling determinant of the two halves of the junction (or None).
    """

    name = "abstract"
    has_sea = False

    def __init__(self, jsys, *, theta, phi=0.0, bias=0.0):
        self.jsys = jsys
        self.chain = jsys.chain
        self.theta, self.phi, self.bias = float(theta), float(phi), float(bias)
        chain = self.chain
        m = magnetization_direction(self.theta, self.phi)
        mags = chain.magnetization.copy()
        mags[chain.free] = m
        self.site_magnetization = mags
        self.m = m
        self.leads = tuple(Lead(*jsys.lead_blocks(side, theta=self.theta, phi=self.phi,
                                                  bias=self.bias)) for side in (0, 1))

    def _probe_eps(self):
        """A transverse energy where the blocks are read a second time (they are affine in it)."""
        if self.jsys.model == "free-electron":
            return 1.0
        return -self.jsys.junction.hopping  # inside the transverse band

    def params(self, eps_par=0.0):
        return self.jsys.params(theta=self.theta, phi=self.phi, bias=self.bias, eps_par=eps_par)

    def _torque(self, spin_density):
        """Δ_j m_j × s_j for spin densities of shape (..., N, 3).

        Written out by component (``np.cross`` broadcasts through slow copies: it cost more
        than the profile kernel itself).
        """
        m, s, d = self.site_magnetization, spin_density, self.chain.delta
        out = np.empty(np.broadcast_shapes(m.shape, s.shape))
        out[..., 0] = d * (m[:, 1] * s[..., 2] - m[:, 2] * s[..., 1])
        out[..., 1] = d * (m[:, 2] * s[..., 0] - m[:, 0] * s[..., 2])
        out[..., 2] = d * (m[:, 0] * s[..., 1] - m[:, 1] * s[..., 0])
        return out

    def _read_blocks(self):
        """``onsite`` (N, 2, 2) at ε∥ = 0, ``slope`` (dH_jj/dε∥), ``t`` (N − 1).

        :meth:`~mtj_kwant.system.JunctionSystem.blocks`: the affine basis (in m, V and ε∥)
        of the chain's site data, which the Kwant system is built from, assembled in O(N).

        Raises
        ------
        NotImplementedError
            Spin-dependent hoppings or transverse terms, or hoppings beyond nearest
            neighbours (not a chain of DESIGN.md §3).
        """
        self.onsite, self.slope, hop, beyond = self.jsys.blocks(
            theta=self.theta, phi=self.phi, bias=self.bias, d_eps=self._probe_eps())
        t = -hop[:, 0, 0].real  # hop: H_{j+1, j}
        if not np.allclose(hop, -t[:, None, None] * np.eye(2), atol=1e-12 * max(1, abs(t).max())):
            raise NotImplementedError(f"{type(self).__name__} needs spin-independent hoppings")
        if beyond > 0:
            raise NotImplementedError(f"{type(self).__name__} needs a nearest-neighbour chain")
        self.t = t
        self.slope_diag = np.real(self.slope[:, 0, 0])
        if not np.allclose(self.slope, self.slope_diag[:, None, None] * np.eye(2), atol=1e-12):
            raise NotImplementedError(f"{type(self).__name__} needs a spin-independent "
                                      "transverse term")

    def bond_window(self, lead, energies, eps_par, bonds, sites=False, scale=False):
        raise NotImplementedError

    def log_det(self, z, eps_par=0.0):
        raise NotImplementedError


def _arg_det(det, trace):
    """log det of pivots with positive semidefinite imaginary part, arg in [0, 2π].

    The branch rule of :func:`mtj_kwant._rgf._arg_det`, vectorised: a sum over
    the pivots of a recursion is then a continuous branch of log det.
    """
    ph = np.arctan2(det.imag, det.real)
    # ph < 0 is an arg in (π, 2π], except just below the positive real axis with both
    # eigenvalues near it (trace > 0): the round-off of an arg ≈ 0
    below = (ph < 0) & ~((ph > -0.5 * np.pi) & (trace.real > 0))
    ph = np.where(below, ph + 2 * np.pi,
                  np.where((ph >= 0) & (ph < 0.5 * np.pi) & (trace.real < 0), ph + 2 * np.pi, ph))
    return np.log(np.abs(det)) + 1j * ph


def block_log_det(onsite, slope, t, leads, z, eps):
    """log det(z − H(ε∥) − Σ_L − Σ_R) of a chain by forward block elimination (NumPy).

    The same continuous branch as :func:`mtj_kwant._rgf.log_det` (which it
    checks), written with NumPy and the leads' :meth:`Lead.self_energy`.

    Parameters
    ----------
    onsite : ndarray (N, 2, 2)
    slope, t : ndarray (N,), (N − 1,)
    leads : (Lead, Lead)
    z : complex ndarray (P,)
    eps : ndarray (P,)

    Returns
    -------
    ndarray (P,) complex
    """
    z, eps = np.asarray(z, complex), np.asarray(eps, float)
    n = len(onsite)
    eye = np.eye(2)
    sig = [lead.self_energy(z, eps)[0] for lead in leads]
    out = np.zeros(z.shape, complex)
    g = None
    for j in range(n):
        p = (z - eps * slope[j])[:, None, None] * eye - onsite[j]
        if j == 0:
            p = p - sig[0]
        if j == n - 1:
            p = p - sig[1]
        if j > 0:
            p = p - t[j - 1] ** 2 * g
        det = p[:, 0, 0] * p[:, 1, 1] - p[:, 0, 1] * p[:, 1, 0]
        out += _arg_det(det, p[:, 0, 0] + p[:, 1, 1])
        g = np.stack([np.stack([p[:, 1, 1], -p[:, 0, 1]], -1),
                      np.stack([-p[:, 1, 0], p[:, 0, 0]], -1)], -2) / det[:, None, None]
    return out



class KwantSolver(Solver):
    """Reference solver: Kwant scattering states and bound operators.

    Parameters
    ----------
    jsys : JunctionSystem
    theta, phi : float
        Free-layer angles in radians.
    bias : float
        Bias in V.

    Notes
    -----
    Kwant's mode solver fails ("singular matrix") at an energy on a lead band
    edge, where a mode has zero velocity (DESIGN.md §5).  An energy within
    ``EDGE_WINDOW`` × s of an edge of either lead (s: the larger over the two
    leads of max(1 eV, largest |entry| of the lead's cell Hamiltonian,
    2 × its hopping), the scale of rounding errors in the edges) is moved
    to 2 × ``EDGE_WINDOW`` × s from that edge, on the side where it lies,
    and evaluated there.  The observables vary as the square root of the
    distance from an edge (the density of the electrode sites kept in the
    scattering region as its inverse), so the value at that one point
    changes by about √(EDGE_WINDOW) relative: measured against the batched
    solver at the edge itself, ≤ 2e-7 for currents and torques, ≤ 8e-6 for
    densities.  Such
    points arise where two breakpoints of a quadrature (a band edge and a
    chemical potential) coincide up to rounding; they lie in intervals of
    width ~1e-15 eV, so integrals do not change (Kwant path = batched path
    to 1e-14 with a band edge on E_F, ``tests/test_solvers.py``).  Band
    edges are where ``h ± (V + V†)`` (h the lead's cell Hamiltonian, V its
    inter-cell hopping) has an eigenvalue, the k = 0 and k = π extremes of
    a chain lead.  A point that still fails raises :class:`KwantPointError`
    (one line: bias, energy, transverse energy, nearest band edge).
    """

    name = "kwant"

    def __init__(self, jsys, **kw):
        super().__init__(jsys, **kw)
        import kwant  # only this solver needs Kwant at run time

        self._kwant = kwant
        fsyst, lat, n = jsys.fsyst, jsys.lattice, self.chain.n_sites
        bonds = [(lat(j + 1), lat(j)) for j in range(n - 1)]  # current from lat(j) to lat(j+1)
        p0 = self.params(0.0)
        self._density = [
            kwant.operator.Density(fsyst, s, sum=False).bind(params=p0) for s in SIGMA
        ]
        self._current = [
            kwant.operator.Current(fsyst, s, where=bonds, sum=False).bind(params=p0)
            for s in SIGMA
        ]

    def incoming(self, lead, energies, eps_par):
        """Observables of the scattering states incoming from ``lead`` (0 left, 1 right).

        Parameters
        ----------
        energies, eps_par : array_like
            Real energies E (eV) and transverse energies (eV), broadcast to a
            batch of points.

        Returns
        -------
        dict of ndarray
            :data:`OBSERVABLES` with a leading batch axis.
        """
        energies, eps_par = np.broadcast_arrays(
            np.asarray(energies, dtype=float), np.asarray(eps_par, dtype=float)
        )
        n = self.chain.n_sites
        out = {
            "current": np.zeros((energies.size, n - 1)),
            "spin_current": np.zeros((energies.size, n - 1, 3)),
            "spin_density": np.zeros((energies.size, n, 3)),
            "density": np.zeros((energies.size, n)),
        }
        order = self.jsys.order
        for k, (e, eps) in enumerate(zip(energies.ravel(), eps_par.ravel())):
            params = self.params(eps)
            psi = self._wave_function(lead, float(e), float(eps), params)
            for mode in psi:
                out["density"][k] += self._density[0](mode)[order]
                out["current"][k] += self._current[0](mode)
                for i in range(3):
                    out["spin_density"][k, :, i] += self._density[i + 1](mode)[order]
                    out["spin_current"][k, :, i] += self._current[i + 1](mode)
        out["torque"] = self._torque(out["spin_density"])
        shape = energies.shape
        return {key: v.reshape(shape + v.shape[1:]) for key, v in out.items()}

    def bond_window(self, lead, energies, eps_par, bonds, sites=False, scale=False):
        """Currents on ``bonds`` (and site densities) from Kwant's scattering states.

        The window method of the :class:`Solver` protocol (see
        :meth:`ChainSolver.bond_window`); no round-off scale is known here, so
        ``bond_scale`` is 0.
        """
        o = self.incoming(lead, energies, eps_par)
        bond = np.concatenate([o["current"][..., None], o["spin_current"]], -1)
        bond = bond[..., np.asarray(bonds, int), :]
        if sites:
            site = np.concatenate([o["density"][..., None], o["spin_density"]], -1)
        else:
            site = np.zeros(bond.shape[:-2] + (0, 4))
        out = bond, site
        return out + (np.zeros(bond.shape[:-1]),) if scale else out

    def log_det(self, z, eps_par=0.0):
        """log det(z − H − Σ_L − Σ_R) on a continuous branch (:func:`block_log_det`).

        H is read from Kwant's sparse Hamiltonian, Σ from the leads' cell
        Hamiltonians and hoppings (:class:`Lead`); the batched kernels are not used.
        """
        if not hasattr(self, "onsite"):
            self._read_blocks()
        z, eps = np.broadcast_arrays(np.asarray(z, complex), np.asarray(eps_par, float))
        return block_log_det(self.onsite, self.slope_diag, self.t, self.leads, z.ravel(),
                             eps.ravel()).reshape(z.shape)

    def band_edges(self, eps_par=0.0, params=None):
        """Band edges of each lead at a transverse energy (eV).

        Returns
        -------
        edges : list of ndarray
            Per lead (0 left, 1 right), the eigenvalues of h + (V + V†) and h − (V + V†).
        scales : list of float
            Per lead, the energy scale s (eV) that :data:`EDGE_WINDOW` multiplies.
        """
        params = self.params(eps_par) if params is None else params
        edges, scales = [], []
        for lead in self.jsys.fsyst.leads:
            h = np.asarray(lead.cell_hamiltonian(params=params))
            v = np.asarray(lead.inter_cell_hopping(params=params))
            if v.shape != h.shape:  # a lead whose hopping is not square: no chain edges
                edges.append(np.zeros(0))
                scales.append(1.0)
                continue
            w = v + v.conj().T
            edges.append(np.concatenate([np.linalg.eigvalsh(h + w), np.linalg.eigvalsh(h - w)]))
            scales.append(max(1.0, np.abs(h).max(initial=0.0), 2 * np.abs(v).max(initial=0.0)))
        return edges, scales

    def _wave_function(self, lead, energy, eps_par, params):
        """``kwant.wave_function(...)(lead)`` at ``energy``, moved off a lead band edge."""
        edges, scales = self.band_edges(eps_par, params)
        e = _off_edges(energy, edges, scales)
        try:
            return self._kwant.wave_function(self.jsys.fsyst, energy=e, params=params)(lead)
        except (np.linalg.LinAlgError, ValueError) as err:
            which, edge = _nearest_edge(e, edges)
            side = ("left", "right")[which] if which is not None else None
            where = (f"; the nearest lead band edge is the {side} electrode's at "
                     f"{edge:.12g} eV ({e - edge:+.3g} eV away)" if side else "")
            raise KwantPointError(
                f"Kwant scattering states failed at bias {self.bias:g} V, energy "
                f"{energy:.12g} eV, transverse energy {eps_par:.6g} eV{where}: "
                f"{str(err).splitlines()[0] if str(err) else type(err).__name__} "
                "(use --solver batched, which copes with band edges)",
                bias=self.bias, energy=energy, eps_par=eps_par, edge=edge) from err

    def transmission(self, energy, eps_par=0.0):
        """Transmission left → right from Kwant's S matrix (for tests)."""
        smat = self._kwant.smatrix(self.jsys.fsyst, energy, params=self.params(eps_par))
        return smat.transmission(1, 0), smat


def _nearest_edge(energy, edges):
    """(lead index, edge) of the band edge closest to ``energy``; (None, None) if none."""
    best = (None, None, np.inf)
    for i, e in enumerate(edges):
        if e.size:
            k = int(np.argmin(np.abs(e - energy)))
            if abs(e[k] - energy) < best[2]:
                best = (i, float(e[k]), abs(e[k] - energy))
    return best[0], best[1]


def _off_edges(energy, edges, scales):
    """``energy``, or the nearest point 2·EDGE_WINDOW·s from the edges when it is within
    EDGE_WINDOW·s of one (s the lead's scale; see :class:`KwantSolver`)."""
    w = EDGE_WINDOW * max(scales, default=1.0)
    allx = np.concatenate([np.ravel(e) for e in edges]) if edges else np.zeros(0)
    near = allx[np.abs(allx - energy) <= w]
    if not near.size:
        return energy
    edge = near[np.argmin(np.abs(near - energy))]
    up = 1.0 if energy >= edge else -1.0
    for k in range(1, 50):
        for sign in (up, -up):
            x = edge + sign * 2 * k * w
            if np.all(np.abs(allx - x) > w):
                return float(x)
    return energy  # pragma: no cover - edges packed closer than 100 w everywhere


def lead_self_energy(h, t, z):
    """Retarded self-energy of a semi-infinite chain lead.

    Parameters
    ----------
    h : ndarray (..., 2, 2)
        Hermitian cell Hamiltonian (eV).
    t : float
        Hopping amplitude (eV); the inter-cell hopping is −t·1.
    z : complex ndarray (...)
        Energies with Im z >= 0 (real energies are the limit from above).

    Returns
    -------
    sigma : ndarray (..., 2, 2)
    propagating : ndarray of int (...)
        Number of propagating channels (real z only; 0 for complex z).

    Notes
    -----
    In the eigenbasis of h (eigenvalues ε_s), each channel is a chain with
    z = ε_s − t(λ + 1/λ); Σ_s = t λ_s with w = (z − ε_s)/2t and
    λ = w − sqrt(w − 1) sqrt(w + 1), the root with |λ| < 1 (|λ| = 1 and
    Im Σ < 0 on the band).  The product of square roots puts the branch cut on
    the band [−1, 1] only.
    """
    eps, u = np.linalg.eigh(h)
    z = np.asarray(z, dtype=complex)
    w = (z[..., None] - eps) / (2 * t)
    wr, wi = w.real, w.imag
    lam = w - np.sqrt((wr - 1) + 1j * wi) * np.sqrt((wr + 1) + 1j * wi)
    sig = t * lam
    sigma = np.einsum("...is,...s,...js->...ij", u, sig, u.conj())
    prop = np.sum((np.abs(wr) < 1) & (wi == 0), axis=-1)
    return sigma, prop


class ChainSolver(Solver):
    """Batched recursive-Green's-function solver for layered junctions.

    The blocks come from the finalized Kwant system: the scattering-region
    Hamiltonian is read with ``hamiltonian_submatrix`` at two transverse
    energies (it is affine in eps_par), and each lead's cell Hamiltonian and
    inter-cell hopping with ``cell_hamiltonian`` / ``inter_cell_hopping``.
    Hoppings must be multiples of the identity in spin space (true for the
    models of DESIGN.md §3); this is checked.

    Parameters
    ----------
    jsys : JunctionSystem
    theta, phi : float
        Free-layer angles in radians.
    bias : float
        Bias in V.
    """

    name = "batched"
    has_sea = True

    def __init__(self, jsys, **kw):
        super().__init__(jsys, **kw)
        self._read_blocks()
        self._kargs = None

    def self_energies(self, z, eps_par):
        """Σ_L, Σ_R (…, 2, 2) and the number of propagating channels in each lead."""
        return [lead.self_energy(z, eps_par) for lead in self.leads]

    def spectrum_bottom(self, eps=0.0):
        """A lower bound (eV) of the spectrum of the open chain at transverse energy ``eps``.

        Gershgorin on the chain with the leads' hoppings on its end sites, and
        the leads' band bottoms, minus a margin of 0.1 eV.
        """
        on = np.linalg.eigvalsh(self.onsite + eps * self.slope)[:, 0]
        left, right = self.leads
        hop = np.zeros(len(on))
        hop[:-1] += self.t
        hop[1:] += self.t
        hop[0] += left.t
        hop[-1] += right.t
        return float(min((on - hop).min(), *[lead.bottom(eps) for lead in self.leads])) - 0.1

    def _kernel_args(self):
        """Arrays for the compiled kernels of :mod:`mtj_kwant._rgf`."""
        if self._kargs is None:
            self._kargs = (np.ascontiguousarray(self.onsite.reshape(-1, 4)),
                           np.ascontiguousarray(self.slope_diag, float),
                           np.ascontiguousarray(self.t, float),
                           tuple(lead.kernel_args() for lead in self.leads))
        return self._kargs

    @staticmethod
    def _points(z, eps_par):
        z, eps = np.broadcast_arrays(np.asarray(z, complex), np.asarray(eps_par, float))
        return z.shape, np.ascontiguousarray(z.ravel()), np.ascontiguousarray(eps.ravel())

    def bond_window(self, lead, energies, eps_par, bonds, sites=False, scale=False):
        """Currents on ``bonds`` (and site densities) of the states incoming from ``lead``.

        Parameters
        ----------
        lead : {0, 1}
        energies, eps_par : array_like
            Real energies and transverse energies (eV), broadcast together.
        bonds : sequence of int
            Bond j joins sites j and j+1.
        sites : bool
            Also return the (spin) density on every site.

        Returns
        -------
        bond_obs : ndarray (..., len(bonds), 4)
            Particle current and spin currents (σx, σy, σz), positive toward +x.
        site_obs : ndarray (..., N, 4)
            Density and spin density (only if ``sites``; else shape (..., 0, 4)).
        bond_scale : ndarray (..., len(bonds))
            Only if ``scale``: the size of the complex numbers whose imaginary
            parts are the particle and spin currents
            (:func:`mtj_kwant._rgf.window`), the scale of their round-off.
        """
        shape, z, eps = self._points(energies, eps_par)
        args, bonds = self._kernel_args(), np.ascontiguousarray(bonds, np.int64)
        # outputs allocated here (NumPy: huge pages), every element written by the kernel
        npt, n = z.shape[0], args[0].shape[0]
        b, c = np.empty((npt, len(bonds), 4)), np.empty((npt, len(bonds)))
        s = np.empty((npt, n if sites else 0, 4))
        _rgf.window(int(lead), z, eps, *args, bonds, b, s, c, kernel_workspace(n))
        out = b.reshape(shape + b.shape[1:]), s.reshape(shape + s.shape[1:])
        return out + (c.reshape(shape + c.shape[1:]),) if scale else out

    def bond_sea(self, z, eps_par, bonds, sites=False):
        """Analytic spectral functions h(z) of all states on ``bonds`` (and sites).

        Re h(E + i0) is what :meth:`bond_window` returns summed over both
        leads plus the bound states; h is analytic for Im z > 0, so Fermi-sea
        integrals can run along a contour (see :mod:`mtj_kwant._rgf`).
        """
        shape, z, eps = self._points(z, eps_par)
        args, bonds = self._kernel_args(), np.ascontiguousarray(bonds, np.int64)
        npt, n = z.shape[0], args[0].shape[0]
        b = np.empty((npt, len(bonds), 4), complex)
        s = np.empty((npt, n if sites else 0, 4), complex)
        _rgf.sea(z, eps, *args, bonds, b, s, kernel_workspace(n))
        return b.reshape(shape + b.shape[1:]), s.reshape(shape + s.shape[1:])

    def log_det(self, z, eps_par=0.0):
        """log det(z − H − Σ_L − Σ_R) on a continuous branch (Im: π per state above z)."""
        shape, z, eps = self._points(z, eps_par)
        out = np.empty(z.shape[0], complex)
        _rgf.log_det(z, eps, *self._kernel_args(), out)
        return out.reshape(shape)

    def coupling_bond(self):
        """The bond that separates everything fixed from everything free, or None.

        Bond c joins sites c and c+1.  Sites 0 … c with the left electrode
        must hold every fixed magnetic site (and no free one), sites c+1 … N−1
        with the right electrode every free one; the bond is chosen in the
        middle of the non-magnetic stretch between them (the barrier), where
        both halves' spin parts are smallest and neither underflows first.
        None when no such bond exists (e.g. a free left electrode).
        """
        chain = self.chain
        magnetic = chain.delta > 0
        (left, right) = chain.leads
        if (left["delta"] > 0 and left["free"]) or (right["delta"] > 0 and not right["free"]):
            return None
        fixed = np.flatnonzero(magnetic & ~chain.free)
        free = np.flatnonzero(magnetic & chain.free)
        last_fixed = fixed.max() if len(fixed) else -1
        first_free = free.min() if len(free) else chain.n_sites
        if last_fixed >= first_free:
            return None
        lo, hi = max(last_fixed, 0), min(first_free - 1, chain.n_sites - 2)
        if lo > hi:
            return None
        return (lo + hi) // 2

    def coupling(self, z, eps_par, bond):
        """The coupling of the chain's two halves across ``bond``, in Pauli form.

        Returns ``(d0, b_left, b_right)`` with shapes (...), (..., 3), (..., 3):
        det(z − H − Σ) = det(left) det(right) (d0 − 2 b_left·b_right), the
        spin parts b carrying their own relative precision however small
        (:func:`mtj_kwant._rgf.coupling`).
        """
        shape, z, eps = self._points(z, eps_par)
        onsite, slope, t, leads = self._kernel_args()
        magnetic = np.ascontiguousarray(self.chain.delta > 0)
        d0, bl, br = (np.empty(z.shape[0], complex), np.empty((z.shape[0], 3), complex),
                      np.empty((z.shape[0], 3), complex))
        _rgf.coupling(z, eps, onsite, magnetic, slope, t, leads, int(bond), d0, bl, br)
        return d0.reshape(shape), bl.reshape(shape + (3,)), br.reshape(shape + (3,))

    def self_energies_at(self, z, eps_par):
        """Σ_L, Σ_R (…, 2, 2) at complex energies (numpy path, for checks)."""
        z, eps_par = np.broadcast_arrays(np.asarray(z, complex), np.asarray(eps_par, float))
        return [s for s, _ in self.self_energies(z, eps_par)]

    def incoming(self, lead, energies, eps_par):
        """Observables of the scattering states incoming from ``lead`` (0 left, 1 right).

        Same contract as :meth:`KwantSolver.incoming`; energies must be real.
        """
        energies = np.asarray(energies, dtype=float)
        n = self.chain.n_sites
        b, s = self.bond_window(lead, energies, eps_par, np.arange(n - 1), sites=True)
        torque = np.empty(s.shape[:-1] + (3,))
        _rgf.site_torque(s.reshape(-1, n, 4), np.ascontiguousarray(self.site_magnetization),
                         np.ascontiguousarray(self.chain.delta, float), torque.reshape(-1, n, 3))
        return {
            "density": s[..., 0],
            "spin_density": s[..., 1:],
            "current": b[..., 0],
            "spin_current": b[..., 1:],
            "torque": torque,
        }

    def transmission(self, energies, eps_par=0.0):
        """Transmission left → right: the particle current of left-incoming states."""
        b, _ = self.bond_window(0, np.asarray(energies, float), eps_par, [0])
        return b[..., 0, 0]


def make_solver(jsys, kind="batched", **settings):
    """A solver for a junction system: ``kind`` is "batched" or "kwant"."""
    if kind == "batched":
        return ChainSolver(jsys, **settings)
    if kind == "kwant":
        return KwantSolver(jsys, **settings)
    raise ValueError(f"solver must be 'batched' or 'kwant', got {kind!r}")
