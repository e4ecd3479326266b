"""One results layer: strict JSON with one NaN policy, status and message, load_result by kind,
files of the previous version, and the Options validated once by every entry point."""

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest

import mtj_kwant as mk
from mtj_kwant.comparison import Comparison, compare
from mtj_kwant.options import MIN_RTOL, Options, OptionsError
from mtj_kwant.results import (
    NOT_CONVERGED,
    SUCCESS,
    dumps,
    jsonable,
    load_result,
    provenance,
    read_json,
    restore_numbers,
)
from mtj_kwant.scan import ScanResult
from mtj_kwant.study import StudyContext
from mtj_kwant.sweep import ConductanceResult, ProfileResult, SweepResult

from .conftest import SYSTEMS

NAN, INF = math.nan, math.inf


def strict(text):
    """Parse JSON, failing on the non-standard constants NaN, Infinity, -Infinity."""
    return json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON {c}"))


def same(a, b):
    """Equal, with NaN equal to NaN (nested lists and dicts)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return a == b and type(a) is type(b)


def assert_round_trip(result, tmp_path):
    """save → file is strict JSON with the kind → load and load_result give the same data."""
    path = result.save(tmp_path / f"{result.kind}.json")
    data = strict(path.read_text(encoding="utf-8"))
    assert data["kind"] == result.kind and data["status"] == result.status
    for again in (type(result).load(path), load_result(path)):
        assert type(again) is type(result)
        for f in dataclasses.fields(result):
            assert same(getattr(again, f.name), getattr(result, f.name)), f.name
        assert again.to_dict() == result.to_dict()
    return data


def sweep_result(**kw):
    data = dict(bias_V=[-0.1, 0.0, 0.1], theta_deg=90.0, phi_deg=0.0, temperature_K=4.0,
                current_density=[-1e8, NAN, 1e8], torque_inplane_window=[INF, 0.0, -INF],
                torque_outofplane_window=[1.0, 2.0, 3.0],
                errors={"current_density": [1.0, NAN, 1.0], "torque_inplane_window": [],
                        "torque_outofplane_window": [INF, 0.0, 0.0]},
                converged=[True, True, True], n_eval=[10, 20, 30], parts="both",
                junction={"name": "x", "layer": [{"kind": "barrier", "thickness": 1.0}]},
                provenance={"mtj_kwant": "0.1.0", "notes": ["a note"]},
                torque_vector_window=[[0.0, NAN, 1.0], [INF, 0.0, 0.0], [0.0, 0.0, 0.0]],
                interfacial_inplane_window=[], interfacial_outofplane_window=[],
                torque_inplane_total=[1.0, NAN, 3.0], torque_outofplane_total=[NAN, NAN, NAN],
                torque_inplane_sea=[], torque_outofplane_sea=[], torque_vector_total=None,
                lattice_errors={"current_density": [0.0, NAN, -INF]},
                lattice_spacing_nm=[0.01, 0.01, 0.005])
    data.update(kw)
    return SweepResult(**data)


def profile_result(**kw):
    data = dict(bias_V=0.1, theta_deg=60.0, phi_deg=0.0, temperature_K=0.0, parts="both",
                x_nm=[0.0, 0.1], spin_density=[[0.0, NAN, 1.0], [INF, 0.0, 0.0]],
                bond_x_nm=[0.05], spin_current=[[1.0, 2.0, -INF]], torque_density=[[], []],
                current_density=[1e8], free_sites=[False, True], torque=[0.0, 1.0, NAN],
                torque_inplane=NAN, torque_outofplane=INF,
                errors={"torque": [NAN, 0.0, 1.0], "spin_density": 0.5},
                converged=False, window={"spin_density": [[NAN, 0, 0]], "torque_remainder": []},
                sea=None, error_arrays={"spin_current": [[INF, 0.0, 0.0]]},
                lattice_spacing_nm=None, lattice_note="note", torque_remainder=[0.0, 0.0, NAN],
                free_depth_nm=None, depth_note="")
    data.update(kw)
    return ProfileResult(**data)


def conductance_result(**kw):
    data = dict(G_P=1e9, G_AP=0.0, TMR=INF, errors={"G_P": 1.0, "G_AP": 1.0, "TMR": NAN},
                lattice_errors={}, TMR_lower_bound=1e8, method="linear response",
                temperature_K=0.0, message="G_AP is zero within its error")
    data.update(kw)
    return ConductanceResult(**data)


def scan_result(**kw):
    columns = {"bias_V": [0.1, 0.2], "theta_deg": [90.0, 90.0], "phi_deg": [0.0, 0.0],
               "temperature_K": [0.0, 0.0], "layer[0].potential": ["[3.0, 3.5]", "[3.0, 3.5]"],
               "current_density": [NAN, 1.0], "torque_inplane_window": [INF, -INF],
               "converged": [True, False], "n_eval": [1, 2]}
    data = dict(parameters=["bias_V", "theta_deg", "phi_deg", "temperature_K",
                            "layer[0].potential"], columns=columns,
                settings={"parts": "window", "rtol": 1e-3, "solver": "batched",
                          "method": "auto"})
    data.update(kw)
    return ScanResult(**data)


def comparison_result():
    bias = np.array([-0.1, 0.0, 0.1])
    return Comparison(
        bias_V=bias, theta_deg=90.0,
        kwant={"current_density": np.array([-1.0, 0.0, 1.0]), "torque_inplane": np.full(3, NAN),
               "torque_outofplane": np.array([INF, 0.0, -INF])},
        models={"btm": {"current_density": np.array([NAN, 0.0, 1.0])}},
        deviations={"btm": {"current_density": {"max_abs": INF, "max_rel": NAN, "rms_rel": 0.0,
                                                "scale": 1.0, "n_points": 2,
                                                "status": "ok"}}},
        fits={}, notes=["slonczewski: skipped: x"], scales={"btm": {"factor": NAN}},
        settings={"rtol": 1e-6, "diffusion": None}, junction={"name": "x"})


# ------------------------------------------------------------------------------------------
# the writer and reader
# ------------------------------------------------------------------------------------------
def test_jsonable_and_restore_numbers_are_inverse_for_numbers():
    data = {"a": np.array([1.0, np.nan, np.inf, -np.inf]), 2: (np.float32(0.5), np.int64(3)),
            "b": np.bool_(True), "c": 1 + 2j, "p": Path("x/y"), "e": np.zeros((0, 3))}
    plain = jsonable(data)
    assert plain == {"a": [1.0, None, "inf", "-inf"], "2": [0.5, 3], "b": True, "c": [1.0, 2.0],
                     "p": "x/y", "e": []}
    assert strict(dumps(data)) == plain
    assert same(restore_numbers(plain["a"]), [1.0, NAN, INF, -INF])
    assert restore_numbers(["window", "[1, 2]", True, 3]) == ["window", "[1, 2]", True, 3]


def test_dumps_refuses_what_json_cannot_hold():
    with pytest.raises(TypeError):
        dumps({"x": object()})


def test_read_json_accepts_old_constants_and_names_the_file_when_not_json(tmp_path):
    old = tmp_path / "old.json"
    old.write_text('{"x": [NaN, Infinity, -Infinity]}')
    assert same(read_json(old)["x"], [NAN, INF, -INF])
    bad = tmp_path / "bad.json"
    bad.write_text("G_P = 1")
    with pytest.raises(ValueError, match=r"bad\.json: not a result file \(not JSON"):
        read_json(bad)
    with pytest.raises(ValueError, match=r"bad\.json: not a result file"):
        load_result(bad)


def test_provenance_names_the_versions():
    record = provenance(["computed somehow"])
    assert {"mtj_kwant", "kwant", "numpy", "scipy", "python", "date", "command"} <= set(record)
    assert record["notes"] == ["computed somehow"] and record["kwant"]
    assert "notes" not in provenance()
    from mtj_kwant.scan import provenance as from_scan

    assert from_scan is provenance


# ------------------------------------------------------------------------------------------
# every result type round-trips, NaN, inf and empty lists included
# ------------------------------------------------------------------------------------------
def test_sweep_round_trip(tmp_path):
    data = assert_round_trip(sweep_result(), tmp_path)
    assert data["current_density"] == [-1e8, None, 1e8]
    assert data["torque_inplane_window"] == ["inf", 0.0, "-inf"]
    assert data["current_density_error"] == [1.0, None, 1.0]  # flat error lists (DESIGN §4)
    assert data["current_density_lattice_error"] == [0.0, None, "-inf"]
    assert data["torque_vector_total"] is None and data["torque_inplane_sea"] == []


def test_profile_round_trip(tmp_path):
    data = assert_round_trip(profile_result(), tmp_path)
    assert data["torque_inplane"] is None and data["torque_outofplane"] == "inf"
    assert data["lattice_spacing_nm"] is None and data["sea"] is None
    again = ProfileResult.load(tmp_path / "profile.json")
    assert again.lattice_spacing_nm is None and math.isnan(again.torque_inplane)


@pytest.mark.parametrize("tmr, bound", [(INF, 1e8), (NAN, None), (0.25, None)])
def test_conductance_round_trip(tmp_path, tmr, bound):
    data = assert_round_trip(conductance_result(TMR=tmr, TMR_lower_bound=bound), tmp_path)
    assert data["TMR"] == jsonable(tmr) and data["errors"]["TMR"] is None


def test_scan_round_trip_json_and_csv(tmp_path):
    result = scan_result()
    assert result.status == NOT_CONVERGED and not result.converged
    assert result.message.startswith("1 of 2 points (bias 0.2 V) did not reach the tolerance")
    assert_round_trip(result, tmp_path)
    csv = result.save(tmp_path / "t.csv")
    assert csv.read_text().splitlines()[1].startswith('0.1,90.0,0.0,0.0,"[3.0, 3.5]",nan,inf')
    meta = strict(Path(f"{csv}.meta.json").read_text())
    assert meta["kind"] == "scan" and "columns" not in meta and meta["status"] == 1
    # the CSV form reads back with its metadata: same columns (NaN, ±inf, bools, ints, text)
    back = ScanResult.load(csv)
    assert back.parameters == result.parameters and back.status == result.status
    for name, values in result.columns.items():
        assert [type(v) for v in back.columns[name]] == [type(v) for v in values], name
        assert [repr(v) for v in back.columns[name]] == [repr(v) for v in values], name
    Path(f"{csv}.meta.json").unlink()
    with pytest.raises(ValueError, match=r"t\.csv: no t\.csv\.meta\.json beside it"):
        ScanResult.load(csv)


def test_comparison_round_trip(tmp_path):
    result = comparison_result()
    path = result.save(tmp_path / "c.json")
    data = strict(path.read_text())
    assert data["kind"] == "comparison" and data["status"] == SUCCESS and data["message"] == "ok"
    for again in (Comparison.load(path), load_result(path)):
        assert isinstance(again, Comparison) and again.to_dict() == result.to_dict()
        assert np.isnan(again.kwant["torque_inplane"]).all()
        assert again.deviations["btm"]["current_density"]["max_abs"] == INF


# ------------------------------------------------------------------------------------------
# status, message, success
# ------------------------------------------------------------------------------------------
def test_status_follows_convergence():
    ok = sweep_result()
    assert (ok.status, ok.message, ok.success) == (SUCCESS, "ok", True)
    bad = sweep_result(converged=[True, False, False])
    assert bad.status == NOT_CONVERGED and not bad.success
    assert bad.message.startswith("2 of 3 bias points (bias 0, 0.1 V) did not reach the "
                                  "tolerance rtol = 0.001")
    prof = profile_result()
    assert prof.status == NOT_CONVERGED and "did not reach the tolerance" in prof.message
    assert profile_result(converged=True).success
    c = conductance_result(converged=False)
    assert c.status == NOT_CONVERGED and c.message == "G_AP is zero within its error"
    assert conductance_result().success


def test_kind_mismatch_and_unknown_kind_are_one_line_errors(tmp_path):
    path = profile_result().save(tmp_path / "p.json")
    with pytest.raises(ValueError, match=r"p\.json: this is a 'profile' result, not a 'sweep'"):
        SweepResult.load(path)
    other = tmp_path / "o.json"
    other.write_text('{"kind": "spectrum"}')
    with pytest.raises(ValueError, match=r"o\.json: unknown result kind 'spectrum'; known: "):
        load_result(other)
    incomplete = tmp_path / "i.json"
    incomplete.write_text('{"kind": "sweep", "bias_V": [0.1]}')
    with pytest.raises(ValueError, match=r"i\.json: not a complete sweep result: no theta_deg"):
        load_result(incomplete)


# ------------------------------------------------------------------------------------------
# files written by the previous version (no kind, NaN constants, string status)
# ------------------------------------------------------------------------------------------
def old_sweep_text():
    """A sweep file as the previous SweepResult.save wrote it: asdict + flat error lists,
    json.dumps(indent=1) with its NaN/Infinity constants, no kind, no status."""
    data = dataclasses.asdict(sweep_result())
    for key in ("status", "message"):
        data.pop(key)
    for key, value in data["errors"].items():
        data[f"{key}_error"] = value
    return json.dumps(data, indent=1)


def test_old_sweep_and_profile_files_load(tmp_path):
    path = tmp_path / "old_sweep.json"
    path.write_text(old_sweep_text())
    assert "NaN" in path.read_text()
    for again in (load_result(path), SweepResult.load(path)):
        assert isinstance(again, SweepResult) and again.success
        assert same(again.current_density, [-1e8, NAN, 1e8])
        assert same(again.torque_inplane_window, [INF, 0.0, -INF])
    data = dataclasses.asdict(profile_result())
    data.pop("status"), data.pop("message")
    path = tmp_path / "old_profile.json"
    path.write_text(json.dumps(data, indent=1))
    again = load_result(path)
    assert isinstance(again, ProfileResult) and again.status == NOT_CONVERGED
    assert same(again.spin_density, profile_result().spin_density)


@pytest.mark.parametrize("bound, tmr", [(1e8, INF), (None, NAN)])
def test_old_conductance_file_loads(tmp_path, bound, tmr):
    """The previous writer: TMR null (inf beside a bound, 0/0 without), status a sentence."""
    old = {"G_P": 1e9, "G_AP": 0.0, "TMR": None, "errors": {"G_P": 1.0, "G_AP": 1.0,
                                                           "TMR": None},
           "lattice_errors": {}, "TMR_lower_bound": bound, "status": "G_AP is zero",
           "method": "linear response", "temperature_K": 0.0, "junction": {},
           "units": {"G_P": "S/m^2"}, "provenance": {}}
    path = tmp_path / "g.json"
    path.write_text(json.dumps(old, indent=1, allow_nan=False))
    for again in (load_result(path), ConductanceResult.load(path)):
        assert isinstance(again, ConductanceResult)
        assert same(again.TMR, tmr) and math.isnan(again.errors["TMR"])
        assert again.message == "G_AP is zero" and again.status == SUCCESS


def test_old_scan_and_comparison_files_load(tmp_path):
    data = dataclasses.asdict(scan_result())
    data.pop("status"), data.pop("message")
    path = tmp_path / "scan.json"
    path.write_text(json.dumps(data, indent=1))
    again = load_result(path)
    assert isinstance(again, ScanResult) and again.status == NOT_CONVERGED
    assert same(again.columns, scan_result().columns)
    data = comparison_result().to_dict()
    for key in ("kind", "status", "message"):
        data.pop(key)
    path = tmp_path / "comparison.json"
    path.write_text(json.dumps(data))
    again = load_result(path)
    assert isinstance(again, Comparison) and again.success


def test_study_record_is_strict_json(tmp_path):
    ctx = StudyContext("demo", tmp_path / "demo", progress=False)
    ctx.setting(grid=np.linspace(0, 1, 3), tolerance=np.float64(1e-3), path=tmp_path)
    ctx.error("decay length", INF)
    ctx.error("period", np.nan)
    path = ctx.finish()[-1]
    record = strict(path.read_text())
    assert record["errors"] == {"decay length": "inf", "period": None}
    assert record["settings"]["grid"] == [0.0, 0.5, 1.0] and record["provenance"]["numpy"]


# ------------------------------------------------------------------------------------------
# Options: validated once, one-line errors naming the argument
# ------------------------------------------------------------------------------------------
BAD_OPTIONS = [
    (dict(parts="all"), r"^parts must be one of window, total, both, got 'all'$"),
    (dict(rtol=0), r"^rtol must be a number between 1e-12 \(the integrals' round-off\) and 1, "
                   r"e\.g\. 1e-3; got 0$"),
    (dict(rtol=1.0), r"^rtol must be a number between .* got 1\.0$"),
    (dict(rtol=MIN_RTOL / 10), r"^rtol must be a number between 1e-12"),
    (dict(rtol=NAN), r"^rtol must be .* got nan$"),
    (dict(rtol="1e-3"), r"^rtol must be a number .* got '1e-3'$"),
    (dict(rtol=True), r"^rtol must be a number"),
    (dict(solver="magic"), r"^solver must be 'batched' or 'kwant', got 'magic'$"),
    (dict(method="fast"), r"^method must be 'auto', 'reduced' or 'nested', got 'fast'$"),
]


@pytest.mark.parametrize("kwargs, match", BAD_OPTIONS, ids=[str(k) for k, _ in BAD_OPTIONS])
def test_bad_options_name_the_argument_and_the_fix(kwargs, match):
    with pytest.raises(OptionsError, match=match) as info:
        Options(**kwargs)
    assert info.value.argument == next(iter(kwargs)) and "\n" not in str(info.value)
    assert str(info.value) == f"{info.value.argument} {info.value.reason}"


@pytest.mark.parametrize("executor", [0, 2.5, True])
def test_bad_executor_is_a_type_error(executor):
    with pytest.raises(TypeError, match=r"^executor must be 'auto', None, 'serial', a positive"):
        Options(executor=executor)


def test_misspelt_executor_names_the_argument():
    with pytest.raises(OptionsError, match=r"^executor must be 'auto', 'serial', .* got 'paralel'"):
        Options(executor="paralel")


def test_options_are_frozen_and_give_the_stored_settings():
    options = Options(parts="both", rtol=1e-4, executor="serial")
    assert options.settings() == {"parts": "both", "rtol": 1e-4, "solver": "batched",
                                  "method": "auto"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.rtol = 1.0
    for executor in ("auto", None, "serial", 2):
        Options(executor=executor)


@pytest.fixture(scope="module")
def junction():
    return mk.load_junction(SYSTEMS / "fe_mgo_fe.toml")


@pytest.mark.parametrize("call", [
    lambda j: mk.sweep(j, [0.1], rtol=0, progress=False),
    lambda j: mk.sweep(j, [0.1], parts="all", progress=False),
    lambda j: mk.scan(j, bias=0.1, solver="magic", progress=False),
    lambda j: mk.profile(j, 0.1, rtol=2.0, progress=False),
    lambda j: mk.conductance(j, rtol=-1e-3),
    lambda j: compare(sweep_result(junction=mk.model.junction_to_dict(j)), rtol=0),
], ids=["sweep rtol", "sweep parts", "scan solver", "profile rtol", "conductance rtol",
        "compare rtol"])
def test_entry_points_validate_their_options_before_computing(junction, call):
    with pytest.raises(OptionsError, match=r"^(rtol|parts|solver) must be"):
        call(junction)


def test_sweep_executor_is_checked_before_computing(junction):
    with pytest.raises(OptionsError, match="executor must be 'auto'"):
        mk.sweep(junction, [0.1], executor="threads", progress=False)


def test_options_docstring_examples():
    import doctest

    from mtj_kwant import options

    assert doctest.testmod(options, raise_on_error=False).failed == 0


def test_load_result_reads_csv_tables_and_refuses_other_json(tmp_path):
    """A scan saved as CSV loads through either of its two files; a JSON that is no result
    (a study's provenance, {"a": 1}) is refused as such, not as an incomplete sweep."""
    result = scan_result()
    csv_path = result.save(tmp_path / "t.csv")
    for given in (csv_path, Path(f"{csv_path}.meta.json")):
        back = load_result(given)
        assert isinstance(back, ScanResult) and back.parameters == result.parameters
    (tmp_path / "other.json").write_text('{"a": 1}')
    with pytest.raises(ValueError, match=r"other\.json: not a result file \(no 'kind'"):
        load_result(tmp_path / "other.json")
