"""Command line: ``python -m selftests.faulty_engine --listen unix:///PATH.sock --fault NAME[=ARG] ...``

Runs in the foreground until SIGINT or SIGTERM, then closes and removes its socket.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from .access_log import AccessLog
from .endpoints import Endpoint, default_upstream
from .faults import FAULTS, FaultSpecError, parse_fault
from .server import ProxyServer


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m selftests.faulty_engine",
        description="A Docker Engine API proxy that weakens the real engine on purpose, for negative controls.",
        epilog="faults: " + ", ".join(sorted(FAULTS)),
    )
    parser.add_argument("--listen", required=True, help="unix:///PATH.sock to serve on")
    parser.add_argument("--upstream", default=default_upstream(), help="the real engine (default: DOCKER_HOST or the docker socket)")
    parser.add_argument("--fault", action="extend", nargs="+", default=[], metavar="NAME[=ARG]",
                        help="faults to apply; repeatable")
    parser.add_argument("--log", metavar="FILE", help="access log file (default: standard error)")
    return parser.parse_args(argv)


async def _serve(listen_path: str, upstream: Endpoint, rules, log: AccessLog) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    server = ProxyServer(listen_path, upstream, rules, log)
    await server.start()
    print(f"faulty engine: listening on unix://{listen_path}, forwarding to {upstream.url}", file=sys.stderr, flush=True)
    try:
        await stop.wait()
    finally:
        await server.close()


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    try:
        rules = tuple(rule for spec in args.fault for rule in parse_fault(spec))
        listen = Endpoint.parse(args.listen)
        upstream = Endpoint.parse(args.upstream)
    except (FaultSpecError, ValueError) as exc:
        print(f"faulty engine: {exc}", file=sys.stderr)
        return 2
    if listen.path is None:
        print("faulty engine: --listen must be a unix socket", file=sys.stderr)
        return 2
    log = AccessLog(args.log) if args.log else AccessLog.to_stderr()
    try:
        asyncio.run(_serve(listen.path, upstream, rules, log))
    finally:
        log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
