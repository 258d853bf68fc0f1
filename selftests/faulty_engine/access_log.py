"""One line per API call: who asked what, what came back, and which faults touched it.

Only the method, the path without its query, the status and the fault names are
written. Bodies, headers and query strings never are: ``/auth`` bodies and
``X-Registry-Auth`` headers carry registry credentials, and build queries carry
build arguments.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from typing import TextIO


class AccessLog:
    def __init__(self, path: str | None = None, stream: TextIO | None = None):
        self._file = open(path, "a", encoding="utf-8") if path else None
        self._stream = stream

    @classmethod
    def to_stderr(cls) -> "AccessLog":
        return cls(stream=sys.stderr)

    def record(self, method: str, path: str, status: int | str, faults: tuple[str, ...]) -> None:
        stamp = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        line = f"{stamp} {method} {path} {status} faults={','.join(faults) or '-'}\n"
        for out in (self._file, self._stream):
            if out is not None:
                out.write(line)
                out.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
