"""CMD-9 and CMD-12: the document's "remove all" commands.

Document: the command list ("docker container rm $(docker container ls -a -q)  # Remove
all containers"; "docker image rm $(docker image ls -a -q)  # Remove all images from this
machine").

Each runs in two modes, one test each, and the report names the mode:

- literally: exactly as written, on an engine the run started for this
  (``fixtures/engine/owned.py``), which must then hold nothing of that kind;
- scoped: on the engine under test, which may be a user's, the same composition with the
  inner list scoped to a label of this test's own. Something of this test just outside the
  scope must survive it.
"""

from __future__ import annotations

import hashlib
import secrets
import shlex

from fixtures.core import evidence
from fixtures.images.friendlyname import CONTEXT
from fixtures.ledger.marks import claim
from fixtures.run import identity as L

REMOVE_ALL_CONTAINERS = "docker container rm $(docker container ls -a -q)"
REMOVE_ALL_IMAGES = "docker image rm $(docker image ls -a -q)"
OWNED_MODE = "ran literally, on an engine the run owns"
SCOPED_MODE = "ran scoped to this test's labels, on the engine under test"


# One label whose value is this run's and this test's alone marks what the scoped mode may
# remove. One label, because engines combine two --filter label=... differently: dockerd
# lists what carries both, Podman 4.3 what carries either (every object of the run).
SCOPE = L.PREFIX + "scope"


def _scope_label(resources) -> dict[str, str]:
    test = hashlib.sha256(resources.test_id.encode()).hexdigest()[:12]
    return {SCOPE: f"{resources.identity.run_id}-{test}"}


def _scope_flags(resources) -> tuple[str, ...]:
    return tuple(arg for key, value in _scope_label(resources).items() for arg in ("--label", f"{key}={value}"))


def _scoped(command: str, resources) -> str:
    """The document's composition with its inner ``ls -a -q`` limited to this test's scope label."""
    (key, value), = _scope_label(resources).items()
    return command.replace(" -a -q)", f" -a -q --filter {shlex.quote(f'label={key}={value}')})")


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


def _three_stopped_containers(cli, image: str, *labels: str) -> None:
    """An exited (0), an exited (1) and a created container, made with ``cli`` and the
    ``--label`` flags ``labels``; each must be made."""
    cli("run", *labels, image, "true").check("making an exited container")
    failed = cli("run", *labels, image, "false")
    assert failed.exit_code == 1, \
        f"`docker run {image} false` returned {failed.exit_code}, not the container's exit code 1: {failed.error()}"
    cli("container", "create", *labels, image, "true").check("making a created container")


# CMD-9 --------------------------------------------------------------------------------


@claim("CMD-9")
def test_remove_all_containers_literally_on_an_owned_engine(owned_engine, engine, alpine_image):
    """``docker container rm $(docker container ls -a -q)``, exactly as written, MUST remove all
    containers, on an engine the run started for this.

    Three stopped containers (exited 0, exited 1, created) are made on that engine, and the
    command runs through a shell; it MUST succeed and the engine MUST hold no container
    after. (``rm`` without ``-f`` refuses running containers, CMD-8, so, as in the
    document's sequence, they are stopped first.)
    """
    base = owned_engine.copy_image(engine, alpine_image.ref, alpine_image.common_name)
    cli = owned_engine.cli
    _three_stopped_containers(cli, base)
    before = owned_engine.contents()["containers"]
    result = cli.shell(REMOVE_ALL_CONTAINERS)
    after = owned_engine.contents()["containers"]
    evidence.figure("literal mode", OWNED_MODE)
    evidence.figure("owned engine", owned_engine.url, trend=False)
    evidence.as_json("containers", {"before": before, "after": after, "stdout": result.stdout.split()})
    assert len(before) >= 3, f"the owned engine holds {len(before)} containers, not the 3 made"
    result.check()
    assert not after, f"containers remain after `{REMOVE_ALL_CONTAINERS}`: {[c[:12] for c in after]}"


