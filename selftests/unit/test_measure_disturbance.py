"""A quiet measurement's watch: others' events disturb it, this run's do not."""

from fixtures.engine.events import Event
from fixtures.measure.disturbance import DisturbanceWatch, quietly
from fixtures.run.identity import RUN


class FakeApi:
    base_url = "http+docker://localunixsocket"


def _event(type_, action, actor, **attributes):
    return Event(type_, action, actor, attributes, 1)


def test_this_runs_events_and_their_network_traffic_are_not_a_disturbance():
    watch = DisturbanceWatch(FakeApi(), "run-1")
    watch._note(_event("container", "create", "c1" * 32, **{RUN: "run-1"}))
    watch._note(_event("network", "connect", "n" * 64, container="c1" * 32, name="bridge"))
    watch._note(_event("container", "start", "c1" * 32, **{RUN: "run-1"}))
    assert not watch.disturbed
    watch._note(_event("container", "start", "c2" * 32, **{RUN: "run-2"}, image="alpine"))
    watch._note(_event("image", "pull", "alpine:3.23", name="alpine:3.23"))
    assert watch.others == [f"container start {'c2' * 6} alpine", "image pull alpine:3.23 alpine:3.23"]


def test_a_disturbed_measurement_is_taken_again_up_to_the_bound(monkeypatch):
    watch_disturbed = []
    monkeypatch.setattr(DisturbanceWatch, "__enter__", lambda self: (setattr(self, "attempts", self.attempts + 1),
                                                                     self)[1])
    monkeypatch.setattr(DisturbanceWatch, "__exit__", lambda self, *exc: None)
    monkeypatch.setattr(DisturbanceWatch, "disturbed", property(lambda self: watch_disturbed.pop(0)))
    watch_disturbed[:] = [True, False]
    result, watch = quietly(FakeApi(), "run-1", lambda: "figure", attempts=3)
    assert result == "figure" and watch.attempts == 2
    watch_disturbed[:] = [True, True, True]
    _, watch = quietly(FakeApi(), "run-1", lambda: "figure", attempts=3)
    assert watch.attempts == 3, "still disturbed after the last attempt: the figure is marked, not retried"
