"""LW-6: sharing layers minimises disk use.

Document: "轻量级" (lightweight): images share common files, which minimises disk use and
makes image downloads faster ("这样就能尽量降低磁盘用量，并能更快地下载镜像").
"""

from __future__ import annotations

from dataclasses import dataclass

import docker
import pytest

from fixtures.core import evidence
from fixtures.core.applicability import not_run
from fixtures.engine.plugin import reachable_engine_host
from fixtures.ledger.marks import claim
from fixtures.measure import derived_image, disk_usage
from fixtures.measure.artifacts import publish_samples
from fixtures.measure.layers import chain_ids, saved_image

# A measurement disturbed by someone else's build or removal is taken again, this often,
# when the engine's host cannot tell each layer's part apart.
ATTEMPTS = 3
MB = 1e6


@dataclass(frozen=True)
class StorageState:
    layers_size: int  # /system/df LayersSize
    images: dict[str, str]  # image id -> parent id
    store: dict[str, int] | None  # chain ID -> size, from the engine host's layer store


def _store(host, info) -> tuple[dict[str, int] | None, str]:
    """The engine host's layer store (chain ID -> size), or None and why it cannot be read."""
    if host is None:
        return None, "the engine's host cannot be reached (a tcp:// engine without --hosts)"
    try:
        return disk_usage.layer_store_sizes(host, info["DockerRootDir"], info["Driver"]), ""
    except disk_usage.StoreUnreadable as exc:
        return None, str(exc)


def _state(api, host, info) -> StorageState:
    return StorageState(disk_usage.layers_size(api), disk_usage.image_ids(api), _store(host, info)[0])


def _build(resources, base: str):
    return derived_image.build(resources, derived_image.multi_step_dockerfile(base))


def _by_build(resources, base: str):
    """Nothing to prepare; the act is the build."""
    return (lambda: None), (lambda: _build(resources, base))


def _by_load(resources, base: str):
    """Prepare a ``docker save`` archive of an image whose own layers are then removed; the
    act is loading it back."""
    api = resources.client.api
    archive = {}

    def prepare():
        built = _build(resources, base)
        archive["id"] = built.image_id
        archive["tar"] = b"".join(api.get_image(built.image_id))  # saved by id: the archive holds no tag
        api.remove_image(built.image_id, force=True)

    def load():
        # Engines word their answer differently ("Loaded image ID: ...", "Loaded image: ...");
        # the image is known by its id, the digest of its config, which loading keeps.
        answer = list(api.load_image(archive["tar"]))
        errors = [line["error"] for line in answer if isinstance(line, dict) and line.get("error")]
        assert not errors, f"loading the saved image failed: {errors}"
        resources.adopt_image(archive["id"])
        try:
            attrs = api.inspect_image(archive["id"])
        except docker.errors.ImageNotFound:
            raise AssertionError(f"loading the saved archive of {archive['id'][7:19]} did not bring the image "
                                 f"back; the engine answered {answer}") from None
        return derived_image.DerivedImage(archive["id"], f"(loaded) {archive['id'][7:19]}",
                                          "saved and loaded by the suite", attrs)

    return prepare, load


