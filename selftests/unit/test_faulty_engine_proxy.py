"""The faulty engine with no fault is transparent: the SDK and the real CLI work through it.

Covers version negotiation, streamed responses (run output, ``logs -f``, events), streamed
request bodies (build, load, cp), both hijack variants (101 Upgrade and the older plain
200 on attach and exec start), the access log, and clean start-up and shutdown.
"""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import docker
import pytest

from fixtures.core.waiting import wait_until
from selftests.faulty_engine import FaultSpecError, FaultyEngine
from selftests.faulty_engine.selftest_fixtures import (  # noqa: F401 - fixtures used by name
    CASE_KEY,
    case,
    docker_cli,
    host_image,
)
from selftests.faulty_engine.wire import Head

pytestmark = pytest.mark.engine

STREAM_TIMEOUT = 60


def raw_exchange(url: str, request: bytes, after_head=lambda: None) -> tuple[Head, bytes]:
    """Send ``request`` on a fresh connection; return the response head and every byte after it."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(STREAM_TIMEOUT)
        sock.connect(url[len("unix://"):])
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(1 << 16)
            assert chunk, f"connection closed before a response head; got {data!r}"
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        after_head()
        while chunk := sock.recv(1 << 16):
            rest += chunk
    return Head.parse(head + b"\r\n\r\n"), rest


def demultiplex(stream: bytes) -> dict[int, bytes]:
    """The engine's raw-stream frames (1 = stdout, 2 = stderr) joined per stream."""
    out: dict[int, bytes] = {1: b"", 2: b""}
    while stream:
        kind, size = struct.unpack(">BxxxL", stream[:8])
        out[kind] = out.get(kind, b"") + stream[8 : 8 + size]
        stream = stream[8 + size :]
    return out


def test_sdk_ping_and_version_match_the_real_engine(faulty_engine, real_client):
    engine = faulty_engine()
    with closing(docker.DockerClient(base_url=engine.url, version="auto", timeout=30)) as client:
        assert client.ping() is True
        assert client.version()["ApiVersion"] == real_client.version()["ApiVersion"]
        assert client.info()["ID"] == real_client.info()["ID"]


