"""ENG-2, model-based: the daemon's view of containers always matches a small model.

Hypothesis drives a random sequence of lifecycle operations (create, start, stop, kill,
remove, and a refused remove of a running container) against the engine, and after every
step compares what the engine lists with an in-memory model of what those operations must
have done (after Hypothesis's stateful-testing guide). A failure prints the exact sequence
of steps that broke the model.
"""

from __future__ import annotations

import uuid

import hypothesis.strategies as st
from docker.errors import APIError, NotFound
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from fixtures.core import evidence
from fixtures.ledger.marks import claim
from fixtures.resources.tracker import Tracker
from fixtures.run import identity as L

# A shell as PID 1 that exits on SIGTERM, so a stop takes milliseconds, not the grace period.
SERVICE = ["sh", "-c", "trap 'exit 0' TERM; sleep 300 & wait"]
STOP_GRACE_S = 5
EXAMPLE_LABEL = L.PREFIX + "example"


class ContainerLifecycle(RuleBasedStateMachine):
    """Model: container id -> "created" | "running" | "exited"; removed ones are gone."""

    tracker: Tracker
    image: str
    steps: list[str]

    def __init__(self):
        super().__init__()
        self.model: dict[str, str] = {}
        self.api = self.tracker.client.api
        # Each example sees only its own containers: what an earlier example left must not
        # change this one's outcome (Hypothesis replays examples and expects the same result).
        self.example = uuid.uuid4().hex[:12]
        self.steps.append(f"--- example {self.example} ---")

    def _pick(self, data, states: tuple[str, ...]) -> str:
        # Draw a position in creation order, never an id: ids differ each time Hypothesis
        # replays a sequence, and a draw must not depend on anything outside the model.
        candidates = [c for c, s in self.model.items() if s in states]
        return candidates[data.draw(st.integers(0, len(candidates) - 1), label="which")]

    def _has(self, *states: str) -> bool:
        return any(s in states for s in self.model.values())

    def _create(self) -> str:
        container = self.tracker.container(self.image, SERVICE, start=False, network_mode="none",
                                           labels={EXAMPLE_LABEL: self.example})
        self.model[container.id] = "created"
        self.steps.append(f"create {container.id[:12]}")
        return container.id

    @initialize()
    def a_running_container(self):
        # Every example starts from one running container: the draws of a short, derandomized
        # run favour the first rules, and without this its sequences may never start,
        # stop or kill anything.
        cid = self._create()
        self.api.start(cid)
        self.model[cid] = "running"
        self.steps.append(f"start {cid[:12]}")

    @rule()
    def create(self):
        self._create()

    @precondition(lambda self: self._has("created", "exited"))
    @rule(data=st.data())
    def start(self, data):
        cid = self._pick(data, ("created", "exited"))
        self.api.start(cid)
        self.model[cid] = "running"
        self.steps.append(f"start {cid[:12]}")

    @precondition(lambda self: self._has("running"))
    @rule(data=st.data())
    def stop(self, data):
        cid = self._pick(data, ("running",))
        self.api.stop(cid, timeout=STOP_GRACE_S)
        self.model[cid] = "exited"
        self.steps.append(f"stop {cid[:12]}")

    @precondition(lambda self: self._has("running"))
    @rule(data=st.data())
    def kill(self, data):
        cid = self._pick(data, ("running",))
        self.api.kill(cid)
        self.api.wait(cid, timeout=30)
        self.model[cid] = "exited"
        self.steps.append(f"kill {cid[:12]}")

    @precondition(lambda self: self._has("created", "exited"))
    @rule(data=st.data())
    def remove(self, data):
        cid = self._pick(data, ("created", "exited"))
        self.api.remove_container(cid)
        del self.model[cid]
        self.steps.append(f"rm {cid[:12]}")

    @precondition(lambda self: self._has("running"))
    @rule(data=st.data())
    def remove_running_is_refused(self, data):
        cid = self._pick(data, ("running",))
        try:
            self.api.remove_container(cid)
        except APIError as exc:
            assert exc.status_code == 409, f"rm of running {cid[:12]} failed with {exc.status_code}, not 409"
        else:
            raise AssertionError(f"rm without force removed running container {cid[:12]}")
        self.steps.append(f"rm (refused) {cid[:12]}")

    @invariant()
    def engine_matches_model(self):
        mine = {"label": [f"{L.TEST}={self.tracker.test_id}", f"{EXAMPLE_LABEL}={self.example}"]}
        listed = {c["Id"]: c["State"] for c in self.api.containers(all=True, filters=mine)}
        running = {c["Id"] for c in self.api.containers(filters=mine)}
        assert listed == self.model, f"engine lists {_short(listed)}, the model expects {_short(self.model)}"
        expected_running = {c for c, s in self.model.items() if s == "running"}
        assert running == expected_running, \
            f"running containers: engine {_short(running)}, model {_short(expected_running)}"

    def teardown(self):
        # Only this machine's containers, by id; the tracker removes any left at test end too.
        for cid in list(self.model):
            try:
                self.api.remove_container(cid, force=True, v=True)
            except NotFound:
                pass


def _short(ids) -> str:
    if isinstance(ids, dict):
        return str({k[:12]: v for k, v in sorted(ids.items())})
    return str(sorted(i[:12] for i in ids))


@claim("ENG-2", cases=["containers"])
def test_container_lifecycle_matches_a_model(case, resources, alpine_image):
    """The daemon MUST keep each container's state exactly as its lifecycle operations set it.

    Hypothesis generates sequences of create, start, stop, kill, remove and a remove of a
    running container (which must be refused with 409), each from one running container
    made first; after every step the engine's list
    of this test's containers (all, and running only) must equal the model's. The number of
    sequences and steps comes from the Hypothesis profile in the report header.
    """
    steps: list[str] = []
    machine = type("Lifecycle", (ContainerLifecycle,), {"tracker": resources, "image": alpine_image.ref,
                                                         "steps": steps})
    try:
        run_state_machine_as_test(machine)
    finally:
        evidence.text("lifecycle steps", "\n".join(steps))
        evidence.figure("steps run", sum(1 for s in steps if not s.startswith("---")))
