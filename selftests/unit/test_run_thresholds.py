"""Typed thresholds: every name is a field of Thresholds; a typo fails at load time."""

from dataclasses import fields
from pathlib import Path

import pytest

from fixtures.run.thresholds import Thresholds, ThresholdError, load

PROJECT_FILE = Path(__file__).resolve().parents[2] / "conformance.toml"


def test_the_project_file_sets_every_threshold():
    values = load(PROJECT_FILE, "full")
    assert isinstance(values, Thresholds)
    assert isinstance(values.start_samples, int) and isinstance(values.start_p50_ms, float)


def test_profile_overrides_apply():
    assert load(PROJECT_FILE, "audit").start_samples > load(PROJECT_FILE, "full").start_samples


def _file(tmp_path, extra: str = "", drop: str = "") -> Path:
    text = "\n".join(line for line in PROJECT_FILE.read_text().splitlines()
                     if not (drop and line.startswith(f"{drop} ")))
    path = tmp_path / "t.toml"
    path.write_text(text.replace("\n[thresholds]\n", "\n[thresholds]\n" + extra + "\n", 1))
    return path


@pytest.mark.parametrize("extra, drop, message", [
    ("start_p50_msx = 3", "", "start_p50_msx is not a threshold"),
    ("", "kill_max_s", "does not set kill_max_s"),
], ids=["misspelt", "missing"])
def test_bad_names_fail_at_load_time(tmp_path, extra, drop, message):
    with pytest.raises(ThresholdError, match=message):
        load(_file(tmp_path, extra, drop), "full")


def test_a_whole_number_threshold_refuses_a_fraction(tmp_path):
    with pytest.raises(ThresholdError, match="not a whole number"):
        load(PROJECT_FILE, "full", ("start_samples=2.5",))


def test_override_of_unknown_name(tmp_path):
    with pytest.raises(ThresholdError, match="no such threshold"):
        load(PROJECT_FILE, "full", ("nope=1",))


def test_fields_are_typed():
    assert {f.type for f in fields(Thresholds)} == {"int", "float"}
