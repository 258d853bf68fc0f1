"""The document's "remove all" commands never touch a user's objects on a user's engine.

A user's stopped container and a user's image named ``friendlyname`` exist on the engine
before the run. The run's CMD-1, CMD-9 and CMD-12 checks must pass; both modes of the
"remove all" commands must have run (literally on an engine of the run's own, scoped on the
user's engine); and afterwards the user's container and image are exactly as they were:
same ids, same state, and ``friendlyname`` still names the user's image (the run built its
own under a run-unique name and said so).
"""

from __future__ import annotations

import io
import json

import pytest

from fixtures.core.exitcodes import Exit
from selftests.conftest import leftovers

SELECT = ("suites/commands/test_build.py", "suites/commands/test_remove_all.py")


@pytest.fixture(scope="module")
def users_objects(real_client, preloaded_images, selftest_labels):
    """A stopped container and an image named ``friendlyname`` that belong to "the user"."""
    api = real_client.api
    build = api.build(fileobj=io.BytesIO(b"FROM alpine:3.23\nRUN echo users-own > /mine\n"),
                      labels=selftest_labels, rm=True, forcerm=True, decode=True)
    image = [line["aux"]["ID"] for line in build if "aux" in line][-1]
    if api.images(name="friendlyname"):
        pytest.skip("the engine already has an image named friendlyname; this check needs to own that name")
    api.tag(image, "friendlyname", "latest")
    container = api.create_container(image, ["true"], labels=selftest_labels)["Id"]
    yield {"container": container, "image": image}
    api.remove_container(container, force=True, v=True)
    api.remove_image("friendlyname:latest")


@pytest.fixture(scope="module")
def scoped_run(suite, users_objects):
    return suite(*SELECT, "-n", "2")


def _figures(run, nodeid_part: str) -> dict:
    return {name: entry["value"] for nodeid, test in run.tests().items() if nodeid_part in nodeid
            for name, entry in (test.get("figures") or {}).items()}


def test_checks_pass_in_both_modes(scoped_run):
    failing = {n: t["message"] for n, t in scoped_run.tests().items() if t["outcome"] != "passed"}
    assert not failing, f"{failing}\n{scoped_run.describe()}"
    assert scoped_run.exit_code == Exit.PASSED, scoped_run.describe()
    for node in ("test_remove_all_containers_literally_on_an_owned_engine[CMD-9]",
                 "test_remove_all_images_literally_on_an_owned_engine[CMD-12]"):
        assert "ran literally, on an engine the run owns" in _figures(scoped_run, node).get("literal mode", ""), node
    for node in ("test_remove_all_containers_scoped_on_the_target[CMD-9]",
                 "test_remove_all_images_scoped_on_the_target[CMD-12]"):
        assert "scoped to this test's labels" in _figures(scoped_run, node).get("scoped mode", ""), node


def test_users_container_and_image_survive(scoped_run, real_client, users_objects):
    api = real_client.api
    container = api.inspect_container(users_objects["container"])
    assert container["State"]["Status"] == "created", container["State"]
    assert api.inspect_image("friendlyname:latest")["Id"] == users_objects["image"], \
        "friendlyname no longer names the user's image"
    assert api.inspect_image(users_objects["image"])["RepoTags"] == ["friendlyname:latest"]


def test_run_built_friendlyname_under_its_own_name(scoped_run):
    name = _figures(scoped_run, "[CMD-1]").get("image name", "")
    assert name.startswith("friendlyname-") and "not this run's" in name, name


def test_run_left_nothing_and_touched_nothing_of_the_users(scoped_run, real_client, users_objects):
    assert leftovers(real_client, scoped_run.summary["run"]["id"]) == \
        {"containers": [], "images": [], "volumes": [], "networks": []}
    diff = json.loads((scoped_run.reports / "state-diff.json").read_text())
    touched = [entry for group in ("removed", "changed") for kind in ("containers", "images")
               for entry in diff[group][kind]
               if entry.startswith((users_objects["container"][:19], users_objects["image"][:19]))]
    assert not touched, touched
