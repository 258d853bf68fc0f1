"""What a fault may do to one API call, as plain data, and how the matching rules combine.

A fault is one or more ``Rule``s. Each rule names the call it applies to and any of a few
effects; the proxy (``exchange.py``) carries them out, so a fault itself stays a pure
function that is easy to unit-test.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from .calls import Call

JsonRewrite = Callable[[Any], Any]


class RewriteError(Exception):
    """A fault's rewrite raised on the body it was given; the client gets a 500, not a silent pass."""


@dataclass(frozen=True)
class Reply:
    """An answer the proxy gives itself, without asking the engine."""

    status: int
    body: bytes = b""
    content_type: str | None = None

    @classmethod
    def json(cls, status: int, value: Any) -> "Reply":
        return cls(status, json.dumps(value).encode() + b"\n", "application/json")


@dataclass(frozen=True)
class Rule:
    method: str
    route: re.Pattern[str]
    rewrite_request: JsonRewrite | None = None
    # Applied to 2xx answers only: an error from the engine reaches the client as it is.
    rewrite_response: JsonRewrite | None = None
    delay: float = 0.0
    retarget: Callable[[Call], Call] | None = None
    status_map: Mapping[int, Reply] = field(default_factory=dict)
    answer: Reply | None = None
    # Filled in by ``faults.parse_fault`` from the registry key, for the access log.
    fault: str = ""

    def applies_to(self, call: Call) -> bool:
        return call.method == self.method and self.route.fullmatch(call.path) is not None


def route(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


@dataclass(frozen=True)
class Plan:
    """Everything the matching rules do to one call, in the order the rules were given."""

    call: Call
    faults: tuple[str, ...] = ()
    answer: Reply | None = None
    delay: float = 0.0
    request_rewrites: tuple[JsonRewrite, ...] = ()
    response_rewrites: tuple[JsonRewrite, ...] = ()
    status_map: Mapping[int, Reply] = field(default_factory=dict)

    @classmethod
    def for_call(cls, rules: tuple[Rule, ...], call: Call) -> "Plan":
        matching = [rule for rule in rules if rule.applies_to(call)]
        answer = next((rule.answer for rule in matching if rule.answer is not None), None)
        target = call
        status_map: dict[int, Reply] = {}
        for rule in matching:
            if rule.retarget is not None:
                target = rule.retarget(target)
            status_map.update(rule.status_map)
        return cls(
            call=target,
            faults=tuple(dict.fromkeys(rule.fault for rule in matching)),
            answer=answer,
            delay=sum(rule.delay for rule in matching),
            request_rewrites=tuple(r.rewrite_request for r in matching if r.rewrite_request),
            response_rewrites=tuple(r.rewrite_response for r in matching if r.rewrite_response),
            status_map=status_map,
        )


def apply_json(raw: bytes, rewrites: tuple[JsonRewrite, ...]) -> bytes:
    """``raw`` with each rewrite applied in turn; a body that is not JSON passes unchanged."""
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    for rewrite in rewrites:
        try:
            value = rewrite(value)
        except Exception as exc:  # noqa: BLE001 - any bug in a fault must reach the client
            raise RewriteError(f"{getattr(rewrite, '__name__', rewrite)!s} failed: {exc!r}") from exc
    return json.dumps(value).encode() + b"\n"
