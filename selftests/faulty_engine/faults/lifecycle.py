"""Faults that bend the container and object lifecycle: start, stop and remove."""

from __future__ import annotations

from ..calls import Call
from ..rules import Reply, Rule, route
from .commands import with_query
from .arguments import FaultSpecError, argument_list, no_argument, seconds

START = route(r"/containers/[^/]+/start")
STOP = route(r"/containers/[^/]+/stop")
KILL = route(r"/containers/[^/]+/kill")
CONTAINER = route(r"/containers/[^/]+")

# What the engine answers to a successful DELETE of each kind; images list what was
# untagged and deleted, and an empty list is a success that claims nothing.
REMOVALS = {
    "container": (route(r"/containers/[^/]+"), Reply(204)),
    "volume": (route(r"/volumes/[^/]+"), Reply(204)),
    "network": (route(r"/networks/[^/]+"), Reply(204)),
    "image": (route(r"/images/.+"), Reply.json(200, [])),
}


def delay_start(arg: str | None) -> list[Rule]:
    return [Rule("POST", START, delay=seconds(arg))]


def stop_to_kill(call: Call) -> Call:
    container = call.path.split("/")[2]
    return call.to(f"/containers/{container}/kill", "signal=KILL")


def stop_is_kill(arg: str | None) -> list[Rule]:
    no_argument(arg)
    # Kill refuses a stopped container with 409 where stop answers 304; keep stop's face.
    return [Rule("POST", STOP, retarget=stop_to_kill, status_map={409: Reply(304)})]


def kill_is_term(arg: str | None) -> list[Rule]:
    """``docker kill`` sends SIGTERM, whatever signal was asked (SIGKILL by default): an app
    that handles SIGTERM shuts down at its own pace, or not at all."""
    no_argument(arg)
    return [Rule("POST", KILL, retarget=lambda call: with_query(call, signal="TERM"))]


def rm_keeps_volumes(arg: str | None) -> list[Rule]:
    """``docker rm -v`` removes the container but never its anonymous volumes (drops ``v``)."""
    no_argument(arg)
    return [Rule("DELETE", CONTAINER, retarget=lambda call: with_query(call, drop=("v",)))]


def fake_remove(arg: str | None) -> list[Rule]:
    kinds = argument_list(arg, example="container,volume")
    unknown = sorted(set(kinds) - set(REMOVALS))
    if unknown:
        raise FaultSpecError(f"unknown kind(s) {', '.join(unknown)}; known: {', '.join(REMOVALS)}")
    return [Rule("DELETE", REMOVALS[kind][0], answer=REMOVALS[kind][1]) for kind in dict.fromkeys(kinds)]