def _measured(way, resources, alpine_image, info, host):
    """Prepare, read the engine's layer storage, act, read it again; retaken while others'
    images came or went and the host's layer store cannot tell their layers apart."""
    api = resources.client.api
    attempts = []
    for _ in range(ATTEMPTS):
        prepare, act = way(resources, alpine_image.ref)
        prepare()
        before = _state(api, host, info)
        image = act()
        after = _state(api, host, info)
        churn = disk_usage.churn(before.images, after.images, disk_usage.ancestry(after.images, image.image_id))
        own_new = [c for c in chain_ids(image.diff_ids) if before.store is not None and c not in before.store]
        store_growth = sum((after.store or {}).get(c, 0) for c in own_new) if after.store is not None else None
        attempts.append({"image": image.ref, "layers_size_before": before.layers_size,
                         "layers_size_after": after.layers_size, "own_layers_new_in_store": own_new,
                         "own_layers_store_growth": store_growth, "others_added": churn.appeared,
                         "others_removed": churn.disappeared})
        if churn.quiet or store_growth is not None or not after.layers_size:
            break
    else:
        raise AssertionError(f"others changed the engine's images during all {ATTEMPTS} measurements, and its "
                             f"host's layer store cannot be read to tell them apart: {attempts}")
    if store_growth is not None and not churn.quiet:
        growth, source = store_growth, "the image's own new layers in the layer store (others changed images)"
    elif after.layers_size:
        growth, source = after.layers_size - before.layers_size, "/system/df LayersSize"
    else:
        # Podman answers LayersSize 0 with images present: it keeps no such account.
        growth, source = None, "the engine reports no LayersSize (0, with images present)"
    return image, before, growth, source, own_new, attempts


def _storage_grows_by_new_layers_only(way, name, resources, alpine_image, thresholds, pytestconfig,
                                      engine_target):
    api = resources.client.api
    info = api.info()
    host = reachable_engine_host(pytestconfig, engine_target)
    base = api.inspect_image(alpine_image.image_id)
    slack = thresholds.disk_slack_mb * MB
    image, before, growth, source, own_new, attempts = _measured(way, resources, alpine_image, info, host)
    own_layers = image.attrs["Size"] - base["Size"]
    disk, dirs, unreadable = None, {}, ""
    if before.store is None:
        unreadable = _store(host, info)[1]
    else:
        try:
            dirs = disk_usage.layer_directories(host, info["DockerRootDir"], info["Driver"], own_new)
            disk = disk_usage.bytes_on_disk(host, list(dirs.values()))
        except disk_usage.StoreUnreadable as exc:
            unreadable = str(exc)
    base_reused = before.store is None or all(c in before.store for c in chain_ids(base["RootFS"]["Layers"]))
    publish_samples(pytestconfig, f"LW-6-{name}-storage-growth", {
        "base": alpine_image.ref, "base_bytes": base["Size"], "image_bytes": image.attrs["Size"],
        "own_layers_bytes": own_layers, "engine_account_growth_bytes": growth, "engine_account_from": source,
        "disk_bytes_of_new_layers": disk if disk is not None else f"not read: {unreadable}",
        "new_layer_directories": dirs, "storage_driver": info["Driver"], "slack_bytes": slack,
        "attempts": attempts})
    if growth is not None:
        evidence.figure("storage growth (engine's account)", round(growth / MB, 3), "MB", better="lower")
    if disk is not None:
        evidence.figure("storage growth on disk", round(disk / MB, 3), "MB", better="lower")
    evidence.figure("own layers", round(own_layers / MB, 3), "MB")
    evidence.figure("base not stored again", round(base["Size"] / MB, 3), "MB")
    assert base_reused, "the base's layers were not in the engine's layer store before the image came"
    if growth is not None:
        assert growth <= own_layers + slack, \
            (f"the engine's storage grew by {growth / MB:.2f} MB ({source}) for an image whose own layers are "
             f"{own_layers / MB:.2f} MB (base {base['Size'] / MB:.2f} MB): the base was stored again")
        assert growth >= own_layers - slack, \
            (f"the engine's storage grew by only {growth / MB:.2f} MB ({source}) for {own_layers / MB:.2f} MB "
             "of new layers: the measurement missed the image")
    if disk is None:
        account = "the engine's own account agrees" if growth is not None else f"{source}"
        not_run(f"{account}, and what the new layers take on disk cannot be read: {unreadable}")
    assert disk <= own_layers + slack, \
        (f"the image's {len(dirs)} new layer(s) take {disk / MB:.2f} MB on the disk ({info['Driver']}: "
         f"{', '.join(dirs.values())}) for {own_layers / MB:.2f} MB of their own content: the storage "
         f"copies the layers below each one (base {base['Size'] / MB:.2f} MB)")


