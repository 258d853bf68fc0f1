"""LW-7: image downloads are faster, because layers are shared.

Document: "轻量级" (lightweight): images share common files, which minimises disk use and
makes image downloads faster ("这样就能尽量降低磁盘用量，并能更快地下载镜像").
"""

from __future__ import annotations

from fixtures.core import evidence
from fixtures.core.waiting import wait_until
from fixtures.ledger.marks import claim
from fixtures.measure import derived_image
from fixtures.measure.artifacts import publish_samples
from fixtures.registry import access_log
from fixtures.registry import client as registry_client
from fixtures.registry.transfer_progress import (
    PULL_FETCHED,
    PULL_SKIPPED,
    PUSH_SENT,
    PUSH_SKIPPED,
    any_status,
    manifest_digest,
    short,
)

TAG = "lw7"
NEW_LAYER_KIB = 1024  # random, so incompressible: the bytes a transfer cannot avoid
MB = 1e6


def _log_traffic(registry, offset, repo, done):
    """The registry's record of ``repo``'s blob traffic since ``offset``, once ``done(traffic)``."""
    if not registry.log_path:
        return None

    def read():
        traffic = access_log.blob_traffic(access_log.requests_since(registry.log_path, offset), repo)
        return traffic if done(traffic) else None

    return wait_until(read, timeout=10, what=f"the registry's access log to record {repo}")


def _layers(served: dict, base_count: int) -> list[dict]:
    return [{"role": "base" if i < base_count else "own", "blob": layer["digest"], "bytes": layer["size"]}
            for i, layer in enumerate(served["layers"])]


def _report(config, name: str, layers: list[dict], log, stream_lines, what: str) -> dict:
    """Publish and attach the blob counts; ``what`` ("sent", "fetched") is the key of a moved layer."""
    sent = [layer for layer in layers if layer[what]]
    saved = [layer for layer in layers if layer not in sent]
    figures = {"layer blobs": len(layers), f"layer blobs {what}": len(sent),
               f"bytes {what}": sum(l["bytes"] for l in sent), "bytes saved": sum(l["bytes"] for l in saved)}
    publish_samples(config, name, {**figures, "layers": layers,
                                   "registry access log": log.as_dict() if log else "not available (the run "
                                   "did not start this registry): counted from the engine's progress stream",
                                   "progress stream": stream_lines})
    evidence.figure(f"blobs {what}", f"{len(sent)} of {len(layers)}")
    evidence.figure(f"MB {what}", round(figures[f"bytes {what}"] / MB, 3), "MB")
    evidence.figure("MB saved by sharing", round(figures["bytes saved"] / MB, 3), "MB", better="higher")
    return figures


def _blobs(layers: list[dict]) -> str:
    return "; ".join(f"{l['blob'][7:19]} {l['stream']}" for l in layers)


def _only_new_layers_moved(layers: list[dict], moved: str, skipped: str, *, moved_again: str, transfer: str,
                           already: str) -> None:
    """No base layer ``moved`` ("sent", "fetched") and each reported ``skipped``; the own layer moved."""
    base_moved = [l for l in layers if l["role"] == "base" and l[moved]]
    assert not base_moved, \
        (f"{moved_again} {len(base_moved)} base layer blob(s) again "
         f"({sum(l['bytes'] for l in base_moved) / MB:.2f} MB): " + _blobs(base_moved))
    unreported = [l for l in layers if l["role"] == "base" and not l[skipped]]
    assert not unreported, \
        f"the {transfer}'s progress does not report these base layers as {already}: " + _blobs(unreported)
    own_missing = [l for l in layers if l["role"] == "own" and not l[moved]]
    assert not own_missing, f"the image's own layer was never {moved}, so the count proves nothing: {own_missing}"


