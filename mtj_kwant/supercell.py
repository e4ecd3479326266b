"""Tight-binding junctions with a lateral L_y × L_z supercell (DESIGN.md §9, issue 15 item 1).

:func:`make_supercell_system` builds the Kwant system of a tight-binding junction whose
scattering region is an L_y × L_z supercell of the simple cubic lattice (DESIGN.md §3),
made periodic in y and z with :func:`kwant.wraparound.wraparound`.  The two electrodes are
clean semi-infinite leads with the same cross-section, wrapped the same way.  The Kwant
parameters are ``theta``, ``phi`` (rad), ``bias`` (V) and the supercell Bloch phases
``k_y``, ``k_z``; :meth:`SupercellSystem.params` takes the momenta in 1/nm (as
:func:`mtj_kwant.system.make_system` does) and converts them.

The Hamiltonian of site (j, i_y, i_z), j the chain site of ``junction.chain(pad)``::

    H = (ε_{j,iy,iz} + bias · bias_profile_j) − (Δ_{j,iy,iz}/2) m_{j,iy,iz} · σ

with the hopping −(chain hopping_j) σ0 along x (between monolayers j and j+1, interface
hoppings included) and −t_j σ0 in the plane of monolayer j, t_j = transverse_j × t the
in-plane hopping of the element of site j (the layered model's transverse term
transverse_j ε∥, ε∥ = −2t(cos k_y a + cos k_z a), is this hopping on a 1 × 1 supercell).
Without disorder ε, Δ and m are the chain's: a clean L_y × L_z supercell at supercell
momentum K is the layered junction at the L_y L_z folded momenta K + 2π(n_y/L_y, n_z/L_z)/a.

Disorder (DESIGN.md §9 ``[layer.disorder]``), per layer, drawn from
``numpy.random.default_rng(seed)``:

- ``onsite`` W (eV): ε += uniform(−W/2, W/2) on every site of the layer (Anderson);
- ``interface_mixing`` p: each site of the layer's first monolayer takes, with
  probability p, the material of the chain site just left of the layer: its onsite
  energy ε, exchange Δ and magnetization (free if that site is free).  The hoppings and
  the bias profile stay those of the site's position;
- ``magnetic_tilt`` α_max (degrees): each magnetic site (Δ > 0 after mixing) of the layer
  is tilted from its direction n by an angle α, uniform on the spherical cap α ≤ α_max
  (cos α uniform in [cos α_max, 1]), at a uniform azimuth β around n.  A tilt is stored
  as the unit vector u = (sin α cos β, sin α sin β, cos α) in the frame of n
  (e_θ, e_φ, n), so m = R_z(φ_n) R_y(θ_n) u; on free sites n = m(θ, φ) at run time.

Draw order (fixed, so a seed reproduces a configuration): for every layer, left to right,
whether or not it has disorder, the uniforms ``mix`` (L_y, L_z), ``box`` (n, L_y, L_z),
``cap`` (n, L_y, L_z) and ``azimuth`` (n, L_y, L_z), n the layer's monolayers.  Every
layer consumes the same numbers whatever its disorder strengths: the same seed with a
different W, p or α_max gives the same pattern scaled (common random numbers), and
W = p = α_max = 0 gives the clean system exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import tinyarray as ta

from .model import DISORDER_KEYS, Disorder, _table, magnetization_direction

__all__ = ["DISORDER_KEYS", "SupercellSystem", "make_supercell_system", "tilt_frame"]

#: Keys of a layer's disorder table (DESIGN.md §9 ``[layer.disorder]``).

_S0 = ta.array([[1, 0], [0, 1]], complex)
_SX = ta.array([[0, 1], [1, 0]], complex)
_SY = ta.array([[0, -1j], [1j, 0]], complex)
_SZ = ta.array([[1, 0], [0, -1]], complex)


def _exchange(mag, half_delta):
    """−(Δ/2) m·σ as a 2×2 tinyarray."""
    return -half_delta * (mag[0] * _SX + mag[1] * _SY + mag[2] * _SZ)


def tilt_frame(u, theta, phi):
    """R_z(φ) R_y(θ) u: the vector u given in the frame (e_θ, e_φ, n) of n = m(θ, φ).

    ``u`` is (..., 3); θ, φ scalars or broadcastable to u[..., 0] (rad).  u = (0, 0, 1)
    gives m(θ, φ).
    """
    u = np.asarray(u, float)
    ct, st, cp, sp = np.cos(theta), np.sin(theta), np.cos(phi), np.sin(phi)
    x = u[..., 0] * ct + u[..., 2] * st
    y = u[..., 1]
    z = -u[..., 0] * st + u[..., 2] * ct
    return np.stack([x * cp - y * sp, x * sp + y * cp, z], axis=-1)


def _angles(n):
    """θ, φ of unit vectors n (..., 3)."""
    n = np.asarray(n, float)
    return np.arccos(np.clip(n[..., 2], -1.0, 1.0)), np.arctan2(n[..., 1], n[..., 0])


@dataclass(frozen=True)
class SupercellSystem:
    """A finalized, wrapped Kwant system of a supercell junction, with its bookkeeping.

    Attributes
    ----------
    junction : Junction
    chain : Chain
        The layered chain the supercell is built from (``junction.chain(pad)``).
    fsyst : kwant.system.FiniteSystem
        Wrapped in y and z; lead 0 the left (pinned) electrode, lead 1 the right one.
        Parameters ``theta``, ``phi``, ``bias``, ``k_y``, ``k_z`` (the Bloch phases per
        supercell period, dimensionless; see :meth:`params`).
    order : ndarray of int (N, L_y, L_z)
        ``order[j, iy, iz]`` is the index in ``fsyst.sites`` of site (j, iy, iz).
    size : (int, int)
        (L_y, L_z).
    lattice : kwant.lattice.Monatomic
        The simple cubic lattice (constant a); site (j, iy, iz) is ``lattice(j, iy, iz)``.
    onsite : ndarray (N, L_y, L_z)
        Spin-independent onsite energy ε at zero bias (eV), disorder and mixing included.
    delta : ndarray (N, L_y, L_z)
        Exchange splitting Δ (eV), mixing included.
    magnetization : ndarray (N, L_y, L_z, 3)
        Directions used on fixed sites (tilts included); on free sites the tilt vector
        u of the site, which is the direction at θ = φ = 0 (see :meth:`directions`).
    free : ndarray of bool (N, L_y, L_z)
        Sites whose direction follows m(θ, φ) (mixing included).
    in_plane_hopping : ndarray (N,)
        t_j (eV), the in-plane hopping in monolayer j.
    seed : int
        The seed of the configuration (drawn from fresh entropy when none was given).
    disorder : dict
        Layer index -> validated disorder table (only layers with a table).
    """

    junction: object
    chain: object
    fsyst: object
    order: np.ndarray
    size: tuple
    lattice: object
    onsite: np.ndarray
    delta: np.ndarray
    magnetization: np.ndarray
    free: np.ndarray
    in_plane_hopping: np.ndarray
    seed: int
    disorder: dict

    @property
    def a(self):
        """Lattice constant (nm)."""
        return self.chain.step

    def params(self, theta, phi=0.0, bias=0.0, k_y=0.0, k_z=0.0):
        """Kwant ``params`` at angles θ, φ (rad), bias (V) and supercell momentum (1/nm).

        ``k_y``, ``k_z`` are momenta in 1/nm, as in :func:`mtj_kwant.system.make_system`;
        the supercell Brillouin zone is |k_y| ≤ π/(L_y a), |k_z| ≤ π/(L_z a) (values
        outside are folded by periodicity).  Kwant receives the Bloch phases per
        supercell period, k_y L_y a and k_z L_z a.
        """
        ly, lz = self.size
        a = self.a
        return dict(theta=float(theta), phi=float(phi), bias=float(bias),
                    k_y=float(k_y) * ly * a, k_z=float(k_z) * lz * a)

    def directions(self, theta, phi=0.0):
        """Magnetization directions of all sites (N, L_y, L_z, 3) at θ, φ (rad)."""
        out = self.magnetization.copy()
        out[self.free] = tilt_frame(self.magnetization[self.free], theta, phi)
        return out

    def folded_momenta(self, k_y=0.0, k_z=0.0):
        """The L_y L_z momenta (1/nm) of the 1 × 1 (layered) zone folded onto (k_y, k_z).

        Returns an array (L_y L_z, 2): k + 2π (n_y/L_y, n_z/L_z)/a.
        """
        ly, lz = self.size
        a = self.a
        ny, nz = np.meshgrid(np.arange(ly), np.arange(lz), indexing="ij")
        return np.stack([k_y + 2 * np.pi * ny.ravel() / (ly * a),
                         k_z + 2 * np.pi * nz.ravel() / (lz * a)], axis=-1)


def _check_size(size):
    try:
        ly, lz = size
    except (TypeError, ValueError):
        raise ValueError(f"size must be a pair (L_y, L_z) of positive integers, got {size!r}") \
            from None
    out = []
    for name, v in (("L_y", ly), ("L_z", lz)):
        if isinstance(v, bool) or not float(v).is_integer() or int(v) < 1:
            raise ValueError(f"size: {name} must be a positive integer (sites), got {v!r}")
        out.append(int(v))
    return tuple(out)


def _check_disorder(disorder, n_layers):
    """Layer index -> {onsite, interface_mixing, magnetic_tilt} (floats, defaults 0), each
    table validated as a junction file's ``[layer.disorder]`` (:class:`mtj_kwant.model.Disorder`)."""
    if disorder is None:
        return {}
    if isinstance(disorder, dict):
        items = list(disorder.items())
    elif isinstance(disorder, (list, tuple)):
        if len(disorder) != n_layers:
            raise ValueError(f"disorder: a sequence needs one entry (a table or None) per layer "
                             f"({n_layers} layers), got {len(disorder)}")
        items = list(enumerate(disorder))
    else:
        raise ValueError("disorder: give {layer index: table} or one table (or None) per layer, "
                         f"got {type(disorder).__name__}")
    out = {}
    for index, table in items:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise ValueError(f"disorder: layer index must be an integer, got {index!r}")
        i = int(index)
        if not -n_layers <= i < n_layers:
            raise ValueError(f"disorder: the junction has {n_layers} layers (indices 0 to "
                             f"{n_layers - 1}), got layer {index}")
        i %= n_layers
        if table is None:
            continue
        if i in out:
            raise ValueError(f"layer[{i}].disorder: given twice")
        out[i] = _table(Disorder, DISORDER_KEYS, f"layer[{i}].disorder", table,
                        "layer.disorder").to_dict()
    return out