def test_cli_negotiates_the_engines_api_version(faulty_engine, real_client):
    result = docker_cli(faulty_engine(), "version", "--format", "{{.Server.APIVersion}}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == real_client.version()["ApiVersion"]


def test_cli_run_streams_stdout_and_stderr_and_removes(faulty_engine, host_image, case, real_client):
    result = docker_cli(faulty_engine(), "run", "--rm", *case.label_flags, host_image,
                        "sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3")
    assert (result.returncode, result.stdout, result.stderr) == (3, "to-stdout\n", "to-stderr\n")
    assert case.containers_made() == []


def test_cli_run_passes_stdin_and_its_end(faulty_engine, host_image, case):
    # "cat" only exits when the proxy carries the client's half-close through to the engine.
    result = docker_cli(faulty_engine(), "run", "--rm", "-i", *case.label_flags, host_image, "cat",
                        input="line one\nline two\n", timeout=STREAM_TIMEOUT)
    assert (result.returncode, result.stdout) == (0, "line one\nline two\n"), result.stderr


def test_cli_exec_with_and_without_stdin(faulty_engine, host_image, case):
    engine = faulty_engine()
    started = docker_cli(engine, "run", "-d", *case.label_flags, host_image, "sleep", "300")
    assert started.returncode == 0, started.stderr
    container = started.stdout.strip()
    plain = docker_cli(engine, "exec", container, "sh", "-c", "echo exec-out; echo exec-err >&2")
    assert (plain.returncode, plain.stdout, plain.stderr) == (0, "exec-out\n", "exec-err\n")
    piped = docker_cli(engine, "exec", "-i", container, "cat", input="via stdin\n", timeout=STREAM_TIMEOUT)
    assert (piped.returncode, piped.stdout) == (0, "via stdin\n"), piped.stderr


def test_cli_logs_follow_ends_when_the_container_exits(faulty_engine, host_image, case):
    engine = faulty_engine()
    started = docker_cli(engine, "run", "-d", *case.label_flags, host_image,
                         "sh", "-c", "echo first; sleep 1; echo second")
    assert started.returncode == 0, started.stderr
    followed = docker_cli(engine, "logs", "-f", started.stdout.strip(), timeout=STREAM_TIMEOUT)
    assert (followed.returncode, followed.stdout) == (0, "first\nsecond\n"), followed.stderr


def test_cli_cp_streams_archives_both_ways(faulty_engine, host_image, case, tmp_path):
    engine = faulty_engine()
    started = docker_cli(engine, "run", "-d", *case.label_flags, host_image, "sleep", "300")
    container = started.stdout.strip()
    (tmp_path / "payload").write_bytes(os.urandom(300_000))
    assert docker_cli(engine, "cp", str(tmp_path / "payload"), f"{container}:/tmp/payload").returncode == 0
    copied_back = docker_cli(engine, "cp", f"{container}:/tmp/payload", str(tmp_path / "back"))
    assert copied_back.returncode == 0, copied_back.stderr
    assert (tmp_path / "back").read_bytes() == (tmp_path / "payload").read_bytes()


def test_sdk_exec_and_attach_streams(faulty_engine, real_client, host_image, case):
    engine = faulty_engine()
    with closing(docker.DockerClient(base_url=engine.url, version="auto", timeout=STREAM_TIMEOUT)) as client:
        container = client.containers.run(host_image, ["sleep", "300"], detach=True, labels=case.labels)
        exit_code, output = container.exec_run(["sh", "-c", "echo out; echo err >&2"], demux=True)
        assert (exit_code, output) == (0, (b"out\n", b"err\n"))
        talker = client.containers.create(host_image, ["sh", "-c", "echo attached"], labels=case.labels)
        stream = talker.attach(stream=True, logs=True)
        talker.start()
        assert b"".join(stream) == b"attached\n"


@pytest.mark.parametrize("upgrade", [True, False], ids=["101-upgrade", "plain-200"])
def test_raw_attach_hijack(faulty_engine, real_client, host_image, case, upgrade):
    engine = faulty_engine()
    container = real_client.api.create_container(
        host_image, ["sh", "-c", "echo attach-out; echo attach-err >&2"], labels=case.labels)["Id"]
    headers = "Connection: Upgrade\r\nUpgrade: tcp\r\n" if upgrade else ""
    request = (f"POST /v1.41/containers/{container}/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\n"
               f"Host: docker\r\n{headers}Content-Length: 0\r\n\r\n").encode()
    head, stream = raw_exchange(engine.url, request, after_head=lambda: real_client.api.start(container))
    assert head.status == (101 if upgrade else 200)
    assert head.get("Content-Type") == "application/vnd.docker.raw-stream"
    assert demultiplex(stream) == {1: b"attach-out\n", 2: b"attach-err\n"}


@pytest.mark.parametrize("upgrade", [True, False], ids=["101-upgrade", "plain-200"])
def test_raw_exec_start_hijack(faulty_engine, real_client, host_image, case, upgrade):
    engine = faulty_engine()
    container = real_client.containers.run(host_image, ["sleep", "300"], detach=True, labels=case.labels)
    exec_id = real_client.api.exec_create(container.id, ["sh", "-c", "echo exec-out; echo exec-err >&2"])["Id"]
    body = b'{"Detach": false, "Tty": false}'
    headers = "Connection: Upgrade\r\nUpgrade: tcp\r\n" if upgrade else ""
    request = (f"POST /v1.41/exec/{exec_id}/start HTTP/1.1\r\nHost: docker\r\n{headers}"
               f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    head, stream = raw_exchange(engine.url, request)
    assert head.status == (101 if upgrade else 200)
    assert demultiplex(stream) == {1: b"exec-out\n", 2: b"exec-err\n"}


@pytest.mark.timeout(STREAM_TIMEOUT)
def test_events_stream_live(faulty_engine, real_client, host_image, case):
    engine = faulty_engine()
    with closing(docker.DockerClient(base_url=engine.url, version="auto")) as client:
        since = int(time.time()) - 1
        events = client.events(since=since, decode=True,
                               filters={"type": "container", "label": f"{CASE_KEY}={case.id}"})
        try:
            real_client.api.create_container(host_image, ["true"], labels=case.labels)
            first = next(events)
        finally:
            events.close()
    assert (first["Type"], first["Action"]) == ("container", "create")


def test_cli_build_save_and_load_stream_request_bodies(faulty_engine, real_client, host_image, case, tmp_path):
    engine = faulty_engine()
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text(f"FROM {host_image}\nCOPY payload /payload\nRUN cat /payload > /copied\n")
    (context / "payload").write_bytes(os.urandom(2_000_000))
    tag = f"conformance-selftest/faulty-engine-built:{case.id}"
    # No buildx plugin here; the classic builder streams the context as the request body.
    built = docker_cli(engine, "build", "-q", "-t", tag, *case.label_flags, str(context),
                       env={"DOCKER_BUILDKIT": "0"})
    assert built.returncode == 0, built.stderr
    image_id = real_client.images.get(tag).id
    case.remove_later(lambda: real_client.images.remove(image_id, force=True))
    assert image_id == built.stdout.strip()

    archive = tmp_path / "image.tar"
    saved = docker_cli(engine, "save", "-o", str(archive), tag)
    assert saved.returncode == 0, saved.stderr
    real_client.images.remove(image_id, force=True)
    loaded = docker_cli(engine, "load", "-i", str(archive))
    assert loaded.returncode == 0, loaded.stderr
    assert real_client.images.get(tag).id == image_id


def test_access_log_has_a_line_per_call_and_no_credentials(faulty_engine, tmp_path):
    engine = faulty_engine("lie-version")
    secret = f"s3cret-{time.time_ns()}"
    with closing(docker.DockerClient(base_url=engine.url, version="1.41", timeout=30)) as client:
        client.version()
        with pytest.raises(docker.errors.APIError):
            client.login(username="someone", password=secret, registry="127.0.0.1:9")
        with pytest.raises(docker.errors.APIError):
            client.images.pull("127.0.0.1:9/nothing", tag="x", auth_config={"username": "u", "password": secret})
    lines = Path(engine.log_path).read_text().splitlines()
    assert any(" GET /v1.41/version 200 faults=lie-version" in line for line in lines)
    assert any(" POST /v1.41/auth " in line for line in lines)
    assert any(" POST /v1.41/images/create " in line for line in lines)
    log_text = Path(engine.log_path).read_text()
    assert secret not in log_text and "fromImage" not in log_text


def test_stop_closes_and_removes_the_socket(real_engine):
    engine = FaultyEngine(upstream=real_engine.url).start()
    socket_path = engine.socket_path
    assert os.path.exists(socket_path)
    engine.stop()
    assert not os.path.exists(socket_path)
    with pytest.raises(OSError):
        engine._accepts()


def test_an_unreachable_engine_is_a_502_not_a_hang(tmp_path):
    with FaultyEngine(upstream=f"unix://{tmp_path}/no-engine.sock") as engine:
        request = b"GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n"
        head, body = raw_exchange(engine.url, request)
    assert head.status == 502
    assert b"upstream unreachable" in body


def test_stop_ends_open_streams(faulty_engine, real_client, host_image, case):
    engine = faulty_engine()
    container = real_client.containers.run(host_image, ["sleep", "300"], detach=True, labels=case.labels)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(STREAM_TIMEOUT)
        sock.connect(engine.socket_path)
        sock.sendall(f"GET /v1.41/containers/{container.id}/logs?follow=1&stdout=1 HTTP/1.1\r\n"
                     f"Host: docker\r\n\r\n".encode())
        assert sock.recv(1 << 16).startswith(b"HTTP/1.1 200 ")
        engine.stop()
        assert sock.recv(1 << 16) == b""


def test_a_bad_fault_or_listen_path_fails_at_once(real_engine, tmp_path):
    with pytest.raises(FaultSpecError):
        FaultyEngine(["no-such-fault"], upstream=real_engine.url)
    unusable = FaultyEngine(upstream=real_engine.url, listen=f"unix://{tmp_path}/missing-dir/x.sock")
    with pytest.raises(RuntimeError, match="did not start"):
        unusable.start()


def test_command_line_serves_until_sigterm(real_engine, tmp_path):
    socket_path = tmp_path / "cli.sock"
    log = tmp_path / "cli.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "selftests.faulty_engine", "--listen", f"unix://{socket_path}",
         "--upstream", real_engine.url, "--fault", "vm-runtime", "--log", str(log)],
        cwd=Path(__file__).resolve().parents[2], stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_until(lambda: process.poll() is not None or socket_path.exists(), timeout=30,
                   what="the command-line proxy's socket")
        with closing(docker.DockerClient(base_url=f"unix://{socket_path}", version="1.41", timeout=30)) as client:
            wait_until(client.ping, timeout=30, what="the command-line proxy to answer")
            assert client.info()["DefaultRuntime"] == "kata-runtime"
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert not socket_path.exists()
    assert " GET /v1.41/info 200 faults=vm-runtime" in log.read_text()
