"""The order of image sources and what each outcome reports, against a fake engine."""

import hashlib
import io
import json
import tarfile
from types import SimpleNamespace

import pytest
from docker.errors import APIError, ImageNotFound

from fixtures.engine.image_refs import normalize_ref
from fixtures.images.errors import OfflineBuildError
from fixtures.images.provision import ImageSourceError, Recipe, provision

LABELS = {"conformance.run": "r1"}


class FakeEngine:
    """Just the SDK calls provisioning makes; records what it was asked to do."""

    def __init__(self, tags=(), pull_error="no such host", labels=None):
        self.tags = {tag: "sha256:" + hashlib.sha256(tag.encode()).hexdigest() for tag in tags}
        self.labels = labels or {}  # image id -> its config labels
        self.pull_error = pull_error
        self.calls = []
        self.images = SimpleNamespace(get=self._get, build=self._build, remove=self._remove)
        self.api = SimpleNamespace(timeout=60, load_image=self._load, pull=self._pull,
                                   import_image_from_file=self._import, inspect_image=self._inspect,
                                   tag=self._tag)

    def _inspect(self, image_id):
        return {"Config": {"Labels": self.labels.get(image_id)}}

    def _get(self, ref):
        # The engine resolves short and qualified names alike.
        found = [image_id for tag, image_id in self.tags.items() if normalize_ref(tag) == normalize_ref(ref)]
        if not found:
            raise ImageNotFound(f"No such image: {ref}")
        return SimpleNamespace(id=found[0])

    def _load(self, stream):
        self.calls.append(("load",))
        with tarfile.open(fileobj=stream) as archive:
            for entry in json.load(archive.extractfile("manifest.json")):
                for tag in entry["RepoTags"]:
                    self.tags[tag] = "sha256:" + "1" * 64
        yield {"stream": "Loaded image"}

    def _pull(self, ref, stream, decode):
        self.calls.append(("pull", self.api.timeout))
        if self.pull_error:
            raise APIError("500 Server Error", explanation=self.pull_error)
        self.tags[ref] = "sha256:" + "2" * 64
        yield {"status": "Downloaded newer image"}

    def _import(self, filename, changes, repository=None, tag=None):
        self.calls.append(("import", repository, tag, tuple(changes)))
        return '{"status":"sha256:' + "3" * 64 + '"}\r\n'

    def _tag(self, image_id, repository, tag):
        self.calls.append(("tag", image_id, repository, tag))
        self.tags[f"{repository}:{tag}"] = image_id

    def _build(self, fileobj, tag, labels, **options):
        self.calls.append(("build", fileobj.read().decode(), tag, labels))
        self.tags[tag] = "sha256:" + "4" * 64
        return SimpleNamespace(id=self.tags[tag]), []

    def _remove(self, image_id):
        self.calls.append(("remove", image_id))


def archive(path, tags):
    with tarfile.open(path, "w") as out:
        data = json.dumps([{"Config": "c.json", "RepoTags": tags, "Layers": []}]).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        out.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def rootfs(tmp_path):
    tar = tmp_path / "rootfs.tar"
    tar.write_bytes(b"pretend root filesystem")
    return tar


def recipe_for(tar, changes=('CMD ["/bin/sh"]',)):
    return Recipe("fake", build=lambda cache_dir, log: tar, changes=changes)


def run(engine, ref, recipe, tmp_path, archives=()):
    lines = []
    image = provision(engine, ref, recipe, archives=list(archives), cache_dir=tmp_path / "cache",
                      labels=LABELS, log=lines.append)
    return image, lines


def test_an_image_already_present_is_used_and_not_ours(tmp_path, rootfs):
    engine = FakeEngine(tags=["alpine:3.23"])
    image, lines = run(engine, "alpine:3.23", recipe_for(rootfs), tmp_path)
    assert (image.source, image.created_by_suite) == ("present", False)
    assert image.image_id == engine.tags["alpine:3.23"]
    assert engine.calls == []
    assert lines == [], "the fast path prints nothing, so that an error is the one line shown"


