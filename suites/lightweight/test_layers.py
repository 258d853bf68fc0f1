"""LW-4 and LW-5: images are built from filesystem layers, and layers share common files.

Document: "轻量级" (lightweight): images are built from filesystem layers and share common
files ("镜像由文件系统层进行构造的，并共享一些公共文件").
"""

from __future__ import annotations

from fixtures.core import evidence
from fixtures.core.applicability import not_run
from fixtures.ledger.marks import claim
from fixtures.measure import derived_image
from fixtures.measure.layers import chain_ids, common_prefix, overlay_dirs, saved_image


def _short(digests: list[str]) -> list[str]:
    return [d[7:19] for d in digests]


@claim("LW-4", smoke=True)
def test_one_layer_per_filesystem_step(resources, alpine_image):
    """A build MUST add one layer per filesystem-changing step, and none for the others.

    Builds a Dockerfile FROM the Alpine base with three RUN steps that write files and
    three steps that change only the config (ENV, LABEL, CMD). The image MUST list the
    base's layers followed by exactly three new ones, and its saved config's history MUST
    mark exactly the three RUN steps, in order, as the ones that made a layer.
    """
    base = resources.client.api.inspect_image(alpine_image.image_id)["RootFS"]["Layers"]
    image = derived_image.build(resources, derived_image.multi_step_dockerfile(alpine_image.ref))
    saved = saved_image(resources.client.api, image.image_id)
    own_steps = saved.layer_steps()[len(base):]
    evidence.as_json("layers", {"base diff_ids": base, "image diff_ids": image.diff_ids,
                                "history": saved.history})
    evidence.figure("new layers", len(image.diff_ids) - len(base))
    expected = len(derived_image.FILESYSTEM_STEPS)
    assert image.diff_ids[:len(base)] == base, \
        f"the build does not start from the base's layers: {_short(image.diff_ids)} vs base {_short(base)}"
    assert len(image.diff_ids) - len(base) == expected, \
        (f"{expected} filesystem-changing steps made {len(image.diff_ids) - len(base)} new layers "
         f"(base {len(base)}, image {len(image.diff_ids)})")
    made_by = [step.get("created_by", "") for step in own_steps]
    for step, created_by in zip(derived_image.FILESYSTEM_STEPS, made_by):
        assert step.removeprefix("RUN ") in created_by, f"layer of {step!r} was made by {created_by!r}"
    assert len(made_by) == expected, f"the history marks {len(made_by)} steps as making a layer: {made_by}"


@claim("LW-4")
def test_diff_ids_match_layer_tars(resources, alpine_image, pytestconfig):
    """Each layer's diff_id MUST be the sha256 of that layer's tar, as ``docker save`` exports it.

    Takes the image built FROM the base (or ``--derived-image``), streams ``docker save``,
    hashes every layer tar, and compares the digests, in order, with the config's
    ``rootfs.diff_ids`` and with the engine's ``RootFS.Layers``.
    """
    image = derived_image.under_test(pytestconfig, resources, alpine_image.ref)
    saved = saved_image(resources.client.api, image.image_id)
    evidence.as_json("docker save", {"image": image.ref, "source": image.source, **saved.as_dict()})
    evidence.figure("layers", len(saved.layers))
    tars = [layer.digest for layer in saved.layers]
    assert saved.config_diff_ids == image.diff_ids, \
        f"the saved config lists {_short(saved.config_diff_ids)}, the engine {_short(image.diff_ids)}"
    mismatched = [f"layer {i} ({layer.path}): tar sha256 {layer.digest[7:19]}, diff_id {diff_id[7:19]}"
                  for i, (layer, diff_id) in enumerate(zip(saved.layers, saved.config_diff_ids))
                  if layer.digest != diff_id]
    assert len(tars) == len(saved.config_diff_ids), \
        f"{len(tars)} layer tars for {len(saved.config_diff_ids)} diff_ids"
    assert not mismatched, "diff_ids are not the digests of the layer tars: " + "; ".join(mismatched)


