"""CMD-10 and CMD-11: ``docker image ls -a`` lists every image; ``docker image rm`` removes one.

Document: the command list ("docker image ls -a  # List all images on this machine";
"docker image rm <image id>  # Remove specified image from this machine").
"""

from __future__ import annotations

import secrets

from fixtures.core import evidence
from fixtures.core.applicability import not_applicable
from fixtures.engine.cli_table import parse_table
from fixtures.inspection import objects
from fixtures.ledger.marks import claim


def _build_layered(build_image, resources, base: str):
    """A three-step build whose steps are this test's own (a nonce defeats the build cache)."""
    nonce = secrets.token_hex(6)
    tag = resources.unique_name("image").lower()
    image, _ = build_image(dockerfile_text=f"FROM {base}\nRUN echo {nonce} > /one\n"
                                           f"RUN echo {nonce} > /two\nCMD [\"cat\", \"/one\"]\n", tag=tag)
    return image, tag


def _parent_chain(engine, image_id: str) -> list[dict]:
    chain = []
    parent = engine.api.inspect_image(image_id).get("Parent")
    while parent:
        attrs = engine.api.inspect_image(parent)
        chain.append({"id": attrs["Id"], "tags": attrs.get("RepoTags") or []})
        parent = attrs.get("Parent")
    return chain


def _listed_ids(docker_cli, *args: str) -> set[str]:
    result = docker_cli("image", "ls", *args).check()
    return {row["IMAGE ID"] for row in parse_table(result.stdout)}


def _short(image_id: str) -> str:
    return image_id.split(":", 1)[-1][:12]


@claim("CMD-10", smoke=True)
def test_image_ls_all_lists_intermediates(docker_cli, engine, build_image, resources, alpine_image):
    """``docker image ls -a`` MUST list all images, including intermediate ones.

    Builds a three-step image of this test (its steps carry a nonce, so its intermediate
    images are its own) and follows its parent chain on the engine. ``docker image ls -a``,
    as written, MUST list the image and every intermediate (untagged) image of the chain;
    plain ``docker image ls`` lists the image but MUST NOT list the intermediate ones,
    which is what ``-a`` adds.
    """
    image, tag = _build_layered(build_image, resources, alpine_image.ref)
    chain = _parent_chain(engine, image.id)
    intermediates = [_short(link["id"]) for link in chain if not link["tags"]]
    if not intermediates:
        not_applicable("this engine's builder keeps no intermediate images "
                    f"(the image's parent chain is {chain})")
    listed_all = _listed_ids(docker_cli, "-a")
    listed = _listed_ids(docker_cli)
    evidence.as_json("images", {"image": _short(image.id), "tag": tag, "intermediates": intermediates,
                                "listed by ls -a": sorted(set(intermediates) & listed_all),
                                "listed by ls": sorted(set(intermediates) & listed)})
    evidence.figure("intermediate images", len(intermediates))
    assert _short(image.id) in listed_all, f"`docker image ls -a` does not list the image {tag}"
    missing = [i for i in intermediates if i not in listed_all]
    assert not missing, f"`docker image ls -a` does not list the intermediate image(s) {missing}"
    assert _short(image.id) in listed, f"`docker image ls` does not list the image {tag}"
    shown = [i for i in intermediates if i in listed]
    assert not shown, f"plain `docker image ls` lists intermediate image(s) {shown}; only -a should"


@claim("CMD-11", smoke=True)
def test_image_rm_removes_an_unused_image(docker_cli, engine, build_image, resources, alpine_image):
    """``docker image rm <image id>`` MUST remove an image no container uses.

    An image of this test, named by the short id ``docker image ls`` shows, is removed by
    the command as written: it must succeed, inspect must then answer 404, and
    ``docker image ls -a`` must no longer list it.
    """
    image, _ = _build_layered(build_image, resources, alpine_image.ref)
    short = _short(image.id)
    result = docker_cli("image", "rm", short)
    exists = objects.exists(engine, "image", image.id)
    listed = short in _listed_ids(docker_cli, "-a")
    evidence.as_json("image rm", {"image": short, "exit code": result.exit_code, "stdout": result.stdout,
                                  "inspect after": "found" if exists else "404", "in ls -a after": listed})
    result.check()
    assert not exists and not listed, \
        f"image {short} is still there after image rm (inspect: {exists}, ls -a: {listed})"


@claim("CMD-11")
def test_image_rm_refuses_an_image_in_use(labelled_cli, engine, build_image, resources, alpine_image):
    """``docker image rm <image id>`` MUST refuse to remove an image a container uses.

    With a running container of an image of this test, the command as written must fail
    (a non-zero exit) and the image must still be there afterwards; the same removal asked
    of the Engine API must be refused as a conflict (409), and leave the image too. The
    refusal's wording is the engine's own and is recorded, not matched.
    """
    image, tag = _build_layered(build_image, resources, alpine_image.ref)
    short = _short(image.id)
    user = labelled_cli.create("run", "-d", tag, "sleep", "300").check("a container of the image")
    refused = labelled_cli("image", "rm", short)
    after_cli = objects.exists(engine, "image", image.id)
    status = objects.refusal_status(lambda: engine.api.remove_image(image.id)) if after_cli else None
    after_api = objects.exists(engine, "image", image.id)
    evidence.as_json("image rm of an image in use", {"image": short, "container": user.stdout.strip()[:12],
                                                     "exit code": refused.exit_code,
                                                     "stderr": refused.stderr.strip(),
                                                     "inspect after": "found" if after_cli else "404",
                                                     "API DELETE answered": status or "removed",
                                                     "inspect after the API": "found" if after_api else "404"})
    assert not refused.ok, f"`docker image rm {short}` removed an image a running container uses"
    assert after_cli, f"image {short} is gone although `docker image rm` failed ({refused.error()})"
    assert status == 409 and after_api, \
        f"the Engine API answered DELETE /images/{short} of an image in use with " \
        f"{status or 'success'}, not 409 Conflict (image {'still there' if after_api else 'removed'})"
