"""Whether the engine can use the run's registry: which answers make the registry checks "not
run" (the engine never talked to the registry) and which are left to the checks to fail on."""

from types import SimpleNamespace

import pytest
from docker.errors import APIError

from fixtures.engine.target import Target
from fixtures.registry import reach
from fixtures.registry.server import Registry

REGISTRY = Registry("localhost:5001", "conformance", "secret", "/tmp/log", owned=True)
TARGET = Target("tcp://10.0.0.5:2375", "--engine", owned=False, api_version="1.41")
PODMAN_HTTPS = ('login attempt to localhost:5001 failed with status: pinging container registry '
                'localhost:5001: Get "https://localhost:5001/v2/": http: server gave HTTP response to HTTPS client')


class FakeEngine:
    def __init__(self, login_error=None, pull_messages=(), pull_error=None):
        self.login_error, self.pull_messages, self.pull_error = login_error, pull_messages, pull_error
        self.api = SimpleNamespace(pull=self._pull)

    def login(self, username, password, registry, reauth):
        assert (username, registry, reauth) == ("conformance", "localhost:5001", True)
        if self.login_error:
            raise APIError("500 Server Error", explanation=self.login_error)

    def _pull(self, repository, tag, stream, decode, auth_config):
        assert repository.startswith("localhost:5001/") and tag == reach.PROBE_TAG
        assert auth_config == {"username": "conformance", "password": "secret"}
        if self.pull_error:
            raise APIError("404 Client Error", explanation=self.pull_error)
        yield from self.pull_messages


def test_an_engine_that_speaks_to_the_registry_may_use_it(tmp_path):
    engine = FakeEngine(pull_error="manifest for localhost:5001/conformance/conformance-probe:absent not found")
    assert reach.why_not_usable(engine, TARGET, REGISTRY, run_dir=None) == ""


@pytest.mark.parametrize("answer", ["unauthorized: incorrect username or password",
                                    "received unexpected HTTP status: 500 Internal Server Error"])
def test_an_answer_from_the_registry_is_left_to_the_checks(answer):
    """Refused credentials or a broken registry are for the checks to fail on, not to hide."""
    assert reach.why_not_usable(FakeEngine(login_error=answer), TARGET, REGISTRY, run_dir=None) == ""


def test_an_engine_that_insists_on_https_makes_the_checks_not_run_with_its_words():
    why = reach.why_not_usable(FakeEngine(login_error=PODMAN_HTTPS), TARGET, REGISTRY, run_dir=None)
    assert why.startswith("the engine cannot use the run's registry at localhost:5001: login attempt")
    assert "registries.conf lists as insecure" in why and "\n" not in why
    assert "secret" not in why


def test_a_transport_error_inside_the_pull_stream_counts_too():
    """Podman logs in to localhost without TLS but pulls over HTTPS unless told otherwise."""
    engine = FakeEngine(pull_messages=[{"status": "Trying to pull"},
                                       {"error": 'pinging container registry localhost:5001: Get '
                                                 '"https://localhost:5001/v2/": tls: first record does '
                                                 'not look like a TLS handshake'}])
    why = reach.why_not_usable(engine, TARGET, REGISTRY, run_dir=None)
    assert "tls: first record" in why and "registries.conf" in why


def test_the_registry_listens_on_loopback_whatever_name_references_use():
    assert REGISTRY.url == "http://127.0.0.1:5001"
    named = Registry("10.0.0.9:5000", "u", "p", None, owned=False)
    assert named.url == "http://10.0.0.9:5000"