@pytest.mark.quiet
@claim("LW-6")
def test_build_grows_storage_by_new_layers_only(resources, alpine_image, thresholds, pytestconfig, engine_target):
    """Building a second image from the same base SHOULD grow the engine's storage by its new layers only.

    With the engine to itself (``quiet``), reads the engine's layer storage, builds a
    multi-step image FROM the Alpine base, and reads it again. Two readings of the growth
    MUST each be the image's own layers (its size minus the base's), within
    ``disk_slack_mb``; a copy of the base would add the base's size:

    * the engine's account: ``LayersSize`` of ``/system/df``, or, if others added or removed
      images meanwhile, the sizes of the image's own new layers in the engine's layer store
      (``<data-root>/image/<driver>/layerdb``, read on the engine's host). An engine that
      keeps no such account (Podman answers ``LayersSize`` 0) is held to the disk alone;
    * the disk: what the directories of the image's new layers take on the engine's host
      (``du``). A driver that copies every layer in full (vfs) reports its sizes as changes
      only; the disk shows the copies. Without the host's layer store, this reading is not
      run and the claim is partial.
    """
    _storage_grows_by_new_layers_only(_by_build, "build", resources, alpine_image, thresholds, pytestconfig,
                                      engine_target)


@pytest.mark.quiet
@claim("LW-6")
def test_load_grows_storage_by_new_layers_only(resources, alpine_image, thresholds, pytestconfig, engine_target):
    """Loading a second image of the same base SHOULD grow the engine's storage by its new layers only.

    Builds a multi-step image FROM the Alpine base, saves it (``docker save``, by id),
    removes it (the base stays), and, with the engine to itself (``quiet``), reads the
    engine's layer storage, loads the archive back and reads it again. The engine's account
    of the growth and what the new layers take on the host's disk MUST each be the image's
    own layers within ``disk_slack_mb``, as for a build (the disk reading is not run, and
    the claim partial, without the host's layer store).
    """
    _storage_grows_by_new_layers_only(_by_load, "load", resources, alpine_image, thresholds, pytestconfig,
                                      engine_target)


def _by_digest(resources, base_id: str, image) -> dict:
    """Bytes of ``image`` shared with the base and of its own, by layer digest and tar size."""
    base_chain = set(chain_ids(resources.client.api.inspect_image(base_id)["RootFS"]["Layers"]))
    saved = saved_image(resources.client.api, image.image_id)
    layers = [{"chain_id": chain, "tar_bytes": layer.size, "shared_with_base": chain in base_chain}
              for chain, layer in zip(chain_ids(saved.config_diff_ids), saved.layers)]
    return {"layers": layers,
            "shared_bytes": sum(l["tar_bytes"] for l in layers if l["shared_with_base"]),
            "own_bytes": sum(l["tar_bytes"] for l in layers if not l["shared_with_base"]),
            "base_layers_found": sum(1 for l in layers if l["shared_with_base"]),
            "base_layers": len(base_chain)}