@claim("LW-7")
def test_push_sends_only_new_layers(resources, alpine_image, registry, pytestconfig):
    """Pushing a second image with the same base SHOULD send only its new layer blobs.

    Builds two images FROM the Alpine base, each with one new layer of random bytes, and
    pushes the first to one repository and then the second to another of the run's
    registry. For the second push, the registry's access log (when the run started the
    registry) MUST show no upload of a base blob, and the engine's progress stream MUST
    never report one as "Pushed". Without the access log, the progress stream MUST report
    every base layer as "Layer already exists" or "Mounted from" (engines word progress
    differently: with the log, its wording is evidence only).
    Blob counts and the bytes sent and saved are attached.
    """
    api = resources.client.api
    base = api.inspect_image(alpine_image.image_id)["RootFS"]["Layers"]
    first, second = (derived_image.build(resources, derived_image.one_layer_dockerfile(alpine_image.ref,
                                                                                       NEW_LAYER_KIB))
                     for _ in range(2))
    first_repo = registry_client.repository(registry, resources, "first")
    registry_client.push(api, registry, first.image_id, first_repo, TAG)
    repo = registry_client.repository(registry, resources, "second")
    offset = access_log.offset(registry.log_path)
    progress, stream_lines = registry_client.push(api, registry, second.image_id, repo, TAG)
    log = _log_traffic(registry, offset, repo, lambda t: t.manifests_put > 0)
    layers = _layers(registry_client.manifest(registry, repo, manifest_digest(stream_lines) or TAG).document(),
                     len(base))
    for layer, diff_id in zip(layers, second.diff_ids):
        layer["stream"] = progress.get(short(diff_id), [])
        layer["sent"] = any_status(layer["stream"], PUSH_SENT) or bool(log and layer["blob"] in log.uploaded)
        # The registry's log, when there is one, decides: Podman's progress never says
        # "Layer already exists"; a blob the manifest lists that was not uploaded was there.
        layer["skipped"] = any_status(layer["stream"], PUSH_SKIPPED) or bool(log and layer["blob"] not in log.uploaded)
    _report(pytestconfig, "LW-7-push", layers, log, stream_lines, "sent")
    _only_new_layers_moved(layers, "sent", "skipped", moved_again="pushing a second image with the same base sent",
                           transfer="push", already="already in the registry")


@claim("LW-7", smoke=True)
def test_pull_fetches_only_new_layers(resources, alpine_image, registry, pytestconfig):
    """Pulling an image whose base the engine has SHOULD fetch only its new layer blobs.

    Builds an image FROM the Alpine base with one new layer of random bytes, pushes it to
    the run's registry, removes it from the engine (the base stays, with the Alpine
    image), and pulls it back. The progress stream MUST report every base layer as
    "Already exists" and no base layer as downloaded, and the registry's access log (when
    the run started the registry) MUST show no GET of a base blob. Blob counts and the
    bytes fetched and saved are attached.
    """
    api = resources.client.api
    base = api.inspect_image(alpine_image.image_id)["RootFS"]["Layers"]
    image = derived_image.build(resources, derived_image.one_layer_dockerfile(alpine_image.ref, NEW_LAYER_KIB))
    repo = registry_client.repository(registry, resources, "pulled")
    registry_client.push(api, registry, image.image_id, repo, TAG)
    api.remove_image(image.image_id, force=True)
    offset = access_log.offset(registry.log_path)
    progress, stream_lines = registry_client.pull(api, registry, repo, TAG)
    resources.adopt_image(api.inspect_image(f"{registry.address}/{repo}:{TAG}")["Id"])
    # The layers as the engine pulled them: the manifest of the digest its stream names.
    layers = _layers(registry_client.manifest(registry, repo, manifest_digest(stream_lines) or TAG).document(),
                     len(base))
    downloaded = {l["blob"] for l in layers if any_status(progress.get(short(l["blob"]), []), PULL_FETCHED)}
    log = _log_traffic(registry, offset, repo, lambda t: downloaded <= set(t.fetched))
    for layer in layers:
        layer["stream"] = progress.get(short(layer["blob"]), [])
        layer["fetched"] = layer["blob"] in downloaded or bool(log and layer["blob"] in log.fetched)
        layer["reused"] = any_status(layer["stream"], PULL_SKIPPED)
    _report(pytestconfig, "LW-7-pull", layers, log, stream_lines, "fetched")
    _only_new_layers_moved(layers, "fetched", "reused",
                           moved_again="pulling an image whose base the engine has fetched",
                           transfer="pull", already="already present")