def _draw(chain, n_layers, size, disorder, rng):
    """Per-site ε, Δ, m (or tilt vector), free flags with the disorder of DESIGN.md §9."""
    ly, lz = size
    n = chain.n_sites
    onsite = np.repeat(np.asarray(chain.onsite0, float)[:, None, None], ly, 1).repeat(lz, 2)
    delta = np.repeat(np.asarray(chain.delta, float)[:, None, None], ly, 1).repeat(lz, 2)
    free = np.repeat(np.asarray(chain.free, bool)[:, None, None], ly, 1).repeat(lz, 2)
    mag = np.broadcast_to(np.asarray(chain.magnetization, float)[:, None, None, :],
                          (n, ly, lz, 3)).copy()
    mag[free] = (0.0, 0.0, 1.0)  # tilt vector of an untilted free site
    clean = (onsite[:, 0, 0].copy(), delta[:, 0, 0].copy(), free[:, 0, 0].copy(),
             mag[:, 0, 0].copy())  # the materials (mixing copies these, not disordered sites)
    for i in range(n_layers):
        sites = np.flatnonzero(chain.layer_index == i)
        first, n_i = int(sites[0]), len(sites)
        mix = rng.random((ly, lz))
        box = rng.random((n_i, ly, lz))
        cap = rng.random((n_i, ly, lz))
        azimuth = rng.random((n_i, ly, lz))
        d = disorder.get(i)
        if d is None:
            continue
        layer = slice(first, first + n_i)
        if d["interface_mixing"] > 0:
            mixed = mix < d["interface_mixing"]
            left = first - 1
            onsite[first][mixed] = clean[0][left]
            delta[first][mixed] = clean[1][left]
            free[first][mixed] = clean[2][left]
            mag[first][mixed] = clean[3][left]
        if d["onsite"] > 0:
            onsite[layer] += d["onsite"] * (box - 0.5)
        if d["magnetic_tilt"] > 0:
            cos_max = math.cos(math.radians(d["magnetic_tilt"]))
            cos_a = 1.0 - cap * (1.0 - cos_max)
            sin_a = np.sqrt(np.clip(1.0 - cos_a**2, 0.0, None))
            beta = 2 * np.pi * azimuth
            u = np.stack([sin_a * np.cos(beta), sin_a * np.sin(beta), cos_a], axis=-1)
            magnetic = delta[layer] > 0
            is_free = free[layer] & magnetic
            fixed = ~free[layer] & magnetic
            block = mag[layer]  # a view: the masked assignments below write into mag
            # free sites: u relative to m(θ, φ), applied at run time
            block[is_free] = u[is_free]
            th, ph = _angles(block[fixed])
            block[fixed] = tilt_frame(u[fixed], th, ph)
    return onsite, delta, mag, free


