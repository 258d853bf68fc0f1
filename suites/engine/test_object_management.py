"""ENG-2: the daemon manages containers, images, networks and data volumes.

Document: "Docker引擎" (the daemon manages the four object kinds).
"""

from __future__ import annotations

from docker.errors import NotFound

from fixtures.core import evidence
from fixtures.ledger.marks import claim
from fixtures.run import identity as L


def _make(kind: str, resources, alpine_image):
    """Create one object of ``kind``; returns (id, inspect, list-by-label, remove)."""
    api = resources.client.api
    run_filter = {"label": [f"{L.TEST}={resources.test_id}"]}
    if kind == "container":
        ident = resources.container(alpine_image.ref, ["true"], start=False).id
        return (ident, lambda: api.inspect_container(ident),
                lambda: [c["Id"] for c in api.containers(all=True, filters=run_filter)],
                lambda: api.remove_container(ident, v=True))
    if kind == "image":
        image, _ = resources.build(dockerfile_text=f"FROM {alpine_image.ref}\nLABEL eng2=image\n")
        return (image.id, lambda: api.inspect_image(image.id),
                lambda: [i["Id"] for i in api.images(filters=run_filter)],
                lambda: api.remove_image(image.id))
    if kind == "network":
        ident = resources.network().id
        return (ident, lambda: api.inspect_network(ident),
                lambda: [n["Id"] for n in api.networks(filters=run_filter)],
                lambda: api.remove_network(ident))
    name = resources.volume().name
    return (name, lambda: api.inspect_volume(name),
            lambda: [v["Name"] for v in (api.volumes(filters=run_filter) or {}).get("Volumes") or []],
            lambda: api.remove_volume(name))


@claim("ENG-2", cases=["container", "image", "network", "volume"], smoke="container")
def test_object_lifecycle(case, resources, alpine_image):
    """The daemon MUST create, inspect, list and remove each kind of object through its API.

    Creates one labelled object of the kind, inspects it by id, finds it in the list
    filtered by this test's label, removes it, and checks that it is gone from both the
    list and inspect (which must answer 404).
    """
    ident, inspect, listing, remove = _make(case, resources, alpine_image)
    inspected = inspect()
    listed_before = listing()
    remove()
    listed_after = listing()
    try:
        inspect()
        still_there = True
    except NotFound:
        still_there = False
    evidence.as_json(f"{case} lifecycle", {"id": ident, "inspect": inspected,
                                           "listed before remove": listed_before,
                                           "listed after remove": listed_after,
                                           "inspect after remove": "found" if still_there else "404"})
    assert ident in listed_before, f"the new {case} {ident[:12]} is not in the engine's list"
    assert ident not in listed_after, f"the {case} {ident[:12]} is still listed after remove"
    assert not still_there, f"the {case} {ident[:12]} still inspects after remove"
