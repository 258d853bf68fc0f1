"""STD-1: containers are based on open standards.

Document: "标准" (standard): containers are based on open standards
("容器基于开放式标准").
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex

from fixtures.core import evidence
from fixtures.inspection import host_process
from fixtures.inspection.host_files import read_files
from fixtures.ledger.marks import claim
from fixtures.measure import derived_image
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
    entry = next((m for m in index["manifests"]
                  if (m.get("platform") or {}).get("architecture") == engine_arch), None)
    assert entry, f"the index ({served.content_type}) lists no manifest for the engine's {engine_arch}: {index}"
    return registry_client.manifest(registry, repo, entry["digest"])


def _engine_platform_manifest(registry, repo, served, engine):
    return _single_manifest(registry, repo, served, engine.info()["Architecture"].replace("x86_64", "amd64"))


@claim("STD-1", smoke=True)
def test_registry_serves_a_standard_manifest(resources, alpine_image, registry, engine):
    """An image pushed to a registry MUST have an OCI or Docker schema 2 manifest of known media types.

    Builds an image FROM the Alpine base, pushes it to the run's registry, and fetches the
    manifest it serves to a client that accepts both formats (an index is followed to the
    engine's platform). Its media type MUST be an OCI or Docker schema 2 manifest type, equal
    to its own ``mediaType`` field; its digest header MUST be its sha256; it MUST validate
    against the OCI image spec's ``image-manifest-schema.json``; its config and layer media
    types MUST belong to the same family, and it MUST list one layer per layer of the image.
    """
    image, repo, served = _pushed_manifest(resources, alpine_image, registry)
    manifest = _engine_platform_manifest(registry, repo, served, engine)
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


@claim("STD-1")
def test_registry_serves_a_standard_config(resources, alpine_image, registry, engine):
    """An image pushed to a registry MUST have an image config that matches its manifest and the OCI spec.

    Builds an image FROM the Alpine base, pushes it to the run's registry, and fetches the
    config blob its manifest names. The blob MUST hash to the manifest's digest and have its
    size, validate against the OCI image spec's ``config-schema.json``, and list the engine's
    diff_ids, OS and architecture for the image.
    """
    image, repo, served = _pushed_manifest(resources, alpine_image, registry)
    manifest = _engine_platform_manifest(registry, repo, served, engine)
    descriptor = manifest.document()["config"]
    assert "digest" in descriptor, f"the manifest's config descriptor has no digest: {descriptor}"
    body = registry_client.blob(registry, repo, descriptor["digest"])
    evidence.text("config as served", body.decode(errors="replace"))
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    assert digest == descriptor["digest"], \
        f"the config blob's sha256 is {digest}, the manifest says {descriptor['digest']}"
    assert len(body) == descriptor["size"], \
        f"the config blob is {len(body)} bytes, the manifest says {descriptor['size']}"
    config = json.loads(body)
    problems = oci_schema.violations("config-schema.json", config)
    assert not problems, f"the image config breaks the OCI image-config schema: {problems}"
    assert config["rootfs"]["diff_ids"] == image.diff_ids, \
        f"the config's diff_ids {config['rootfs']['diff_ids']} are not the engine's {image.diff_ids}"
    assert (config["os"], config["architecture"]) == (image.attrs["Os"], image.attrs["Architecture"]), \
        (f"the config says {config['os']}/{config['architecture']}, the engine "
         f"{image.attrs['Os']}/{image.attrs['Architecture']}")
    evidence.figure("config diff_ids", len(config["rootfs"]["diff_ids"]))


def _spec_version(text: str) -> str | None:
    match = re.search(r"^spec:\s*(\S+)", text, re.MULTILINE)
    return match.group(1) if match else None


def _bundle_spec(engine_host, process: host_process.HostProcess) -> tuple[str, dict]:
    """The OCI bundle the container's runtime was given, and its ``config.json``, read on the host."""
    places = process.bundles()
    files = read_files(engine_host, [f"{place}/config.json" for place in places])
    for place in places:
        text = files[f"{place}/config.json"]
        if text is not None:
            return place, json.loads(text)
    raise AssertionError(f"no OCI bundle (config.json) found for the container's process {process.pid}: its "
                         f"parent {process.parent_pid} ({' '.join(process.parent_argv)[:200]}) names or works in "
                         f"{places}, and none holds a readable config.json")


def _runtime_version(engine_host, path: str | None) -> str:
    """``<runtime> --version`` on the engine's host, or why it was not read."""
    if not path:
        return "not read: the engine names no path for its runtime"
    result = engine_host.run(f"{shlex.quote(path)} --version")
    if result.rc != 0:
        return f"not read: `{path} --version` exited {result.rc}: {result.stderr.strip()[:200]}"
    return result.stdout.strip()


@claim("STD-1")
def test_runtime_is_an_oci_runtime(engine, run_container, alpine_image, engine_host):
    """The engine MUST run containers with an OCI runtime, given an OCI bundle; its versions are recorded.

    Starts a container and finds, on the engine's host, the OCI bundle its runtime was
    given: the directory the command line of the container's parent process (the runtime's
    shim: containerd's shim, Podman's conmon) names, or the one it works in. Its
    ``config.json`` MUST name a 1.x OCI runtime spec ``ociVersion`` and describe this very
    container (``process.args`` are its command). Records the engine's default runtime, its
    version (``/version`` components) and ``<runtime> --version`` where the engine names the
    runtime's path; a spec version the runtime reports MUST be 1.x too.
    """
    info, version = engine.info(), engine.version()
    runtime = info.get("DefaultRuntime") or "?"
    path = ((info.get("Runtimes") or {}).get(runtime) or {}).get("path")
    components = {c.get("Name"): c.get("Version") for c in version.get("Components") or []}
    command = ["sleep", "300"]
    container = run_container(alpine_image.ref, command, network_mode="none")
    process = host_process.of(engine_host, engine.api.inspect_container(container.id)["State"]["Pid"])
    bundle, spec = _bundle_spec(engine_host, process)
    reported = _runtime_version(engine_host, path)
    oci_version, runtime_spec = spec.get("ociVersion"), _spec_version(reported)
    evidence.as_json("runtime", {"DefaultRuntime": runtime, "Runtimes": info.get("Runtimes"),
                                 "engine components": components, "runtime --version": reported,
                                 "container process": process.as_dict(), "bundle": bundle,
                                 "bundle ociVersion": oci_version,
                                 "bundle process.args": spec.get("process", {}).get("args")})
    evidence.figure("runtime", f"{runtime} {components.get('runc', components.get(runtime, '?'))}")
    evidence.figure("OCI runtime spec", runtime_spec or "not reported")
    evidence.figure("bundle ociVersion", oci_version or "none")
    assert oci_version and SPEC_VERSION.match(oci_version), \
        f"the container's bundle {bundle} names ociVersion {oci_version!r}, not an OCI runtime spec 1.x"
    assert spec.get("process", {}).get("args") == command, \
        f"the bundle {bundle} runs {spec.get('process', {}).get('args')}, not this container's {command}"
    assert runtime_spec is None or SPEC_VERSION.match(runtime_spec), \
        f"{path} reports spec {runtime_spec!r}, not an OCI runtime spec 1.x"
