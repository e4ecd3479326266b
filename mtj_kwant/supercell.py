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

__all__ = ["DISORDER_KEYS", "KPoint", "SupercellPoint", "SupercellSystem", "ZoneBlocks",
           "make_supercell_system", "supercell_point", "supercell_sweep", "supercell_window",
           "tilt_frame", "window_blocks", "window_k", "zone_average"]

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
    """Σ_L, Σ_R (M, M), or (B, M, M) for B energies, of the clean wrapped leads from their
    plane waves (``energy`` real or complex with Im ≥ 0, eV).

    A clean lead is diagonal in the transverse plane waves φ_n(r) = e^{i k_n·r}/√(L_y L_z)
    of the supercell (k_n the folded momenta of :meth:`SupercellSystem.folded_momenta`):
    Σ(r, r') = Σ_n φ_n(r) Σ_1D(E; h(ε∥(k_n))) φ_n(r')*, with Σ_1D the self-energy of the
    layered lead at the transverse energy ε∥ = −2t(cos k_y a + cos k_z a)
    (:func:`mtj_kwant.solvers.lead_self_energy`).  Equal to Kwant's (:func:`lead_self_energies`)
    to round-off (tests), at a fraction of its cost (no mode computation of the M-orbital
    lead).
    """
    scalar = np.ndim(energy) == 0
    energies = np.atleast_1d(np.asarray(energy, complex))
    phase, leads = lead_plane_waves(ss, theta, phi, bias, k_y, k_z)
    out = [plane_wave_sigma(phase, h, t, energies) for h, t in leads]
    return [full[0] for full in out] if scalar else out


def plane_wave_sigma(phase, h, t, z):
    """Σ (B, M, M) of one clean lead at energies z (B,) from its plane waves ``phase`` (S, S)
    and its layered cells ``h`` (S, 2, 2), hopping ``t`` (:func:`lead_plane_waves`):
    Σ[(s, a), (s', b)] = Σ_n φ_n(s) Σ_1D,n[a, b] φ_n(s')*."""
    from .solvers import lead_self_energy

    sig1d, _ = lead_self_energy(h, t, z[:, None])            # (B, S, 2, 2)
    s = phase.shape[0]
    out = np.empty((len(z), s, 2, s, 2), complex)
    ph_h = phase.conj().T
    for a in range(2):
        for b in range(2):
            out[:, :, a, :, b] = (phase[None] * sig1d[:, None, :, a, b]) @ ph_h
    return out.reshape(len(z), 2 * s, 2 * s)


def lead_cells(ss, theta, phi, bias, eps):
    """The clean leads' layered cells at transverse energies ``eps`` (any shape, eV).

    Returns, per lead (left, right), ``(h, t)``: the 2 × 2 cell Hamiltonians (..., 2, 2)
    (ε0 + bias·profile + transverse·ε∥ − (Δ/2) m·σ) and the hopping along x (eV).
    """
    m = magnetization_direction(theta, phi)
    out = []
    for lead in ss.chain.leads:
        mag = m if lead["free"] else np.asarray(lead["magnetization"], float)
        e0 = lead["onsite0"] + bias * lead["bias_profile"]
        h = ((e0 + np.asarray(eps) * lead["transverse"])[..., None, None] * np.eye(2)
             - 0.5 * lead["delta"] * np.einsum("i,ikl->kl", mag, _PAULI[1:]))
        out.append((h, float(lead["hopping"])))
    return out


def lead_plane_waves(ss, theta, phi, bias, k_y, k_z):
    """The transverse plane waves of the supercell at momentum k and the leads' cells on them.

    Returns ``phase`` (S, S), φ_n(s) = e^{i k_n·r_s}/√S (sites × folded momenta k_n of
    :meth:`SupercellSystem.folded_momenta`, unitary), and :func:`lead_cells` at
    ε∥(k_n) = −2t(cos k_y a + cos k_z a).
    """
    ly, lz = ss.size
    a, t = ss.a, ss.junction.hopping
    ks = ss.folded_momenta(k_y, k_z)
    eps = -2 * t * (np.cos(ks[:, 0] * a) + np.cos(ks[:, 1] * a))
    iy, iz = np.meshgrid(np.arange(ly), np.arange(lz), indexing="ij")
    phase = np.exp(1j * (np.outer(iy.ravel() * a, ks[:, 0]) + np.outer(iz.ravel() * a, ks[:, 1])))
    return phase / np.sqrt(ly * lz), lead_cells(ss, theta, phi, bias, eps)


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


#: Bytes of the batched block RGF's stored blocks per call; larger energy batches are split.
MAX_BYTES = 256 * 2**20


#: The torque scale of a zone average is at least this fraction of the current (in the same
#: flux units): a vanishing torque (collinear magnetizations, a node of T(d)) converges
#: against 5 % of the current, the size of the spin current a polarised tunnel current
#: carries, not against its own size (DESIGN.md §3a).
TORQUE_FLOOR = 0.05

#: Round-off of a zone average relative to the larger of its current and torque scales (a
#: vanishing torque component is resolved to it, not below; measured ~1e-16 on clean
#: supercells, where T_x vanishes by symmetry).
ZONE_ROUNDOFF = 1e-13


def _pivot_log(p):
    """log det of pivots (B, M, M) whose anti-Hermitian part is ≥ 0, on a continuous branch.

    Their eigenvalues lie in the closed upper half plane, so each arg is taken in [0, π]
    (round-off just below the real axis folded back): the sum over the pivots of a
    recursion is a continuous branch of log det, as :func:`mtj_kwant.solvers._arg_det`
    does for 2 × 2 pivots.
    """
    lam = np.linalg.eigvals(p)
    ph = np.angle(lam)
    ph = np.where(ph < -0.5 * np.pi, ph + 2 * np.pi, np.maximum(ph, 0.0))
    return (np.log(np.abs(lam)) + 1j * ph).sum(-1)


