"""Fermi-sea (equilibrium) part of the torque of supercell junctions, per supercell momentum.

The window part of a supercell junction (:func:`mtj_kwant.supercell.window_blocks`) counts
the states incoming from one electrode in the bias window; the Fermi-sea part (DESIGN.md §1,
``parts="total"``) counts every occupied state up to the sea's chemical potential: the
electrodes' scattering states and the bound states alike.  As in the layered solver
(:meth:`mtj_kwant.solvers.ChainSolver.bond_sea`), it is written with the retarded Green's
function G(z) = (z − H − Σ_L(z) − Σ_R(z))⁻¹ at complex energies, whose spectral quantities
h(z) are analytic in the upper half plane, so that the energy integral runs along a contour
away from the real axis (bound states and narrow resonances included without locating
them).

Here H is the L_y × L_z supercell Hamiltonian at one supercell momentum (k_y, k_z)
(:func:`mtj_kwant.supercell.layer_blocks`), solved by block recursive Green's functions,
batched over the energies z; the clean leads' self-energies come from their transverse plane
waves at complex z (:func:`lead_self_energies_complex`, the route of
:func:`mtj_kwant.supercell.lead_self_energies_planewave`).

- :func:`sea_blocks`: the spectral spin densities of every site and the spin currents of
  every bond, h(z), for an array of complex energies;
- :func:`sea_k`: the T = 0 Fermi-sea torque on the free layer at one (k_y, k_z), integrated
  along the semicircle of :func:`mtj_kwant.integrate._contour`;
- :func:`sea_chemical_potential`: the sea's chemical potential of
  :func:`mtj_kwant.integrate.bias_point` (μ_R for ``reference=0``);
- :class:`SeaSolver`: the per-k object both use (blocks read once per k).

Per area, the Fermi-sea torque of the supercell is the supercell Brillouin-zone average of
``sea_k(...).value`` divided by the supercell area L_y L_z a², times
``units.E_OVER_H * units.PER_NM2``: (ħ/2e) A/m², the units of ``bias_point(...).torque_sea``.
"""

from __future__ import annotations

import numpy as np

from .model import magnetization_direction
from .supercell import (layer_blocks, lead_plane_waves, lead_self_energies_planewave,
                        plane_wave_sigma)

__all__ = ["SeaK", "SeaSolver", "SEA_ROUNDOFF", "lead_self_energies_complex", "sea_blocks",
           "sea_chemical_potential", "sea_k"]

