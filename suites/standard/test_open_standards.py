"""STD-1: containers are based on open standards.

Document: "标准" (standard): containers are based on open standards
("容器基于开放式标准").
"""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from fixtures.core import evidence
from fixtures.inspection.host_files import read_files
from fixtures.ledger.marks import claim
from fixtures.measure import derived_image
from fixtures.measure.container_cost import status_field
from fixtures.registry import client as registry_client
from fixtures.registry import oci_schema

TAG = "std1"
SPEC_VERSION = re.compile(r"^1\.\d+\.\d+")


def _pushed_manifest(resources, alpine_image, registry):
    """An image built FROM the base, pushed to the run's registry; the manifest it serves."""
    image = derived_image.build(resources, derived_image.one_layer_dockerfile(alpine_image.ref, 16))
    repo = registry_client.repository(registry, resources, "standard")
    registry_client.push(resources.client.api, registry, image.image_id, repo, TAG)
    served = registry_client.manifest(registry, repo, TAG)
    evidence.text("manifest as served", f"Content-Type: {served.content_type}\n"
                  f"Docker-Content-Digest: {served.digest_header}\n\n{served.body.decode(errors='replace')}")
    return image, repo, served


def _single_manifest(registry, repo, served, engine_arch: str):
    """The image manifest itself: the served one, or the engine's platform entry of an index."""
    family = oci_schema.family_of(served.content_type)
    if not family or family[1] != "index":
        return served
    index = served.document()
    problems = oci_schema.violations("image-index-schema.json", index)
    assert not problems, f"the index ({served.content_type}) breaks the OCI index schema: {problems}"
    entry = next(m for m in index["manifests"] if (m.get("platform") or {}).get("architecture") == engine_arch)
    return registry_client.manifest(registry, repo, entry["digest"])


def check_manifest(image, registry, repo, served, engine):
    manifest = _single_manifest(registry, repo, served, engine.info()["Architecture"].replace("x86_64", "amd64"))
    family = oci_schema.family_of(manifest.content_type)
    assert family, (f"the registry serves the manifest as {manifest.content_type!r}, a media type of "
                    f"neither the OCI image spec nor Docker's schema 2")
    document = manifest.document()
    evidence.figure("manifest media type", manifest.content_type)
    evidence.figure("standard", family[0])
    assert document.get("mediaType", manifest.content_type) == manifest.content_type, \
        f"the manifest says mediaType {document.get('mediaType')!r} but is served as {manifest.content_type!r}"
    assert manifest.digest_header == manifest.digest, \
        f"Docker-Content-Digest {manifest.digest_header} is not the manifest's sha256 {manifest.digest}"
    problems = oci_schema.violations("image-manifest-schema.json", document)
    assert not problems, f"the manifest breaks the OCI image-manifest schema: {problems}"
    types = oci_schema.FAMILIES[family[0]]
    config_type = document["config"]["mediaType"]
    assert config_type in types["config"], \
        f"the config's media type {config_type!r} is not a {family[0]} config type ({sorted(types['config'])})"
    odd = [layer["mediaType"] for layer in document["layers"] if layer["mediaType"] not in types["layer"]]
    assert not odd, f"layer media types {odd} are not {family[0]} layer types ({sorted(types['layer'])})"
    assert len(document["layers"]) == len(image.diff_ids), \
        f"the manifest lists {len(document['layers'])} layers, the image has {len(image.diff_ids)}"


def check_config(image, registry, repo, served, engine):
    manifest = _single_manifest(registry, repo, served, engine.info()["Architecture"].replace("x86_64", "amd64"))
    descriptor = manifest.document()["config"]
    assert "digest" in descriptor, f"the manifest's config descriptor has no digest: {descriptor}"
    body = registry_client.blob(registry, repo, descriptor["digest"])
    evidence.text("config as served", body.decode(errors="replace"))
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    assert digest == descriptor["digest"], f"the config blob's sha256 is {digest}, the manifest says {descriptor['digest']}"
    assert len(body) == descriptor["size"], f"the config blob is {len(body)} bytes, the manifest says {descriptor['size']}"
    config = json.loads(body)
    problems = oci_schema.violations("config-schema.json", config)
    assert not problems, f"the image config breaks the OCI image-config schema: {problems}"
    assert config["rootfs"]["diff_ids"] == image.diff_ids, \
        f"the config's diff_ids {config['rootfs']['diff_ids']} are not the engine's {image.diff_ids}"
    assert (config["os"], config["architecture"]) == (image.attrs["Os"], image.attrs["Architecture"]), \
        f"the config says {config['os']}/{config['architecture']}, the engine {image.attrs['Os']}/{image.attrs['Architecture']}"
    evidence.figure("config diff_ids", len(config["rootfs"]["diff_ids"]))


