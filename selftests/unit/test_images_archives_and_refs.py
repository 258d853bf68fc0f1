"""Reading docker save archives without an engine, and comparing image references."""

import io
import json
import tarfile

import pytest

from fixtures.engine.image_refs import normalize_ref, split_ref
from fixtures.images.docker_archive import archive_refs
from fixtures.images.errors import ImageSourceError


@pytest.mark.parametrize(
    "ref, expected",
    [
        ("alpine", "docker.io/library/alpine:latest"),
        ("alpine:3.23", "docker.io/library/alpine:3.23"),
        ("library/alpine:3.23", "docker.io/library/alpine:3.23"),
        ("docker.io/library/alpine:3.23", "docker.io/library/alpine:3.23"),
        ("user/app:1", "docker.io/user/app:1"),
        ("127.0.0.1:5000/user/app", "127.0.0.1:5000/user/app:latest"),
        ("localhost/app:2", "localhost/app:2"),
        ("alpine@sha256:abc", "docker.io/library/alpine@sha256:abc"),
    ],
)
def test_references_normalise_like_the_engine(ref, expected):
    assert normalize_ref(ref) == expected


def test_split_keeps_a_registry_port_out_of_the_tag():
    assert split_ref("127.0.0.1:5000/app") == ("127.0.0.1:5000/app", None, None)
    assert split_ref("127.0.0.1:5000/app:v1@sha256:ff") == ("127.0.0.1:5000/app", "v1", "sha256:ff")


def write_archive(path, files, mode="w"):
    with tarfile.open(path, mode) as archive:
        for name, content in files.items():
            data = content if isinstance(content, bytes) else json.dumps(content).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_manifest_tags_are_found_in_plain_and_compressed_archives(tmp_path):
    manifest = [{"Config": "abc.json", "RepoTags": ["alpine:3.23", "mine/app:1"], "Layers": []}]
    plain = write_archive(tmp_path / "a.tar", {"abc.json": {}, "manifest.json": manifest})
    packed = write_archive(tmp_path / "a.tar.gz", {"manifest.json": manifest}, mode="w:gz")
    expected = {"docker.io/library/alpine:3.23", "docker.io/mine/app:1"}
    assert archive_refs(plain) == expected
    assert archive_refs(packed) == expected


def test_oci_annotations_and_legacy_repositories_count_too(tmp_path):
    index = {"manifests": [{"annotations": {"io.containerd.image.name": "docker.io/library/nginx:latest",
                                            "org.opencontainers.image.ref.name": "latest"}}]}
    oci = write_archive(tmp_path / "oci.tar", {"index.json": index, "manifest.json": [{"RepoTags": None}]})
    legacy = write_archive(tmp_path / "old.tar", {"repositories": {"busybox": {"1.36": "id"}}})
    assert archive_refs(oci) == {"docker.io/library/nginx:latest"}
    assert archive_refs(legacy) == {"docker.io/library/busybox:1.36"}


def test_a_missing_path_is_the_callers_error(tmp_path):
    with pytest.raises(ImageSourceError, match="image archive not found: .*nope.tar"):
        archive_refs(tmp_path / "nope.tar")


@pytest.mark.parametrize(
    "files, reason",
    [
        (None, "not a readable tar file"),
        ({"hello.txt": b"hi"}, "no manifest.json or repositories file"),
        ({"manifest.json": b"{not json"}, "not a docker save archive"),
        ({"manifest.json": {"RepoTags": []}}, "manifest.json is not a list"),
    ],
)
def test_something_else_is_not_a_docker_save_archive(tmp_path, files, reason):
    path = tmp_path / "bad.tar"
    if files is None:
        path.write_bytes(b"this is not a tar file at all" * 40)
    else:
        write_archive(path, files)
    with pytest.raises(ImageSourceError, match=reason) as caught:
        archive_refs(path)
    assert "\n" not in str(caught.value)