def make_supercell_system(junction, size=None, *, disorder=None, seed=None, pad=2):
    """Build the wrapped Kwant system of a tight-binding junction on an L_y × L_z supercell.

    Parameters
    ----------
    junction : Junction
        A tight-binding junction (DESIGN.md §3).
    size : (int, int), optional
        (L_y, L_z), sites of the supercell cross-section; default the junction's
        ``[supercell]`` size, else (1, 1).
    disorder : dict or sequence, optional
        ``{layer index: {"onsite": W, "interface_mixing": p, "magnetic_tilt": degrees}}``
        (missing keys: 0; :class:`~mtj_kwant.model.Disorder` instances too), or one such
        table (or None) per layer; see the module notes.  Default: the layers'
        ``[layer.disorder]`` tables.
    seed : int, optional
        Seed of ``numpy.random.default_rng``; default the junction's ``[supercell]`` seed,
        else one drawn from fresh entropy (stored in the result, so the configuration can be
        rebuilt).
    pad : int or (int, int)
        Electrode monolayers kept in the scattering region (as in
        :func:`mtj_kwant.system.make_system`).

    Returns
    -------
    SupercellSystem

    Raises
    ------
    ValueError
        A free-electron junction, a bad size or an invalid disorder table.
    """
    if junction.model != "tight-binding":
        raise ValueError(
            f"make_supercell_system: lateral supercells are built for tight-binding junctions "
            f"only (DESIGN.md §3, §9); this junction has model = {junction.model!r}.  Use "
            f'model = "tight-binding" with hopping and lattice_constant, or '
            f"mtj_kwant.system.make_system for the layered free-electron junction")
    cell = junction.supercell
    if size is None:
        size = cell.size if cell is not None else (1, 1)
    if seed is None and cell is not None:
        seed = cell.seed
    if disorder is None:
        disorder = {i: lay.disorder for i, lay in enumerate(junction.layers)
                    if lay.disorder is not None} or None
    size = _check_size(size)
    ly, lz = size
    n_layers = len(junction.layers)
    disorder = _check_disorder(disorder, n_layers)
    if seed is None:
        seed = int(np.random.SeedSequence().entropy)
    elif isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    seed = int(seed)

    chain = junction.chain(pad=pad)
    a = chain.step
    n = chain.n_sites
    t_par = np.asarray(chain.transverse, float) * junction.hopping
    onsite, delta, mag, free = _draw(chain, n_layers, size, disorder,
                                     np.random.default_rng(seed))

    import kwant
    import kwant.wraparound

    lat = kwant.lattice.cubic(a, norbs=2, name="sc")
    periods = ((0, ly * a, 0), (0, 0, lz * a))
    sym = kwant.TranslationalSymmetry(*periods)

    # per-site data keyed by the tag reduced to the supercell (iy mod L_y, iz mod L_z)
    bias_profile = np.asarray(chain.bias_profile, float)
    data = {}
    for j in range(n):
        for iy in range(ly):
            for iz in range(lz):
                m = mag[j, iy, iz]
                data[j, iy, iz] = (float(onsite[j, iy, iz]), float(bias_profile[j]),
                                   0.5 * float(delta[j, iy, iz]), bool(free[j, iy, iz]),
                                   ta.array(m), tuple(float(c) for c in m))

    def site_onsite(site, theta, phi, bias):
        j, iy, iz = site.tag
        e0, bp, hd, is_free, m_fixed, u = data[j, iy % ly, iz % lz]
        if is_free:
            if u == (0.0, 0.0, 1.0):
                mvec = magnetization_direction(theta, phi)
            else:
                mvec = tilt_frame(u, theta, phi)
        else:
            mvec = m_fixed
        return (e0 + bias * bp) * _S0 + _exchange(mvec, hd)

    syst = kwant.Builder(sym)
    for j in range(n):
        for iy in range(ly):
            for iz in range(lz):
                syst[lat(j, iy, iz)] = site_onsite
    for j in range(n):
        hop_par = -float(t_par[j]) * _S0
        for iy in range(ly):
            for iz in range(lz):
                syst[lat(j, iy + 1, iz), lat(j, iy, iz)] = hop_par
                syst[lat(j, iy, iz + 1), lat(j, iy, iz)] = hop_par
                if j + 1 < n:
                    syst[lat(j + 1, iy, iz), lat(j, iy, iz)] = -float(chain.hopping[j]) * _S0
    wrapped = kwant.wraparound.wraparound(syst, coordinate_names="yz")

    for side, lead_data in zip((-1, +1), chain.leads):
        lead = kwant.Builder(kwant.TranslationalSymmetry((side * a, 0, 0), *periods))
        lead_onsite = _lead_onsite(lead_data)
        t_lead = float(lead_data["hopping"])
        for iy in range(ly):
            for iz in range(lz):
                lead[lat(0, iy, iz)] = lead_onsite
        for iy in range(ly):
            for iz in range(lz):
                lead[lat(1, iy, iz), lat(0, iy, iz)] = -t_lead * _S0
                lead[lat(0, iy + 1, iz), lat(0, iy, iz)] = -t_lead * _S0
                lead[lat(0, iy, iz + 1), lat(0, iy, iz)] = -t_lead * _S0
        wrapped.attach_lead(kwant.wraparound.wraparound(lead, keep=0, coordinate_names="xyz"))

    fsyst = wrapped.finalized()
    id_by_site = {s: k for k, s in enumerate(fsyst.sites)}
    order = np.empty((n, ly, lz), int)
    for j in range(n):
        for iy in range(ly):
            for iz in range(lz):
                order[j, iy, iz] = id_by_site[sym.to_fd(lat(j, iy, iz))]
    return SupercellSystem(junction=junction, chain=chain, fsyst=fsyst, order=order, size=size,
                           lattice=lat, onsite=onsite, delta=delta, magnetization=mag, free=free,
                           in_plane_hopping=t_par, seed=seed, disorder=disorder)


