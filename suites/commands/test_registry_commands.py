"""CMD-13 to CMD-16: ``docker login``, ``docker tag``, ``docker push`` and ``docker run`` of a
pushed image, against the run's registry.

Document: the command list ("docker login  # Log in this CLI session using your Docker
credentials"; "docker tag <image> username/repository:tag  # Tag <image> for upload to
registry"; "docker push username/repository:tag  # Upload tagged image to registry";
"docker run username/repository:tag  # Run image from a registry").

The registry is the run's own (htpasswd auth on loopback) or the one named with
``--registry``. A private registry's images are named ``REGISTRY/username/repository:tag``;
``docker login`` is given the registry and reads the password from stdin.
"""

from __future__ import annotations

import json
import re
import secrets

from docker.errors import ImageNotFound

from fixtures.core import evidence
from fixtures.inspection import objects
from fixtures.ledger.marks import claim
from fixtures.registry.access_log import offset, requests_since
from fixtures.registry.client import (
    IMAGE_MANIFEST,
    blob_status,
    login,
    manifest_response,
    repository,
)
from fixtures.registry.pushed import nonce_image, push_then_remove


def _stored_auths(config_dir) -> list[str]:
    """Registries with credentials stored in a CLI config (the credentials are never shown)."""
    path = config_dir / "config.json"
    return sorted((json.loads(path.read_text()) if path.exists() else {}).get("auths", {}))


def _login_requests(registry, since: int) -> list[dict]:
    if not registry.log_path:
        return []
    return [r.as_dict() for r in requests_since(registry.log_path, since) if r.path == "/v2/"]


@claim("CMD-13")
def test_login_with_good_credentials(docker_cli, registry, tmp_path):
    """``docker login`` MUST log in to a registry with good credentials.

    Runs ``docker login REGISTRY -u USER --password-stdin`` (the document's bare ``docker
    login`` prompts for Docker Hub; the password goes on stdin, never on a command line)
    with a CLI config private to the test. It MUST succeed, print "Login Succeeded" and
    store credentials for the registry. The registry's log of the ``/v2/`` check is
    attached.
    """
    config = tmp_path / "docker-config"
    since = offset(registry.log_path)
    result = login(docker_cli, registry, env={"DOCKER_CONFIG": str(config)})
    stored = _stored_auths(config)
    evidence.as_json("login", {"registry": registry.address, "exit code": result.exit_code,
                               "stdout": result.stdout.strip(), "credentials stored for": stored,
                               "registry saw": _login_requests(registry, since)})
    # The stored credentials have done their part; they do not outlive the check.
    docker_cli("logout", registry.address, env={"DOCKER_CONFIG": str(config)}).check()
    result.check(f"`docker login {registry.address}` with the right password")
    assert "Login Succeeded" in result.stdout, f"`docker login` did not say it succeeded: {result.stdout.strip()!r}"
    assert registry.address in stored, f"no credentials were stored for {registry.address}: {stored}"


@claim("CMD-13", smoke=True)
def test_login_refuses_bad_credentials(docker_cli, registry, tmp_path):
    """``docker login`` MUST refuse bad credentials and store nothing.

    Runs ``docker login REGISTRY -u USER --password-stdin`` with a wrong password and a
    CLI config private to the test: it MUST fail (a non-zero exit) and store no
    credentials for the registry. Then the same login with the right password, in a config
    of its own, MUST succeed: the refusal is the password's, not an unreachable registry's,
    whatever words the engine or the CLI print. The registry's log of the ``/v2/`` checks
    is attached.
    """
    since = offset(registry.log_path)
    wrong = "wrong-" + secrets.token_urlsafe(12)
    refused_config, contrast_config = tmp_path / "docker-config", tmp_path / "contrast-config"
    refused = login(docker_cli, registry, password=wrong, env={"DOCKER_CONFIG": str(refused_config)})
    stored = _stored_auths(refused_config)
    contrast = login(docker_cli, registry, env={"DOCKER_CONFIG": str(contrast_config)})
    if contrast.ok:
        docker_cli("logout", registry.address, env={"DOCKER_CONFIG": str(contrast_config)}).check()
    evidence.as_json("login", {"registry": registry.address, "exit code": refused.exit_code,
                               "stderr": refused.stderr.strip(), "credentials stored for": stored,
                               "right password, exit code": contrast.exit_code,
                               "registry saw": _login_requests(registry, since) if registry.log_path
                               else "(an external registry: no access log)"})
    assert not refused.ok, f"bad credentials were accepted: `docker login {registry.address}` with a wrong password " \
                           f"succeeded ({refused.stdout.strip()})"
    assert registry.address not in stored, "credentials were stored although the login was refused"
    contrast.check(f"the same `docker login {registry.address}` with the right password (so the refusal "
                   "cannot be told from an unreachable registry)")