@claim("LW-4")
def test_image_extends_its_base(resources, alpine_image, pytestconfig):
    """An image built FROM a base MUST consist of the base's layers plus layers of its own.

    Takes the image built FROM the base (or ``--derived-image``): its ``RootFS.Layers``
    MUST begin with every layer of the base, in order, and add at least one; a flattened
    image (``docker export | docker import``) holds one layer with everything in it.
    """
    base = resources.client.api.inspect_image(alpine_image.image_id)["RootFS"]["Layers"]
    image = derived_image.under_test(pytestconfig, resources, alpine_image.ref)
    shared = common_prefix(base, image.diff_ids)
    evidence.as_json("layers", {"image": image.ref, "source": image.source, "base": base,
                                "image diff_ids": image.diff_ids, "leading layers shared": shared})
    evidence.figure("base layers reused", f"{shared} of {len(base)}")
    assert shared == len(base), \
        (f"{image.ref} ({image.source}) carries a copy of the base instead of its layers (flattened): "
         f"it starts with {_short(image.diff_ids[:len(base)])}, the base is {_short(base)}, and it "
         f"holds {len(image.diff_ids)} layer(s) of its own")
    assert len(image.diff_ids) > len(base), f"{image.ref} adds no layer to the base"


@claim("LW-5", smoke=True)
def test_images_from_one_base_list_its_layers(resources, alpine_image, pytestconfig):
    """Two images built FROM the same base MUST list the base's layer digests.

    The image built FROM the base (or ``--derived-image``) and a second image the suite
    builds FROM the same base MUST both begin with the base's diff_ids, so their chain IDs
    (what the layer store keys on) for those layers are equal.
    """
    api = resources.client.api
    base = api.inspect_image(alpine_image.image_id)["RootFS"]["Layers"]
    first = derived_image.under_test(pytestconfig, resources, alpine_image.ref)
    second = derived_image.build(resources, derived_image.one_layer_dockerfile(alpine_image.ref, 64))
    base_chain = chain_ids(base)
    evidence.as_json("chains", {"base": base_chain, first.ref: chain_ids(first.diff_ids),
                                second.ref: chain_ids(second.diff_ids)})
    for image in (first, second):
        shared = common_prefix(base_chain, chain_ids(image.diff_ids))
        assert shared == len(base), \
            (f"{image.ref} ({image.source}) shares {shared} of the base's {len(base)} layer(s): "
             f"its layers {_short(image.diff_ids)}, the base's {_short(base)}")
    evidence.figure("shared base layers", len(base))


@claim("LW-5")
def test_shared_layer_is_stored_once(resources, alpine_image, pytestconfig, engine_facts):
    """The engine MUST store a shared base layer once: both images use the base's own directories.

    On overlay2, ``GraphDriver.Data`` names each image's layer directories (UpperDir, then
    LowerDir). The base's directories MUST be the bottom directories of the image built
    FROM it (or ``--derived-image``) and of a second image built FROM it: the same paths,
    one copy on disk. Other storage drivers name no per-layer directories here, so the case
    applies but cannot be checked: it is not run, and the claim partial (LW-6 measures what
    their layers take on the disk).
    """
    api = resources.client.api
    base_info = api.inspect_image(alpine_image.image_id)
    if base_info["GraphDriver"]["Name"] != "overlay2":
        not_run(f"the engine's storage driver is {base_info['GraphDriver']['Name']}, "
                    "which names no per-layer directories")
    base_dirs = overlay_dirs(base_info["GraphDriver"])
    first = derived_image.under_test(pytestconfig, resources, alpine_image.ref)
    second = derived_image.build(resources, derived_image.one_layer_dockerfile(alpine_image.ref, 64))
    found = {image.ref: overlay_dirs(image.attrs["GraphDriver"]) for image in (first, second)}
    evidence.as_json("layer directories", {"base": base_dirs, **found})
    for image in (first, second):
        dirs = found[image.ref]
        bottom = dirs[-len(base_dirs):]
        assert bottom == base_dirs, \
            (f"{image.ref} ({image.source}) stores its own copy of the base: its bottom layer "
             f"directories are {bottom}, the base's are {base_dirs}")
    evidence.figure("base layer directories shared", len(base_dirs))