def _lead_onsite(lead):
    e0, bp = float(lead["onsite0"]), float(lead["bias_profile"])
    hd = 0.5 * float(lead["delta"])
    fixed = ta.array(lead["magnetization"])
    is_free = bool(lead["free"])

    def value(site, theta, phi, bias):
        mvec = magnetization_direction(theta, phi) if is_free else fixed
        return (e0 + bias * bp) * _S0 + _exchange(mvec, hd)

    return value


# ------------------------------------------------------------------------------------------
# block recursive Green's functions (issue 15 item 2, reference version)
# ------------------------------------------------------------------------------------------
def _layer_indices(ss):
    """Orbital indices (N, M) of each monolayer in the Hamiltonian, M = 2 L_y L_z, in the
    order (i_y, i_z, spin)."""
    sites = ss.order.reshape(len(ss.order), -1)
    return (2 * sites[:, :, None] + np.arange(2)).reshape(len(sites), -1)


def layer_blocks(ss, params):
    """The monolayer blocks of the scattering region from Kwant's sparse Hamiltonian.

    Returns
    -------
    onsite : ndarray (N, M, M) complex
        H_jj, M = 2 L_y L_z (orbitals ordered (i_y, i_z, spin)).
    hopping : ndarray (N − 1, M, M) complex
        H_{j+1, j}.

    Raises
    ------
    ValueError
        Couplings between monolayers further apart than neighbours.
    """
    h = ss.fsyst.hamiltonian_submatrix(params=params, sparse=True).tocsr()
    idx = _layer_indices(ss)
    n = len(idx)
    onsite = np.stack([h[i][:, i].toarray() for i in idx])
    hopping = np.stack([h[idx[j + 1]][:, idx[j]].toarray() for j in range(n - 1)])
    near = sum(abs(h[idx[j]][:, idx[j]]).sum() + (abs(h[idx[j + 1]][:, idx[j]]).sum()
                                                    + abs(h[idx[j]][:, idx[j + 1]]).sum()
                                                    if j < n - 1 else 0.0) for j in range(n))
    if not np.isclose(near, abs(h).sum(), rtol=1e-12, atol=0.0):
        raise ValueError("the supercell has couplings beyond neighbouring monolayers")
    return onsite, hopping


