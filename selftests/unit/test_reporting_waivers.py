"""Waiver files: what is accepted, what is refused, and which waiver decides a failure."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from fixtures.reporting import waivers

ROOT = Path(__file__).resolve().parents[2]
CLAIMS = {"HOST-9", "HOST-15"}
TODAY = dt.date(2026, 6, 1)


def _load(tmp_path, text: str, host: str | None = None):
    path = tmp_path / "waivers.yaml"
    path.write_text(text)
    return waivers.load(path, claims=CLAIMS, rootdir=ROOT, today=TODAY, host_name=host)


def test_states_as_of_the_run_date_and_host(tmp_path):
    loaded = _load(tmp_path, """waivers:
  - {check: HOST-9, justification: ok, expires: 2026-06-01}
  - {check: HOST-15, justification: old, expires: 2026-05-31}
  - {check: HOST-9, justification: elsewhere, expires: 2099-01-01, host: build-7}
""", host="vm")
    assert [w.state for w in loaded] == [waivers.ACTIVE, waivers.EXPIRED, waivers.OTHER_HOST]


def test_host_bound_waivers_are_matched_once_the_host_is_known(tmp_path):
    loaded = _load(tmp_path, "waivers:\n  - {check: HOST-9, justification: x, expires: 2099-01-01, host: build-7}\n")
    assert loaded[0].state == waivers.ACTIVE
    assert waivers.for_host(loaded, "vm")[0].state == waivers.OTHER_HOST
    assert waivers.for_host(loaded, "build-7")[0].state == waivers.ACTIVE


def test_matching_prefers_an_active_waiver_and_covers_claim_function_and_node(tmp_path):
    node = "suites/host/test_storage.py::test_data_root_free_space[HOST-15]"
    loaded = _load(tmp_path, """waivers:
  - {check: HOST-15, justification: expired one, expires: 2020-01-01}
  - {check: 'suites/host/test_storage.py::test_data_root_free_space', justification: live, expires: 2099-01-01}
""")
    assert waivers.matching(loaded, node, "HOST-15").justification == "live"
    assert waivers.matching(loaded[:1], node, "HOST-15").state == waivers.EXPIRED
    assert waivers.matching(loaded, "suites/other.py::test_x[HOST-9]", "HOST-9") is None


@pytest.mark.parametrize("text, fragment", [
    ("waivers:\n  - {check: HOST-9, justification: x, expires: 2099-13-01}\n", "invalid date: month must be in 1..12"),
    ("waivers:\n  - {check: HOST-9, justification: x, expires: soon}\n", "is not a date"),
    ("waivers:\n  - just-a-string\n", "expected a mapping"),
    ("waivers: []\nextra: 1\n", "unknown top-level key extra"),
    ("waivers:\n  - {check: HOST-9, justification: x, expires: 2099-01-01, host: ''}\n", "host must be"),
])
def test_refusals_are_one_line(tmp_path, text, fragment):
    with pytest.raises(waivers.WaiverError) as raised:
        _load(tmp_path, text)
    assert fragment in str(raised.value) and "\n" not in str(raised.value)
