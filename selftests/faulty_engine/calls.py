"""An Engine API call as faults see it: the method and the path without its version prefix.

Clients send both ``/v1.41/containers/create`` and ``/containers/create``; faults match
the unversioned path, and the prefix is put back when the call is forwarded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

_VERSION_PREFIX = re.compile(r"^/v\d+(?:\.\d+)?(?=/)")


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    query: str = ""
    version_prefix: str = ""

    @classmethod
    def from_target(cls, method: str, target: str) -> "Call":
        # Absolute-form targets ("http://docker/v1.41/info") are legal HTTP/1.1.
        if "://" in target:
            parts = urlsplit(target)
            target = parts.path + ("?" + parts.query if parts.query else "")
        path, _, query = target.partition("?")
        match = _VERSION_PREFIX.match(path)
        prefix = match.group(0) if match else ""
        return cls(method.upper(), path[len(prefix):] or "/", query, prefix)

    @property
    def target(self) -> str:
        return self.version_prefix + self.path + ("?" + self.query if self.query else "")

    def to(self, path: str, query: str = "") -> "Call":
        """The same call sent to another endpoint of the same API version."""
        return replace(self, path=path, query=query)
