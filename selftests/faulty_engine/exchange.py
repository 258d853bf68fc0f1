"""One client connection: read its request, apply the faults' plan, forward, answer.

Every exchange gets its own upstream connection, and ``Connection: close`` is forced
both ways, so after the request head the proxy never has to find where a message ends:
it pipes bytes until a side closes. That also carries hijacked connections
(``Upgrade: tcp`` answered by 101, and the older 200 with a raw stream on attach and
exec start) with no special case. Only a message that a fault rewrites is read whole.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Callable

from .access_log import AccessLog
from .calls import Call
from .endpoints import Endpoint
from .rules import Plan, Reply, RewriteError, Rule, apply_json
from .wire import Head, WireError, read_body, read_head

CHUNK = 1 << 16


@dataclass(frozen=True)
class Setup:
    upstream: Endpoint
    rules: tuple[Rule, ...]
    log: AccessLog


def _hijacking(head: Head) -> bool:
    return head.get("Upgrade") is not None


async def serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, setup: Setup) -> None:
    upstream_writer: asyncio.StreamWriter | None = None
    try:
        head = await read_head(reader)
        if head is None:
            return
        call = Call.from_target(head.method, head.target)
        plan = Plan.for_call(setup.rules, call)

        def log(status: int | str) -> None:
            setup.log.record(call.method, call.version_prefix + call.path, status, plan.faults)

        if plan.answer is not None:
            await _reply(writer, plan.answer)
            log(plan.answer.status)
            return
        if plan.delay:
            await asyncio.sleep(plan.delay)

        outgoing = head.with_target(plan.call.target)
        body = b""
        if plan.request_rewrites:
            body = apply_json(await read_body(reader, head, until_eof=False), plan.request_rewrites)
            outgoing = outgoing.with_body_length(len(body))
        if not _hijacking(head):
            outgoing = outgoing.setting("Connection", "close")

        try:
            upstream_reader, upstream_writer = await setup.upstream.connect()
        except OSError as exc:
            await _reply(writer, Reply.json(502, {"message": f"faulty engine: upstream unreachable: {exc}"}))
            log(502)
            return
        upstream_writer.write(outgoing.encode() + body)
        await upstream_writer.drain()

        uplink = asyncio.create_task(_forward_rest_of_request(reader, upstream_writer))
        try:
            await _answer(upstream_reader, writer, plan, log)
        finally:
            uplink.cancel()
    except RewriteError as exc:
        await _reply(writer, Reply.json(500, {"message": f"faulty engine: {exc}"}))
        log(500)
    except (ConnectionError, WireError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        pass  # a peer went away or spoke garbage; there is no one left to tell
    finally:
        for side in (writer, upstream_writer):
            if side is not None:
                side.close()


async def _answer(upstream: asyncio.StreamReader, downstream: asyncio.StreamWriter, plan: Plan,
                  log: Callable[[int | str], None]) -> None:
    response = await read_head(upstream)
    if response is None:
        await _reply(downstream, Reply.json(502, {"message": "faulty engine: upstream closed without answering"}))
        log(502)
        return
    status = response.status
    if status in plan.status_map:
        await _reply(downstream, plan.status_map[status])
        log(f"{plan.status_map[status].status}<-{status}")
        return
    if plan.response_rewrites and 200 <= status < 300:
        body = apply_json(await read_body(upstream, response, until_eof=True), plan.response_rewrites)
        downstream.write(response.with_body_length(len(body)).setting("Connection", "close").encode() + body)
        log(status)
        await downstream.drain()
        return
    log(status)
    if status != 101:
        response = response.setting("Connection", "close")
    downstream.write(response.encode())
    await _pipe(upstream, downstream, half_close=False)


async def _forward_rest_of_request(reader: asyncio.StreamReader, upstream: asyncio.StreamWriter) -> None:
    try:
        await _pipe(reader, upstream, half_close=True)
    except ConnectionError:
        pass  # the engine hung up; the answer side sees that and ends the exchange


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, half_close: bool) -> None:
    while chunk := await source.read(CHUNK):
        sink.write(chunk)
        await sink.drain()
    # A client that stops sending (stdin closed on attach or exec) may still be owed output.
    if half_close and sink.can_write_eof() and not sink.is_closing():
        sink.write_eof()


async def _reply(writer: asyncio.StreamWriter, reply: Reply) -> None:
    fields = [("Connection", "close"), ("Content-Length", str(len(reply.body)))]
    if reply.status in (204, 304):
        fields.pop()
    if reply.content_type:
        fields.append(("Content-Type", reply.content_type))
    writer.write(Head.response(reply.status, tuple(fields)).encode() + reply.body)
    await writer.drain()