def lead_self_energies_planewave(ss, energy, *, theta, phi=0.0, bias=0.0, k_y=0.0, k_z=0.0):
    """Σ_L, Σ_R (M, M) of the clean wrapped leads from their plane waves.

    A clean lead is diagonal in the transverse plane waves φ_n(r) = e^{i k_n·r}/√(L_y L_z)
    of the supercell (k_n the folded momenta of :meth:`SupercellSystem.folded_momenta`):
    Σ(r, r') = Σ_n φ_n(r) Σ_1D(E; h(ε∥(k_n))) φ_n(r')*, with Σ_1D the self-energy of the
    layered lead at the transverse energy ε∥ = −2t(cos k_y a + cos k_z a)
    (:func:`mtj_kwant.solvers.lead_self_energy`).  Equal to Kwant's (:func:`lead_self_energies`)
    to round-off (tests), at a fraction of its cost (no mode computation of the M-orbital
    lead).
    """
    from .solvers import lead_self_energy

    ly, lz = ss.size
    a, t = ss.a, ss.junction.hopping
    ks = ss.folded_momenta(k_y, k_z)
    eps = -2 * t * (np.cos(ks[:, 0] * a) + np.cos(ks[:, 1] * a))
    iy, iz = np.meshgrid(np.arange(ly), np.arange(lz), indexing="ij")
    phase = np.exp(1j * (np.outer(iy.ravel() * a, ks[:, 0]) + np.outer(iz.ravel() * a, ks[:, 1])))
    phase /= np.sqrt(ly * lz)  # (S sites, S waves), unitary
    m = magnetization_direction(theta, phi)
    out = []
    for lead in ss.chain.leads:
        mag = m if lead["free"] else np.asarray(lead["magnetization"], float)
        e0 = lead["onsite0"] + bias * lead["bias_profile"]
        h = ((e0 + eps * lead["transverse"])[:, None, None] * np.eye(2)
             - 0.5 * lead["delta"] * np.einsum("i,ikl->kl", mag, _PAULI[1:])[None])
        sig1d, _ = lead_self_energy(h, lead["hopping"], np.full(len(eps), energy, complex))
        # Σ[(s, α), (s', β)] = Σ_n φ_n(s) Σ_n[α, β] φ_n(s')*
        full = np.einsum("sn,nab,tn->satb", phase, sig1d, phase.conj())
        out.append(full.reshape(2 * ly * lz, 2 * ly * lz))
    return out


