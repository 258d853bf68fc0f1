"""Cleanup on a misbehaving engine: images children first, a bounded retry, and a failure
reported only for what is really still there (fakes of the engine API)."""

import requests
from docker.errors import APIError, NotFound

from fixtures.resources.removal import Removal, children_first, remove_all


def test_children_come_before_their_parents():
    parents = {"base": "", "mid": "base", "leaf": "mid", "other": ""}
    order = children_first(parents, ["base", "leaf", "mid", "ref:tag"])
    assert order.index("leaf") < order.index("mid") < order.index("base")
    assert order[-1] == "ref:tag", "an id the engine does not list keeps its place at the end"


class FakeApi:
    """Images only; ``remove_image`` refuses a parent while a child exists."""

    def __init__(self, parents):
        self.parents = dict(parents)
        self.calls = []

    def remove_image(self, ident, force=True):
        self.calls.append(ident)
        if ident not in self.parents:
            raise NotFound("gone")
        if ident in self.parents.values():
            raise APIError("409", explanation=f"conflict: unable to delete {ident} (cannot be forced) - "
                                              "image has dependent child images")
        del self.parents[ident]

    def inspect_image(self, ident):
        if ident not in self.parents:
            raise NotFound("gone")


def test_a_parent_refused_in_one_pass_goes_in_the_next():
    api = FakeApi({"base": "", "leaf": "base"})
    removals = [Removal("image", i, (lambda i=i: api.remove_image(i))) for i in ("base", "leaf")]
    assert remove_all(api, removals, retry_seconds=5) == []
    assert api.parents == {}
    assert api.calls[:2] == ["base", "leaf"] and api.calls[2] == "base"


def test_only_what_is_still_there_is_reported():
    api = FakeApi({"base": "", "foreign-child": "base"})
    removals = [Removal("image", "base", lambda: api.remove_image("base"))]
    left = remove_all(api, removals, retry_seconds=0.3)
    assert [entry.removal.ident for entry in left] == ["base"]
    assert "dependent child images" in left[0].line

    gone = FakeApi({})
    assert remove_all(gone, [Removal("image", "x", lambda: (_ for _ in ()).throw(
        APIError("409", explanation="has dependent child images")))], retry_seconds=0.3) == [], \
        "an object the engine no longer has is not reported, whatever its removal said"


def test_an_engine_that_stops_answering_ends_the_attempt_at_once():
    calls = []

    def refused():
        calls.append(1)
        raise requests.ConnectionError("Connection refused")

    removals = [Removal("container", f"c{n}", refused) for n in range(3)]
    left = remove_all(FakeApi({}), removals, retry_seconds=30)
    assert len(calls) == 1 and len(left) == 3
    assert "Connection refused" in left[0].line and "not attempted" in left[1].line
