"""Pytest fixtures for the faulty engine's own end-to-end self-tests.

The engine comes from the self-tests' ``real_client`` (selftests/conftest.py): the user's
engine, or a sandbox engine when none answers. Every resource made here carries
``conformance.selftest.*`` labels and is removed by its id.
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
def host_image(real_client: docker.DockerClient) -> Iterator[str]:
    """The tag of a small image of host binaries (sh, cat, readlink, sleep, ls, hostname, true)."""
    tag = f"conformance-selftest/faulty-engine-host:{uuid.uuid4().hex[:12]}"
    repository, _, version = tag.partition(":")
    labels = [f"LABEL {key}={value}" for key, value in OWNER.items()]
    real_client.api.import_image_from_data(
        rootfs_tar(image_files()), repository=repository, tag=version, changes=['CMD ["/bin/sh"]', *labels]
    )
    image_id = real_client.images.get(tag).id
    yield tag
    real_client.images.remove(image_id, force=True)


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
def case(real_client: docker.DockerClient) -> Iterator[Case]:
    made = Case(real_client)
    yield made
    for remover in reversed(made.removers):
        try:
            remover()
        except NotFound:
            pass  # the test removed it itself
    for container_id in made.containers_made():
        real_client.api.remove_container(container_id, force=True, v=True)


def docker_cli(engine: FaultyEngine, *args: str, input: str | None = None,
               env: dict[str, str] | None = None, timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess:
    """The real docker CLI pointed at ``engine``, run to completion."""
    full_env = {**os.environ, "DOCKER_HOST": engine.url, **(env or {})}
    full_env.pop("DOCKER_CONTEXT", None)
    return subprocess.run(
        ["docker", *args], input=input, capture_output=True, text=True,
        env=full_env, timeout=timeout, check=False,
    )
