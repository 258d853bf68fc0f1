"""The labelled CLI on a fake CLI and a fake engine: where the labels go, what is adopted after
each call (failed or not), and that only objects carrying both of the test's labels are adopted."""

from __future__ import annotations

import subprocess
from types import SimpleNamespace

import pytest

from fixtures.engine.cli import CliResult
from fixtures.resources.labelled_cli import LabelledCli
from fixtures.resources.tracker import Tracker
from fixtures.run import identity as L
from fixtures.run.identity import RunIdentity

IDENTITY = RunIdentity("run-1", "gw0", "host", 1, "1")
TEST = "suites/x.py::test_y[CMD-1]"
OURS = IDENTITY.labels(TEST)
CONTAINER = "c" * 64


class FakeApi:
    """Lists whatever it holds, whatever the filter: an engine whose filters cannot be trusted."""

    def __init__(self):
        self.held = {"containers": [], "volumes": [], "networks": [], "images": []}

    def containers(self, all=False, filters=None):
        return self.held["containers"]

    def volumes(self, filters=None):
        return {"Volumes": self.held["volumes"]}

    def networks(self, filters=None):
        return self.held["networks"]

    def images(self, all=False, filters=None):
        return self.held["images"]


class FakeCli:
    def __init__(self, result: CliResult | Exception):
        self.result, self.calls = result, []

    def __call__(self, *args, **kwargs):
        self.calls.append(args)
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def _result(argv, stdout="", code=0) -> CliResult:
    return CliResult(("/usr/bin/docker", *argv), code, stdout, "" if code == 0 else "Error response from daemon: no", 0.1)


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()


def _cli(api: FakeApi, result) -> tuple[LabelledCli, FakeCli, Tracker]:
    tracker = Tracker(SimpleNamespace(api=api), IDENTITY, TEST)
    fake = FakeCli(result)
    return LabelledCli(fake, tracker), fake, tracker


def test_create_puts_the_labels_after_the_command_words(api):
    cli, fake, tracker = _cli(api, _result(()))
    cli.create("run", "-d", "img")
    cli.create("volume", "create", "v")
    labels = tracker.label_flags()
    assert fake.calls == [("run", *labels, "-d", "img"), ("volume", "create", *labels, "v")]


def test_the_printed_id_is_adopted_once_and_the_result_reads_as_written(api):
    api.held["containers"] = [{"Id": CONTAINER, "Labels": OURS, "Created": 1}]
    cli, _, tracker = _cli(api, _result(("run", "--label", "x=y", "-d", "img"), CONTAINER + "\n"))
    result = cli.create("run", "-d", "img")
    assert tracker.containers() == [CONTAINER]
    assert result.command == "docker run -d img"


def test_a_printed_id_the_listing_misses_is_adopted_too(api):
    cli, _, tracker = _cli(api, _result((), CONTAINER + "\n"))
    cli.create("container", "create", "img")
    assert tracker.containers() == [CONTAINER]


def test_what_a_failed_or_timed_out_call_made_is_adopted(api):
    api.held["containers"] = [{"Id": CONTAINER, "Labels": OURS, "Created": 1}]
    cli, _, tracker = _cli(api, _result((), code=127))
    assert not cli.create("run", "img").ok
    assert tracker.containers() == [CONTAINER]
    timed_out, _, tracker = _cli(api, subprocess.TimeoutExpired("docker", 5))
    with pytest.raises(subprocess.TimeoutExpired):
        timed_out.create("run", "-d", "img")
    assert tracker.containers() == [CONTAINER]


def test_only_objects_of_this_test_are_adopted(api):
    other_test = IDENTITY.labels("suites/x.py::test_z[CMD-2]")
    api.held["volumes"] = [{"Name": "ours", "Labels": OURS}, {"Name": "theirs", "Labels": other_test},
                           {"Name": "unlabelled", "Labels": None}]
    cli, _, tracker = _cli(api, _result(()))
    cli("volume", "ls")
    assert [ident for kind, ident, _ in tracker.created if kind == "volume"] == ["ours"]


def test_intermediate_images_are_removed_after_the_image_built_on_them(api):
    api.held["images"] = [{"Id": "sha256:top", "ParentId": "sha256:mid", "Labels": OURS, "Created": 3},
                          {"Id": "sha256:mid", "ParentId": "sha256:base", "Labels": OURS, "Created": 2}]
    cli, _, tracker = _cli(api, _result(()))
    cli("build", ".")
    # Both are the test's (a failed build leaves its steps behind); the child goes first, or the
    # engine refuses the parent ("image has dependent child images").
    assert [r.ident for r in tracker._removal_order() if r.kind == "image"] == ["sha256:top", "sha256:mid"]