CHECKS = {"manifest": check_manifest, "config": check_config}


@claim("STD-1", cases=list(CHECKS), smoke="manifest")
def test_registry_serves_standard_image(case, resources, alpine_image, registry, engine):
    """An image pushed to a registry MUST be an OCI image or a Docker schema 2 image.

    Builds an image FROM the Alpine base, pushes it to the run's registry, and fetches
    what the registry serves to a client that accepts both formats:

    * ``manifest``: its media type MUST be an OCI or Docker schema 2 manifest (an index is
      followed to the engine's platform), equal to its own ``mediaType`` field; its digest
      header MUST be its sha256; it MUST validate against the OCI image spec's
      ``image-manifest-schema.json``; its config and layer media types MUST belong to the
      same family.
    * ``config``: the config blob MUST hash to the manifest's digest and size, validate
      against ``config-schema.json``, and list the engine's diff_ids, OS and architecture.
    """
    image, repo, served = _pushed_manifest(resources, alpine_image, registry)
    CHECKS[case](image, registry, repo, served, engine)


def _spec_version(text: str) -> str | None:
    match = re.search(r"^spec:\s*(\S+)", text, re.MULTILINE)
    return match.group(1) if match else None


@claim("STD-1")
def test_runtime_is_an_oci_runtime(engine, run_container, alpine_image, engine_host):
    """The engine MUST run containers with an OCI runtime, whose versions are recorded.

    Records the engine's default runtime, its version (``/version`` components) and the
    OCI runtime spec version it implements (``<runtime> --version`` on the engine's host).
    Starts a container and reads the bundle its runtime was given (``config.json`` in the
    working directory of the container's shim): its ``ociVersion`` MUST be a 1.x OCI
    runtime spec version, as MUST the runtime's own, where it reports one.
    """
    info, version = engine.info(), engine.version()
    runtime = info.get("DefaultRuntime") or "?"
    path = ((info.get("Runtimes") or {}).get(runtime) or {}).get("path") or runtime
    components = {c.get("Name"): c.get("Version") for c in version.get("Components") or []}
    reported = engine_host.run(f"{path} --version")
    container = run_container(alpine_image.ref, ["sleep", "300"], network_mode="none")
    pid = engine.api.inspect_container(container.id)["State"]["Pid"]
    status = read_files(engine_host, [f"/proc/{pid}/status"])[f"/proc/{pid}/status"] or ""
    shim = status_field(status, "PPid")
    bundle = engine_host.run(f"readlink /proc/{shim}/cwd").stdout.strip()
    spec = read_files(engine_host, [f"{bundle}/config.json"])[f"{bundle}/config.json"] if bundle else None
    oci_version = json.loads(spec).get("ociVersion") if spec else None
    runtime_spec = _spec_version(reported.stdout)
    evidence.as_json("runtime", {"DefaultRuntime": runtime, "Runtimes": info.get("Runtimes"),
                                 "engine components": components,
                                 f"{path} --version": reported.stdout or reported.stderr,
                                 "bundle": bundle, "bundle ociVersion": oci_version})
    evidence.figure("runtime", f"{runtime} {components.get('runc', components.get(runtime, '?'))}")
    evidence.figure("OCI runtime spec", runtime_spec or "not reported")
    evidence.figure("bundle ociVersion", oci_version or "not found")
    if oci_version is None and runtime_spec is None:
        pytest.fail(f"neither the runtime ({path} --version) nor the container's bundle ({bundle!r}) "
                    "names an OCI runtime spec version")
    for where, value in (("the container's bundle ociVersion", oci_version), (f"{path}'s spec", runtime_spec)):
        assert value is None or SPEC_VERSION.match(value), f"{where} is {value!r}, not an OCI runtime spec 1.x"