def test_another_suite_runs_copy_is_not_taken_as_present(tmp_path, rootfs):
    """That run removes its copy when it ends; this run must import one of its own."""
    engine = FakeEngine(tags=["alpine:3.23"])
    engine.labels[engine.tags["alpine:3.23"]] = {"conformance.run": "another-run"}
    image, _ = run(engine, "alpine:3.23", recipe_for(rootfs), tmp_path)
    assert image.source.startswith("offline-build") and image.created_by_suite
    assert any(call[0] == "import" for call in engine.calls)


def test_an_archive_holding_the_image_is_loaded_before_pulling(tmp_path, rootfs):
    other = archive(tmp_path / "other.tar", ["busybox:1"])
    holder = archive(tmp_path / "holder.tar", ["docker.io/library/alpine:3.23"])
    engine = FakeEngine()
    image, _ = run(engine, "alpine:3.23", recipe_for(rootfs), tmp_path, archives=[other, holder])
    assert (image.source, image.created_by_suite) == ("archive", True)
    assert str(holder) in image.detail
    assert engine.calls == [("load",)]


def test_a_pull_is_tried_with_a_short_timeout_and_the_client_is_left_as_it_was(tmp_path, rootfs):
    engine = FakeEngine(pull_error=None)
    image, _ = run(engine, "alpine:3.23", recipe_for(rootfs), tmp_path)
    assert image.source == "pull"
    assert engine.calls[0][1] < 60 and engine.api.timeout == 60


def test_offline_build_imports_with_config_and_labels_then_builds_what_import_refuses(tmp_path, rootfs):
    engine = FakeEngine()
    recipe = recipe_for(rootfs, changes=("EXPOSE 80/tcp", "STOPSIGNAL SIGQUIT", 'CMD ["nginx"]'))
    image, lines = run(engine, "nginx:latest", recipe, tmp_path)

    sha = hashlib.sha256(rootfs.read_bytes()).hexdigest()[:12]
    assert (image.source, image.created_by_suite) == (f"offline-build {sha}", True)
    _, imported, tagged, built = engine.calls
    label = 'LABEL "conformance.run"="r1"'
    # Imported without a name and named by id: Podman's import ignores a separate tag and
    # would have named it nginx:latest whatever was asked.
    assert imported == ("import", None, None, ("EXPOSE 80/tcp", 'CMD ["nginx"]', label))
    assert tagged == ("tag", "sha256:" + "3" * 64, "nginx", "latest")
    assert built == ("build", "FROM nginx:latest\nSTOPSIGNAL SIGQUIT\n", "nginx:latest", LABELS)
    assert image.image_id == "sha256:" + "4" * 64
    assert image.base_id == "sha256:" + "3" * 64, "the import under the build is removed with it"
    assert any(f"source offline-build {sha}" in line for line in lines)


def test_a_recipe_without_refused_instructions_needs_no_build(tmp_path, rootfs):
    engine = FakeEngine()
    image, _ = run(engine, "alpine", recipe_for(rootfs), tmp_path)
    assert [call[0] for call in engine.calls] == ["pull", "import", "tag"]
    assert engine.calls[2][2:] == ("alpine", "latest")
    assert image.image_id == "sha256:" + "3" * 64 and image.base_id == ""


def test_no_source_gives_one_line_naming_every_source_and_why(tmp_path, rootfs):
    def broken(cache_dir, log):
        raise OfflineBuildError("qemu-img convert failed: no space left")

    engine = FakeEngine()
    with pytest.raises(ImageSourceError) as caught:
        unrelated = archive(tmp_path / "a.tar", ["x:1"])
        run(engine, "alpine:3.23", Recipe("broken", broken, ()), tmp_path, archives=[unrelated])
    message = str(caught.value)
    assert "\n" not in message
    for part in ("present: not on the engine", "archive: none of 1 archives holds it",
                 "pull: no such host", "offline-build: qemu-img convert failed: no space left"):
        assert part in message

    with pytest.raises(ImageSourceError, match="archive: none given.*offline-build: no recipe for this"):
        run(engine, "other:1", None, tmp_path)


def test_a_bad_archive_path_fails_first_even_if_the_image_is_present(tmp_path, rootfs):
    engine = FakeEngine(tags=["alpine:3.23"])
    with pytest.raises(ImageSourceError, match="image archive not found"):
        run(engine, "alpine:3.23", recipe_for(rootfs), tmp_path, archives=[tmp_path / "missing.tar"])
    assert engine.calls == []
