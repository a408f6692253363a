"""Fuzzing every way a user hands tokensim data: spec files (structure and raw bytes), ``--set``
values, CSV payloads (the balances loader, also the app's upload entry point) and the parameter
validation behind the app's widgets. See conftest.py for the contract each run must keep."""
import json
import math
import os

import numpy as np
import pytest
import tomli_w
from hypothesis import example, given
from hypothesis import strategies as st

from tokensim.mechanisms.core import DataFileError, ParameterError, get_model, model_names
from tokensim.mechanisms.governance.holders import balances_from_bytes

from .conftest import FUZZ, no_hang, run_cli

BASE = {"model": "toy", "seed": 1, "samples": 2, "timesteps": 3, "chunk_size": 2,
        "fixed": {"n_agents": 20}, "sweep": {"emission": [1.0, 2.0]}}
NAMES = ["n_agents", "emission", "burn_rate", "noise"]

numbers = st.one_of(
    st.integers(-10, 10), st.integers(-(10**30), 10**30), st.sampled_from([10**400, -(10**400), 2**63, 2**64]),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([math.nan, math.inf, -math.inf, 1e308, 5e-324]),
)
scalars = st.one_of(
    st.none(), st.booleans(), numbers, st.text(max_size=20), st.sampled_from(["x" * 5000, "1_000", "\u0661\u0660", "yes"]),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
                      max_leaves=10)
ranges = st.fixed_dictionaries({"start": numbers, "stop": numbers},
                               optional={"num": st.integers(-3, 200_000) | values, "step": numbers | values,
                                         "log": values, "extra": values})
designs = st.fixed_dictionaries(
    {"method": st.sampled_from(["lhs", "sobol", "morris", "grid"]) | values, "n": st.integers(-1, 70) | values,
     "parameters": st.dictionaries(st.sampled_from([*NAMES, "zzz"]),
                                   st.fixed_dictionaries({"low": numbers, "high": numbers}, optional={"log": values}) | values,
                                   max_size=3)},
    optional={"seed": values, "second_order": values, "num_levels": values},
)
mutations = st.one_of(
    st.tuples(st.sampled_from([("model",), ("seed",), ("samples",), ("timesteps",), ("chunk_size",), ("layout",),
                               ("claims",), ("metrics",), ("title",), ("common_random_numbers",), ("fixed",),
                               ("fixed", "n_agents"), ("fixed", "noise"), ("sweep",), ("sweep", "emission"),
                               ("output",), ("description",)]), values),
    st.tuples(st.just(("sweep", "burn_rate")), ranges | st.lists(numbers, max_size=5)),
    st.tuples(st.just(("design",)), designs),
    st.tuples(st.tuples(st.sampled_from(["fixed", "sweep"]), st.text(max_size=10)), values),
    st.tuples(st.tuples(st.text(max_size=10)), values),
)


def mutated(path: tuple, value) -> dict:
    spec = json.loads(json.dumps(BASE))
    if path == ("design",):
        spec.pop("sweep")
    target = spec
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value
    return spec


def serialise(spec: dict, as_toml: bool) -> tuple[str, bytes]:
    if as_toml:
        try:
            return ".toml", tomli_w.dumps(spec).encode()
        except (TypeError, ValueError):
            pass  # None or other values TOML cannot hold: JSON instead
    return ".json", json.dumps(spec).encode()


def outside(tmp_path) -> list[str]:
    return ["--quiet", "--output", str(tmp_path / "out")]


def is_budget(err: str) -> bool:
    return "estimated" in err and "Reduce" in err


@FUZZ
@given(mutation=mutations, as_toml=st.booleans())
def test_structured_specs(tmp_path_factory, capsys, mutation, as_toml):
    tmp = tmp_path_factory.mktemp("spec")
    suffix, data = serialise(mutated(*mutation), as_toml)
    path = tmp / f"spec{suffix}"
    path.write_bytes(data)
    status, err = run_cli(["run", str(path), *outside(tmp)], capsys)
    if status == 2 and not is_budget(err):
        assert err.startswith(f"error: {path}: key '"), err  # names the file and the key


