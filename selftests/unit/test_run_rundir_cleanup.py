"""A crashed run's directory: credentials removed first, everything but its open records
stripped, and its undo failures said once per reason."""

from fixtures.run.identity import RunIdentity
from fixtures.run.rundir import RunDir, summarize


def test_strip_keeps_only_the_records_and_the_trees_they_name(tmp_path):
    run = RunDir.create(tmp_path, RunIdentity.for_controller("20261201T000000-abcdef"))
    (run.sub("cli-config", "gw0") / "config.json").write_text('{"auths": {"x": {"auth": "c2VjcmV0"}}}')
    run.sub("registry", "storage")
    engine = run.sub("engines", "target")
    run.record("tree", "engine-target", path=str(engine))
    run.record("image", "sha256:1", engine="unix:///gone.sock")
    run.remove_secrets()
    assert not (run.path / "cli-config").exists()
    kept = run.strip()
    assert kept == ["engines"]
    assert sorted(p.name for p in run.path.iterdir()) == ["cleanup", "engines", "owner.json"]


def test_the_same_reason_is_said_once():
    problems = [f"image sha256:{n}{'0' * 40}: engine unix:///x.sock does not answer (connection refused)"
                for n in range(3)] + ["process dockerd-o-gw0: timed out"]
    assert summarize(problems) == ("3 images: engine unix:///x.sock does not answer (connection refused); "
                                   "process dockerd-o-gw0: timed out")
