"""Start-latency probes, engine event phases and disk-usage churn, without an engine."""

from __future__ import annotations

import socket
import threading

from fixtures.engine.events import EventRecorder
from fixtures.measure import disk_usage
from fixtures.measure.start_latency import answers


def _server(reply: bytes):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve():
        conn, _ = listener.accept()
        with conn:
            conn.sendall(reply)

    threading.Thread(target=serve, daemon=True).start()
    return listener


def test_a_port_answers_only_when_the_server_speaks():
    # A userland proxy accepts and closes empty while nothing listens behind it.
    for reply, expected in ((b"ready\n", True), (b"", False)):
        listener = _server(reply)
        with listener:
            assert answers("127.0.0.1", listener.getsockname()[1], b"ready") is expected


class _Api:
    base_url = "http+docker://localhost"


def test_event_phases_in_milliseconds():
    recorder = EventRecorder(_Api(), "conformance.test=x")
    recorder._times["c1"] = {"create": 1_000_000_000, "start": 1_200_500_000, "die": 1_220_000_000,
                             "destroy": 1_260_000_000}
    recorder._times["c2"] = {"create": 5, "start": 7}
    assert recorder.phases_ms("c1") == {("create", "start"): 200.5, ("start", "die"): 19.5,
                                        ("die", "destroy"): 40.0}
    assert recorder.phases_ms("c2") == {("create", "start"): 0.0}
    assert recorder.phases_ms("unknown") == {}


def test_image_churn_ignores_the_measured_image_and_its_builder_parents():
    before = {"base": "", "other": ""}
    after = {"base": "", "step1": "base", "step2": "step1", "mine": "step2", "theirs": ""}
    own = disk_usage.ancestry(after, "mine")
    assert own == {"mine", "step2", "step1", "base"}
    churn = disk_usage.churn(before, after, own)
    assert churn.appeared == ["theirs"] and churn.disappeared == ["other"] and not churn.quiet
    assert disk_usage.churn(before, {**before, "mine": ""}, {"mine"}).quiet