def byte_edits():
    return st.lists(st.tuples(st.integers(0, 200), st.sampled_from(["flip", "insert", "delete"]), st.binary(min_size=1, max_size=3)),
                    min_size=1, max_size=4)


@FUZZ
@given(edits=byte_edits(), encoding=st.sampled_from(["utf-8", "utf-16", "latin-1", "utf-32", "cp1252"]),
       cut=st.integers(0, 400) | st.none())
def test_raw_spec_bytes(tmp_path_factory, capsys, edits, encoding, cut):
    tmp = tmp_path_factory.mktemp("bytes")
    text = tomli_w.dumps({**BASE, "title": "Café 📈"})
    data = bytearray(text.encode(encoding, errors="replace"))
    for position, kind, payload in edits:
        i = position % max(len(data), 1)
        if kind == "flip" and data:
            data[i] ^= payload[0] or 0x80
        elif kind == "insert":
            data[i:i] = payload
        elif data:
            del data[i]
    path = tmp / "spec.toml"
    path.write_bytes(bytes(data[:cut] if cut is not None else data))
    status, err = run_cli(["run", str(path), *outside(tmp)], capsys)
    if status == 2 and not is_budget(err):
        assert err.startswith(f"error: {path}: "), err


@FUZZ
@given(name=st.sampled_from([*NAMES, "", "nope", "x" * 300]), text=st.text(max_size=40) | st.sampled_from(
    ["nan", "inf", "-inf", "1e400", "1_000", "\u0661\u0660\u0660", "9" * 5000, "0x1f", " 5 ", "+", "1e-400", "٣"]),
    equals=st.booleans())
def test_set_values(tmp_path_factory, capsys, name, text, equals):
    tmp = tmp_path_factory.mktemp("set")
    path = tmp / "spec.toml"
    path.write_text(tomli_w.dumps(BASE))
    pair = f"{name}={text}" if equals else name + text.replace("=", "")
    status, err = run_cli(["run", str(path), *outside(tmp), f"--set={pair}"], capsys)  # argparse owns "--set -x"
    if status == 2 and not is_budget(err):
        assert "parameter '" in err and "allowed: " in err, err
    if status == 0:
        assert name in NAMES and equals


def test_spec_paths_that_are_not_regular_files(tmp_path, capsys):
    os.mkfifo(tmp_path / "fifo.toml")
    (tmp_path / "folder.toml").mkdir()
    for path in [tmp_path / "fifo.toml", tmp_path / "folder.toml", "/dev/zero", "/dev/null", "/proc/self/environ"]:
        status, err = run_cli(["run", str(path)], capsys)
        assert status == 2 and str(path) in err


# --- CSV payloads (the loader; the app hands uploads to the same function) ----------------------------

balance_texts = st.one_of(numbers.map(str), st.text(max_size=12), st.sampled_from(["", "1e308", "-0", "NaN", "1,5", '"3"']))
rows = st.lists(st.tuples(st.text(max_size=8), balance_texts), max_size=30)


def check_balances(data: bytes) -> None:
    with no_hang():
        try:
            out = balances_from_bytes(data, "fuzz.csv")
        except DataFileError as exc:
            assert str(exc).startswith("fuzz.csv: ") and len(str(exc)) <= 1000, str(exc)
            return
    assert len(out) >= 2 and np.all(np.isfinite(out)) and np.all(out >= 0)
    assert np.isfinite(out.sum()) and out.sum() > 0 and np.all(np.diff(out) <= 0)


@FUZZ
@given(rows=rows, header=st.sampled_from(["address,balance", "Balance , ADDRESS", "address", "address,balance,extra", ""]))
def test_csv_rows(rows, header):
    check_balances(("\n".join([header, *(f"{a},{b}" for a, b in rows)]) + "\n").encode("utf-8", "surrogatepass"))


@FUZZ
@given(data=st.binary(max_size=300), prefix=st.sampled_from([b"", b"address,balance\n", b"\xef\xbb\xbfaddress,balance\n"]))
def test_csv_bytes(data, prefix):
    check_balances(prefix + data)


# --- the parameter validation behind the app's widgets ---------------------------------------------------