class KPoint:
    """A supercell junction at one supercell momentum: blocks read once, energies batched.

    Parameters
    ----------
    ss : SupercellSystem
    theta, phi : float
        Free-layer angles (rad).
    bias : float
        V.
    k_y, k_z : float
        Supercell momentum (1/nm).

    Notes
    -----
    :meth:`log_det` gives Φ(E) = Im log det(E − H(k) − Σ_L − Σ_R), which is what
    :func:`mtj_kwant.integrate.find_resonances` scans (its ``solver`` protocol needs only
    ``log_det``): narrow resonances of the supercell at this k are located along the energy
    axis and become breakpoints of the energy quadrature.
    """

    def __init__(self, ss, *, theta, phi=0.0, bias=0.0, k_y=0.0, k_z=0.0, zone=None):
        self.ss, self.theta, self.phi, self.bias = ss, float(theta), float(phi), float(bias)
        self.k_y, self.k_z = float(k_y), float(k_z)
        self.zone = zone
        if zone is None:
            self.onsite, self.hop = layer_blocks(ss, ss.params(theta, phi, bias, k_y, k_z))
        else:  # the blocks assembled from a ZoneBlocks of the same θ, φ, bias
            self.onsite, self.hop = zone.onsite(np.array([[k_y, k_z]]))[0], zone.hop
        self.hop_h = self.hop.conj().transpose(0, 2, 1)

    def self_energies(self, z):
        """Σ_L, Σ_R (B, M, M) at energies z (B,) (:func:`lead_self_energies_planewave`)."""
        if self.zone is not None:
            z = np.atleast_1d(np.asarray(z, complex))
            return self.zone.self_energies(np.tile([self.k_y, self.k_z], (len(z), 1)), z)
        return lead_self_energies_planewave(self.ss, np.asarray(z), theta=self.theta,
                                            phi=self.phi, bias=self.bias, k_y=self.k_y,
                                            k_z=self.k_z)

    def _chunks(self, z):
        n, m = self.onsite.shape[:2]
        per = 3 * n * m * m * 16
        step = max(1, MAX_BYTES // per)
        return [z[i:i + step] for i in range(0, len(z), step)]

    def _matrices(self, z):
        sig_l, sig_r = self.self_energies(z)
        a = z[:, None, None, None] * np.eye(self.onsite.shape[1]) - self.onsite[None]
        a[:, 0] -= sig_l
        a[:, -1] -= sig_r
        return a, sig_l, sig_r

    def thresholds(self):
        """Energies (eV) where a channel of either lead opens or closes at this k."""
        ss = self.ss
        a, t = ss.a, ss.junction.hopping
        ks = ss.folded_momenta(self.k_y, self.k_z)
        eps = -2 * t * (np.cos(ks[:, 0] * a) + np.cos(ks[:, 1] * a))
        out = []
        for lead in ss.chain.leads:
            e0 = lead["onsite0"] + self.bias * lead["bias_profile"]
            for s in (-0.5, 0.5):
                for e in (-2, 2):
                    out.append(e0 + eps * lead["transverse"] + s * lead["delta"]
                               + e * lead["hopping"])
        return np.concatenate(out)

    def log_det(self, z, eps_par=None):
        """log det(z − H(k) − Σ_L(z) − Σ_R(z)) (B,) on a continuous branch in z.

        Forward block elimination, P_0 = A_0, P_j = A_j − H_{j,j−1} P_{j−1}⁻¹ H_{j−1,j}
        (:func:`_pivot_log`).  ``eps_par`` is ignored (the protocol of
        :func:`mtj_kwant.integrate.find_resonances`; the transverse momentum is fixed).
        """
        z = np.atleast_1d(np.asarray(z, complex))
        out = []
        for zc in self._chunks(z):
            a, _, _ = self._matrices(zc)
            piv = a[:, 0]
            total = _pivot_log(piv)
            for j in range(1, a.shape[1]):
                piv = a[:, j] - self.hop[j - 1] @ np.linalg.solve(piv, self.hop_h[j - 1])
                total = total + _pivot_log(piv)
            out.append(total)
        return np.concatenate(out)

    def window(self, energies, lead=0):
        """Window observables of the states incoming from ``lead`` (see :func:`window_blocks`)."""
        energies = np.atleast_1d(np.asarray(energies, float))
        parts = [self._window(e, lead) for e in self._chunks(energies)]
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

    def _window(self, energies, lead):
        a, sig_l, sig_r = self._matrices(energies.astype(complex))
        return _window_core(self.ss, a, self.hop, sig_l if lead == 0 else sig_r, lead,
                            self.ss.directions(self.theta, self.phi))


def _window_core(ss, a, hop, sigma, lead, mags):
    """The block RGF of the window (:func:`window_blocks`) on a batch of matrices.

    ``a`` (B, N, M, M): E − H_jj − Σ on the end monolayers; ``hop`` (N − 1, M, M) H_{j+1,j};
    ``sigma`` (B, M, M) the incoming lead's self-energy; ``mags`` (N, L_y, L_z, 3).
    """
    n, m = a.shape[1], a.shape[2]
    nb = a.shape[0]
    gamma = 1j * (sigma - np.conj(np.swapaxes(sigma, -1, -2)))
    if lead == 1:  # the mirrored chain: site n − 1 − j, hoppings H_{j,j+1} in its order
        a, hop = a[:, ::-1], hop[::-1].conj().transpose(0, 2, 1)
    # Γ = U U† (its open channels; the closed ones give zero columns)
    ev, vec = np.linalg.eigh(0.5 * (gamma + np.conj(np.swapaxes(gamma, -1, -2))))
    ev = np.where(ev > 1e-14 * np.maximum(ev.max(-1, keepdims=True), 1e-300), ev, 0.0)
    u = vec * np.sqrt(ev)[:, None, :]
    hop_h = hop.conj().transpose(0, 2, 1)
    gr = np.empty_like(a)  # right-connected Green's functions
    gr[:, -1] = np.linalg.inv(a[:, -1])
    for j in range(n - 2, -1, -1):
        gr[:, j] = np.linalg.inv(a[:, j] - hop_h[j] @ gr[:, j + 1] @ hop[j])
    cols = np.empty((nb, n, m, m), complex)
    cols[:, 0] = gr[:, 0] @ u
    for j in range(1, n):  # G_{j,0} = g^R_j H_{j,j−1} G_{j−1,0}
        cols[:, j] = gr[:, j] @ (hop[j - 1] @ cols[:, j - 1])
    if lead == 1:
        cols, hop = cols[:, ::-1], hop[::-1].conj().transpose(0, 2, 1)
        hop_h = hop.conj().transpose(0, 2, 1)
    # Gⁿ_jj = W_j W_j†, Gⁿ_{j+1,j} = W_{j+1} W_j†: only their 2 × 2 site blocks are needed
    ly, lz = ss.size
    nsite = ly * lz
    w = cols.reshape(nb, n, nsite, 2, m)
    diag = np.einsum("ejsar,ejsbr->ejsab", w, w.conj())                  # (B, N, S, 2, 2)
    site = np.einsum("bkl,ejslk->ejsb", _PAULI, diag).real.reshape(nb, n, ly, lz, 4)
    # −2 Im Tr[σ H_{j,j+1} Gⁿ_{j+1,j}], H_{j,j+1} = hop[j]†
    hw = np.einsum("jpq,ejqr->ejpr", hop_h, cols[:, 1:]).reshape(nb, n - 1, nsite, 2, m)
    blocks = np.einsum("ejsar,ejsbr->ejab", hw, w[:, :-1].conj())         # Σ_s (H W W†)_ss
    bond = -2 * np.einsum("bkl,ejlk->ejb", _PAULI, blocks).imag
    torque = ss.delta[..., None] * np.cross(mags, site[..., 1:])
    return {"bond": bond, "site": site, "torque": torque}


class ZoneBlocks:
    """The supercell's blocks as functions of the supercell momentum: many k in one batch.

    In-plane hoppings across the supercell's boundary carry the Bloch phases, so each
    monolayer block is H_jj(k) = C_j + e^{iφ_y} A_j + e^{−iφ_y} A_j† + e^{iφ_z} B_j +
    e^{−iφ_z} B_j†, φ = (k_y L_y a, k_z L_z a), and the blocks between monolayers do not
    depend on k.  C, A, B are read from Kwant once (five momenta); the blocks at any k are
    then sums of arrays (equal to :func:`layer_blocks` at that k to round-off, tests).
    The clean leads' self-energies follow from the plane waves at k = 0 by the diagonal
    phases D_k = diag(e^{ik·r_s}): Σ(k) = D_k P Σ_1D(E, ε∥(k + G_n)) P† D_k†.

    Parameters
    ----------
    ss : SupercellSystem
    theta, phi : float
        Free-layer angles (rad).
    bias : float
        V.
    """

    def __init__(self, ss, *, theta, phi=0.0, bias=0.0):
        self.ss, self.theta, self.phi, self.bias = ss, float(theta), float(phi), float(bias)
        ly, lz = ss.size
        a = ss.a

        def read(py, pz):
            return layer_blocks(ss, ss.params(theta, phi, bias, py / (ly * a), pz / (lz * a)))

        h00, self.hop = read(0.0, 0.0)
        out = {}
        for axis, (p_half, p_pi) in (("y", ((0.5 * np.pi, 0.0), (np.pi, 0.0))),
                                     ("z", ((0.0, 0.5 * np.pi), (0.0, np.pi)))):
            h_half, h_pi = read(*p_half)[0], read(*p_pi)[0]
            centre = 0.5 * (h00 + h_pi)                    # C + (the other axis' terms)
            plus = 0.5 * (h00 - h_pi)                      # A + A†
            minus = -1j * (h_half - centre)                # A − A†
            out[axis] = (centre, 0.5 * (plus + minus))
        self.a_y, self.a_z = out["y"][1], out["z"][1]
        self.centre = (h00 - self.a_y - self.a_y.conj().transpose(0, 2, 1)
                       - self.a_z - self.a_z.conj().transpose(0, 2, 1))
        iy, iz = np.meshgrid(np.arange(ly), np.arange(lz), indexing="ij")
        self._r = np.stack([iy.ravel() * a, iz.ravel() * a], -1)          # (S, 2) nm
        self.mags = ss.directions(theta, phi)

    def at(self, k_y, k_z):
        """The :class:`KPoint` at one momentum (1/nm), without reading Kwant again."""
        return KPoint(self.ss, theta=self.theta, phi=self.phi, bias=self.bias, k_y=k_y,
                      k_z=k_z, zone=self)

    def onsite(self, ks):
        """H_jj at momenta ks (B, 2) (1/nm): (B, N, M, M)."""
        ly, lz = self.ss.size
        ey = np.exp(1j * ks[:, 0] * ly * self.ss.a)[:, None, None, None]
        ez = np.exp(1j * ks[:, 1] * lz * self.ss.a)[:, None, None, None]
        ay, az = self.a_y[None], self.a_z[None]
        return (self.centre[None] + ey * ay + np.conj(ey) * ay.conj().transpose(0, 1, 3, 2)
                + ez * az + np.conj(ez) * az.conj().transpose(0, 1, 3, 2))

    def self_energies(self, ks, energy):
        """Σ_L, Σ_R (B, M, M) at momenta ks (B, 2) and one energy or B energies (Im ≥ 0)."""
        from .solvers import lead_self_energy

        ss = self.ss
        ly, lz = ss.size
        a, t = ss.a, ss.junction.hopping
        g = ss.folded_momenta(0.0, 0.0)                                    # (S, 2)
        kn = ks[:, None, :] + g[None]                                      # (B, S, 2)
        eps = -2 * t * (np.cos(kn[..., 0] * a) + np.cos(kn[..., 1] * a))  # (B, S)
        # φ_n(s) = e^{i(k + G_n)·r_s}/√S = D_k(s) P(s, n)
        pw = np.exp(1j * (self._r @ g.T)) / np.sqrt(ly * lz)               # (S, S)
        dk = np.exp(1j * (ks @ self._r.T))                                 # (B, S)
        out = []
        for h, t in lead_cells(ss, self.theta, self.phi, self.bias, eps):
            z = np.broadcast_to(np.asarray(energy, complex)[..., None], eps.shape)
            sig1d, _ = lead_self_energy(h, t, z)                          # (B, S, 2, 2)
            full = np.einsum("es,sn,enab,tn,et->esatb", dk, pw, sig1d, pw.conj(), dk.conj())
            out.append(full.reshape(len(ks), 2 * ly * lz, 2 * ly * lz))
        return out

    def window(self, ks, energy, lead=0):
        """Window observables (as :func:`window_blocks`) at momenta ks (B, 2), one energy."""
        ks = np.atleast_2d(np.asarray(ks, float))
        n, m = self.centre.shape[:2]
        step = max(1, MAX_BYTES // (3 * n * m * m * 16))
        parts = []
        for i in range(0, len(ks), step):
            kc = ks[i:i + step]
            sig_l, sig_r = self.self_energies(kc, energy)
            a = energy * np.eye(m) - self.onsite(kc)
            a[:, 0] -= sig_l
            a[:, -1] -= sig_r
            parts.append(_window_core(self.ss, a, self.hop, sig_l if lead == 0 else sig_r, lead,
                                      self.mags))
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def window_blocks(ss, energy, *, theta, phi=0.0, bias=0.0, k_y=0.0, k_z=0.0, lead=0):
    """Window observables of the states incoming from ``lead`` at one k, by block RGF.

    The supercell solver, batched over energies (:class:`KPoint`): the monolayer blocks
    from Kwant (:func:`layer_blocks`, read once per k), the leads' self-energies from their
    plane waves (:func:`lead_self_energies_planewave`), the right-connected Green's
    functions g^R_j (one stacked inversion per monolayer), and the columns of the incoming
    lead, W_j = G_{j,0} U with Γ = U U† (closed channels give zero columns), from
    G_{j,0} = g^R_j H_{j,j−1} G_{j−1,0}: Gⁿ = G Γ G† has Gⁿ_jj = W_j W_j† and
    Gⁿ_{j+1,j} = W_{j+1} W_j† (right lead: the same on the mirrored chain).

    Parameters
    ----------
    ss : SupercellSystem
    energy : float or array_like (B,)
        Real energies (eV).
    theta, phi : float
        Free-layer angles (rad).
    bias : float
        V.
    k_y, k_z : float
        Supercell momentum (1/nm).
    lead : {0, 1}
        The incoming lead.

    Returns
    -------
    dict
        ``bond`` (B, N − 1, 4): particle and spin currents (σx, σy, σz) from monolayer j to
        j + 1, summed over the cross-section, −2 Im Tr[σ H_{j,j+1} Gⁿ_{j+1,j}] with
        Gⁿ = G Γ_lead G† (the normalisation of :meth:`mtj_kwant.solvers.ChainSolver.bond_window`:
        the particle current is the transmission); ``site`` (B, N, L_y, L_z, 4): density and
        spin density Tr σ Gⁿ_ii of every site; ``torque`` (B, N, L_y, L_z, 3): Δ m × s per
        site (the exchange torque density).  The leading axis B is absent for a scalar
        ``energy``.
    """
    kp = KPoint(ss, theta=theta, phi=phi, bias=bias, k_y=k_y, k_z=k_z)
    out = kp.window(energy, lead)
    return {k: v[0] for k, v in out.items()} if np.ndim(energy) == 0 else out


# ------------------------------------------------------------------------------------------
# window part per area: energy, supercell Brillouin zone, configurations (reference version)
# ------------------------------------------------------------------------------------------
@dataclass
class SupercellPoint:
    """Current and torque per area of a supercell junction at one bias (T = 0).

    Attributes
    ----------
    current_density : float
        A/m² (A/m² per V in linear response), configuration mean.
    torque : ndarray (3,)
        Window torque on the free layer, (ħ/2e) A/m², configuration mean: the exchange
        torque summed over the free sites of a finite free layer; for a free right electrode
        the transverse spin current entering it.
    errors : dict
        ``current_density``, ``torque`` (and ``torque_sea``, ``torque_total`` for
        parts "total"/"both"): the standard error of the configuration mean times Student's
        t for 68 % coverage with n − 1 degrees of freedom (0 for one configuration of a
        clean supercell; inf for one disordered configuration), plus the
        zone average's error, plus the energy (or contour) quadrature's, added.  Adaptive
        zone average: the sum over regions of |degree 7 − degree 5| of the Genz–Malik
        cubature (measured 10–100× above the true error on clean supercells), floored by
        :data:`ZONE_ROUNDOFF`.  Fixed grid: the change from the half grid, an estimate,
        not a bound (measured 3.6× short of the true error on a 4 × 4 grid of a clean
        2 × 2 supercell).
    parts : dict
        The three contributions separately (``configurations``, ``k_grid``, ``energy``),
        arrays over [current, torque (3)] (+ sea (3), total (3)).
    per_configuration : list of dict
        ``seed``, ``current_density``, ``torque`` (and ``torque_sea``, ``torque_total``) of
        every configuration.
    k_points : (int, int) or None
        The fixed grid, or None for the adaptive zone average.
    size, seeds
        The supercell and the seeds used.
    n_k : int
        k points evaluated, summed over the configurations (window and sea).
    resonances : int
        Narrow resonances located on the energy axis (and integrated through), summed over
        the k points and configurations.
    converged : bool
        Every energy integral and zone average met its tolerance.
    torque_sea, torque_total : ndarray (3,) or None
        The Fermi-sea part (filled to μ_R = E_F − eV/2, DESIGN.md §1) and window + sea, for
        parts "total"/"both".
    """

    current_density: float
    torque: np.ndarray
    errors: dict
    parts: dict
    per_configuration: list
    k_points: tuple
    size: tuple
    seeds: list
    n_k: int = 0
    resonances: int = 0
    converged: bool = True
    torque_sea: np.ndarray | None = None
    torque_total: np.ndarray | None = None


def _observables(ss, w, free_bonds, m):
    """[particle current into the free layer, torque (3)] (P, 4) from :meth:`KPoint.window`."""
    bond_in, bond_out = free_bonds
    if bond_out is None:  # free electrode: the transverse spin current entering it
        jin = w["bond"][:, bond_in, 1:]
        tq = jin - (jin @ m)[:, None] * m
    else:
        tq = w["torque"][:, ss.free].sum(1)
    return np.c_[w["bond"][:, bond_in, 0], tq]


def window_k(kp, lo, hi, tolerance, *, max_eval=4000):
    """∫ dE over [lo, hi] of [I, T_x, T_y, T_z] at one supercell momentum (T = 0 window).

    Adaptive Gauss–Kronrod (:func:`mtj_kwant.quadrature.adaptive_quad`) whose breakpoints are
    the leads' channel edges at this k (:meth:`KPoint.thresholds`) and the narrow resonances
    of the supercell located on the energy axis from the phase of its determinant
    (:func:`mtj_kwant.integrate.find_resonances` on :meth:`KPoint.log_det`): quasi-bound
    states of width down to round-off are integrated, not sampled.

    Parameters
    ----------
    kp : KPoint
    lo, hi : float
        The window (eV), lo < hi.
    tolerance : callable
        Allowed absolute error of each component given the estimate (see
        :func:`~mtj_kwant.quadrature.adaptive_quad`).
    max_eval : int
        Energies at most.

    Returns
    -------
    QuadResult
        ``value`` (4,): particle current into the free layer (the transmission, per
        supercell) and the torque on it, integrated over energy (eV); ``error``; plus
        ``resonances`` (n, 2), centre and half width (eV).
    """
    from .integrate import _resonance_points, find_resonances
    from .quadrature import adaptive_quad

    ss = kp.ss
    m = magnetization_direction(kp.theta, kp.phi)
    res = find_resonances(kp, lo, hi)
    marks = np.concatenate([[lo, hi], kp.thresholds(), _resonance_points(res, lo, hi)])
    pts = np.unique(marks[(marks >= lo) & (marks <= hi)])
    q = adaptive_quad(lambda e: _observables(ss, kp.window(e), ss.chain.free_bonds, m), pts,
                      tolerance, max_eval=max_eval,
                      what=f"window at k = ({kp.k_y:.4g}, {kp.k_z:.4g})/nm")
    q.resonances = res
    return q


def zone_average(func, lengths, scale, *, rtol, max_points=20_000):
    """Adaptive average over the supercell Brillouin zone of a vector function of k.

    Genz–Malik cubature (degree 7 with an embedded degree-5 rule, regions bisected where the
    error is largest; :func:`scipy.integrate.cubature`) over
    [−π/ℓ_y, π/ℓ_y] × [−π/ℓ_z, π/ℓ_z], ℓ the supercell periods.

    Parameters
    ----------
    func : callable
        ``func(k)`` with k (P, 2) in 1/nm returns (P, Q).
    lengths : (float, float)
        ℓ_y, ℓ_z (nm).
    scale : ndarray (Q,)
        Natural scale of each component (finite, > 0): refinement stops when every
        component's error is below ``rtol * scale``.
    rtol : float
    max_points : int
        k points at most (the cubature then stops, not converged).

    Returns
    -------
    value, error : ndarray (Q,)
        The zone average (the integral divided by the zone's area) and its error estimate
        (the sum over regions of |degree 7 − degree 5|).
    n_points : int
    converged : bool
    """
    from scipy.integrate import cubature

    half = np.array([np.pi / lengths[0], np.pi / lengths[1]])
    area = 4 * half[0] * half[1]
    scale = np.asarray(scale, float)
    if not (np.all(np.isfinite(scale)) and np.all(scale > 0)):
        raise ValueError(f"scale must be finite and positive, got {scale}")
    weight = 1 / scale
    count = [0]

    def f(k):
        count[0] += len(k)
        return func(k) * weight / area

    # each bisection of a region costs 4 × 17 points
    res = cubature(f, -half, half, rule="genz-malik", rtol=0.0, atol=rtol,
                   max_subdivisions=max(1, (max_points - 17) // 68))
    return res.estimate * scale, res.error * scale, count[0], res.status == "converged"


def _cached(func):
    """``func`` of momenta (P, 2) -> (P, Q), remembering every momentum it was given."""
    memo = {}

    def wrapped(ks):
        new = [tuple(k) for k in ks if tuple(k) not in memo]
        if new:
            for k, row in zip(new, func(np.array(new))):
                memo[k] = row
        return np.array([memo[tuple(k)] for k in ks])

    wrapped.memo = memo
    return wrapped


def _two_pass(func, lengths, scale_of, rtol, max_points):
    """Zone average to ``rtol`` of scales taken from the integral itself.

    ``scale_of(values)`` gives the scales (Q,) from an estimate of the average (Q,).  The
    first scales come from a 3 × 3 grid (k = 0 included), which overweights a peak at
    k = 0 (measured 6× on tb_fifn); a pass at 10 ``rtol`` (at most 0.3) then gives the
    scales of the final pass.  Momenta are evaluated once (cached).  Returns
    (value, error, k points evaluated, converged, final scales).
    """
    func = _cached(func)
    grid = np.array([(y, z) for y in _mp_grid(3, lengths[0]) for z in _mp_grid(3, lengths[1])])
    scale = scale_of(func(grid).mean(0))
    loose, *_ = zone_average(func, lengths, scale, rtol=min(0.3, 10 * rtol),
                             max_points=max_points)
    scale = scale_of(loose)
    value, error, _, converged = zone_average(func, lengths, scale, rtol=rtol,
                                              max_points=max_points)
    return value, error, len(func.memo), converged, scale


def _mp_grid(n, length):
    """Monkhorst–Pack midpoints of [−π/L, π/L) (1/nm) for n points, L the period (nm)."""
    return (2 * np.arange(n) - n + 1) / (2 * n) * (2 * np.pi / length)


def configuration_window(point, *, junction, theta, phi, bias, k_points=None, rtol=1e-2,
                         max_points=20_000, linear_response=False, sea=False):
    """One disorder configuration of :func:`supercell_window` (``point = {"seed": s}``):
    a flat dict for :func:`mtj_kwant.runner.run_points` (module level: picklable).

    ``junction`` is the junction's dict (:func:`mtj_kwant.model.junction_to_dict`).
    Returns ``current_density``, ``torque_x/y/z`` and for each the ``*_k_error`` and
    ``*_energy_error``, per area, plus ``k_points`` (evaluated), ``resonances`` (narrow
    resonances met) and ``converged``.  With ``k_points=None`` the zone average is adaptive
    (:func:`zone_average` of :func:`window_k`); with a grid (n_y, n_z) it is the
    Monkhorst–Pack average with the change from the half grid as its error and a fixed
    Gauss–Kronrod 7/15 energy rule.  ``linear_response``: the V-derivative at V = 0 (per
    volt; the integrand at E_F, no energy quadrature; ``bias`` is ignored).  ``sea``: also
    the Fermi-sea torque (``torque_sea_x/y/z`` with their errors; adaptive route only).
    """
    from .model import junction_from_dict
    from .units import E_OVER_H, PER_NM2

    junction = junction_from_dict(junction)
    if linear_response:
        bias = 0.0
        lo = hi = junction.fermi_energy
        sign = 1.0
    else:
        mu_l = junction.fermi_energy + 0.5 * bias
        mu_r = junction.fermi_energy - 0.5 * bias
        lo, hi = min(mu_l, mu_r), max(mu_l, mu_r)
        sign = 1.0 if bias > 0 else -1.0
    ss = make_supercell_system(junction, seed=int(point["seed"]))
    ly, lz = ss.size
    lengths = (ly * ss.a, lz * ss.a)
    conv = E_OVER_H * PER_NM2 / (ly * lz * ss.a ** 2)
    names = ("current_density", "torque_x", "torque_y", "torque_z")
    if k_points is not None and linear_response:
        raise ValueError("linear_response needs the adaptive zone average (k_points=None)")
    if bias == 0 and not linear_response:  # μ_L = μ_R: the window vanishes identically
        value = k_err = e_err = np.zeros(4)
        extra = {"k_points": 0, "resonances": 0, "converged": True, "torque_scale": None}
    elif k_points is not None:
        value, k_err, e_err, n_k = _mp_window(ss, lo, hi, sign, theta, phi, bias, k_points)
        extra = {"k_points": n_k, "resonances": 0, "converged": True}
    else:
        value, k_err, e_err, extra = _adaptive_window(ss, lo, hi, sign, theta, phi, bias,
                                                      lengths, rtol, max_points,
                                                      linear=linear_response)
    out = {}
    for q, name in enumerate(names):
        out[name] = float(value[q] * conv)
        out[f"{name}_k_error"] = float(k_err[q] * conv)
        out[f"{name}_energy_error"] = float(e_err[q] * conv)
    out.update({k: v for k, v in extra.items() if k != "torque_scale"})
    if sea:
        from .supercell_sea import sea_chemical_potential

        mu = sea_chemical_potential(junction, bias, 0)
        s_val, s_kerr, s_eerr, s_extra = _adaptive_sea(ss, mu, theta, phi, bias, lengths,
                                                       rtol, max_points,
                                                       extra.pop("torque_scale"))
        for q, c in enumerate("xyz"):
            out[f"torque_sea_{c}"] = float(s_val[q] * conv)
            out[f"torque_sea_{c}_k_error"] = float(s_kerr[q] * conv)
            out[f"torque_sea_{c}_energy_error"] = float(s_eerr[q] * conv)
        out["k_points"] += s_extra["k_points"]
        out["converged"] = bool(out["converged"] and s_extra["converged"])
    return out


def _adaptive_sea(ss, mu, theta, phi, bias, lengths, rtol, max_points, window_scale):
    """Adaptive zone average of the T = 0 Fermi-sea torque (:func:`mtj_kwant.supercell_sea.sea_k`
    per k, filled to ``mu``): value, k error, contour error (3,) each, and counts.

    Its tolerance is ``rtol`` of the larger of the window torque's scale and the sea's own
    size (per k: 0.1 ``rtol`` of it), i.e. of the total's size: the sea alone may be a small
    zone average of large, cancelling contributions, and at small V (``window_scale`` → 0,
    None at V = 0) it is the equilibrium torque."""
    from .supercell_sea import SEA_ROUNDOFF, SeaSolver, sea_k

    zone = ZoneBlocks(ss, theta=theta, phi=phi, bias=bias)
    scale = {"value": None}
    ok = [True]
    sizes = []

    def func(ks):
        rows = np.zeros((len(ks), 6))
        for i, (y, z) in enumerate(ks):
            solver = SeaSolver(ss, theta=theta, phi=phi, bias=bias, k_y=y, k_z=z, zone=zone)
            atol = 0.0 if scale["value"] is None else 0.1 * rtol * scale["value"]
            q = sea_k(ss, mu, theta=theta, phi=phi, bias=bias, k_y=y, k_z=z, tol=0.1 * rtol,
                      atol=atol, solver=solver)
            ok[0] &= bool(q.converged)
            sizes.append(q.scale)
            rows[i] = np.r_[q.value, q.error]
        return rows

    def scale_of(v):  # the larger of the window torque's scale and the sea's own size (the
        own = float(np.linalg.norm(v[:3]))  # total's), floored by the sea's round-off
        s_t = max(own, window_scale or 0.0, SEA_ROUNDOFF * float(np.mean(sizes)), 1e-300)
        scale["value"] = s_t                          # also the contour's tolerance per k
        return np.r_[[s_t] * 3, [1e3 * s_t] * 3]

    value, error, n_k, converged, sc = _two_pass(func, lengths, scale_of, rtol, max_points)
    error = np.maximum(error[:3], ZONE_ROUNDOFF * sc[0])
    return value[:3], error, np.abs(value[3:]), {"k_points": int(n_k),
                                                 "converged": bool(converged and ok[0])}


def _mp_window(ss, lo, hi, sign, theta, phi, bias, k_points):
    """Monkhorst–Pack zone average of the GK15 window (and the half grid's, for its error)."""
    from .quadrature import NODES, WG, WK

    energies = 0.5 * (lo + hi) + 0.5 * (hi - lo) * NODES
    wk, wg = 0.5 * (hi - lo) * WK * sign, 0.5 * (hi - lo) * WG * sign
    m = magnetization_direction(theta, phi)
    ly, lz = ss.size
    values = {}
    for half in (False, True):
        ny, nz = (k // 2 if half else k for k in k_points)
        grid = [(y, z) for y in _mp_grid(ny, ly * ss.a) for z in _mp_grid(nz, lz * ss.a)]
        acc = np.zeros((len(energies), 4))
        zone = ZoneBlocks(ss, theta=theta, phi=phi, bias=bias)
        for y, z in grid:
            acc += _observables(ss, zone.at(y, z).window(energies), ss.chain.free_bonds,
                                m) / len(grid)
        values[half] = acc
    full = values[False]
    return (wk @ full, np.abs(wk @ (full - values[True])), np.abs((wk - wg) @ full),
            int(np.prod(k_points)))


def _adaptive_window(ss, lo, hi, sign, theta, phi, bias, lengths, rtol, max_points,
                     linear=False):
    """Adaptive zone average of the adaptive energy integral (see :func:`supercell_window`);
    ``linear``: of the integrand at E_F = lo = hi (the V-derivative at V = 0, per volt)."""
    scale = {"value": None}
    n_res = [0]
    ok = [True]

    # before the zone's scale is known, a point's own values set its tolerance, floored at
    # the round-off of a window of open channels (2 L_y L_z of them, each ≤ 1 per eV): an
    # evanescent point (values ~1e-25) is not chased to its own relative precision
    floor = ZONE_ROUNDOFF * (hi - lo) * 2 * ss.size[0] * ss.size[1]

    def tolerance(value):  # per k: 0.1 rtol of the zone's scale (of its own values at first)
        if scale["value"] is not None:
            return 0.1 * rtol * scale["value"]
        s_j = abs(value[0])
        s_t = max(float(np.linalg.norm(value[1:])), TORQUE_FLOOR * s_j)
        return np.maximum(0.1 * rtol * np.r_[s_j, s_t, s_t, s_t], floor)

    zone = ZoneBlocks(ss, theta=theta, phi=phi, bias=bias)
    m = magnetization_direction(theta, phi)

    def func(ks):
        rows = np.zeros((len(ks), 8))
        if linear:  # one energy: the whole batch of momenta at once
            rows[:, :4] = _observables(ss, zone.window(ks, lo), ss.chain.free_bonds, m)
            return rows
        for i, (y, z) in enumerate(ks):
            q = window_k(zone.at(y, z), lo, hi, tolerance)
            n_res[0] += len(q.resonances)
            ok[0] &= bool(q.converged)
            rows[i] = np.r_[sign * q.value, q.error]
        return rows

    def scale_of(v):  # the current, and the torque's size with a floor of TORQUE_FLOOR
        s_j = max(abs(v[0]), 1e-300)  # of the current (a torque may vanish: collinear
        s_t = max(float(np.linalg.norm(v[1:4])), TORQUE_FLOOR * s_j)  # or near a node)
        scale["value"] = np.r_[s_j, s_t, s_t, s_t]   # also the energy tolerance per k
        return np.r_[scale["value"], 1e3 * scale["value"]]

    value, error, n_k, converged, sc = _two_pass(func, lengths, scale_of, rtol, max_points)
    s_j, s_t = sc[0], sc[1]
    extra = {"k_points": int(n_k), "resonances": n_res[0],
             "converged": bool(converged and ok[0]), "torque_scale": float(s_t)}
    # round-off: every value is a sum of terms of the current's and torque's scales
    error = np.maximum(error[:4], ZONE_ROUNDOFF * max(s_j, s_t))
    return value[:4], error, np.abs(value[4:]), extra


def supercell_point(junction, *, theta, phi=0.0, bias=None, parts="window", k_points=None,
                    configurations=None, seed=None, rtol=1e-2, max_points=20_000,
                    linear_response=False, executor="serial", store=None, progress=False):
    """Current and torque per area at T = 0 of a supercell junction, configuration-averaged.

    The window part: ∫ dE over [μ_R, μ_L] of the supercell Brillouin-zone average of the
    block-RGF observables (:class:`ZoneBlocks`, :func:`window_k`), divided by the supercell
    area; with ``parts="total"``/``"both"`` also the Fermi-sea torque filled to μ_R
    (:func:`mtj_kwant.supercell_sea.sea_k` per k).  The zone average is adaptive
    (:func:`zone_average`, to ``rtol`` of the point's current and torque scales) unless a
    fixed Monkhorst–Pack grid is asked for; the energy integral at each k is adaptive with
    the narrow resonances of the supercell located on the energy axis.  Averaged over
    ``configurations`` disorder realisations with seeds ``seed``, ``seed + 1``, …
    (defaults from the junction's ``[supercell]`` table), which are points of
    :func:`mtj_kwant.runner.run_points`: computed serially, on a process pool or a dask
    cluster (``executor``), and kept in a CSV ``store`` so that an interrupted run resumes
    by seed.

    Parameters
    ----------
    junction : Junction
        Tight binding, with or without a ``[supercell]`` table (size (1, 1) without).
    theta, phi : float
        Free-layer angles (rad).
    bias : float
        V (≠ 0); not needed with ``linear_response``.
    parts : {"window", "total", "both"}
        "total"/"both" add the Fermi sea (adaptive zone average, finite bias only).
    k_points : "adaptive" or (int, int), optional
        Default: the junction's ``[supercell] k_points`` ("adaptive" when absent).  A grid
        needs even numbers (its error compares with half of them).
    configurations, seed : int, optional
    rtol : float
        Relative tolerance of the zone average and (÷10) of each energy integral, of the
        point's current and of its torque's size (at least :data:`TORQUE_FLOOR` of the
        current, for a vanishing torque).
    max_points : int
        k points per zone average at most (then flagged not converged).
    linear_response : bool
        The V-derivative at V = 0 of the window part (per volt): the integrand at E_F.
    executor, store, progress
        As for :func:`mtj_kwant.runner.run_points` (default: serial, no store).

    Returns
    -------
    SupercellPoint

    Raises
    ------
    ValueError
        Bad ``k_points``, ``rtol`` or ``parts``; bias 0 or missing without
        ``linear_response``; a grid or linear response with the sea.

    Notes
    -----
    Per-area units as in :func:`mtj_kwant.integrate.bias_point`:
    J = (e/h) ∫ dE (L_y L_z a²)⁻¹ ⟨I(E, k)⟩_BZ, I the bond particle current (the
    transmission); a clean L × L supercell therefore equals the layered junction
    (DESIGN.md §3: ∫d²k∥/(2π)² = a⁻² ⟨·⟩_BZ) up to the zone average's error.  The reported
    error adds the standard error of the configuration mean, the zone average's error and
    the energy quadrature's, each averaged over the configurations.  Junctions whose free
    layer holds quasi-bound states in the window (states that cannot leave into the cap or
    electrode) give integrands with steps along curves of the zone: they converge slowly
    and are then reported not converged with their large error.
    """
    import functools

    from .runner import fingerprint_of, run_points

    from .scan import one_number

    theta, phi = one_number("theta", theta, "rad"), one_number("phi", phi, "rad")
    if bias is not None:
        bias = one_number("bias", bias, "V")
    if not linear_response and (bias is None or bias == 0):
        raise ValueError("bias must be nonzero (the window part vanishes at V = 0); for the "
                         "V-derivative at V = 0 use linear_response=True")
    settings, seeds = _settings(junction, theta, phi, parts, k_points, configurations, seed,
                                rtol, max_points, linear_response)
    settings["bias"] = 0.0 if linear_response else float(bias)
    rows = run_points(functools.partial(configuration_window, **settings),
                      [{"seed": s} for s in seeds], executor=executor, store=store,
                      fingerprint=fingerprint_of(settings), progress=progress,
                      desc="configurations")
    return _aggregate(junction, rows, seeds, settings)


def _settings(junction, theta, phi, parts, k_points, configurations, seed, rtol, max_points,
              linear_response):
    """Checked settings of :func:`configuration_window` (without the bias) and the seeds."""
    from .model import junction_to_dict

    cell = junction.supercell
    if k_points is None:
        k_points = cell.k_points if cell else "adaptive"
    if isinstance(k_points, str):
        if k_points != "adaptive":
            raise ValueError(f'k_points must be "adaptive" or two even numbers, got {k_points!r}')
        k_points = None
    else:
        k_points = tuple(int(n) for n in k_points)
        if len(k_points) != 2 or any(n < 2 or n % 2 for n in k_points):
            raise ValueError(f"k_points must be two even numbers >= 2 (the k-grid error uses "
                             f"half of them), got {list(k_points)}")
    if not 0 < rtol < 1:
        raise ValueError(f"rtol must be in (0, 1), got {rtol!r}")
    if parts not in ("window", "total", "both"):
        raise ValueError(f'parts must be "window", "total" or "both", got {parts!r}')
    sea = parts != "window"
    if sea and (k_points is not None or linear_response):
        raise ValueError('parts="total"/"both" needs the adaptive zone average at a finite '
                         'bias (k_points="adaptive", linear_response=False)')
    if linear_response and k_points is not None:
        raise ValueError('linear_response needs the adaptive zone average (k_points="adaptive")')
    configurations = int(configurations if configurations is not None else
                         (cell.configurations if cell else 1))
    if configurations < 1:
        raise ValueError(f"configurations must be >= 1, got {configurations}")
    seed = int(seed if seed is not None else (cell.seed if cell else 0))
    if not _disordered(junction):  # every seed gives the same clean supercell
        configurations = 1
    # the count and first seed are the points' business, not the settings': a store resumes
    # when configurations are added (its fingerprint does not change)
    data = junction_to_dict(junction)
    if "supercell" in data:
        data["supercell"] = {k: v for k, v in data["supercell"].items()
                             if k not in ("configurations", "seed")}
    settings = dict(junction=data, theta=float(theta), phi=float(phi),
                    k_points=None if k_points is None else list(k_points),
                    rtol=float(rtol), max_points=int(max_points),
                    linear_response=bool(linear_response), sea=sea)
    return settings, [seed + c for c in range(configurations)]


def _disordered(junction):
    return any(lay.disorder is not None and lay.disorder.active for lay in junction.layers)


def _aggregate(junction, rows, seeds, settings):
    """The :class:`SupercellPoint` of the configurations' rows of one bias."""
    sea = settings["sea"]
    names = ["current_density", "torque_x", "torque_y", "torque_z"]
    if sea:
        names += ["torque_sea_x", "torque_sea_y", "torque_sea_z"]
    vals = np.array([[r[n] for n in names] for r in rows])
    clean = not _disordered(junction)
    if sea:  # the total per configuration, so that its spread is the total's
        vals = np.c_[vals, vals[:, 1:4] + vals[:, 4:7]]
    mean = vals.mean(0)
    if len(rows) > 1:
        # the standard error, widened by Student's t for one standard deviation of coverage
        # (1.84 for 2 configurations, 1.32 for 3, 1.06 for 10): few configurations
        # underestimate the spread
        from scipy.stats import t as student

        conf = (vals.std(0, ddof=1) / np.sqrt(len(rows))
                * student.ppf(0.8413447460685429, len(rows) - 1))
        if not clean and np.all(vals == vals[0]):
            # every configuration drew the same pattern (a small supercell has few): the
            # spread says nothing about the disorder average
            import warnings

            warnings.warn(f"the {len(rows)} disorder configurations (seeds {seeds[0]}…"
                          f"{seeds[-1]}) gave identical results: a small supercell has few "
                          f"distinct patterns; no configuration error can be estimated (inf); "
                          f"use more configurations or a larger supercell", stacklevel=3)
            conf = np.full(vals.shape[1], np.inf)
    else:
        conf = np.zeros(vals.shape[1]) if clean else np.full(vals.shape[1], np.inf)
    k_err = np.array([[r[f"{n}_k_error"] for n in names] for r in rows]).mean(0)
    e_err = np.array([[r[f"{n}_energy_error"] for n in names] for r in rows]).mean(0)
    if sea:
        k_err = np.r_[k_err, k_err[1:4] + k_err[4:7]]
        e_err = np.r_[e_err, e_err[1:4] + e_err[4:7]]
    total = conf + k_err + e_err
    per = [{"seed": s, "current_density": float(v[0]), "torque": v[1:4],
            **({"torque_sea": v[4:7], "torque_total": v[7:10]} if sea else {})}
           for s, v in zip(seeds, vals)]
    cell = junction.supercell
    size = cell.size if cell is not None else (1, 1)
    errors = {"current_density": float(total[0]), "torque": total[1:4]}
    extra = {}
    if sea:
        errors.update(torque_sea=total[4:7], torque_total=total[7:10])
        extra = dict(torque_sea=mean[4:7], torque_total=mean[7:10])
    k_points = settings["k_points"]
    return SupercellPoint(
        current_density=float(mean[0]), torque=mean[1:4], errors=errors,
        parts={"configurations": conf, "k_grid": k_err, "energy": e_err},
        per_configuration=per, k_points=None if k_points is None else tuple(k_points),
        size=tuple(size), seeds=list(seeds), **extra,
        n_k=int(sum(r["k_points"] for r in rows)),
        resonances=int(sum(r["resonances"] for r in rows)),
        converged=bool(all(r["converged"] for r in rows)))


def _configuration_at(point, **settings):
    """:func:`configuration_window` of a point ``{"bias_V": V, "seed": s}`` (sweeps)."""
    return configuration_window({"seed": point["seed"]}, bias=float(point["bias_V"]),
                                **settings)


def supercell_sweep(junction, biases, *, theta, phi=0.0, parts="window", rtol=1e-2,
                    k_points=None, configurations=None, seed=None, max_points=20_000,
                    executor="serial", store=None, progress=False):
    """:func:`supercell_point` at several biases: every (bias, configuration) is one point
    of :func:`mtj_kwant.runner.run_points` (parallel over both, resumable from ``store``).

    At V = 0 the window part vanishes identically (μ_L = μ_R: zero with zero error); the
    Fermi sea (parts "total"/"both") is then the equilibrium torque, whose zone average is
    converged to ``rtol`` of its own size.

    Returns
    -------
    list of SupercellPoint
        One per bias, in the order given.
    """
    import functools

    from .runner import fingerprint_of, run_points

    settings, seeds = _settings(junction, theta, phi, parts, k_points, configurations, seed,
                                rtol, max_points, False)
    biases = [float(b) for b in biases]
    points = [{"bias_V": b, "seed": s} for b in biases for s in seeds]
    rows = run_points(functools.partial(_configuration_at, **settings), points,
                      executor=executor, store=store, fingerprint=fingerprint_of(settings),
                      progress=progress, desc="bias points x configurations")
    n = len(seeds)
    return [_aggregate(junction, rows[i * n:(i + 1) * n], seeds, settings)
            for i in range(len(biases))]


def supercell_window(junction, **kwargs):
    """The window part of :func:`supercell_point` (``parts="window"``)."""
    return supercell_point(junction, parts="window", **kwargs)
