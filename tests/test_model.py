"""Junction files and Python-built junctions: validation and messages (DESIGN.md §2)."""

import math
import textwrap

import numpy as np
import pytest

from mtj_kwant.model import (Electrode, Junction, JunctionError, JunctionWarning, Layer,
                             load_junction)

from .conftest import SYSTEMS, fif, fifn

GOOD = textwrap.dedent("""\
    name = "t"
    model = "free-electron"
    fermi_energy = 3.0
    lattice_spacing = 0.025

    [left]
    potential = 0.0
    exchange = 2.0
    magnetization = [0, 0, 2]

    [[layer]]
    kind = "barrier"
    thickness = 0.5
    potential = 4.0

    [[layer]]
    kind = "metal"
    thickness = 1.0
    potential = 0.0
    exchange = 2.0
    free = true

    [right]
    potential = 0.0
    exchange = 0.0
    """)


def write(tmp_path, text, name="j.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_good_file_loads_and_normalises(tmp_path):
    j = load_junction(write(tmp_path, GOOD))
    assert j.left.magnetization == (0.0, 0.0, 1.0)
    assert j.free_index == 1
    assert j.transverse_separable
    chain = j.chain(pad=2)
    assert chain.n_sites == 2 + 20 + 40 + 2
    # cell-centre positions x_j = (j + 1/2) a from the left edge of the first layer
    assert chain.x[2] == pytest.approx(0.0125)
    assert chain.free.sum() == 40


@pytest.mark.parametrize("path", sorted(SYSTEMS.glob("*.toml")), ids=lambda p: p.stem)
def test_bundled_systems_load(path):
    j = load_junction(path)
    assert j.name and j.source == str(path)


BAD = [
    ("syntax", GOOD.replace("fermi_energy = 3.0", "fermi_energy = = 3"), "TOML syntax error"),
    ("unknown top", "fermi = 1\n" + GOOD, r"fermi: unknown key; did you mean 'fermi_energy'\?"),
    ("unknown layer key", GOOD.replace('kind = "barrier"', 'kind = "barrier"\nthicknes = 1'),
     r"layer\[0\]\.thicknes: unknown key; did you mean 'thickness'\?"),
    ("missing key", GOOD.replace("fermi_energy = 3.0\n", ""), r"fermi_energy: missing \(required\)"),
    ("missing layer key", GOOD.replace("thickness = 0.5\n", ""),
     r"layer\[0\]\.thickness: missing \(required\)"),
    ("zero thickness", GOOD.replace("thickness = 0.5", "thickness = 0"),
     r"layer\[0\]\.thickness: must be positive, got 0"),
    ("negative thickness", GOOD.replace("thickness = 0.5", "thickness = -1.0"),
     r"layer\[0\]\.thickness: must be positive"),
    ("fractional thickness", GOOD.replace("thickness = 0.5", "thickness = 0.52"),
     r"layer\[0\]\.thickness: 0\.52 nm is not a whole number of lattice steps "
     r"\(lattice_spacing = 0\.025 nm\); lattice_spacing = 0\.02 would fit"),
    ("zero magnetization", GOOD.replace("[0, 0, 2]", "[0, 0, 0]"),
     r"left\.magnetization: the zero vector has no direction"),
    ("short magnetization", GOOD.replace("[0, 0, 2]", "[0, 1]"),
     r"left\.magnetization: expected a list of three numbers"),
    ("nan", GOOD.replace("fermi_energy = 3.0", "fermi_energy = nan"),
     r"fermi_energy: must be a finite number"),
    ("inf", GOOD.replace("exchange = 2.0\nmagnetization", "exchange = inf\nmagnetization"),
     r"left\.exchange: must be a finite number"),
    ("no free", GOOD.replace("free = true\n", ""), r"free: no free element; set free = true"),
    ("two free", GOOD + "free = true\n", r"free: exactly one free element allowed, found layer\[1\], right"),
    ("no barrier", GOOD.replace('kind = "barrier"', 'kind = "metal"'),
     r'layer: at least one layer with kind = "barrier" is needed'),
    ("bad kind", GOOD.replace('kind = "barrier"', 'kind = "insulator"'),
     r"layer\[0\]\.kind: must be one of 'barrier', 'metal', got 'insulator'"),
    ("wrong type", GOOD.replace("potential = 4.0", 'potential = "high"'),
     r"layer\[0\]\.potential: expected a number, got str 'high'"),
    ("bool as number", GOOD.replace("fermi_energy = 3.0", "fermi_energy = true"),
     r"fermi_energy: expected a number, got bool"),
    ("free not bool", GOOD.replace("free = true", "free = 1"), r"layer\[1\]\.free: expected true or false"),
    ("layer not a table", GOOD.replace("[[layer]]\nkind = \"barrier\"\nthickness = 0.5\npotential = 4.0\n", "")
     .replace("[[layer]]", "layer = 3\n[[layerx]]"), r"layer"),
    ("bad model", GOOD.replace('"free-electron"', '"dft"'), r"model: must be one of 'free-electron', 'tight-binding'"),
    ("negative exchange", GOOD.replace("exchange = 2.0\nfree", "exchange = -1.0\nfree"),
     r"layer\[1\]\.exchange: must be >= 0"),
    ("tb key in fe", "hopping = 1.0\n" + GOOD, r"hopping: only for model = \"tight-binding\"; remove it"),
    ("magnetization on free", GOOD.replace("free = true", "free = true\nmagnetization = [1, 0, 0]"),
     r"layer\[1\]\.magnetization: the free layer's direction is set by theta/phi"),
    ("free left", GOOD.replace("magnetization = [0, 0, 2]", "magnetization = [0, 0, 2]\nfree = true"),
     r"left\.free: the left electrode is the pinned layer"),
    ("missing pinned direction", GOOD.replace("magnetization = [0, 0, 2]\n", ""),
     r"left\.magnetization: missing; give the pinned direction p"),
    ("trapezoid length", GOOD.replace("potential = 4.0", "potential = [4.0, 4.5, 5.0]"),
     r"layer\[0\]\.potential: give one number or \[left_edge, right_edge\]"),
]


@pytest.mark.parametrize("text, match", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_files_name_file_key_and_fix(tmp_path, text, match):
    path = write(tmp_path, text)
    with pytest.raises(JunctionError, match=match) as info:
        load_junction(path)
    message = str(info.value)
    assert message.startswith(str(path)), "the message names the file"
    assert "\n" not in message.strip() or "TOML" in message


def test_missing_file(tmp_path):
    with pytest.raises(JunctionError, match=r"nope\.toml: no such junction file"):
        load_junction(tmp_path / "nope.toml")


def test_tight_binding_needs_hopping():
    with pytest.raises(JunctionError, match=r'hopping: missing; required for model = "tight-binding"'):
        Junction(model="tight-binding", fermi_energy=-2.0, lattice_constant=0.3,
                 left=Electrode(potential=0, exchange=1, magnetization=(0, 0, 1)),
                 layers=[Layer(kind="barrier", thickness=3, potential=5.0)],
                 right=Electrode(potential=0, exchange=1, free=True))


def test_tight_binding_whole_monolayers():
    with pytest.raises(JunctionError, match=r"layer\[0\]\.thickness: 2\.5 is not a whole number of monolayers"):
        Junction(model="tight-binding", fermi_energy=-2.0, hopping=1.0, lattice_constant=0.3,
                 left=Electrode(potential=0, exchange=1, magnetization=(0, 0, 1)),
                 layers=[Layer(kind="barrier", thickness=2.5, potential=5.0)],
                 right=Electrode(potential=0, exchange=1, free=True))


def test_free_layer_left_of_barrier_is_rejected():
    with pytest.raises(JunctionError, match=r"layer\[0\]\.free: the free layer must lie to the right"):
        Junction(fermi_energy=3.0, lattice_spacing=0.05,
                 left=Electrode(potential=0, exchange=1, magnetization=(0, 0, 1)),
                 layers=[Layer(kind="metal", thickness=0.5, exchange=1.0, free=True),
                         Layer(kind="barrier", thickness=0.5, potential=4.0)],
                 right=Electrode(potential=0, exchange=0))


def test_warns_for_barrier_below_fermi_energy():
    with pytest.warns(JunctionWarning, match=r"layer\[0\]: barrier band bottom 2 eV lies below the Fermi energy 3 eV"):
        fif(potential=2.0)


def test_warns_for_coarse_lattice():
    with pytest.warns(JunctionWarning, match=r"lattice_spacing: the discretised band deviates .* use a smaller"):
        fif(spacing=0.05)


def test_default_spacing_divides_and_is_fine_enough():
    j = Junction(fermi_energy=2.62, left=Electrode(potential=0, exchange=3.86, magnetization=(0, 0, 1)),
                 layers=[Layer(kind="barrier", thickness=0.9, potential=3.62)],
                 right=Electrode(potential=0, exchange=3.86, free=True))
    assert j.lattice_spacing is None and j.continuum  # no step given: the continuum limit
    a = j.step
    assert (0.9 / a) == pytest.approx(round(0.9 / a))
    assert j._band_deviation(a) <= 0.01


def test_python_profile_function_and_trapezoid_agree():
    """A barrier given as a function of position equals the same trapezoid."""
    trap = fifn()
    layers = list(trap.layers)
    layers[0] = Layer(kind="barrier", thickness=0.4, potential=(3.8, 4.2))
    a = trap.replace(layers=layers)
    layers[0] = Layer(kind="barrier", thickness=0.4, potential=lambda x: 3.8 + 0.4 * x / 0.4)
    b = trap.replace(layers=layers)
    np.testing.assert_allclose(a.chain().onsite0, b.chain().onsite0, rtol=1e-14)


def test_bias_profile_follows_design():
    """+1/2 left of the barrier stack, −1/2 right, linear inside (DESIGN.md §1, §3)."""
    j = fifn(spacing=0.025)
    c = j.chain(pad=2)
    barrier = c.layer_index == 0
    assert np.all(c.bias_profile[:2] == 0.5) and np.all(c.bias_profile[~barrier][2:] == -0.5)
    xs = c.x[barrier]
    np.testing.assert_allclose(c.bias_profile[barrier], 0.5 - xs / 0.4)
    tb = Junction(model="tight-binding", fermi_energy=-2.0, hopping=1.0, lattice_constant=0.3,
                  left=Electrode(potential=0, exchange=1, magnetization=(0, 0, 1)),
                  layers=[Layer(kind="barrier", thickness=3, potential=5.0)],
                  right=Electrode(potential=0, exchange=1, free=True))
    ctb = tb.chain(pad=2)
    np.testing.assert_allclose(ctb.bias_profile[2:5], [0.5 - j / 4 for j in (1, 2, 3)])


def test_junctions_are_immutable():
    j = fif()
    with pytest.raises(AttributeError):
        j.fermi_energy = 1.0
    assert math.isclose(j.replace(fermi_energy=2.5).fermi_energy, 2.5)


TB_GOOD = textwrap.dedent("""\
    name = "tb"
    model = "tight-binding"
    fermi_energy = -2.0
    hopping = 1.0
    lattice_constant = 0.3

    [left]
    potential = 0.0
    exchange = 1.0
    magnetization = [0, 0, 1]

    [[layer]]
    kind = "barrier"
    thickness = 3
    potential = 5.0

    [right]
    potential = 0.0
    exchange = 1.0
    free = true
    """)

# Every key of one model is an error in a file of the other, with the same wording
# (issue 11, item 7): the key, the model it belongs to, "remove it" and this file's model.
OTHER_MODEL = [
    ("fe: hopping", GOOD, "hopping = 1.0\n", "", "hopping", "tight-binding"),
    ("fe: lattice_constant", GOOD, "lattice_constant = 0.3\n", "", "lattice_constant",
     "tight-binding"),
    ("fe: layer hopping", GOOD, "", ("potential = 4.0", "potential = 4.0\nhopping = 1.0"),
     r"layer\[0\]\.hopping", "tight-binding"),
    ("fe: layer interface_hopping", GOOD, "",
     ("potential = 4.0", "potential = 4.0\ninterface_hopping = 1.0"),
     r"layer\[0\]\.interface_hopping", "tight-binding"),
    ("fe: electrode hopping", GOOD, "",
     ("magnetization = [0, 0, 2]", "magnetization = [0, 0, 2]\nhopping = 1.0"),
     r"left\.hopping", "tight-binding"),
    ("tb: effective_mass", TB_GOOD, "effective_mass = 0.4\n", "", "effective_mass",
     "free-electron"),
    ("tb: effective_mass = 1", TB_GOOD, "effective_mass = 1.0\n", "", "effective_mass",
     "free-electron"),
    ("tb: layer effective_mass", TB_GOOD, "",
     ("potential = 5.0", "potential = 5.0\neffective_mass = 0.4"),
     r"layer\[0\]\.effective_mass", "free-electron"),
    ("tb: electrode effective_mass", TB_GOOD, "",
     ("free = true", "free = true\neffective_mass = 0.4"), r"right\.effective_mass",
     "free-electron"),
    ("tb: lattice_spacing", TB_GOOD, "lattice_spacing = 0.1\n", "", "lattice_spacing",
     "free-electron"),
]


@pytest.mark.parametrize("base, prefix, change, key, model",
                         [c[1:] for c in OTHER_MODEL], ids=[c[0] for c in OTHER_MODEL])
def test_keys_of_the_other_model_are_errors(tmp_path, base, prefix, change, key, model):
    text = prefix + (base.replace(*change) if change else base)
    this = "free-electron" if base is GOOD else "tight-binding"
    path = write(tmp_path, text)
    with pytest.raises(JunctionError) as info:
        load_junction(path)
    message = str(info.value)
    assert message == (f'{path}: {key.replace(chr(92), "")}: only for model = "{model}"; '
                       f'remove it (this junction has model = "{this}")')


def test_tight_binding_junctions_carry_no_effective_mass(tmp_path):
    """The tight-binding file without the free-electron keys loads, with no mass set."""
    j = load_junction(write(tmp_path, TB_GOOD))
    assert j.effective_mass is None
    assert load_junction(write(tmp_path, GOOD)).effective_mass == 1.0  # free-electron default


def test_tight_binding_results_saved_with_the_old_default_mass_reload():
    """Result files written before the rule carry effective_mass = 1.0 for tight binding."""
    from mtj_kwant.model import junction_from_dict, junction_to_dict

    tables = junction_to_dict(Junction(
        model="tight-binding", fermi_energy=-2.0, hopping=1.0, lattice_constant=0.3,
        left=Electrode(potential=0, exchange=1, magnetization=(0, 0, 1)),
        layers=[Layer(kind="barrier", thickness=3, potential=5.0)],
        right=Electrode(potential=0, exchange=1, free=True)))
    assert "effective_mass" not in tables
    assert junction_from_dict(dict(tables, effective_mass=1.0)).effective_mass is None
    with pytest.raises(JunctionError, match=r'effective_mass: only for model = "free-electron"'):
        junction_from_dict(dict(tables, effective_mass=0.5))


def test_utf8_byte_order_mark_is_accepted(tmp_path):
    """Some editors write a UTF-8 BOM; it gave 'Invalid statement (line 1, column 1)'."""
    plain = load_junction(write(tmp_path, GOOD, "plain.toml"))
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode("utf-8"))
    assert load_junction(path) == plain


@pytest.mark.parametrize("data, match", [
    ("\ufeff".encode("utf-16-le") + GOOD.encode("utf-16-le"),
     r"the file is UTF-16 text; TOML files are UTF-8: save it as UTF-8"),
    (GOOD.encode("utf-8").replace(b'"t"', b'"\xe9t\xe9"'),
     r"line 1: not UTF-8 text \(byte 0xe9\); TOML files are UTF-8: save it as UTF-8"),
], ids=["utf-16", "latin-1"])
def test_files_that_are_not_utf8_say_so(tmp_path, data, match):
    path = tmp_path / "enc.toml"
    path.write_bytes(data)
    with pytest.raises(JunctionError, match=match) as info:
        load_junction(path)
    assert str(info.value).startswith(f"{path}: ")


@pytest.mark.filterwarnings("ignore::mtj_kwant.model.JunctionWarning")  # coarse a on purpose
def test_free_electron_chain_is_the_bendaniel_duke_lattice_with_the_mean_mass():
    """The Kwant Hamiltonian of a junction with four masses, against DESIGN.md §3 by hand.

    Sites at x_j = (j + ½) a (two electrode sites outside the layers at each end); bond
    hopping −ħ²/(2 m_{j+½} a²) with m_{j+½} = (m_j + m_{j+1})/2 (the arithmetic mean of the
    masses: the second-order rule; the inverse-mass mean 2/(1/m_j + 1/m_{j+1}) differs by
    (m_j − m_{j+1})²/(4 m_j m_{j+1}) of the hopping, 23 % at a 1/0.4 step); spin-averaged
    onsite U_j + t_{j−½} + t_{j+½} + ħ²k∥²/(2 m_j); exchange −(Δ_j/2) m_j·σ; the leads'
    hopping ħ²/(2 m a²) of their own mass.  ħ²/(2 m_e) from CODATA (scipy.constants).
    Exact up to round-off (1e-12 relative).
    """
    from scipy import constants as sc

    from mtj_kwant.system import make_system

    c = sc.hbar**2 / (2 * sc.m_e) / sc.e * 1e18  # eV nm²
    a = 0.05
    j = Junction(name="four masses", fermi_energy=3.0, lattice_spacing=a,
                 left=Electrode(potential=0.0, exchange=2.0, magnetization=(0, 0, 1),
                                effective_mass=1.0),
                 layers=[Layer(kind="barrier", thickness=0.15, potential=4.0,
                               effective_mass=0.4),
                         Layer(kind="metal", thickness=0.1, potential=0.3, exchange=1.5,
                               effective_mass=0.7, free=True)],
                 right=Electrode(potential=-0.5, exchange=0.0, effective_mass=1.2))
    # by hand: 2 left-electrode sites, 3 barrier, 2 free-layer, 2 cap sites
    mass = np.array([1.0, 1.0, 0.4, 0.4, 0.4, 0.7, 0.7, 1.2, 1.2])
    pot = np.array([0.0, 0.0, 4.0, 4.0, 4.0, 0.3, 0.3, -0.5, -0.5])
    delta = np.array([2.0, 2.0, 0.0, 0.0, 0.0, 1.5, 1.5, 0.0, 0.0])
    x = (np.arange(9) - 2 + 0.5) * a
    hop = c / (0.5 * (mass[:-1] + mass[1:]) * a * a)
    t_ext = np.r_[c / (1.0 * a * a), hop, c / (1.2 * a * a)]  # the leads' bonds at the ends
    theta, k_par = 1.2, 1.7
    eps = c * k_par**2
    onsite = pot + t_ext[:-1] + t_ext[1:] + eps / mass

    js = make_system(j)
    np.testing.assert_allclose(js.chain.x, x, rtol=0, atol=1e-12)
    p = js.params(theta=theta, phi=0.0, bias=0.0, eps_par=eps)
    h = js.hamiltonian(p).reshape(9, 2, 9, 2).transpose(0, 2, 1, 3)  # [i, j] = 2×2 block
    idx = np.arange(9)
    np.testing.assert_allclose(h[idx[1:], idx[:-1]], -hop[:, None, None] * np.eye(2),
                               rtol=1e-12, atol=0)
    blocks = h[idx, idx]
    np.testing.assert_allclose(np.trace(blocks, axis1=1, axis2=2).real / 2, onsite, rtol=1e-12)
    sz = (blocks[:, 0, 0] - blocks[:, 1, 1]).real / 2  # −(Δ/2) m_z
    m_z = np.where(js.chain.free, math.cos(theta), 1.0)
    np.testing.assert_allclose(sz, -delta / 2 * m_z, rtol=0, atol=1e-12)
    lead_hops = [js.fsyst.leads[k].inter_cell_hopping(params=p) for k in (0, 1)]
    np.testing.assert_allclose([abs(t[0, 0]) for t in lead_hops], t_ext[[0, -1]], rtol=1e-12)


def test_bundled_junctions_by_name(tmp_path, monkeypatch):
    """Bare names find the bundled files (with or without .toml); a local file of the same
    bare name does not shadow them silently (a warning says how to address it), a folder
    never does; a path (./name) is always the path; misspellings get a hint."""
    import warnings

    from mtj_kwant.model import BUNDLED_DIR, JunctionWarning, bundled_junctions, junction_path

    monkeypatch.chdir(tmp_path)
    names = bundled_junctions()
    assert {"fe_mgo_fe", "fifn_2nm", "tb_fif"} <= set(names)
    assert junction_path("fe_mgo_fe") == BUNDLED_DIR / "fe_mgo_fe.toml"
    assert junction_path("fe_mgo_fe.toml") == BUNDLED_DIR / "fe_mgo_fe.toml"
    (tmp_path / "fifn_2nm").mkdir()
    assert junction_path("fifn_2nm") == BUNDLED_DIR / "fifn_2nm.toml"
    (tmp_path / "fe_mgo_fe").write_text((BUNDLED_DIR / "tb_fif.toml").read_text())
    with pytest.warns(JunctionWarning, match=r"write \./fe_mgo_fe for that file"):
        assert junction_path("fe_mgo_fe") == BUNDLED_DIR / "fe_mgo_fe.toml"
    (tmp_path / "fe_mgo_fe").unlink()
    (tmp_path / "fe_mgo_fe.toml").write_text((BUNDLED_DIR / "tb_fif.toml").read_text())
    with pytest.warns(JunctionWarning, match=r"write \./fe_mgo_fe\.toml for that file"):
        assert junction_path("fe_mgo_fe") == BUNDLED_DIR / "fe_mgo_fe.toml"
    assert junction_path("fe_mgo_fe.toml").resolve() == tmp_path / "fe_mgo_fe.toml"
    (tmp_path / "fe_mgo_fe").write_text((BUNDLED_DIR / "tb_fif.toml").read_text())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_junction("./fe_mgo_fe").model == "tight-binding"
        (tmp_path / "mine.toml").write_text((BUNDLED_DIR / "tb_fif.toml").read_text())
        assert load_junction("mine.toml").model == "tight-binding"
    for wrong in ("fe_mgo_fx", "fe_mgo_fx.toml"):
        with pytest.raises(JunctionError, match=r"did you mean 'fe_mgo_fe'\?"):
            load_junction(wrong)
