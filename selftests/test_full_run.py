"""Full suite runs against the real engine, as a user runs them: the gate passes, the
reports are written, the user's own objects are untouched, and nothing is left behind.

Two runs in a row under ``-n 2`` on the real engine (the full profile, then, in the
thorough mode, the smoke profile), each checked for leftovers; and a smoke run on a fresh sandbox engine, as the main
command does on a machine where no engine runs, where the suite provisions every image
itself (run-unique names, removed at the end). (Smoke there: the full profile already ran,
and what a fresh engine adds is the provisioning, which every profile does.) A default dockerd has findings below the default gate (SEC-1, SEC-2, SEC-4:
icc, no user namespaces, ...), so a run passes the gate with exit 10, or 0 on a hardened
engine; an error or a failure at or above the gate fails this test.
"""

from __future__ import annotations

import io
import json
import os
import xml.etree.ElementTree as ET

import pytest

from fixtures.core.exitcodes import Exit
from selftests.conftest import RUN_ROOT, leftovers


@pytest.fixture(scope="module")
def users_objects(real_client, preloaded_images, selftest_labels):
    """A container, an image, a volume and a network that belong to "the user", not the suite."""
    api = real_client.api
    image = api.build(fileobj=io.BytesIO(b"FROM alpine:3.23\nRUN echo mine > /mine\n"),
                      labels=selftest_labels, rm=True, decode=True)
    image_id = [line["aux"]["ID"] for line in image if "aux" in line][-1]
    api.tag(image_id, "users-own/app", "v1")
    volume = api.create_volume(labels=selftest_labels)["Name"]
    network = api.create_network("users-own-net", labels=selftest_labels)["Id"]
    container = api.create_container("users-own/app:v1", ["sleep", "3600"], labels=selftest_labels,
                                     host_config=api.create_host_config(binds=[f"{volume}:/data"]))["Id"]
    api.start(container)
    yield {"container": container, "image": image_id, "volume": volume, "network": network}
    api.remove_container(container, force=True, v=True)
    api.remove_network(network)
    api.remove_volume(volume, force=True)
    api.remove_image(image_id, force=True)


@pytest.fixture(scope="module")
def full_run(suite, users_objects):
    return suite("-n", "2", html=True)


@pytest.fixture(scope="module")
def smoke_run(suite, full_run):
    return suite("-n", "2", "--profile", "smoke")


@pytest.fixture(scope="module")
def fresh_engine_run(suite, full_run):
    if os.geteuid() != 0:
        pytest.skip("a sandbox engine needs root")
    return suite("-n", "2", "--profile", "smoke", engine="sandbox")


# The second run in a row on the same engine is in the thorough mode (CI's budget); the audit
# evidence self-test makes two runs in a row on one engine in every ./selftest.
SECOND_RUN = pytest.param("smoke_run", marks=pytest.mark.thorough)


@pytest.mark.parametrize("which", ["full_run", SECOND_RUN, "fresh_engine_run"])
def test_run_passes_the_gate(which, request):
    run = request.getfixturevalue(which)
    assert run.exit_code in (Exit.PASSED, Exit.BELOW_GATE), run.describe()
    assert run.outcomes("error") == {}, run.describe()
    assert run.summary["gate"]["at_or_above"] == [], run.describe()
    below = set(run.summary["gate"]["below"])
    assert below == set(run.outcomes("failed")), "every failure is accounted for by the gate"
    assert (run.exit_code == Exit.BELOW_GATE) == bool(below)


def test_reports_are_written(full_run):
    reports = full_run.reports
    for name in ("summary.md", "summary.json", "junit.xml", "report.html", "html/index.html",
                 "state-diff.json", "allure-results/environment.properties"):
        assert (reports / name).is_file(), f"{name} missing; files: {sorted(p.name for p in reports.iterdir())}"
    junit = ET.parse(reports / "junit.xml").getroot()
    cases = [c for c in junit.findall(".//testcase") if c.get("classname") != "claims"]
    claims = junit.findall(".//testcase[@classname='claims']")
    assert len(cases) == len(full_run.tests()) > 0
    assert len(claims) == len(full_run.summary["claims"]), "one more case per claim, with its verdict"
    summary = (reports / "summary.md").read_text()
    assert f"exit {full_run.exit_code} (" in summary


def test_users_objects_are_untouched(full_run, real_client, users_objects):
    api = real_client.api
    assert api.inspect_container(users_objects["container"])["State"]["Running"]
    assert "users-own/app:v1" in api.inspect_image(users_objects["image"])["RepoTags"]
    assert api.inspect_volume(users_objects["volume"])["Name"] == users_objects["volume"]
    assert api.inspect_network(users_objects["network"])["Id"] == users_objects["network"]
    diff = json.loads((full_run.reports / "state-diff.json").read_text())
    for group in ("removed", "changed", "leaked"):
        assert not any(diff[group].values()), (group, diff[group])


@pytest.mark.parametrize("which", ["full_run", SECOND_RUN])
def test_nothing_is_left_behind(which, request, real_client):
    run = request.getfixturevalue(which)
    run_id = run.summary["run"]["id"]
    assert leftovers(real_client, run_id) == {"containers": [], "images": [], "volumes": [], "networks": []}
    assert not run.summary["state"].get("swept"), \
        f"on a good engine every test removes what it made; the run had to sweep: {run.summary['state']['swept']}"
    assert not any(run.summary["state"].get("host_left") or []), run.summary["state"]


def test_fresh_engine_run_provisioned_its_images_and_cleaned_up(fresh_engine_run):
    run = fresh_engine_run
    assert run.summary["engine"]["engine.source"] == "sandbox", run.describe()
    assert "offline-build" in run.summary["engine"]["images"], run.summary["engine"]["images"]
    diff = json.loads((run.reports / "state-diff.json").read_text())
    for group in ("removed", "changed", "leaked"):
        assert not any(diff[group].values()), (group, diff[group])
    assert diff["cleanup_problems"] == []
    assert not (RUN_ROOT / run.summary["run"]["id"]).exists(), "the run directory was not removed"
