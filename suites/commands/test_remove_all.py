"""CMD-9 and CMD-12: the document's "remove all" commands.

Document: the command list ("docker container rm $(docker container ls -a -q)  # Remove
all containers"; "docker image rm $(docker image ls -a -q)  # Remove all images from this
machine").

Each runs in two modes, and the report names the mode of each node:

- ``owned-engine-literal``: exactly as written, on an engine the run started for this
  (``fixtures/engine/owned.py``), which must then hold nothing of that kind;
- ``target-scoped``: on the engine under test, which may be a user's, the same
  composition with the inner list scoped to this run's and this test's labels. Something
  of this test just outside the scope must survive it.
"""

from __future__ import annotations

import secrets
import shlex

from fixtures.core import evidence
from fixtures.engine.cli_errors import error_line
from fixtures.images.friendlyname import CONTEXT
from fixtures.ledger.marks import claim
from fixtures.resources.cli_created import adopt_test_containers
from fixtures.run import identity as L

REMOVE_ALL_CONTAINERS = "docker container rm $(docker container ls -a -q)"
REMOVE_ALL_IMAGES = "docker image rm $(docker image ls -a -q)"
OWNED_MODE = "ran literally, on an engine the run owns"
SCOPED_MODE = "ran scoped to this test's labels, on the engine under test"


def _scope(resources) -> str:
    return " ".join(f"--filter {shlex.quote(f'label={label}')}" for label in (
        f"{L.RUN}={resources.identity.run_id}", f"{L.TEST}={resources.test_id}"))


def _scoped(command: str, resources) -> str:
    """The document's composition with its inner ``ls -a -q`` limited to this test's labels."""
    return command.replace(" -a -q)", f" -a -q {_scope(resources)})")


def _bystander_labels(resources) -> dict[str, str]:
    # This test's, but outside the scope: it stands for everything the scoped mode must spare.
    return {L.TEST: resources.test_id + "#bystander"}


# What `docker image rm` answers for an id that `ls -a` listed but that is no longer there
# when its turn comes (deleted with the image built on it), or that still has that image
# built on it when its turn comes (deleted with it right after). Neither leaves anything.
BENIGN_IMAGE_RM_ERRORS = ("No such image", "image has dependent child images")


def _image_rm_errors(result) -> list[str]:
    """The composition's errors other than the benign ones above."""
    return [line for line in result.stderr.splitlines()
            if line.strip() and not any(benign in line for benign in BENIGN_IMAGE_RM_ERRORS)]


def _ancestors_below(engine, image_id: str, base_id: str) -> list[str]:
    """The intermediate images between ``image_id`` and its base (one per build step)."""
    found = []
    parent = engine.api.inspect_image(image_id).get("Parent")
    while parent and parent != base_id:
        found.append(parent)
        parent = engine.api.inspect_image(parent).get("Parent")
    return found


# CMD-9 --------------------------------------------------------------------------------


def containers_owned_engine_literal(request, engine, docker_cli, resources, alpine_image):
    owned_engine = request.getfixturevalue("owned_engine")
    base = owned_engine.copy_image(engine, alpine_image.ref, alpine_image.common_name)
    cli = owned_engine.cli
    for args in (("run", base, "true"), ("run", base, "false"), ("container", "create", base, "true")):
        made = cli(*args)
        assert made.ok or args[-1] == "false", \
            f"could not make a container on the owned engine: {error_line(made.stderr)}"
    before = owned_engine.contents()["containers"]
    result = cli.shell(REMOVE_ALL_CONTAINERS)
    after = owned_engine.contents()["containers"]
    evidence.figure("literal mode", OWNED_MODE)
    evidence.figure("owned engine", owned_engine.url, trend=False)
    evidence.as_json("containers", {"before": before, "after": after, "stdout": result.stdout.split()})
    assert len(before) >= 3, f"the owned engine holds {len(before)} containers, not the 3 made"
    assert result.ok, f"`{REMOVE_ALL_CONTAINERS}` exited {result.exit_code}: {error_line(result.stderr)}"
    assert not after, f"containers remain after `{REMOVE_ALL_CONTAINERS}`: {[c[:12] for c in after]}"


def containers_target_scoped(request, engine, docker_cli, resources, alpine_image):
    labels = resources.label_flags()
    for args in (("run", *labels, alpine_image.ref, "true"), ("run", *labels, alpine_image.ref, "false"),
                 ("container", "create", *labels, alpine_image.ref, "true")):
        docker_cli(*args)
    ours = adopt_test_containers(resources)
    bystander = resources.container(alpine_image.ref, ["true"], start=False, labels=_bystander_labels(resources))
    line = _scoped(REMOVE_ALL_CONTAINERS, resources)
    result = docker_cli.shell(line)
    remaining = [c["Id"] for c in engine.api.containers(all=True, filters={"id": ours})]
    spared = bool(engine.api.containers(all=True, filters={"id": [bystander.id]}))
    evidence.figure("scoped mode", SCOPED_MODE)
    evidence.as_json("containers", {"command": line, "this test's": [c[:12] for c in ours],
                                    "remaining": remaining, "bystander spared": spared})
    assert len(ours) == 3, f"the test made {len(ours)} containers, not 3"
    assert result.ok, f"`{line}` exited {result.exit_code}: {error_line(result.stderr)}"
    assert not remaining, f"containers in scope remain: {[c[:12] for c in remaining]}"
    assert spared, "the scoped command removed a container outside its scope"


