"""ENG-1: the CLI is a client that talks to the daemon through a REST API.

Document: "Docker引擎" (the engine figure: a CLI client, a REST API, a server daemon).
"""

from __future__ import annotations

import json

import docker

from fixtures.core import evidence
from fixtures.engine.target import negotiate
from fixtures.ledger.marks import claim


def _get(engine: docker.DockerClient, path: str, versioned: bool = False):
    api = engine.api
    url = api._url(path) if versioned else api.base_url + path
    return api.get(url, timeout=10)


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


@claim("ENG-1", smoke=True)
def test_ping_answers_over_the_socket(engine, engine_target):
    """The Engine API MUST answer ``GET /_ping`` directly over its socket.

    Sends a raw HTTP request to the engine's socket, with no client library logic in
    between, and checks: status 200, body ``OK``, and an ``Api-Version`` header that parses
    as a version. Attaches the status, body and headers.
    """
    response = _get(engine, "/_ping")
    evidence.as_json("GET /_ping", {"url": engine_target.url, "status": response.status_code,
                                    "body": response.text, "headers": dict(response.headers)})
    assert response.status_code == 200, f"/_ping answered {response.status_code}: {response.text[:200]}"
    assert response.text == "OK", f"/_ping body is {response.text[:100]!r}, not 'OK'"
    api_version = response.headers.get("Api-Version", "")
    assert api_version and all(p.isdigit() for p in api_version.split(".")), \
        f"/_ping has no usable Api-Version header: {api_version!r}"
    evidence.figure("Api-Version", api_version)


@claim("ENG-1")
def test_version_agrees_with_negotiation(engine):
    """``GET /version`` MUST report the API version the daemon actually speaks.

    Reads the ``Api-Version`` header of ``/_ping`` (what clients negotiate from), then
    ``/version``: its ApiVersion must equal that header, its MinAPIVersion must not exceed
    it, a request under the negotiated ``/v<version>/`` prefix must succeed, and a request
    for an API version newer than the daemon's must be refused with a client error.
    """
    header = _get(engine, "/_ping").headers.get("Api-Version", "")
    version = _get(engine, "/version").json()
    negotiated = negotiate(header)
    versioned = _get(engine, "/version", versioned=True)
    too_new = ".".join(str(p) for p in (_version_tuple(header)[0], _version_tuple(header)[1] + 50))
    refused = engine.api.get(f"{engine.api.base_url}/v{too_new}/version", timeout=10)
    evidence.as_json("API versions", {
        "ping Api-Version": header, "/version": version, "negotiated": negotiated,
        f"GET /v{negotiated}/version": versioned.status_code,
        f"GET /v{too_new}/version": [refused.status_code, refused.text[:200]]})
    assert version.get("ApiVersion") == header, (
        f"/version claims ApiVersion {version.get('ApiVersion')!r} but the daemon speaks {header!r} "
        "(its /_ping Api-Version header)")
    assert _version_tuple(version.get("MinAPIVersion", "0")) <= _version_tuple(header), \
        f"MinAPIVersion {version.get('MinAPIVersion')} is above ApiVersion {header}"
    assert versioned.status_code == 200, f"GET /v{negotiated}/version answered {versioned.status_code}"
    assert 400 <= refused.status_code < 500, \
        f"a request for API {too_new} (newer than {header}) was not refused: {refused.status_code}"


@claim("ENG-1")
def test_cli_honours_docker_host(docker_cli, engine, tmp_path):
    """The docker CLI MUST talk to whichever daemon DOCKER_HOST names.

    Runs ``docker version`` with DOCKER_HOST set to the engine under test and compares the
    server it reports with the API's ``/version``; then points DOCKER_HOST at a socket where
    no daemon listens and checks that the CLI fails to connect instead of reaching any
    other daemon.
    """
    result = docker_cli("version", "--format", "{{json .Server}}")
    assert result.ok, f"docker version failed: {result.stderr.strip()}"
    server = json.loads(result.stdout)
    api_version = engine.version()
    assert server["Version"] == api_version["Version"], \
        f"CLI reached {server['Version']}, the API reports {api_version['Version']}"
    assert server["ApiVersion"] == api_version["ApiVersion"]
    nowhere = f"unix://{tmp_path}/no-daemon.sock"
    stray = docker_cli("version", "--format", "{{.Server.Version}}", env={"DOCKER_HOST": nowhere})
    assert stray.exit_code != 0 and not stray.stdout.strip(), \
        f"with DOCKER_HOST={nowhere} the CLI still reached a server: {stray.stdout.strip()!r}"
    assert "no-daemon.sock" in stray.stderr, f"the CLI did not try DOCKER_HOST: {stray.stderr.strip()}"


def _assert_cli_and_api_agree(cli, engine, container_id: str) -> None:
    """The container's id, image, command, labels and state, read through the CLI and
    through the API, agree field by field."""
    via_api = engine.api.inspect_container(container_id)
    via_cli = json.loads(cli("container", "inspect", container_id).check().stdout)[0]
    fields = {
        "Id": (via_cli["Id"], via_api["Id"]),
        "Config.Image": (via_cli["Config"]["Image"], via_api["Config"]["Image"]),
        "Image": (via_cli["Image"], via_api["Image"]),
        "Config.Cmd": (via_cli["Config"]["Cmd"], via_api["Config"]["Cmd"]),
        "Config.Labels": (via_cli["Config"]["Labels"], via_api["Config"]["Labels"]),
        "State.Status": (via_cli["State"]["Status"], via_api["State"]["Status"]),
    }
    evidence.as_json("CLI vs API", {k: {"cli": a, "api": b} for k, (a, b) in fields.items()})
    differ = {k: v for k, v in fields.items() if v[0] != v[1]}
    assert not differ, f"CLI and API disagree on {sorted(differ)}"
    assert via_api["Config"]["Cmd"] == ["echo", "same-state"], \
        f"the container's command is {via_api['Config']['Cmd']}, not the one it was made with"


@claim("ENG-1")
def test_api_sees_what_the_cli_created(labelled_cli, engine, alpine_image):
    """A container the CLI creates MUST look the same through the API as through the CLI.

    ``docker container create`` makes a labelled container; its id, image, command, labels
    and state, inspected through the API and through ``docker container inspect``, must
    agree field by field, and the command must be the one given.
    """
    container_id = labelled_cli.create("container", "create", alpine_image.ref, "echo", "same-state") \
        .check().stdout.strip()
    _assert_cli_and_api_agree(labelled_cli, engine, container_id)


@claim("ENG-1")
def test_cli_sees_what_the_api_created(docker_cli, engine, resources, alpine_image):
    """A container the API creates MUST look the same through the CLI as through the API.

    ``POST /containers/create`` makes a labelled container; its id, image, command,
    labels and state, inspected through ``docker container inspect`` and through the API,
    must agree field by field, and the command must be the one given.
    """
    container_id = resources.container(alpine_image.ref, ["echo", "same-state"], start=False).id
    _assert_cli_and_api_agree(docker_cli, engine, container_id)
