"""Spec files: valid ones expand to the right points; bad ones name the file, the key and the problem."""
import pytest

from tokensim.experiments.spec import load_spec, parse_spec
from tokensim.mechanisms.core import SpecError


def write(tmp_path, text, name="spec.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_ranges_expand_and_output_is_relative_to_the_spec(tmp_path):
    path = write(tmp_path, """
model = "toy"
samples = 2
output = "out"
[sweep]
emission = { start = 1, stop = 1000, num = 4, log = true }
burn_rate = { start = 0.0, stop = 0.1, step = 0.05 }
""")
    spec = load_spec(path)
    assert spec.sweep["emission"] == [1.0, 10.0, 100.0, 1000.0]
    assert spec.sweep["burn_rate"] == [0.0, 0.05, 0.1]
    assert len(spec.points()) == 12 and spec.output == tmp_path / "out"


def test_round_trip_through_to_dict(toy_spec_dict):
    spec = parse_spec(toy_spec_dict)
    again = parse_spec(spec.to_dict())
    assert again.points() == spec.points() and again.seed == spec.seed


@pytest.mark.parametrize(
    "text, key, message",
    [
        ('model = "toy"\nsamples = 0', "samples", "0 is out of range; allowed: an integer in [1, 100000]"),
        ('model = "toy"\nsamples = "ten"', "samples", "'ten' should be an integer"),
        ('model = "nope"', "model", "unknown model 'nope'"),
        ('samples = 3', "model", "missing"),
        ('model = "toy"\nsampels = 3', "sampels", "unknown key"),
        ('model = "toy"\n[fixed]\nburn_rate = 2.0', "fixed.burn_rate", "allowed: a number in [0, 1]"),
        ('model = "toy"\n[sweep]\nburn_rate = [0.1, 7]', "sweep.burn_rate[1]", "parameter 'burn_rate' = 7"),
        ('model = "toy"\n[sweep]\nwhatever = [1]', "sweep.whatever", "unknown parameter"),
        ('model = "toy"\n[sweep]\nemission = { start = 1, stop = 2 }', "sweep.emission", "exactly one of 'num' or 'step'"),
        ('model = "toy"\n[fixed]\nemission = 1.0\n[sweep]\nemission = [2.0]', "sweep.emission", "both fixed and swept"),
        ('model = "toy"\nmetrics = ["price"]', "metrics[0]", "unknown metric 'price'"),
        ('model = "toy"\nlayout = "diagonal"', "layout", "not one of packed, per_point, per_sample"),
    ],
)
def test_bad_specs_name_file_key_and_problem(tmp_path, text, key, message):
    path = write(tmp_path, text)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert str(info.value).startswith(f"{path}: key '{key}': ")
    assert message in str(info.value)


def test_unparseable_and_missing_files(tmp_path):
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(write(tmp_path, "model = = 1"))
    with pytest.raises(SpecError, match="not valid JSON"):
        load_spec(write(tmp_path, "{", "spec.json"))
    with pytest.raises(SpecError, match="cannot read file"):
        load_spec(tmp_path / "absent.toml")


def test_json_specs_are_data_not_code(tmp_path):
    path = write(tmp_path, '{"model": "toy", "title": "__import__(\'os\').system(\'false\')", "samples": 2}', "s.json")
    assert load_spec(path).title.startswith("__import__")  # kept as a string, never evaluated