@claim("CMD-14", smoke=True)
def test_tag_names_the_same_image(docker_cli, engine, resources, registry, alpine_image):
    """``docker tag <image> username/repository:tag`` MUST add a name that points at the same
    image id.

    Builds an image of this test, runs the command as written with the image's name and a
    ``username/repository:tag`` of this test, and checks: the new name resolves to the
    same image id, and the original name still resolves to it too. (Names are resolved by
    the engine, not compared as text: an engine may spell them in full, as
    ``docker.io/library/name:tag``.)
    """
    image = nonce_image(resources, alpine_image.ref, secrets.token_hex(6))
    original = image.tags[0]
    new_name = f"{repository(registry, resources, 'tagged')}:v1"
    docker_cli("tag", original, new_name).check()
    resolved, still = _resolve(engine, new_name), _resolve(engine, original)
    tags = engine.api.inspect_image(image.id)["RepoTags"]
    evidence.as_json("names", {"image": image.id, "new name resolves to": resolved,
                               "original name resolves to": still, "RepoTags": tags})
    assert resolved == image.id, f"{new_name} resolves to {resolved}, not the tagged image {image.id[:19]}"
    assert still == image.id, f"the original name {original} resolves to {still} after the tag; the image's names are {tags}"


def _resolve(engine, name: str) -> str | None:
    try:
        return engine.images.get(name).id
    except ImageNotFound:
        return None


@claim("CMD-15", smoke=True)
def test_push_uploads_to_registry(registry_cli, engine, resources, registry, alpine_image):
    """``docker push username/repository:tag`` MUST upload the image so that the registry then
    serves it.

    Tags an image of this test as ``REGISTRY/username/repository:tag`` and runs the
    command as written (logged in). The digest the push prints MUST be the registry's
    ``Docker-Content-Digest`` for that tag; the manifest the registry serves MUST name the
    image's own config (its id) and the engine's layer digests; and every blob it lists
    MUST be in the registry.
    """
    image = nonce_image(resources, alpine_image.ref, secrets.token_hex(6))
    repo = repository(registry, resources, "pushed")
    ref = f"{registry.address}/{repo}:v1"
    registry_cli("tag", image.tags[0], ref).check()
    result = registry_cli("push", ref).check()
    printed = re.search(r"digest: (sha256:[0-9a-f]{64})", result.stdout)
    served = manifest_response(registry, repo, "v1", accept=IMAGE_MANIFEST)
    body = served.json() if served.status_code == 200 else {}
    blobs = [body.get("config", {}).get("digest")] + [layer["digest"] for layer in body.get("layers", [])]
    statuses = {digest: blob_status(registry, repo, digest) for digest in blobs if digest}
    evidence.as_json("registry serves", {"status": served.status_code,
                                         "Docker-Content-Digest": served.headers.get("Docker-Content-Digest"),
                                         "push printed": printed.group(1) if printed else None,
                                         "manifest": body, "blob status": statuses})
    assert served.status_code == 200, f"the registry does not serve {repo}:v1 after the push ({served.status_code})"
    assert printed and served.headers.get("Docker-Content-Digest") == printed.group(1), \
        "the registry's manifest digest is not the one the push printed"
    assert body["config"]["digest"] == image.id, \
        f"the served manifest's config {body['config']['digest'][:19]} is not the image {image.id[:19]}"
    local_layers = engine.api.inspect_image(image.id)["RootFS"]["Layers"]
    assert len(body.get("layers", [])) == len(local_layers), \
        f"the manifest lists {len(body.get('layers', []))} layers; the image has {len(local_layers)}"
    missing = {d: s for d, s in statuses.items() if s != 200}
    assert not missing, f"blobs the manifest lists are not in the registry: {missing}"


@claim("CMD-16", smoke=True)
def test_run_pulls_when_absent(registry_cli, labelled_cli, engine, resources, registry, alpine_image):
    """``docker run username/repository:tag`` MUST pull the image from the registry when it is
    not present, then run it.

    Pushes an image of this test whose command prints a nonce, removes it from the engine
    (it must then be absent), and runs the command as written, attached (logged in: the
    CLI's config is the worker's, which ``registry_cli`` logged in). The container MUST
    print the nonce and exit 0, the engine MUST then hold the pulled image with the pushed
    image's id, and the registry's log MUST show the manifest fetched for that repository.
    What the CLI prints about pulling is recorded, not matched.
    """
    pushed = push_then_remove(registry_cli, engine, resources, registry, alpine_image.ref, "pulled")
    ref, repo, nonce = pushed.ref, pushed.repo, pushed.nonce
    present_before = objects.exists(engine, "image", ref)
    since = offset(registry.log_path)
    result = labelled_cli.create("run", ref)
    pulled = _resolve(engine, ref)
    if pulled:
        resources.adopt_image(pulled)
    fetched = [r.as_dict() for r in requests_since(registry.log_path, since, repo)] if registry.log_path else []
    evidence.as_json("pull on run", {"present before": present_before, "stdout": result.stdout.strip(),
                                     "stderr": result.stderr.strip(), "pulled image": pulled,
                                     "registry saw": fetched})
    assert not present_before, f"{ref} was still on the engine before the run"
    result.check()
    assert result.stdout.strip() == nonce, f"the container printed {result.stdout.strip()!r}, not the image's nonce"
    assert pulled == pushed.image_id, f"the pulled image is {pulled}, not the pushed {pushed.image_id[:19]}"
    if registry.log_path:
        assert any(r["method"] == "GET" and "/manifests/" in r["path"] and r["status"] == 200 for r in fetched), \
            f"the registry's log shows no manifest fetch for {repo}: {fetched}"
