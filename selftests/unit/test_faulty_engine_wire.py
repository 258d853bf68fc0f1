"""The faulty engine's HTTP framing: heads and bodies as the docker CLI and engine send them."""

from __future__ import annotations

import asyncio

import pytest

from selftests.faulty_engine.wire import Head, WireError, read_body, read_head

REQUEST = (
    b"POST /v1.41/build?t=x HTTP/1.1\r\nHost: api.moby.localhost\r\nUser-Agent: Docker-Client/28.2.2\r\n"
    b"Transfer-Encoding: chunked\r\nContent-Type: application/x-tar\r\nX-Registry-Config: e30=\r\n\r\n"
)


def reader_of(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


def read(coroutine_factory, data: bytes):
    async def run():
        return await coroutine_factory(reader_of(data))

    return asyncio.run(run())


def test_a_request_head_round_trips_byte_for_byte():
    head = read(read_head, REQUEST + b"body")
    assert (head.method, head.target) == ("POST", "/v1.41/build?t=x")
    assert head.get("transfer-encoding") == "chunked" and head.is_chunked
    assert head.encode() == REQUEST


def test_setting_a_header_replaces_every_spelling_of_it():
    head = Head.parse(b"GET / HTTP/1.1\r\nconnection: keep-alive\r\nConnection: Upgrade\r\nHost: x\r\n\r\n")
    closed = head.setting("Connection", "close")
    assert closed.headers == (("Host", "x"), ("Connection", "close"))
    assert head.setting("Host", None).headers == (("connection", "keep-alive"), ("Connection", "Upgrade"))


def test_a_body_length_replaces_chunking():
    head = Head.parse(REQUEST).with_body_length(12)
    assert head.get("Transfer-Encoding") is None and head.get("Content-Length") == "12"


def test_retargeting_keeps_method_and_version():
    assert Head.parse(REQUEST).with_target("/v1.41/info").first_line == "POST /v1.41/info HTTP/1.1"


def test_a_response_head_knows_its_status():
    assert Head.parse(b"HTTP/1.1 101 UPGRADED\r\nUpgrade: tcp\r\n\r\n").status == 101
    assert Head.response(304).first_line == "HTTP/1.1 304 Not Modified"


def test_no_head_at_all_is_none_and_half_a_head_is_an_error():
    assert read(read_head, b"") is None
    with pytest.raises(WireError):
        read(read_head, b"GET / HTTP/1.1\r\nHost")


def test_malformed_header_lines_are_refused():
    with pytest.raises(WireError):
        Head.parse(b"GET / HTTP/1.1\r\nno colon here\r\n\r\n")


@pytest.mark.parametrize(
    "head,body,until_eof,expected",
    [
        ("Content-Length: 5", b"hello extra", False, b"hello"),
        ("Transfer-Encoding: chunked", b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n", False, b"hello world"),
        ("X-Other: 1", b"ignored", False, b""),
        ("X-Other: 1", b"to the end", True, b"to the end"),
    ],
)
def test_bodies_are_read_by_their_framing(head, body, until_eof, expected):
    parsed = Head.parse(f"HTTP/1.1 200 OK\r\n{head}\r\n\r\n".encode())

    async def run(reader):
        return await read_body(reader, parsed, until_eof=until_eof)

    assert read(run, body) == expected


def test_a_bad_chunk_size_is_refused():
    parsed = Head.parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")

    async def run(reader):
        return await read_body(reader, parsed, until_eof=False)

    with pytest.raises(WireError):
        read(run, b"zz\r\nhello\r\n0\r\n\r\n")
