"""Scans: executors give identical results, junction parameters vary, tables round-trip."""

import json
import math

import numpy as np
import pytest

import mtj_kwant as mk
from mtj_kwant.model import junction_with
from mtj_kwant.scan import scan

from .conftest import SYSTEMS

FIFN = SYSTEMS / "fifn_2nm.toml"
BIASES = [-0.3, -0.1, 0.2, 0.4]


def test_sweep_on_a_dask_cluster_equals_the_serial_sweep():
    """The same call runs on dask.distributed through Client.get_executor(), bit for bit."""
    distributed = pytest.importorskip("distributed")
    serial = mk.sweep(FIFN, BIASES, parts="both", executor="serial", progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            remote = mk.sweep(FIFN, BIASES, parts="both", executor=client.get_executor(),
                              progress=False)
    for key in ("current_density", "torque_inplane_window", "torque_outofplane_total",
                "interfacial_inplane_window"):
        assert getattr(remote, key) == getattr(serial, key), key
    assert remote.errors == serial.errors


def test_process_pool_scan_equals_serial_scan():
    kw = dict(bias=[0.1, 0.3], theta=[math.radians(60), math.radians(120)], progress=False)
    a = scan(FIFN, executor="serial", **kw)
    b = scan(FIFN, executor=2, **kw)
    assert a.columns == b.columns


def test_varying_a_junction_parameter_equals_separate_runs(tmp_path):
    """vary={"layer[1].thickness": ...} is the same as building each junction by hand."""
    junction = mk.load_junction(FIFN)
    thick = [1.0, 1.5]
    table = scan(junction, bias=[0.2], vary={"layer[1].thickness": thick}, parts="total",
                 executor="serial", progress=False)
    assert table.parameters == ["bias_V", "theta_deg", "phi_deg", "temperature_K",
                                "layer[1].thickness"]
    assert list(table["layer[1].thickness"]) == thick
    for d, value in zip(thick, table["torque_outofplane_total"]):
        alone = mk.sweep(junction_with(junction, {"layer[1].thickness": d}), [0.2],
                         parts="total", executor="serial", progress=False)
        assert alone.torque_outofplane_total[0] == value
    assert table["torque_outofplane_total"][0] != table["torque_outofplane_total"][1]
    path = table.save(tmp_path / "t.csv")
    pd = pytest.importorskip("pandas")
    frame = pd.read_csv(path)
    assert np.array_equal(frame["torque_outofplane_total"], table["torque_outofplane_total"])
    again = mk.ScanResult.load(table.save(tmp_path / "t.json"))
    assert again.columns == table.columns


def test_scan_orders_points_with_bias_fastest():
    table = scan(FIFN, bias=[0.1, 0.2], theta=[0.5, 1.0], executor="serial", progress=False)
    assert list(table["bias_V"]) == [0.1, 0.2, 0.1, 0.2]
    assert list(table["theta_deg"]) == [round(math.degrees(t), 10) for t in (0.5, 0.5, 1.0, 1.0)]


def test_bad_parameter_path_fails_before_any_work():
    with pytest.raises(mk.JunctionError, match=r"layer\[9\]\.thickness: the junction has"):
        scan(FIFN, vary={"layer[9].thickness": [1.0]}, progress=False)


def test_barrier_asymmetry_scan_with_edge_pairs():
    """Trapezoidal barriers as [left, right] pairs: the linear T⊥ term follows the slope sign."""
    edges = [[3.47, 3.77], [3.62, 3.62], [3.77, 3.47]]
    table = scan(SYSTEMS / "fe_mgo_fe.toml", bias=[-0.1, 0.1], vary={"layer[0].potential": edges},
                 parts="total", executor="serial", progress=False)
    assert list(table["layer[0].potential"])[::2] == [json.dumps(e) for e in edges]
    t = np.asarray(table["torque_outofplane_total"]).reshape(3, 2)
    odd = (t[:, 1] - t[:, 0]) / 0.2  # b1 estimate per junction
    assert odd[0] > 0 > odd[2] and abs(odd[1]) < 1e-3 * abs(odd[0])
    with pytest.raises(ValueError, match=r"layer\[0\]\.potential: values must be numbers"):
        scan(SYSTEMS / "fe_mgo_fe.toml", vary={"layer[0].potential": [{"a": 1}]}, progress=False)


def test_kwant_solver_says_in_the_result_that_the_sea_is_batched():
    """solver="kwant" computes the Fermi sea with the batched solver: the Python API says so
    in provenance["notes"] (and warns once, SolverNote), as the command line does (6 s)."""
    import warnings

    from mtj_kwant.model import Electrode, Junction, Layer
    from mtj_kwant.scan import KWANT_SEA_NOTE, SolverNote, solver_notes

    junction = Junction(name="small", fermi_energy=0.1, lattice_spacing=0.05,
                        left=Electrode(potential=0.0, exchange=0.2, magnetization=(0, 0, 1)),
                        layers=[Layer(kind="barrier", thickness=0.5, potential=1.1)],
                        right=Electrode(potential=0.0, exchange=0.2, free=True))
    with pytest.warns(SolverNote, match="computed with the batched Green's-function solver"):
        result = mk.sweep(junction, [0.02], parts="both", solver="kwant", progress=False,
                          executor="serial")  # through mk.scan, whose table carries the note
    assert result.provenance["notes"] == [KWANT_SEA_NOTE]
    with warnings.catch_warnings():
        warnings.simplefilter("error", SolverNote)  # window only: Kwant did everything
        window = mk.sweep(junction, [0.02], solver="kwant", progress=False, executor="serial")
        assert solver_notes("batched", "both") == [] and solver_notes("kwant", "window") == []
    assert "notes" not in window.provenance
    with pytest.warns(SolverNote):
        assert solver_notes("kwant", "total") == [KWANT_SEA_NOTE]
