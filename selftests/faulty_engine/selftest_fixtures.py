"""Pytest fixtures for the faulty engine's own end-to-end self-tests.

Self-contained for now (the engine at DOCKER_HOST or the default socket, skipped if it
does not answer); the project's engine fixture can replace ``engine_url`` later. Every
resource made here carries ``conformance.selftest.*`` labels and is removed by its id.
"""

from __future__ import annotations

import os
from contextlib import closing
import subprocess
import uuid
from dataclasses import dataclass, field
from typing import Callable, Iterator

import docker
import pytest
from docker.errors import NotFound

from .endpoints import default_upstream
from .engine import FaultyEngine
from .selftest_image import image_files, rootfs_tar

OWNER = {"conformance.selftest.owner": "faulty-engine-dev"}
CASE_KEY = "conformance.selftest.case"
CLI_TIMEOUT = 120


@pytest.fixture(scope="session")
def engine_url() -> str:
    url = default_upstream()
    try:
        with closing(docker.DockerClient(base_url=url, timeout=5)) as client:
            client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "no engine to proxy"
        pytest.skip(f"no Docker engine answers at {url}: {exc}")
    return url


@pytest.fixture(scope="session")
def real_engine(engine_url: str) -> Iterator[docker.DockerClient]:
    with closing(docker.DockerClient(base_url=engine_url, version="auto", timeout=60)) as client:
        yield client


@pytest.fixture(scope="session")
def host_image(real_engine: docker.DockerClient) -> Iterator[str]:
    """The tag of a small image of host binaries (sh, cat, readlink, sleep, ls, hostname, true)."""
    tag = f"conformance-selftest/faulty-engine-host:{uuid.uuid4().hex[:12]}"
    repository, _, version = tag.partition(":")
    labels = [f"LABEL {key}={value}" for key, value in OWNER.items()]
    real_engine.api.import_image_from_data(
        rootfs_tar(image_files()), repository=repository, tag=version, changes=['CMD ["/bin/sh"]', *labels]
    )
    image_id = real_engine.images.get(tag).id
    yield tag
    real_engine.images.remove(image_id, force=True)


@dataclass
class Case:
    """One test's labels, and what it made on the real engine, to remove by id afterwards."""

    real: docker.DockerClient
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    removers: list[Callable[[], None]] = field(default_factory=list)

    @property
    def labels(self) -> dict[str, str]:
        return {**OWNER, CASE_KEY: self.id}

    @property
    def label_flags(self) -> list[str]:
        return [arg for key, value in self.labels.items() for arg in ("--label", f"{key}={value}")]

    def name(self, what: str) -> str:
        return f"conformance-selftest-{what}-{self.id}"

    def remove_later(self, remover: Callable[[], None]) -> None:
        self.removers.append(remover)

    def containers_made(self) -> list[str]:
        # The test's own unique label, so this finds nothing it did not create.
        found = self.real.api.containers(all=True, filters={"label": f"{CASE_KEY}={self.id}"})
        return [entry["Id"] for entry in found]


@pytest.fixture
def case(real_engine: docker.DockerClient) -> Iterator[Case]:
    made = Case(real_engine)
    yield made
    for remover in reversed(made.removers):
        try:
            remover()
        except NotFound:
            pass  # the test removed it itself
    for container_id in made.containers_made():
        real_engine.api.remove_container(container_id, force=True, v=True)


@pytest.fixture
def faulty_engine(engine_url: str, tmp_path) -> Iterator[Callable[..., FaultyEngine]]:
    """``faulty_engine("pid-host", ...)`` starts a proxy with those faults; all stop after the test."""
    started: list[FaultyEngine] = []

    def start(*faults: str) -> FaultyEngine:
        log_path = str(tmp_path / f"faulty-engine-{len(started)}.log")
        engine = FaultyEngine(faults, upstream=engine_url, log_path=log_path).start()
        started.append(engine)
        return engine

    yield start
    for engine in started:
        engine.stop()


def docker_cli(engine: FaultyEngine, *args: str, input: str | None = None,
               env: dict[str, str] | None = None, timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess:
    """The real docker CLI pointed at ``engine``, run to completion."""
    full_env = {**os.environ, "DOCKER_HOST": engine.url, **(env or {})}
    full_env.pop("DOCKER_CONTEXT", None)
    return subprocess.run(
        ["docker", *args], input=input, capture_output=True, text=True,
        env=full_env, timeout=timeout, check=False,
    )
