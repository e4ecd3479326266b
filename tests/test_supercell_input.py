"""The file format of three-dimensional supercells (DESIGN.md §9): [supercell] and
[layer.disorder], validated in one line naming the key, round trips, parameter paths."""

import pytest

import mtj_kwant as mk
from mtj_kwant.model import (Disorder, JunctionError, Supercell, junction_from_dict,
                             junction_to_dict, junction_with)


def _tb(**top):
    data = junction_to_dict(mk.load_junction("tb_fif"))
    data.update(top)
    return data


def test_tables_are_read_and_round_trip():
    data = _tb(supercell={"size": [8, 8], "k_points": [16, 16], "configurations": 20,
                          "seed": 1})
    data["layer"][0]["disorder"] = {"onsite": 1.0, "interface_mixing": 0.2,
                                    "magnetic_tilt": 10.0}
    j = junction_from_dict(data)
    assert j.supercell == Supercell(size=(8, 8), k_points=(16, 16), configurations=20, seed=1)
    assert j.layers[0].disorder == Disorder(1.0, 0.2, 10.0) and j.layers[0].disorder.active
    again = junction_from_dict(junction_to_dict(j))
    assert again == j
    # defaults: a table with some keys
    data = _tb(supercell={"size": [2, 3]})
    j = junction_from_dict(data)
    assert j.supercell.size == (2, 3) and j.supercell.k_points == "adaptive"
    assert j.supercell.configurations == 1 and j.supercell.seed == 1
    # absent: None, and the dict has no table
    plain = mk.load_junction("tb_fif")
    assert plain.supercell is None and "supercell" not in junction_to_dict(plain)


@pytest.mark.parametrize("table, key", [
    ({"size": [0, 8]}, "supercell.size"),
    ({"size": [8]}, "supercell.size"),
    ({"size": [8.5, 8]}, "supercell.size"),
    ({"size": "8x8"}, "supercell.size"),
    ({"k_points": [16, -1]}, "supercell.k_points"),
    ({"k_points": [16, 15]}, "supercell.k_points"),
    ({"k_points": "auto"}, "supercell.k_points"),
    ({"configurations": 0}, "supercell.configurations"),
    ({"configurations": 2.5}, "supercell.configurations"),
    ({"seed": -1}, "supercell.seed"),
    ({"seed": True}, "supercell.seed"),
    ({"sizes": [8, 8]}, "supercell.sizes"),
])
def test_bad_supercell_names_the_key(table, key):
    with pytest.raises(JunctionError) as err:
        junction_from_dict(_tb(supercell=table))
    assert str(err.value).startswith(key) and "\n" not in str(err.value)


@pytest.mark.parametrize("table, key", [
    ({"onsite": -1.0}, "layer[0].disorder.onsite"),
    ({"onsite": "big"}, "layer[0].disorder.onsite"),
    ({"interface_mixing": 1.5}, "layer[0].disorder.interface_mixing"),
    ({"magnetic_tilt": 200.0}, "layer[0].disorder.magnetic_tilt"),
    ({"onsit": 1.0}, "layer[0].disorder.onsit"),
])
def test_bad_disorder_names_the_key(table, key):
    data = _tb(supercell={"size": [2, 2]})
    data["layer"][0]["disorder"] = table
    with pytest.raises(JunctionError) as err:
        junction_from_dict(data)
    assert str(err.value).startswith(key) and "\n" not in str(err.value)


def test_free_electron_junctions_refuse_supercells_and_disorder():
    data = junction_to_dict(mk.load_junction("fe_mgo_fe"))
    with pytest.raises(JunctionError, match="^supercell.*tight-binding"):
        junction_from_dict(dict(data, supercell={"size": [2, 2]}))
    data["layer"][0]["disorder"] = {"onsite": 0.5}
    with pytest.raises(JunctionError, match=r"^layer\[0\]\.disorder.*tight-binding"):
        junction_from_dict(data)


def test_disorder_needs_a_supercell_and_electrodes_are_clean():
    """No silent failure: a layered junction cannot carry disorder it would ignore, and the
    layered route refuses a supercell junction it would compute as laterally perfect."""
    from mtj_kwant.integrate import bias_point

    data = _tb()
    data["layer"][0]["disorder"] = {"onsite": 0.5}
    with pytest.raises(JunctionError, match=r"^layer\[0\]\.disorder: needs a \[supercell\]"):
        junction_from_dict(data)
    data = _tb(supercell={"size": [2, 2]})
    data["right"]["disorder"] = {"onsite": 0.5}
    with pytest.raises(JunctionError, match=r"^right\.disorder"):
        junction_from_dict(data)
    j = junction_from_dict(_tb(supercell={"size": [2, 2]}))
    with pytest.raises(JunctionError, match="^supercell: .* not by the layered route"):
        bias_point(mk.make_system(j), theta=1.0, bias=0.1)


def test_parameter_paths():
    """Scans vary disorder and supercell settings by path (the tables are created)."""
    j = junction_with(mk.load_junction("tb_fif"), {"supercell.size": [4, 4],
                                                   "layer[0].disorder.onsite": 0.5})
    assert j.layers[0].disorder == Disorder(onsite=0.5)
    assert j.supercell.size == (4, 4)
    with pytest.raises(JunctionError, match="sub-keys"):
        junction_with(j, {"layer[0].thickness.x": 1})


def test_supercell_system_reads_the_file_tables():
    """make_supercell_system takes size, seed and disorder from the junction's tables (the
    same arrays as given explicitly)."""
    import numpy as np

    from mtj_kwant.supercell import make_supercell_system

    data = _tb(supercell={"size": [2, 3], "seed": 5})
    data["layer"][0]["disorder"] = {"onsite": 0.5, "interface_mixing": 0.3}
    j = junction_from_dict(data)
    ss = make_supercell_system(j)
    assert ss.size == (2, 3) and ss.seed == 5
    explicit = make_supercell_system(j, (2, 3), seed=5,
                                     disorder={0: {"onsite": 0.5, "interface_mixing": 0.3}})
    assert np.array_equal(ss.onsite, explicit.onsite)
    assert not np.array_equal(ss.onsite, make_supercell_system(j, seed=6).onsite)


def test_cli_refuses_a_supercell_junction_in_one_line(tmp_path, capsys):
    from mtj_kwant.cli import main

    path = tmp_path / "sc.toml"
    path.write_text(
        'model = "tight-binding"\nfermi_energy = -2.5\nhopping = 1.0\nlattice_constant = 0.3\n'
        "[supercell]\nsize = [2, 2]\n[left]\npotential = 0.0\nexchange = 1.0\n"
        "magnetization = [0, 0, 1]\n[[layer]]\nkind = \"barrier\"\nthickness = 4\n"
        "potential = 4.5\n[right]\npotential = 0.0\nexchange = 1.0\nfree = true\n")
    # sweeps compute it (tests/test_supercell_sweep.py); profiles and scans refuse it
    code = main(["profile", str(path), "--bias", "0.1", "--output", str(tmp_path / "o.json")])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert err.count("\n") == 1 and "supercell" in err
