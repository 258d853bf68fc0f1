"""Fixtures of the host checks: the engine's machine, its kernel config, the daemon process.

``host`` is testinfra's fixture name, and the checks use it as testinfra's own tests do
(``host.file``, ``host.run``). It is redefined here so that it is the machine the engine
under test runs on, and one machine: testinfra's ``--hosts`` still picks it (the first host
given; ``ssh://user@host`` or ``docker://name``), and without ``--hosts`` it is derived
from the engine URL (``local://`` for a unix socket, the same host for an ``ssh://``
engine). testinfra's own ``host`` would parametrise every check over the ``--hosts`` list
and append ``[local://]`` to node ids; a conformance run tests one engine, so the checks
keep their claim ids (``[HOST-6]``) instead. ``engine_process`` and ``daemon_config``
come from ``fixtures/host/plugin.py``, shared with the SEC-4 findings.
"""

from __future__ import annotations

import docker
import pytest
import testinfra

from fixtures.core.applicability import not_run
from fixtures.engine.plugin import engine_machine
from fixtures.engine.target import Target
from fixtures.host import daemon_settings, kernel_config


@pytest.fixture(scope="session")
def host(pytestconfig: pytest.Config, engine_target: Target) -> testinfra.host.Host:
    """The machine the engine runs on, as a testinfra Host."""
    return engine_machine(pytestconfig, engine_target,
                          f"host checks of an engine at {engine_target.url} need testinfra's "
                          "--hosts ssh://user@host (the machine that engine runs on)")


@pytest.fixture(scope="session")
def kernel(host) -> kernel_config.KernelConfig | kernel_config.Unreadable:
    """The running kernel's config, or where it was looked for in vain."""
    return kernel_config.read(host)


@pytest.fixture(scope="session")
def engine_info(engine: docker.DockerClient) -> dict:
    return engine.info()


@pytest.fixture(scope="session")
def daemon(daemon_config) -> daemon_settings.DaemonSettings:
    """dockerd's effective settings; the check is not run when they cannot be read."""
    if isinstance(daemon_config, str):
        not_run(daemon_config)
    return daemon_config
