"""The faulty engine: a Docker Engine API proxy that weakens the real engine on purpose.

Every conformance check needs a negative control, an engine on which it must fail. This
proxy sits on its own unix socket in front of a real engine and forwards the API
unchanged, except where a chosen fault rewrites a call (see ``faults/__init__.py``).

In process::

    with FaultyEngine(["pid-host"]) as engine:      # engine.url == "unix:///.../engine.sock"
        ...

From a shell::

    python -m selftests.faulty_engine --listen unix:///tmp/fe.sock --fault pid-host
"""

from .engine import FaultyEngine
from .faults import FAULTS, FaultSpecError, is_response_only, parse_fault

__all__ = ["FAULTS", "FaultSpecError", "FaultyEngine", "is_response_only", "parse_fault"]
