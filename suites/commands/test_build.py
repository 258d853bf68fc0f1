"""CMD-1: ``docker build -t friendlyname .`` builds an image from the Dockerfile here and tags it.

Document: the command list at its end ("docker build -t friendlyname .  # Create image
using this directory's Dockerfile").
"""

from __future__ import annotations

import json
import re

from fixtures.core import evidence
from fixtures.engine.image_refs import normalize_ref
from fixtures.images.friendlyname import CONTEXT
from fixtures.ledger.marks import claim


def _dockerfile_instruction(name: str) -> str:
    lines = (CONTEXT / "Dockerfile").read_text(encoding="utf-8").splitlines()
    found = [line.split(None, 1)[1] for line in lines if line.upper().startswith(name + " ")]
    assert len(found) == 1, f"the friendlyname Dockerfile has {len(found)} {name} lines"
    return found[0].strip()


@claim("CMD-1", smoke=True)
def test_build_tags_the_image(friendlyname_builds, engine, resources, run_container, alpine_image):
    """``docker build -t friendlyname .`` MUST build the image from the Dockerfile in the
    current directory and tag it ``friendlyname``.

    Runs the command with the real CLI in the friendlyname build context (the run builds
    this image once; a repeated build may use the engine's cache, which is still a build
    of this Dockerfile). Then checks, on the engine: ``friendlyname:latest`` names an image
    that carries this build's labels; its CMD and EXPOSE are the Dockerfile's; its layers
    start with the base image's (``FROM alpine:3.23``); and ``/www/index.html`` inside it
    is byte-identical to the context's file (the COPY step). If the engine already has a
    user's ``friendlyname``, a run-unique name is used and the evidence says so.
    """
    plan, result, tagged, built = friendlyname_builds.build(resources.adopt_image)
    evidence.figure("image name", plan.name if not plan.note else f"{plan.name} ({plan.note})")
    result.check()
    assert tagged, f"the build did not tag the image it built ({built and built[7:19]}): no image is named {plan.name}"
    image = engine.images.get(tagged)
    attrs = engine.api.inspect_image(image.id)
    config = attrs["Config"]
    labels = config.get("Labels") or {}
    wanted_labels = dict(flag.split("=", 1) for flag in plan.label_flags if flag != "--label")
    base_layers = engine.api.inspect_image(alpine_image.image_id)["RootFS"]["Layers"]
    layers = attrs["RootFS"]["Layers"]
    classic = re.search(r"^Step 1/\d+ : FROM", result.stdout, re.M) is not None
    evidence.figure("builder", "classic (intermediate images)" if classic else "BuildKit")
    evidence.as_json("built image", {"id": image.id, "tags": image.tags, "Cmd": config.get("Cmd"),
                                     "ExposedPorts": config.get("ExposedPorts"), "layers": layers,
                                     "base layers": base_layers})
    assert built is None or image.id == built, \
        f"{plan.name} names {image.id[7:19]}, not the image the build made ({built[7:19]})"
    # By meaning: Podman spells the same name in full (docker.io/library/friendlyname:latest).
    wanted = normalize_ref(f"{plan.name}:latest")
    assert wanted in {normalize_ref(tag) for tag in image.tags}, \
        f"the built image is tagged {image.tags}, not {plan.name}:latest"
    assert all(labels.get(k) == v for k, v in wanted_labels.items()), \
        f"the image tagged {plan.name} lacks this build's labels: {labels}"
    assert config.get("Cmd") == json.loads(_dockerfile_instruction("CMD")), \
        f"CMD is {config.get('Cmd')}, not the Dockerfile's {_dockerfile_instruction('CMD')}"
    assert "80/tcp" in (config.get("ExposedPorts") or {}), \
        f"EXPOSE 80 is missing: ExposedPorts {config.get('ExposedPorts')}"
    assert layers[:len(base_layers)] == base_layers and len(layers) > len(base_layers), \
        "the image is not built on its FROM image: its first layers are not the base's"
    page = run_container(image.id, ["cat", "/www/index.html"], network_mode="none")
    code = page.wait(timeout=60)["StatusCode"]
    inside = page.logs(stderr=False)
    assert code == 0, f"`cat /www/index.html` in the image exited {code}: {page.logs(stdout=False)[:200]!r}"
    assert inside == (CONTEXT / "index.html").read_bytes(), \
        f"/www/index.html in the image differs from the context's file: {inside[:120]!r}"
