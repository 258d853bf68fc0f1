"""The Allure metadata writers: environment.properties and categories.json."""

import json
import re

import pytest

from fixtures.reporting.allure_environment import (
    CATEGORIES,
    write_categories,
    write_environment,
)


def test_environment_keeps_fact_order(tmp_path):
    facts = {"engine.version": "27.3.1", "engine.api": "1.47", "storage.driver": "overlay2"}
    path = write_environment(tmp_path, facts)

    assert path == tmp_path / "environment.properties"
    assert path.read_text(encoding="utf-8") == "engine.version=27.3.1\nengine.api=1.47\nstorage.driver=overlay2\n"


def test_environment_escapes_separators_in_keys_only(tmp_path):
    text = write_environment(tmp_path, {"os name": "a=b:c", "a=b:c#d!e": "x"}).read_text()

    assert text == "os\\ name=a=b:c\na\\=b\\:c\\#d\\!e=x\n"


def test_environment_escapes_line_breaks_and_backslashes(tmp_path):
    text = write_environment(tmp_path, {"kernel": "6.1\n#1 SMP\tx", "root": "C:\\docker"}).read_text()

    assert text == "kernel=6.1\\n#1 SMP\\tx\nroot=C:\\\\docker\n"


def test_environment_keeps_leading_blank_of_a_value(tmp_path):
    text = write_environment(tmp_path, {"label": " padded"}).read_text()

    assert text == "label=\\ padded\n"


def test_environment_writes_ascii_with_unicode_escapes(tmp_path):
    # Allure 2 reads the file as ISO-8859-1 and Allure 3 as UTF-8: only escapes agree.
    path = write_environment(tmp_path, {"host": "Grüße 😀"})

    assert path.read_bytes() == b"host=Gr\\u00fc\\u00dfe \\ud83d\\ude00\n"


def test_environment_creates_results_dir_and_overwrites(tmp_path):
    results = tmp_path / "allure-results"
    write_environment(results, {"run": "1"})
    path = write_environment(results, {"run": "2", "empty": ""})

    assert path.read_text() == "run=2\nempty=\n"


def test_environment_stringifies_values(tmp_path):
    text = write_environment(tmp_path, {"cpus": 2}).read_text()  # type: ignore[dict-item]

    assert text == "cpus=2\n"


def test_categories_file_is_the_rule_list(tmp_path):
    path = write_categories(tmp_path)

    assert path == tmp_path / "categories.json"
    assert json.loads(path.read_text(encoding="utf-8")) == CATEGORIES


def test_categories_split_failed_from_broken(tmp_path):
    rules = json.loads(write_categories(tmp_path).read_text())
    by_status = {}
    for rule in rules:
        for status in rule["matchedStatuses"]:
            by_status.setdefault(status, []).append(rule["name"])

    assert by_status == {"failed": ["Product failures"], "broken": ["Broken environment"],
                         "skipped": ["Waived failures", "Not run (the claim is partial)", "Not applicable"]}


@pytest.mark.parametrize("message, category", [
    ("NotRun: needs the engine's host", "Not run (the claim is partial)"),
    ("NotApplicable: the engine's OSType is 'linux'", "Not applicable"),
    ("XFAIL waived until 2026-06-30 (HOST-9): dev hosts", "Waived failures"),
])
def test_skips_are_sorted_by_their_kind(tmp_path, message, category):
    rules = json.loads(write_categories(tmp_path).read_text())
    matched = [r["name"] for r in rules if "skipped" in r["matchedStatuses"]
               and re.search(r["messageRegex"], message)]

    assert matched == [category]


def test_waived_failures_category_matches_only_the_waiver_message(tmp_path):
    rule = next(r for r in json.loads(write_categories(tmp_path).read_text()) if r["name"] == "Waived failures")
    pattern = re.compile(rule["messageRegex"])

    assert pattern.search("XFAIL waived until 2026-06-30 (HOST-9): dev hosts\n\nAssertionError: ...")
    assert not pattern.search("Skipped: not applicable: no tcp socket")


def test_categories_use_only_keys_both_allure_versions_read(tmp_path):
    # Allure 3 rejects a rule that mixes its own "matchers" with these Allure 2 keys.
    rules = json.loads(write_categories(tmp_path).read_text())

    for rule in rules:
        assert set(rule) <= {"name", "description", "matchedStatuses", "messageRegex", "traceRegex"}
        assert rule["name"].strip()