PARAMS = [p for name in model_names() for p in get_model(name).schema]


@FUZZ
@given(param=st.sampled_from(PARAMS), value=values)
def test_widget_values_are_validated_or_refused_by_name(param, value):
    try:
        out = param.validate(value)
    except ParameterError as exc:
        assert f"parameter '{param.name}'" in str(exc) and "allowed: " in str(exc) and len(str(exc)) <= 600
        return
    if param.kind in ("int", "float"):
        assert math.isfinite(out) and (param.low is None or out >= param.low) and (param.high is None or out <= param.high)
        assert isinstance(out, int if param.kind == "int" else float)
    elif param.kind == "choice":
        assert out in param.choices


@FUZZ
@given(param=st.sampled_from(PARAMS), text=st.text(max_size=30))
def test_widget_text_is_parsed_or_refused_by_name(param, text):
    try:
        param.parse(text)
    except ParameterError as exc:
        assert f"parameter '{param.name}'" in str(exc)


@pytest.mark.parametrize("text", ["1_000", "\u0661\u0660\u0660\u0660", "\uff11"])
def test_non_ascii_and_underscored_numbers_are_refused(text):
    with pytest.raises(ParameterError, match="not a number"):
        get_model("toy").schema["n_agents"].parse(text)


@FUZZ
@given(kind=st.sampled_from(["regular", "fifo", "folder", "link_out", "outside", "dev", "random"]),
       text=st.text(max_size=30), payload=st.binary(max_size=200))
def test_balances_csv_paths(tmp_path_factory, capsys, kind, text, payload):
    tmp = tmp_path_factory.mktemp("csv")
    target = tmp / "b.csv"
    if kind == "regular":
        target.write_bytes(b"address,balance\n" + payload)
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "folder":
        target.mkdir()
    elif kind == "link_out":
        target.symlink_to("/etc/hostname")
    value = {"outside": "/etc/hostname", "dev": "/dev/zero", "random": text}.get(kind, "b.csv")
    path = tmp / "spec.json"
    path.write_text(json.dumps({"model": "governance", "samples": 1, "timesteps": 1,
                                "fixed": {"balances_csv": value, "n_whales": 1, "n_delegates": 1}}))
    status, err = run_cli(["run", str(path), *outside(tmp)], capsys)
    if status == 2 and not is_budget(err):
        assert err.startswith(f"error: {path}: key 'fixed.balances_csv'"), err
    assert kind in ("regular", "random") or status == 2


# --- the app's own builders of specs from widget values -----------------------------------------------

widget_numbers = st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(10**15), 10**15)


@FUZZ
@given(param=st.sampled_from([p for p in PARAMS if p.kind in ("int", "float")]), start=widget_numbers, stop=widget_numbers,
       num=st.integers(-2, 60), log=st.booleans(), samples=st.integers(-1, 5), name=st.text(max_size=10))
@example(param=get_model("governance").schema["n_community"], start=2, stop=math.inf, num=5, log=True, samples=1, name="a")
@example(param=get_model("toy").schema["emission"], start=-math.inf, stop=3.0, num=5, log=False, samples=1, name="a")
def test_app_sweep_and_scenario_builders(param, start, stop, num, log, samples, name):
    from tokensim.experiments.app.scenarios import Scenario, Settings, scenario_specs
    from tokensim.experiments.app.sweeps import numeric_axis, sweep_spec_dict
    from tokensim.experiments.spec import parse_spec
    from tokensim.mechanisms.core import TokensimError

    model = next(get_model(m) for m in model_names() if param in get_model(m).schema.params)
    settings = Settings(samples=samples, timesteps=2, seed=0)
    with no_hang():
        try:
            axis = numeric_axis(param, start, stop, num, log)
            parse_spec(sweep_spec_dict(model, model.schema.defaults(), [axis], settings, "base"), "app sweep")
        except TokensimError as exc:
            assert len(str(exc)) <= 1000
        try:
            values = {**model.schema.defaults(), param.name: start}
            scenario_specs(model, [Scenario(name, values), Scenario(name + "2", model.schema.defaults())], settings)
        except TokensimError as exc:
            assert len(str(exc)) <= 1000
