"""A fault that makes the engine run images as if they had no config of their own."""

from __future__ import annotations

import copy
from typing import Any

from ..rules import Rule
from .arguments import no_argument
from .create import on_create


def ignore_config(body: Any) -> dict:
    """Root in /, no entrypoint, and the client's command or ``sh``, whatever the image says.

    What the client asked for itself is kept: the engine ignores only the image's config.
    An entrypoint of ``[""]`` is the API's way of resetting the image's entrypoint.
    """
    body = copy.deepcopy(body) if isinstance(body, dict) else {}
    body["User"] = body.get("User") or "0:0"
    body["WorkingDir"] = body.get("WorkingDir") or "/"
    if not body.get("Entrypoint"):
        body["Entrypoint"] = [""]
        body["Cmd"] = body.get("Cmd") or ["sh"]
    return body


def ignore_image_config(arg: str | None) -> list[Rule]:
    no_argument(arg)
    return on_create(ignore_config)