@claim("LW-6", smoke=True)
def test_derived_image_shares_base_bytes(resources, alpine_image, thresholds, pytestconfig):
    """An image built FROM the base SHOULD cost the disk only its own layers, counted by digest.

    Takes the image built FROM the base (or ``--derived-image``), saves it, and sorts its
    layer tars by chain ID into those the base has (stored once, shared) and its own. All
    of the base's layers MUST be among the shared ones, and its own bytes MUST be within
    ``disk_slack_mb`` of the image's size minus the base's: a flattened image has no
    shared layer, and its own bytes include a copy of the base.
    """
    image = derived_image.under_test(pytestconfig, resources, alpine_image.ref)
    base_size = resources.client.api.inspect_image(alpine_image.image_id)["Size"]
    counted = _by_digest(resources, alpine_image.image_id, image)
    expected_own = image.attrs["Size"] - base_size
    slack = thresholds.disk_slack_mb * MB
    publish_samples(pytestconfig, "LW-6-shared-bytes-by-digest", {
        "image": image.ref, "source": image.source, "image_bytes": image.attrs["Size"],
        "base_bytes": base_size, **counted})
    evidence.figure("shared with base", round(counted["shared_bytes"] / MB, 3), "MB")
    evidence.figure("own", round(counted["own_bytes"] / MB, 3), "MB")
    assert counted["base_layers_found"] == counted["base_layers"], \
        (f"{image.ref} ({image.source}) shares {counted['base_layers_found']} of the base's "
         f"{counted['base_layers']} layer(s): by digest, {counted['shared_bytes'] / MB:.2f} MB is shared "
         f"and {counted['own_bytes'] / MB:.2f} MB is its own, a copy of the base's {base_size / MB:.2f} MB")
    assert counted["own_bytes"] <= expected_own + slack, \
        (f"{image.ref} holds {counted['own_bytes'] / MB:.2f} MB of its own layers for "
         f"{expected_own / MB:.2f} MB of content beyond the base")


@claim("LW-6")
def test_engine_shared_size_agrees_with_digests(resources, alpine_image, thresholds, pytestconfig):
    """The engine's SHARED SIZE (``/system/df``) SHOULD agree with the sharing counted by digest.

    moby#52476 showed an engine counting a shared base as unique. Takes the image built
    FROM the base (or ``--derived-image``) and finds, by chain ID, which of the base's
    layers it shares. The engine's SharedSize MUST then cover the shared base's size, and
    its unique size (Size - SharedSize) MUST NOT exceed the image's size beyond the shared
    base, each within ``disk_slack_mb``. (The engine may count more as shared: the
    builder's intermediate images share layers too.)
    """
    image = derived_image.under_test(pytestconfig, resources, alpine_image.ref)
    counted = _by_digest(resources, alpine_image.image_id, image)
    base_size = resources.client.api.inspect_image(alpine_image.image_id)["Size"]
    entry = next((i for i in disk_usage.system_df(resources.client.api)["Images"]
                  if disk_usage.image_id(i["Id"]) == image.image_id), None)
    assert entry is not None, f"/system/df does not list {image.ref}"
    slack = thresholds.disk_slack_mb * MB
    # By digest, in the engine's own units: the whole base is shared, or (flattened) none of it.
    shared = base_size if counted["base_layers_found"] == counted["base_layers"] else 0
    engine_unique = entry["Size"] - entry["SharedSize"]
    publish_samples(pytestconfig, "LW-6-engine-shared-size", {
        "image": image.ref, "source": image.source,
        "engine": {"Size": entry["Size"], "SharedSize": entry["SharedSize"], "unique": engine_unique},
        "by_digest": {"base_layers_shared": f"{counted['base_layers_found']} of {counted['base_layers']}",
                      "shared_bytes": shared, "own_bytes": entry["Size"] - shared,
                      "layer_tars": counted["layers"]}})
    evidence.figure("engine SHARED SIZE", round(entry["SharedSize"] / MB, 3), "MB")
    evidence.figure("engine UNIQUE SIZE", round(engine_unique / MB, 3), "MB")
    evidence.figure("shared by digest", round(shared / MB, 3), "MB")
    assert entry["SharedSize"] >= 0, f"the engine reports no SharedSize for {image.ref} ({entry['SharedSize']})"
    assert entry["SharedSize"] >= shared - slack, \
        (f"the engine counts {entry['SharedSize'] / MB:.2f} MB of {image.ref} as shared, but by digest "
         f"it shares the base's {shared / MB:.2f} MB (moby#52476)")
    assert engine_unique <= entry["Size"] - shared + slack, \
        (f"the engine counts {engine_unique / MB:.2f} MB of {image.ref} as unique, but by digest only "
         f"{(entry['Size'] - shared) / MB:.2f} MB is its own (moby#52476)")
