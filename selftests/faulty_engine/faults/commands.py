"""Faults that break what one of the document's commands asks of the engine (CMD-1, CMD-4,
CMD-5, CMD-10, CMD-14, CMD-15, CMD-16, ARCH-1, and LW-4's layer per build step), while the
command still "succeeds"."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from ..calls import Call
from ..rules import Reply, Rule, route
from .arguments import no_argument

CONTAINER_LIST = route(r"/containers/json")
IMAGE_LIST = route(r"/images/json")
BUILD = route(r"/build")
# Image names hold slashes and a registry's host:port, so the name is ".+".
TAG = route(r"/images/.+/tag")
PUSH = route(r"/images/.+/push")
PULL = route(r"/images/create")

PULL_REFUSED = "pull refused by the faulty engine"


def with_query(call: Call, drop: tuple[str, ...] = (), **set_: str) -> Call:
    """The call with query parameters ``drop``ped and ``set_``, everything else kept."""
    params = [(k, v) for k, v in parse_qsl(call.query, keep_blank_values=True) if k not in drop and k not in set_]
    return call.to(call.path, urlencode(params + list(set_.items())))


def list_all(arg: str | None) -> list[Rule]:
    """``GET /containers/json`` lists stopped containers too, as if ``all=1`` were asked."""
    no_argument(arg)
    return [Rule("GET", CONTAINER_LIST, retarget=lambda call: with_query(call, all="1"))]


def list_running_only(arg: str | None) -> list[Rule]:
    """``GET /containers/json`` ignores ``all``: stopped containers are never listed."""
    no_argument(arg)
    return [Rule("GET", CONTAINER_LIST, retarget=lambda call: with_query(call, drop=("all",)))]


def images_top_only(arg: str | None) -> list[Rule]:
    """``GET /images/json`` ignores ``all``: intermediate images are never listed."""
    no_argument(arg)
    return [Rule("GET", IMAGE_LIST, retarget=lambda call: with_query(call, drop=("all",)))]


def build_ignores_tag(arg: str | None) -> list[Rule]:
    """``POST /build`` builds but drops the ``t`` (tag) parameters."""
    no_argument(arg)
    return [Rule("POST", BUILD, retarget=lambda call: with_query(call, drop=("t",)))]


def squash_builds(arg: str | None) -> list[Rule]:
    """``POST /build`` squashes every build's new layers into one (``squash=1``; the engine
    behind must have experimental features on): a build that loses its layer per step."""
    no_argument(arg)
    return [Rule("POST", BUILD, retarget=lambda call: with_query(call, squash="1"))]


def fake_tag(arg: str | None) -> list[Rule]:
    """``POST /images/<name>/tag`` answers 201 Created and tags nothing."""
    no_argument(arg)
    return [Rule("POST", TAG, answer=Reply(201))]


def fake_push(arg: str | None) -> list[Rule]:
    """``POST /images/<name>/push`` answers a progress stream that ends well, and uploads nothing."""
    no_argument(arg)
    return [Rule("POST", PUSH, answer=Reply.json(200, {"status": "The push refers to a faulty engine"}))]


def refuse_pull(arg: str | None) -> list[Rule]:
    """``POST /images/create`` (pull) fails: the daemon never asks the registry."""
    no_argument(arg)
    return [Rule("POST", PULL, answer=Reply.json(500, {"message": PULL_REFUSED}))]