@claim("CMD-9", cases={"owned-engine-literal": containers_owned_engine_literal,
                       "target-scoped": containers_target_scoped}, smoke="target-scoped")
def test_remove_all_containers(case, request, engine, docker_cli, resources, alpine_image):
    """``docker container rm $(docker container ls -a -q)`` MUST remove all containers.

    ``owned-engine-literal``: on an engine the run started for this, three stopped
    containers (exited 0, exited 1, created) are made, and the command runs exactly as
    written through a shell; it MUST succeed and the engine MUST hold no container after.
    (``rm`` without ``-f`` refuses running containers, CMD-8, so, as in the document's
    sequence, they are stopped first.) ``target-scoped``: on the engine under test, the
    same composition with its inner list limited to this run's and this test's labels
    MUST remove this test's three stopped containers and spare a container just outside
    the scope.
    """
    case(request, engine, docker_cli, resources, alpine_image)


# CMD-12 -------------------------------------------------------------------------------


def images_owned_engine_literal(request, engine, docker_cli, resources, alpine_image):
    owned_engine = request.getfixturevalue("owned_engine")
    owned_engine.copy_image(engine, alpine_image.ref, alpine_image.common_name)
    cli = owned_engine.cli
    for container in owned_engine.contents()["containers"]:
        owned_engine.client.api.remove_container(container, force=True, v=True)
    built = cli("build", "-t", "friendlyname", ".", cwd=CONTEXT)
    assert built.ok, f"could not build friendlyname on the owned engine: {error_line(built.stderr)}"
    before = owned_engine.contents()["images"]
    result = cli.shell(REMOVE_ALL_IMAGES)
    after = owned_engine.contents()["images"]
    evidence.figure("literal mode", OWNED_MODE)
    evidence.figure("owned engine", owned_engine.url, trend=False)
    evidence.figure("images removed", len(before) - len(after))
    evidence.figure("literal exit code", result.exit_code)
    evidence.as_json("images", {"before": before, "after": after, "stdout": result.stdout.splitlines(),
                                "stderr": result.stderr.splitlines(), "exit code": result.exit_code})
    assert len(before) >= 3, f"the owned engine holds {len(before)} images; expected the base, the build and its steps"
    assert not after, f"images remain after `{REMOVE_ALL_IMAGES}`: {[i[7:19] for i in after]}"
    assert not _image_rm_errors(result), f"`{REMOVE_ALL_IMAGES}` reported errors: {_image_rm_errors(result)}"


def images_target_scoped(request, engine, docker_cli, resources, alpine_image):
    nonce = secrets.token_hex(6)
    image, _ = resources.build(dockerfile_text=f"FROM {alpine_image.ref}\nRUN echo {nonce} > /one\n"
                                               f"RUN echo {nonce} > /two\n")
    images = [image.id]
    chain = [ancestor for image in images for ancestor in _ancestors_below(engine, image, alpine_image.image_id)]
    bystander, _ = resources.build(dockerfile_text=f"FROM {alpine_image.ref}\nLABEL bystander={nonce}\n",
                                   labels=_bystander_labels(resources))
    base_tags = engine.api.inspect_image(alpine_image.image_id)["RepoTags"]
    line = _scoped(REMOVE_ALL_IMAGES, resources)
    result = docker_cli.shell(line)
    listed = {i["Id"] for i in engine.api.images(all=True)}
    remaining = [i[7:19] for i in images + chain if i in listed]
    evidence.figure("scoped mode", SCOPED_MODE)
    evidence.figure("scoped exit code", result.exit_code)
    evidence.as_json("images", {"command": line, "this test's": [i[7:19] for i in images],
                                "their intermediate images": [p[7:19] for p in chain],
                                "remaining": remaining, "bystander spared": bystander.id in listed,
                                "stdout": result.stdout.splitlines(), "stderr": result.stderr.splitlines()})
    assert not remaining, f"images in scope (or their intermediate images) remain: {remaining}"
    assert not _image_rm_errors(result), f"`{line}` reported errors: {_image_rm_errors(result)}"
    assert bystander.id in listed, "the scoped command removed an image outside its scope"
    assert engine.api.inspect_image(alpine_image.image_id)["RepoTags"] == base_tags, \
        "the scoped command changed the base image's tags"


@claim("CMD-12", cases={"owned-engine-literal": images_owned_engine_literal,
                        "target-scoped": images_target_scoped}, smoke="target-scoped")
def test_remove_all_images(case, request, engine, docker_cli, resources, alpine_image):
    """``docker image rm $(docker image ls -a -q)`` MUST remove all images.

    ``owned-engine-literal``: on an engine the run started for this, holding the base
    image and ``friendlyname`` built with its intermediate images, the command runs exactly
    as written through a shell and the engine MUST hold no image after. The only errors
    allowed are those for an intermediate image that ``ls -a`` listed and that goes with
    the image built on it ("No such image" when that went first, "image has dependent
    child images" when it goes after); the exit code is recorded. ``target-scoped``: on
    the engine under test, the same composition limited to this run's and this test's
    labels MUST remove this test's image and all its intermediate images (with the same
    errors allowed), spare an image just outside the scope, and leave the base image's
    tags as they were.
    """
    case(request, engine, docker_cli, resources, alpine_image)
