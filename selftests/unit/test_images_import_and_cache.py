"""Import instructions, the cache location, and building a cached tar only once."""

from pathlib import Path

import pytest

from fixtures.images.cache_location import default_cache_dir
from fixtures.images.errors import OfflineBuildError
from fixtures.images.import_changes import import_changes, label_changes, split_changes
from fixtures.images.offline.tar_cache import cached_tar


def test_each_label_becomes_one_quoted_label_instruction():
    """One key per LABEL: Podman 4.3 read a multi-key LABEL at import as one label."""
    assert label_changes({}) == []
    assert label_changes({"b": "two words", "a": 'say "hi"'}) == ['LABEL "a"="say \\"hi\\""',
                                                                  'LABEL "b"="two words"']
    assert import_changes(('CMD ["/bin/sh"]',), {"k": "v", "j": "w"}) == [
        'CMD ["/bin/sh"]', 'LABEL "j"="w"', 'LABEL "k"="v"']
    assert import_changes(('CMD ["/bin/sh"]',), {}) == ['CMD ["/bin/sh"]']


def test_instructions_import_refuses_on_some_engines_are_split_off_in_order():
    changes = [
        "ENV A=1", "EXPOSE 80/tcp", "STOPSIGNAL SIGQUIT", 'cmd ["x"]', "HEALTHCHECK NONE", 'LABEL "a"="b"',
    ]
    assert split_changes(changes) == (
        ["ENV A=1", "EXPOSE 80/tcp", 'cmd ["x"]', 'LABEL "a"="b"'],
        ["STOPSIGNAL SIGQUIT", "HEALTHCHECK NONE"],
    )


def test_cache_dir_follows_xdg_and_ignores_a_relative_value(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "docker-conformance" / "images"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/dir")
    assert default_cache_dir() == Path.home() / ".cache" / "docker-conformance" / "images"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == Path.home() / ".cache" / "docker-conformance" / "images"


def test_a_cached_tar_is_built_once(tmp_path):
    builds = []

    def build(work: Path, output: Path):
        builds.append(work)
        output.write_bytes(b"tar")

    first = cached_tar(tmp_path, "demo", "k1", build, lambda line: None)
    second = cached_tar(tmp_path, "demo", "k1", build, lambda line: None)
    assert first == second == tmp_path / "demo-k1.tar"
    assert len(builds) == 1 and not builds[0].exists()


def test_a_failed_build_leaves_no_tar_behind(tmp_path):
    def build(work: Path, output: Path):
        output.write_bytes(b"half")
        raise OfflineBuildError("boom")

    with pytest.raises(OfflineBuildError, match="boom"):
        cached_tar(tmp_path, "demo", "k2", build, lambda line: None)
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".demo-k2.lock")] == []