_PAULI = np.array([[[1, 0], [0, 1]], [[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]])

#: Round-off of the Fermi-sea torque at one k relative to its natural scale S, the contour
#: integral of the size of the O(1) terms it is a difference of (exchange route:
#: Σ_free Δ_i |h_site,i(z)|; spin current entering a free electrode: 2t Σ |h_site,i(z)| on
#: the bond's two monolayers; see :func:`sea_k`).  Measured at collinear magnetizations in a
#: frame where the torque is pure round-off (p = (1, 1, 1)/√3, m = ±p; 1 × 1, 2 × 2 and
#: 4 × 4 supercells, F/I/F and F/I/F/N, disordered): |T| ≤ 1.7e-16 S.  The layered code's
#: ``integrate.SPIN_ROUNDOFF`` (1e-14) is kept, a margin of ~60 over that.
SEA_ROUNDOFF = 1e-14

#: Bytes of the batched RGF's stored blocks per call; larger energy batches are split.
MAX_BYTES = 128 * 2**20


def sea_chemical_potential(junction, bias, reference=0):
    """The chemical potential of the Fermi sea as :func:`~mtj_kwant.integrate.bias_point` picks it.

    Parameters
    ----------
    junction : Junction
    bias : float
        V.
    reference : {0, 1}
        0 (DESIGN.md §1): the window counts the left-incoming states between μ_R and μ_L and
        the sea is filled to μ_R = E_F − eV/2; 1: the window counts the right-incoming
        states and the sea is filled to μ_L = E_F + eV/2.

    Returns
    -------
    float
        μ (eV).

    Raises
    ------
    ValueError
        ``reference`` not 0 or 1.
    """
    if reference not in (0, 1):
        raise ValueError(f"reference must be 0 (left) or 1 (right), got {reference!r}")
    return float(junction.fermi_energy + (-0.5 if reference == 0 else 0.5) * bias)


def lead_self_energies_complex(ss, z, *, theta, phi=0.0, bias=0.0, k_y=0.0, k_z=0.0):
    """Σ_L(z), Σ_R(z) of the clean wrapped leads at an array of complex energies.

    Parameters
    ----------
    ss : SupercellSystem
    z : array_like of complex, shape (B,)
        Energies (eV) with Im z ≥ 0 (real energies: the retarded limit).
    theta, phi : float
        Free-layer angles (rad).
    bias : float
        V.
    k_y, k_z : float
        Supercell momentum (1/nm).

    Returns
    -------
    sigma_left, sigma_right : ndarray (B, M, M) complex
        On the end monolayers, orbitals ordered (i_y, i_z, spin) as in
        :func:`~mtj_kwant.supercell.layer_blocks`, M = 2 L_y L_z.

    Notes
    -----
    The batched form of :func:`~mtj_kwant.supercell.lead_self_energies_planewave`:
    Σ(r, r') = Σ_n φ_n(r) Σ_1D(z; h(ε∥(k_n))) φ_n(r')*.  Each channel of the layered lead
    (:func:`mtj_kwant.solvers.lead_self_energy`) is Σ_s = t λ_s, λ the root of
    λ² − 2wλ + 1 = 0 (w = (z − ε_s)/2t) taken as w − √(w − 1)√(w + 1): its branch cut is
    the band [−1, 1] only, and |λ| < 1 (the decaying solution) everywhere off it, so for
    Im z > 0 it is the retarded self-energy continued analytically from the real axis
    (Γ = i(Σ − Σ†) positive definite; checked against a decimation of the M-orbital lead
    in tests/test_supercell_sea.py).
    """
    z = np.atleast_1d(np.asarray(z, complex))
    return lead_self_energies_planewave(ss, z, theta=theta, phi=phi, bias=bias, k_y=k_y,
                                        k_z=k_z)


def _site_trace(x, y, s):
    """Σ_s (X Y)_{(s,b),(s,a)} (B, 2, 2) for X, Y (B, M, M), M = 2s, orbitals (site, spin)."""
    bsz, m = x.shape[0], x.shape[1]
    xr = x.reshape(bsz, s, 2, m).transpose(0, 2, 1, 3).reshape(bsz, 2, s * m)
    yt = y.reshape(bsz, m, s, 2).transpose(0, 3, 2, 1).reshape(bsz, 2, s * m)
    return xr @ yt.transpose(0, 2, 1)


class SeaK(tuple):
    """Result of :func:`sea_k`: the tuple ``(value, error, n_eval, converged)``.

    Attributes
    ----------
    value : ndarray (3,)
        Torque (per-k units of :func:`sea_k`).
    error : ndarray (3,)
        Its error estimate (same units).
    n_eval : int
        Energies evaluated.
    converged : bool
    scale : float
        S, the integrated size of the O(1) terms the torque is a difference of (same units;
        the round-off floor is ``SEA_ROUNDOFF * scale``).
    collinear : bool
        Whether the torque vanishes by symmetry (then ``error`` ≥ |value|).
    """

    def __new__(cls, value, error, n_eval, converged, scale=0.0, collinear=False):
        out = super().__new__(cls, (value, error, n_eval, converged))
        out.scale, out.collinear = float(scale), bool(collinear)
        return out

    def __getnewargs__(self):  # pickling (process pools): rebuild with the attributes
        return (*self, self.scale, self.collinear)

    value = property(lambda self: self[0])
    error = property(lambda self: self[1])
    n_eval = property(lambda self: self[2])
    converged = property(lambda self: self[3])

    def __repr__(self):
        return (f"SeaK(value={self.value!r}, error={self.error!r}, n_eval={self.n_eval}, "
                f"converged={self.converged}, scale={self.scale:.3g}, "
                f"collinear={self.collinear})")


class SeaSolver:
    """The Fermi-sea Green's functions of a supercell junction at one supercell momentum.

    Reads the monolayer blocks from Kwant once (:func:`~mtj_kwant.supercell.layer_blocks`)
    and the leads' plane-wave data; :meth:`blocks` then evaluates batches of complex
    energies.

    Parameters
    ----------
    ss : SupercellSystem
    theta, phi : float
        Free-layer angles (rad).
    bias : float
        V.
    k_y, k_z : float
        Supercell momentum (1/nm).
    zone : mtj_kwant.supercell.ZoneBlocks, optional
        The blocks as functions of k for the same θ, φ and bias (then Kwant is not read).

    Attributes
    ----------
    onsite : ndarray (N, M, M)
        H_jj (eV).
    hopping : ndarray (N − 1, M, M)
        H_{j+1,j} (eV).
    m : ndarray (3,)
        Free direction m(θ, φ).
    directions : ndarray (N, L_y, L_z, 3)
        Magnetization direction of every site (:meth:`SupercellSystem.directions`).
    """

    def __init__(self, ss, *, theta, phi=0.0, bias=0.0, k_y=0.0, k_z=0.0, zone=None):
        self.ss = ss
        self.theta, self.phi, self.bias = float(theta), float(phi), float(bias)
        self.k_y, self.k_z = float(k_y), float(k_z)
        if zone is None:
            params = ss.params(theta, phi, bias, k_y, k_z)
            self.onsite, self.hopping = layer_blocks(ss, params)
        else:  # assembled from a ZoneBlocks of the same θ, φ, bias (no Kwant read per k)
            self.onsite = zone.onsite(np.array([[self.k_y, self.k_z]]))[0]
            self.hopping = zone.hop
        self.n, self.msize = self.onsite.shape[0], self.onsite.shape[1]
        self._phase, self._leads = lead_plane_waves(ss, theta, phi, bias, k_y, k_z)
        # spin-independent, site-diagonal hoppings between monolayers (every supercell of
        # make_supercell_system): H_{j+1,j} = −t_j 1, so H_{j,j+1} g H_{j+1,j} = t_j² g
        diag = np.array([np.real(hb[0, 0]) for hb in self.hopping])
        eye = np.eye(self.msize)
        self._scalar = (np.array_equal(self.hopping, diag[:, None, None] * eye)
                        if self.n > 1 else True)
        self._t2 = diag ** 2
        self.m = magnetization_direction(self.theta, self.phi)
        self.directions = ss.directions(self.theta, self.phi)

    # -------------------------------------------------------------------------------------
    def self_energies(self, z):
        """Σ_L, Σ_R (B, M, M) at energies z (B,) (:func:`lead_self_energies_complex`)."""
        z = np.atleast_1d(np.asarray(z, complex))
        return [plane_wave_sigma(self._phase, h, t, z) for h, t in self._leads]

    def spectrum_bottom(self):
        """A lower bound (eV) of the spectrum of the open junction at this momentum.

        Block Gershgorin (Feingold–Varga) on the infinite block-tridiagonal Hamiltonian:
        every eigenvalue lies above min_j [λ_min(H_jj) − ‖H_{j,j−1}‖ − ‖H_{j,j+1}‖] (the
        end monolayers coupled to their leads by the lead hopping) or above a lead's band
        bottom, min_n λ_min(h(ε∥(k_n))) − 2 t_lead; minus a margin of 0.1 eV, as
        :meth:`mtj_kwant.solvers.ChainSolver.spectrum_bottom` (which it equals on a
        1 × 1 supercell).
        """
        low = np.linalg.eigvalsh(self.onsite)[:, 0]
        norms = np.array([np.linalg.norm(hb, 2) for hb in self.hopping])
        hop = np.zeros(self.n)
        hop[:-1] += norms
        hop[1:] += norms
        hop[0] += self._leads[0][1]
        hop[-1] += self._leads[1][1]
        leads = [np.linalg.eigvalsh(h)[:, 0].min() - 2 * t for h, t in self._leads]
        return float(min((low - hop).min(), *leads)) - 0.1

    def is_collinear(self, tol=1e-15):
        """True when every magnetic site and magnetic electrode is collinear with m.

        Then the free layer's torque vanishes by symmetry (the spin-rotation symmetry about
        m; :func:`mtj_kwant.integrate.is_collinear`, with ``tol`` its ``COLLINEAR``).
        """
        mags = list(self.directions[self.ss.delta > 0])
        mags += [np.asarray(lead["magnetization"], float) for lead in self.ss.chain.leads
                 if lead["delta"] > 0 and not lead["free"]]
        return all(np.linalg.norm(np.cross(self.m, v)) < tol for v in mags)

    # -------------------------------------------------------------------------------------
    def _dress(self, j, g, towards_left):
        """The self-energy of the part beyond a neighbour on monolayer j.

        ``towards_left`` False: S^R_j = H_{j,j+1} g^R_{j+1} H_{j+1,j} (g = g^R_{j+1});
        True: S^L_j = H_{j,j−1} g^L_{j−1} H_{j−1,j} (g = g^L_{j−1}).
        """
        if towards_left:
            if self._scalar:
                return self._t2[j - 1] * g
            v = self.hopping[j - 1]                       # H_{j,j−1}
            return v @ g @ v.conj().T
        if self._scalar:
            return self._t2[j] * g
        v = self.hopping[j]                               # H_{j+1,j}
        return v.conj().T @ g @ v

    def _rgf(self, z, site_layers, bonds):
        """Diagonal blocks G_jj (on ``site_layers`` and the bonds' left monolayers) and the
        right self-energies S^R_j of the bonds, for one batch of energies."""
        n, m = self.n, self.msize
        sig = self.self_energies(z)
        d = np.arange(m)

        def pivot(j, *minus):
            """z − H_jj (− Σ_L, − Σ_R on the end monolayers) − Σ ``minus``, a new array."""
            terms = list(minus) + ([sig[0]] if j == 0 else []) + ([sig[1]] if j == n - 1 else [])
            if terms:
                out = np.negative(terms[0])
                for x in terms[1:]:
                    out -= x
                out -= self.onsite[j]
            else:
                out = np.broadcast_to(-self.onsite[j], (len(z), m, m)).copy()
            out[:, d, d] += z[:, None]
            return out

        need = sorted(set(site_layers) | set(bonds))
        if not need:
            return {}, {}
        lo, hi = need[0], need[-1]
        # right-connected: S^R_j = H_{j,j+1} g^R_{j+1} H_{j+1,j} for j = lo … n − 2
        s_right = {}
        g = None
        for j in range(n - 1, lo - 1, -1):
            if j < n - 1:
                s_right[j] = self._dress(j, g, towards_left=False)
            if j > lo:
                g = np.linalg.inv(pivot(j, s_right[j]) if j < n - 1 else pivot(j))
        # left-connected sweep, with G_jj on the monolayers needed
        diag = {}
        s_left = None
        for j in range(0, hi + 1):
            left = () if j == 0 else (s_left,)
            if j in need:
                diag[j] = np.linalg.inv(pivot(j, *left, s_right[j]) if j < n - 1
                                        else pivot(j, *left))
            if j < hi:
                s_left = self._dress(j + 1, np.linalg.inv(pivot(j, *left)), towards_left=True)
        return diag, s_right

    def _chunks(self, z):
        per = (self.n + 6) * self.msize ** 2 * 16
        size = max(1, int(MAX_BYTES // per))
        return [z[i:i + size] for i in range(0, len(z), size)]

    def blocks(self, z, *, sites=None, bonds=None):
        """Analytic spectral functions h(z) of all states: site spin densities, bond currents.

        Parameters
        ----------
        z : array_like of complex, shape (B,)
            Energies (eV), Im z ≥ 0 (real: the retarded limit, which misses bound states).
        sites : sequence of int, optional
            Monolayers whose sites are wanted (default all); the others are left 0.
        bonds : sequence of int, optional
            Bonds (monolayer j to j + 1) wanted (default all); the others are left 0.

        Returns
        -------
        dict
            ``site`` (B, N, L_y, L_z, 4) complex: h_site = 2i Tr[O G_ii] with
            O = (1, σx, σy, σz) on the 2 × 2 block of site i;
            ``bond`` (B, N − 1, 4) complex: h_bond = 2 Tr[O [G_jj, S^R_j]] summed over the
            cross-section, S^R_j = H_{j,j+1} g^R_{j+1} H_{j+1,j}.

        Raises
        ------
        ValueError
            z not one-dimensional, or Im z < 0.

        Notes
        -----
        With A = i(G − G†), the spectral function of all states,
        Re h_site(E + i0) = Tr[O A_ii] (2π × the local (spin) density of states, the
        window's ``site`` normalisation) and Re h_bond(E + i0) = −2 Im Tr[O H_{j,j+1}
        A_{j+1,j}] (the particle and spin currents of :func:`window_blocks`, with A in place
        of Gⁿ).  From G_{j+1,j} = g^R_{j+1} H_{j+1,j} G_jj and
        G_{j,j+1} = G_jj H_{j,j+1} g^R_{j+1},

            h_bond = −2 Tr O (H_{j,j+1} G_{j+1,j} − G_{j,j+1} H_{j+1,j})
                   = 2 Tr O [G_jj, S^R_j],

        analytic for Im z > 0 (the layered kernel's 2t² Tr O [G_jj, g^R_{j+1}] on a
        1 × 1 supercell).  The particle current (O = 1) is the trace of a commutator, zero
        up to round-off.  For every interior monolayer j the equations of motion give, at
        every z, h_bond_{j−1} − h_bond_j = Σ_{i ∈ j} Δ_i m_i × h_site_i (spin part).
        Integrated, ∫ dE f(E) Re h(E + i0) = Re ∫_C f(z) h(z) dz along a contour C in the
        upper half plane (:func:`sea_k`).

        Recursion (batched over z): g^R_{N−1} = A_{N−1}⁻¹,
        g^R_j = (A_j − S^R_j)⁻¹; g^L_0 = A_0⁻¹, g^L_j = (A_j − S^L_j)⁻¹ with
        S^L_j = H_{j,j−1} g^L_{j−1} H_{j−1,j}; G_jj = (A_j − S^L_j − S^R_j)⁻¹; A_j = z − H_jj
        (− Σ_L on monolayer 0, − Σ_R on N − 1).  Three stacked inversions per monolayer.
        """
        z = np.asarray(z, complex)
        if z.ndim != 1:
            raise ValueError(f"z must be a one-dimensional array of energies, got shape "
                             f"{z.shape}")
        if np.any(z.imag < 0):
            raise ValueError("z must have Im z >= 0 (retarded Green's functions)")
        n = self.n
        ly, lz = self.ss.size
        s = ly * lz
        sites = range(n) if sites is None else [int(j) for j in sites]
        bonds = range(n - 1) if bonds is None else [int(j) for j in bonds]
        site_out = np.zeros((len(z), n, s, 4), complex)
        bond_out = np.zeros((len(z), n - 1, 4), complex)
        start = 0
        for zc in self._chunks(z):
            b = len(zc)
            diag, s_right = self._rgf(zc, sites, bonds)
            rows = slice(start, start + b)
            for j in sites:
                g = diag[j].reshape(b, s, 2, s, 2)
                blk = np.einsum("xsasc->xsac", g)             # 2 × 2 site blocks
                site_out[rows, j] = 2j * np.einsum("kab,xsba->xsk", _PAULI, blk)
            for j in bonds:
                # Tr O (G S − S G) = Tr σ (Y − Z): Y_ba = Σ_s (G S)_{(s,b),(s,a)} and
                # Z_ba = Σ_s (S G)_{(s,b),(s,a)}, the cross-section sums of the diagonal
                # site blocks, from elementwise products (no M³ product)
                y = _site_trace(diag[j], s_right[j], s)
                zz = _site_trace(s_right[j], diag[j], s)
                bond_out[rows, j] = 2 * np.einsum("kab,xba->xk", _PAULI, y - zz)
            start += b
        return {"site": site_out.reshape(len(z), n, ly, lz, 4), "bond": bond_out}


def sea_blocks(ss, z, *, theta, phi=0.0, bias=0.0, k_y=0.0, k_z=0.0):
    """Spectral functions h(z) of the Fermi sea of a supercell junction at one momentum.

    Parameters
    ----------
    ss : SupercellSystem
    z : array_like of complex, shape (B,)
        Energies (eV), Im z > 0 (Im z = 0 is accepted: the retarded limit).
    theta, phi : float
        Free-layer angles (rad).
    bias : float
        V (the Hamiltonian's electrostatic profile; the occupation is the caller's).
    k_y, k_z : float
        Supercell momentum (1/nm); the supercell zone is |k_y| ≤ π/(L_y a),
        |k_z| ≤ π/(L_z a).

    Returns
    -------
    dict
        ``site`` (B, N, L_y, L_z, 4) complex: h_site(z) = 2i Tr[O G_ii(z)], O = (1, σx, σy,
        σz): Re h_site(E + i0) is Tr O A_ii, A = i(G − G†) (2π × local (spin) density of
        states, 1/eV);
        ``bond`` (B, N − 1, 4) complex: h_bond(z) = 2 Tr O [G_jj, H_{j,j+1} g^R_{j+1}
        H_{j+1,j}], summed over the cross-section: Re h_bond(E + i0) is the particle and
        spin current of all states from monolayer j to j + 1, per unit energy, in the
        normalisation of :func:`~mtj_kwant.supercell.window_blocks` (a transmission).

    Raises
    ------
    ValueError
        z not one-dimensional, Im z < 0, or couplings beyond neighbouring monolayers.

    Notes
    -----
    The Fermi-sea quantities at T = 0 and chemical potential μ, per supercell at this k:

        s_i = (1/2π) ∫^μ dE Re h_site,i(E + i0)      (⟨σ⟩ per site),
        J_j = ∫^μ dE Re h_bond,j(E + i0)             (per unit e/h),

    integrated as Re ∫_C h(z) dz along the semicircle from below the spectrum to μ
    (:func:`sea_k`).  Averaged over the supercell zone, divided by the area L_y L_z a² and
    multiplied by ``units.E_OVER_H * units.PER_NM2``, a current J is in A/m² and a spin
    current or torque (Δ m × ∫ Re h_site) in (ħ/2e) A/m², as ``bias_point``'s
    ``torque_sea``.  See :meth:`SeaSolver.blocks` for the recursion.
    """
    solver = SeaSolver(ss, theta=theta, phi=phi, bias=bias, k_y=k_y, k_z=k_z)
    return solver.blocks(z)


def _torque_parts(solver):
    """The monolayers, bonds and the integrand of the free layer's sea torque.

    Returns (sites, bonds, f): f(h) of the output h of :meth:`SeaSolver.blocks` is
    (torque (B, 3) complex, scale (B,) real ≥ 0), the torque's h_T(z) and the size of the
    O(1) numbers it is a difference of (see :func:`sea_k`).
    """
    ss = solver.ss
    bond_in, bond_out = ss.chain.free_bonds
    m = solver.m
    if bond_out is None:
        # free semi-infinite electrode: the transverse part of the spin current entering it;
        # it is a sum of terms 2t Tr σ (G S − S G) of size 2t |h_s| on the bond's monolayers
        sites, bonds = [bond_in, bond_in + 1], [bond_in]
        t = float(ss.chain.hopping[bond_in])

        def f(h):
            jin = h["bond"][:, bond_in, 1:]
            tq = jin - (jin @ m)[:, None] * m
            spin = h["site"][:, [bond_in, bond_in + 1], ..., 1:]
            scale = 2 * t * np.linalg.norm(spin, axis=-1).sum(axis=(1, 2, 3))
            return tq, scale
        return sites, bonds, f
    # finite free layer: Σ over the free sites of Δ m × s, terms of size Δ |h_s|
    free = ss.free
    layers = [int(j) for j in np.flatnonzero(free.any(axis=(1, 2)))]
    dm = np.where(free[..., None], ss.delta[..., None] * solver.directions, 0.0)[layers]
    dfree = np.where(free, ss.delta, 0.0)[layers]

    def f(h):
        spin = h["site"][:, layers, ..., 1:]                        # (B, n_free, Ly, Lz, 3)
        tq = np.cross(dm[None], spin).sum(axis=(1, 2, 3))
        scale = (dfree[None] * np.linalg.norm(spin, axis=-1)).sum(axis=(1, 2, 3))
        return tq, scale
    return layers, [], f


#: Breakpoints of the T = 0 semicircle in its angle (those of ``integrate._contour``).
_ARC_POINTS = (0.0, 1e-4, 1e-3, 1e-2, 0.1, 0.5, 0.5 * np.pi, np.pi)


def sea_k(ss, mu, *, theta, phi=0.0, bias=0.0, k_y=0.0, k_z=0.0, tol=1e-8, atol=0.0,
          max_eval=20_000, solver=None):
    """The T = 0 Fermi-sea torque on the free layer at one supercell momentum.

    Parameters
    ----------
    ss : SupercellSystem
    mu : float
        Chemical potential of the sea (eV).  :func:`~mtj_kwant.integrate.bias_point`
        fills it to μ_R = E_F − eV/2 (``reference=0``, DESIGN.md §1) or μ_L = E_F + eV/2
        (``reference=1``): :func:`sea_chemical_potential`.
    theta, phi : float
        Free-layer angles (rad).
    bias : float
        V: the Hamiltonian's electrostatic profile (the sea is the equilibrium of H at this
        bias, occupied to μ).
    k_y, k_z : float
        Supercell momentum (1/nm).
    tol : float
        Relative tolerance of the torque (of its larger component).
    atol : float
        Absolute tolerance (per-k units below), e.g. a fraction of the zone average's size
        when averaging over k, so that momenta where the torque is small are not resolved
        to their own relative precision.
    max_eval : int
        Energy budget of the contour quadrature.
    solver : SeaSolver, optional
        A solver of the same (ss, θ, φ, V, k) (reuses its blocks); default a new one.

    Returns
    -------
    SeaK
        A tuple ``(value, error, n_eval, converged)`` with attributes of those names and
        ``scale`` (S below) and ``collinear``.
        ``value`` (3,), ``error`` (3,): the torque per supercell at this k, in the units of
        the window's bond currents integrated over energy (eV × flux per channel); per area:
        divide the zone average by L_y L_z a² and multiply by ``units.E_OVER_H *
        units.PER_NM2`` for (ħ/2e) A/m².  ``n_eval``: energies evaluated; ``converged``.

    Raises
    ------
    ValueError
        From :func:`sea_blocks`.

    Notes
    -----
    The torque is T = J_s(entering the free layer) − J_s(leaving it) (DESIGN.md §1):

    - finite free layer (F/I/F/N, ``ss.chain.free_bonds[1]`` not None): the exchange torque
      Σ_{free sites i} Δ_i m_i × s_i (equal to J_in − J_out by the continuity of the spin
      current, at every z: tests), as :func:`~mtj_kwant.supercell.window_blocks`;
    - free semi-infinite electrode (F/I/F): the transverse part J − (J·m) m of the spin
      current J entering it on ``free_bonds[0]``, as
      :func:`~mtj_kwant.supercell.configuration_window`.

    Each is T = ∫^μ dE Re h_T(E + i0) = Re ∫_C h_T(z) dz, h_T built linearly from
    :func:`sea_blocks`, along the upper semicircle C from e_min
    (:meth:`SeaSolver.spectrum_bottom`) to μ, z = c + r e^{iθ}, c = (e_min + μ)/2,
    r = (μ − e_min)/2:

        T = ∫_0^π Re[−i r e^{iθ} h_T(z(θ))] dθ,

    with the breakpoints and the adaptive Gauss–Kronrod 7/15 rule of the layered solver's
    T = 0 Fermi sea (:func:`mtj_kwant.integrate._contour`, "plain" weight f = 1), so that a
    1 × 1 supercell reproduces it (tests).

    Errors (DESIGN.md §3a): h_T is a difference of O(1) terms, of total size
    |h_S(z)| = Σ_{free i} Δ_i |h_site,i(z)| (exchange route; |·| the norm of the complex
    spin 3-vector) or 2t Σ_{i ∈ j, j+1} |h_site,i(z)| (spin current on the entrance bond j),
    whose integral along the contour, S = ∫_0^π |h_S| r dθ, is integrated alongside: the
    natural scale of the point.  The tolerance of the torque is
    max(tol · max|T|, atol, SEA_ROUNDOFF · S), and the reported error is at least
    SEA_ROUNDOFF · S where |T| ≤ 100 × that: a torque at its round-off level (for instance
    at a momentum with no state below μ, where only round-off is integrated) is not chased
    below it.  At collinear magnetizations (every magnetic site and electrode parallel or
    antiparallel to m) the torque vanishes by symmetry: it converges against
    max(atol, SEA_ROUNDOFF · S) only, and the reported error covers the computed value:
    max(error, |T|, SEA_ROUNDOFF · S).
    """
    from .integrate import ROUNDOFF_RANGE
    from .quadrature import adaptive_quad

    if solver is None:
        solver = SeaSolver(ss, theta=theta, phi=phi, bias=bias, k_y=k_y, k_z=k_z)
    sites, bonds, build = _torque_parts(solver)
    collinear = solver.is_collinear()
    e_min = solver.spectrum_bottom()
    if e_min >= mu:  # no state below μ
        return SeaK(np.zeros(3), np.zeros(3), 0, True, 0.0, collinear)
    c, r = 0.5 * (e_min + mu), 0.5 * (mu - e_min)

    def f(th):
        e = np.exp(1j * th)
        tq, scale = build(solver.blocks(c + r * e, sites=sites, bonds=bonds))
        return np.concatenate([np.real(-(1j * r * e)[:, None] * tq), (r * scale)[:, None]],
                              axis=1)

    def tolerance(value):
        floor = SEA_ROUNDOFF * abs(value[3])
        rel = 0.0 if collinear else tol * np.abs(value[:3]).max()
        return np.r_[np.full(3, max(rel, atol, floor, 1e-300)), np.inf]

    q = adaptive_quad(f, _ARC_POINTS, tolerance, max_eval=max_eval,
                      what=f"supercell Fermi-sea contour at k = ({k_y:.6g}, {k_z:.6g}) /nm")
    value = np.asarray(q.value[:3], float)
    error = np.asarray(q.error[:3], float)
    floor = SEA_ROUNDOFF * float(q.value[3])
    if collinear:
        error = np.maximum(np.maximum(error, np.abs(value)), floor)
    elif np.abs(value).max() <= ROUNDOFF_RANGE * floor:
        error = np.maximum(error, floor)
    return SeaK(value, error, int(q.n_eval), bool(q.converged), float(q.value[3]), collinear)