def lead_self_energies(ss, energy, params):
    """Σ_L, Σ_R (M, M) of the wrapped leads on the end monolayers, in the order of
    :func:`layer_blocks` (Kwant's ``selfenergy``, permuted from its interface order)."""
    out = []
    idx = _layer_indices(ss)
    for lead, layer in ((0, idx[0]), (1, idx[-1])):
        iface = np.asarray(ss.fsyst.lead_interfaces[lead])
        orbs = (2 * iface[:, None] + np.arange(2)).ravel()
        pos = {o: k for k, o in enumerate(orbs)}
        perm = np.array([pos[o] for o in layer])
        sigma = ss.fsyst.leads[lead].selfenergy(energy, params=params)
        out.append(sigma[np.ix_(perm, perm)])
    return out


_PAULI = np.array([[[1, 0], [0, 1]], [[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]])


def window_blocks(ss, energy, *, theta, phi=0.0, bias=0.0, k_y=0.0, k_z=0.0, lead=0):
    """Window observables of the states incoming from ``lead`` at one (E, k) by block RGF.

    The reference (NumPy, one point) version of the supercell solver: the monolayer blocks
    from Kwant (:func:`layer_blocks`), the leads' self-energies from Kwant, the
    right-connected Green's functions g^R_j (one inversion per monolayer), and the columns
    of the incoming lead, W_j = G_{j,0} U with Γ = U U† on its open channels, from
    G_{j,0} = g^R_j H_{j,j−1} G_{j−1,0}: Gⁿ = G Γ G† has Gⁿ_jj = W_j W_j† and
    Gⁿ_{j+1,j} = W_{j+1} W_j† (right lead: the same on the mirrored chain).

    Returns
    -------
    dict
        ``bond`` (N − 1, 4): particle and spin currents (σx, σy, σz) from monolayer j to
        j + 1, summed over the cross-section, −2 Im Tr[σ H_{j,j+1} Gⁿ_{j+1,j}] with
        Gⁿ = G Γ_lead G† (the normalisation of :meth:`mtj_kwant.solvers.ChainSolver.bond_window`:
        the particle current is the transmission); ``site`` (N, L_y, L_z, 4): density and
        spin density Tr σ Gⁿ_ii of every site; ``torque`` (N, L_y, L_z, 3): Δ m × s per
        site (the exchange torque density).
    """
    params = ss.params(theta, phi, bias, k_y, k_z)
    onsite, hop = layer_blocks(ss, params)
    sig_l, sig_r = lead_self_energies_planewave(ss, energy, theta=theta, phi=phi, bias=bias,
                                                k_y=k_y, k_z=k_z)
    n, m = onsite.shape[0], onsite.shape[1]
    a = energy * np.eye(m) - onsite
    a[0] -= sig_l
    a[-1] -= sig_r
    sigma = sig_l if lead == 0 else sig_r
    gamma = 1j * (sigma - sigma.conj().T)
    if lead == 1:  # the mirrored chain: site n − 1 − j, hoppings H_{j,j+1} in its order
        a, hop = a[::-1], hop[::-1].conj().transpose(0, 2, 1)
    # Γ = U U† on its open channels; the incoming states' columns W_j = G_{j,0} U
    ev, vec = np.linalg.eigh(gamma)
    keep = ev > 1e-14 * max(ev.max(initial=0.0), 1e-300)
    u = vec[:, keep] * np.sqrt(ev[keep])
    gr = np.empty_like(a)  # right-connected Green's functions
    gr[-1] = np.linalg.inv(a[-1])
    for j in range(n - 2, -1, -1):
        gr[j] = np.linalg.inv(a[j] - hop[j].conj().T @ gr[j + 1] @ hop[j])
    cols = np.empty((n, m, u.shape[1]), complex)
    cols[0] = gr[0] @ u
    for j in range(1, n):  # G_{j,0} = g^R_j H_{j,j−1} G_{j−1,0}
        cols[j] = gr[j] @ (hop[j - 1] @ cols[j - 1])
    if lead == 1:
        cols, hop = cols[::-1], hop[::-1].conj().transpose(0, 2, 1)
    # Gⁿ_jj = W_j W_j†, Gⁿ_{j+1,j} = W_{j+1} W_j†: only their 2 × 2 site blocks are needed
    ly, lz = ss.size
    nsite = ly * lz
    w = cols.reshape(n, nsite, 2, -1)
    diag = np.einsum("jsar,jsbr->jsab", w, w.conj())              # (N, S, 2, 2)
    site = np.einsum("bkl,jslk->jsb", _PAULI, diag).real.reshape(n, ly, lz, 4)
    bond = np.empty((n - 1, 4))
    for j in range(n - 1):
        # −2 Im Tr[σ H_{j,j+1} Gⁿ_{j+1,j}], H_{j,j+1} = hop[j]†
        hw = (hop[j].conj().T @ cols[j + 1]).reshape(nsite, 2, -1)
        blocks = np.einsum("sar,sbr->ab", hw, w[j].conj())        # Σ_s (H W_{j+1} W_j†)_ss
        bond[j] = -2 * np.einsum("bkl,lk->b", _PAULI, blocks).imag
    mags = ss.directions(theta, phi)
    torque = ss.delta[..., None] * np.cross(mags, site[..., 1:])
    return {"bond": bond, "site": site, "torque": torque}


# ------------------------------------------------------------------------------------------
# window part per area: energy, supercell Brillouin zone, configurations (reference version)
# ------------------------------------------------------------------------------------------
@dataclass
class SupercellPoint:
    """Window part per area of a supercell junction at one bias (T = 0).

    Attributes
    ----------
    current_density : float
        A/m², configuration mean.
    torque : ndarray (3,)
        Window torque on the free layer, (ħ/2e) A/m², configuration mean: the exchange
        torque summed over the free sites of a finite free layer; for a free right electrode
        the transverse spin current entering it.
    errors : dict
        ``current_density``, ``torque``: the standard error of the configuration mean (0
        for one configuration of a clean supercell; inf for one disordered configuration),
        plus the k-grid error (the mean's change from the k_points/2 grid), plus the energy
        quadrature's (Gauss–Kronrod 7/15) error, added.  The k-grid part is an estimate,
        not a bound: tunnelling currents peaked at k∥ = 0 converge slowly on a uniform
        grid (measured 3.6× short of the true error on a 4 × 4 grid of a clean 2 × 2
        supercell); choose grids whose estimate is well below the accuracy needed.
    parts : dict
        The three contributions separately (``configurations``, ``k_grid``, ``energy``).
    per_configuration : list of dict
        ``seed``, ``current_density``, ``torque`` of every configuration.
    k_points, size, seeds
        The grid, the supercell and the seeds used.
    """

    current_density: float
    torque: np.ndarray
    errors: dict
    parts: dict
    per_configuration: list
    k_points: tuple
    size: tuple
    seeds: list


def _mp_grid(n, length):
    """Monkhorst–Pack midpoints of [−π/L, π/L) (1/nm) for n points, L the period (nm)."""
    return (2 * np.arange(n) - n + 1) / (2 * n) * (2 * np.pi / length)


def configuration_window(point, *, junction, theta, phi, bias, k_points):
    """One disorder configuration of :func:`supercell_window` (``point = {"seed": s}``):
    a flat dict for :func:`mtj_kwant.runner.run_points` (module level: picklable).

    ``junction`` is the junction's dict (:func:`mtj_kwant.model.junction_to_dict`).
    Returns ``current_density``, ``torque_x/y/z`` and for each the ``*_k_error`` (the
    change from the half grid) and ``*_energy_error`` (Gauss–Kronrod 7/15), per area.
    """
    from .model import junction_from_dict
    from .quadrature import NODES, WG, WK
    from .units import E_OVER_H, PER_NM2

    junction = junction_from_dict(junction)
    mu_l = junction.fermi_energy + 0.5 * bias
    mu_r = junction.fermi_energy - 0.5 * bias
    lo, hi = min(mu_l, mu_r), max(mu_l, mu_r)
    energies = 0.5 * (lo + hi) + 0.5 * (hi - lo) * NODES
    sign = 1.0 if bias > 0 else -1.0
    wk, wg = 0.5 * (hi - lo) * WK * sign, 0.5 * (hi - lo) * WG * sign
    m = magnetization_direction(theta, phi)
    ss = make_supercell_system(junction, seed=int(point["seed"]))
    ly, lz = ss.size
    area = ly * lz * ss.a ** 2
    bond_in, bond_out = ss.chain.free_bonds
    values = {}
    for half in (False, True):
        ny, nz = (k // 2 if half else k for k in k_points)
        grid = [(y, z) for y in _mp_grid(ny, ly * ss.a) for z in _mp_grid(nz, lz * ss.a)]
        acc = np.zeros((len(energies), 4))
        for y, z in grid:
            for i, e in enumerate(energies):
                w = window_blocks(ss, e, theta=theta, phi=phi, bias=bias, k_y=y, k_z=z)
                if bond_out is None:  # free electrode: the transverse spin current entering
                    jin = w["bond"][bond_in, 1:]
                    tq = jin - (jin @ m) * m
                else:
                    tq = w["torque"][ss.free].sum(0)
                acc[i] += np.r_[w["bond"][bond_in, 0], tq] / len(grid)
        values[half] = acc / area * E_OVER_H * PER_NM2
    full = values[False]
    out = {}
    names = ("current_density", "torque_x", "torque_y", "torque_z")
    for q, name in enumerate(names):
        out[name] = float(wk @ full[:, q])
        out[f"{name}_k_error"] = float(abs(wk @ (full[:, q] - values[True][:, q])))
        out[f"{name}_energy_error"] = float(abs((wk - wg) @ full[:, q]))
    return out


def supercell_window(junction, *, theta, phi=0.0, bias, k_points=None, configurations=None,
                     seed=None, executor="serial", store=None, progress=False):
    """Window part per area at T = 0 of a supercell junction (reference NumPy solver).

    ∫ dE over [μ_R, μ_L] (Gauss–Kronrod 15) of the supercell Brillouin-zone average (a
    Monkhorst–Pack grid of ``k_points``) of :func:`window_blocks`, divided by the supercell
    area, averaged over ``configurations`` disorder realisations with seeds ``seed``,
    ``seed + 1``, … (defaults from the junction's ``[supercell]`` table).  The
    configurations are points of :func:`mtj_kwant.runner.run_points`: computed serially, on
    a process pool or a dask cluster (``executor``), and kept in a CSV ``store`` so that an
    interrupted run resumes by seed.

    Parameters
    ----------
    junction : Junction
        Tight binding, with or without a ``[supercell]`` table (size (1, 1) without).
    theta, phi : float
        Free-layer angles (rad).
    bias : float
        V (≠ 0).
    k_points : (int, int), optional
        Even numbers of points (the k-grid error compares with half of them).
    configurations : int, optional
    seed : int, optional
    executor, store, progress
        As for :func:`mtj_kwant.runner.run_points` (default: serial, no store).

    Returns
    -------
    SupercellPoint

    Raises
    ------
    ValueError
        Odd k_points, or bias 0.

    Notes
    -----
    Per-area units as in :func:`mtj_kwant.integrate.bias_point`:
    J = (e/h) ∫ dE (L_y L_z a²)⁻¹ ⟨I(E, k)⟩_BZ, I the bond particle current (the
    transmission); a clean L × L supercell therefore equals the layered junction
    (DESIGN.md §3: ∫d²k∥/(2π)² = a⁻² ⟨·⟩_BZ) up to the k-grid error.  The reported error
    adds the standard error of the configuration mean (0 for one configuration of a clean
    supercell, inf for one disordered configuration), the k-grid error and the energy
    quadrature's, each averaged over the configurations.
    """
    import functools

    from .model import junction_to_dict
    from .runner import fingerprint_of, run_points

    cell = junction.supercell
    k_points = tuple(k_points if k_points is not None else (cell.k_points if cell else (8, 8)))
    if any(n % 2 for n in k_points):
        raise ValueError(f"k_points must be even numbers (the k-grid error uses half of "
                         f"them), got {list(k_points)}")
    configurations = int(configurations if configurations is not None else
                         (cell.configurations if cell else 1))
    seed = int(seed if seed is not None else (cell.seed if cell else 0))
    if bias == 0:
        raise ValueError("bias must be nonzero (the window part vanishes at V = 0)")
    settings = dict(junction=junction_to_dict(junction), theta=float(theta), phi=float(phi),
                    bias=float(bias), k_points=list(k_points))
    seeds = [seed + c for c in range(configurations)]
    rows = run_points(functools.partial(configuration_window, **settings),
                      [{"seed": s} for s in seeds], executor=executor, store=store,
                      fingerprint=fingerprint_of(settings), progress=progress,
                      desc="configurations")
    names = ("current_density", "torque_x", "torque_y", "torque_z")
    vals = np.array([[r[n] for n in names] for r in rows])
    mean = vals.mean(0)
    clean = not any(lay.disorder is not None and lay.disorder.active for lay in junction.layers)
    if len(rows) > 1:
        conf = vals.std(0, ddof=1) / np.sqrt(len(rows))
    else:
        conf = np.zeros(4) if clean else np.full(4, np.inf)
    k_err = np.array([[r[f"{n}_k_error"] for n in names] for r in rows]).mean(0)
    e_err = np.array([[r[f"{n}_energy_error"] for n in names] for r in rows]).mean(0)
    total = conf + k_err + e_err
    per = [{"seed": s, "current_density": r["current_density"],
            "torque": np.array([r["torque_x"], r["torque_y"], r["torque_z"]])}
           for s, r in zip(seeds, rows)]
    size = cell.size if cell is not None else (1, 1)
    return SupercellPoint(
        current_density=float(mean[0]), torque=mean[1:],
        errors={"current_density": float(total[0]), "torque": total[1:]},
        parts={"configurations": conf, "k_grid": k_err, "energy": e_err},
        per_configuration=per, k_points=k_points, size=tuple(size), seeds=seeds)