@claim("CMD-9", smoke=True)
def test_remove_all_containers_scoped_on_the_target(labelled_cli, engine, resources, alpine_image):
    """``docker container rm $(docker container ls -a -q ...)``, its inner list limited to a
    label of this test's own, MUST remove all containers in scope, and only those, on the
    engine under test.

    Three stopped containers of this test (exited 0, exited 1, created) are made with the
    CLI and the scope label, and one container just outside the scope (this test's labels,
    without the scope label) with the API. The scoped composition runs through a shell: it MUST succeed, none of the
    three may remain, and the one outside the scope MUST be spared.
    """
    _three_stopped_containers(labelled_cli.create, alpine_image.ref, *_scope_flags(resources))
    ours = resources.containers()
    bystander = resources.container(alpine_image.ref, ["true"], start=False)
    line = _scoped(REMOVE_ALL_CONTAINERS, resources)
    result = labelled_cli.shell(line)
    remaining = [c["Id"] for c in engine.api.containers(all=True, filters={"id": ours})]
    spared = bool(engine.api.containers(all=True, filters={"id": [bystander.id]}))
    evidence.figure("scoped mode", SCOPED_MODE)
    evidence.as_json("containers", {"command": line, "this test's": [c[:12] for c in ours],
                                    "remaining": remaining, "bystander spared": spared})
    assert len(ours) == 3, f"the test made {len(ours)} containers, not 3"
    result.check()
    assert not remaining, f"containers in scope remain: {[c[:12] for c in remaining]}"
    assert spared, "the scoped command removed a container outside its scope"


# CMD-12 -------------------------------------------------------------------------------


@claim("CMD-12")
def test_remove_all_images_literally_on_an_owned_engine(owned_engine, engine, alpine_image):
    """``docker image rm $(docker image ls -a -q)``, exactly as written, MUST remove all images,
    on an engine the run started for this.

    That engine holds the base image and ``friendlyname`` built with its intermediate
    images; the command runs through a shell and the engine MUST hold no image after. The
    only errors allowed are those for an intermediate image that ``ls -a`` listed and that
    goes with the image built on it ("No such image" when that went first, "image has
    dependent child images" when it goes after); the exit code is recorded.
    """
    owned_engine.copy_image(engine, alpine_image.ref, alpine_image.common_name)
    cli = owned_engine.cli
    for container in owned_engine.contents()["containers"]:
        owned_engine.client.api.remove_container(container, force=True, v=True)
    cli("build", "-t", "friendlyname", ".", cwd=CONTEXT).check("building friendlyname on the owned engine")
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


@claim("CMD-12", smoke=True)
def test_remove_all_images_scoped_on_the_target(labelled_cli, engine, resources, alpine_image):
    """``docker image rm $(docker image ls -a -q ...)``, its inner list limited to a label of
    this test's own, MUST remove all images in scope, and only those, on the engine under test.

    An image of this test is built in two steps (so it has intermediate images) with the
    scope label, and one image just outside the scope (this test's labels, without the
    scope label). The scoped composition runs through a shell: this test's
    image and all its intermediate images MUST be gone (with the same errors allowed as in
    the literal mode), the image outside the scope MUST be spared, and the base image's
    tags MUST be as they were.
    """
    nonce = secrets.token_hex(6)
    image, _ = resources.build(dockerfile_text=f"FROM {alpine_image.ref}\nRUN echo {nonce} > /one\n"
                                               f"RUN echo {nonce} > /two\n", labels=_scope_label(resources))
    chain = _ancestors_below(engine, image.id, alpine_image.image_id)
    bystander, _ = resources.build(dockerfile_text=f"FROM {alpine_image.ref}\nLABEL bystander={nonce}\n")
    base_tags = engine.api.inspect_image(alpine_image.image_id)["RepoTags"]
    line = _scoped(REMOVE_ALL_IMAGES, resources)
    result = labelled_cli.shell(line)
    listed = {i["Id"] for i in engine.api.images(all=True)}
    remaining = [i[7:19] for i in [image.id, *chain] if i in listed]
    evidence.figure("scoped mode", SCOPED_MODE)
    evidence.figure("scoped exit code", result.exit_code)
    evidence.as_json("images", {"command": line, "this test's": [image.id[7:19]],
                                "their intermediate images": [p[7:19] for p in chain],
                                "remaining": remaining, "bystander spared": bystander.id in listed,
                                "stdout": result.stdout.splitlines(), "stderr": result.stderr.splitlines()})
    assert not remaining, f"images in scope (or their intermediate images) remain: {remaining}"
    assert not _image_rm_errors(result), f"`{line}` reported errors: {_image_rm_errors(result)}"
    assert bystander.id in listed, "the scoped command removed an image outside its scope"
    assert engine.api.inspect_image(alpine_image.image_id)["RepoTags"] == base_tags, \
        "the scoped command changed the base image's tags"
