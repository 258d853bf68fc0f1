"""What the run created counts as the run's by id as well as by label: the labels check, the
run directory's list of created ids, and the state diff that reads it."""

from fixtures.resources import snapshot
from fixtures.resources.created import CreatedLedger
from fixtures.resources.labels_held import label_mismatch
from fixtures.run.identity import RunIdentity
from fixtures.run.rundir import RunDir

RUN = "r1"
# What Podman 4.3 made of `import --change 'LABEL "conformance.owner-host"="vm" "conformance.run"="r1"'`
MANGLED = {"conformance.owner-host": 'vm" "conformance.run"="r1'}


def run_dir(tmp_path, worker="main") -> RunDir:
    identity = RunIdentity(RUN, worker, "host", 1, "0")
    path = tmp_path / RUN
    return RunDir.create(tmp_path, identity) if not path.exists() else RunDir.attach(path, identity)


def test_labels_hold_when_every_label_set_is_there_with_its_value():
    wanted = {"conformance.run": RUN, "conformance.test": "t"}
    assert label_mismatch({**wanted, "io.buildah.version": "1.28"}, wanted) == ""
    line = label_mismatch(MANGLED, {"conformance.owner-host": "vm", "conformance.run": RUN})
    assert line.startswith("2 of 2 labels did not hold") and "conformance.run missing" in line
    assert "\n" not in line
    assert label_mismatch(None, {"a": "b"}) == "1 of 1 labels did not hold: a missing"


def test_every_worker_writes_down_what_it_created_and_the_controller_reads_it_all(tmp_path):
    controller, worker = run_dir(tmp_path), run_dir(tmp_path, "gw1")
    controller.note_created("images", "sha256:" + "a" * 64)
    CreatedLedger(worker, "unix:///x.sock", False).created("container", "c" * 64)
    assert controller.created_ids() == {"images": {"sha256:" + "a" * 64}, "containers": {"c" * 64}}


def test_an_image_whose_labels_did_not_hold_gets_a_cleanup_record_by_id(tmp_path):
    rd = run_dir(tmp_path)
    CreatedLedger(rd, "unix:///x.sock", False).track_by_id("image", "sha256:" + "b" * 64, "labels lost")
    [record] = rd.records()
    assert (record["kind"], record["object_kind"], record["object_id"]) == ("object", "image", "sha256:" + "b" * 64)
    assert rd.created_ids() == {"images": {"sha256:" + "b" * 64}}


def snap(images: dict) -> dict:
    return {"containers": {}, "images": images, "volumes": {}, "networks": {}}


def image(labels: dict, tags=("alpine:3.23",)) -> dict:
    return {"tags": list(tags), "labels": labels, "parent": ""}


def test_an_object_of_the_run_with_mangled_labels_is_a_leak_not_someone_elses():
    """The issue's case: the imported Alpine stayed on Podman and the diff said nothing."""
    leaked_id = "sha256:" + "1" * 64
    after = snap({leaked_id: image(MANGLED)})
    assert not snapshot.diff(snap({}), after, RUN).violated, "by label alone it is someone else's"
    result = snapshot.diff(snap({}), after, RUN, {"images": {leaked_id}})
    assert result.violated and result.leaked["images"] == [f"{leaked_id[:19]} alpine:3.23"]


def test_take_keeps_the_runs_own_objects_whatever_their_labels(monkeypatch):
    ours, others = "sha256:" + "1" * 64, "sha256:" + "2" * 64
    monkeypatch.setattr(snapshot, "_everything", lambda client: snap({
        ours: image(MANGLED), others: image({"conformance.run": "another", "conformance.test": "x"})}))
    # Its mangled suite label alone makes it look like another run's build step.
    assert list(snapshot.take(None, RUN)["images"]) == []
    assert list(snapshot.take(None, RUN, {"images": {ours}})["images"]) == [ours]


def test_an_id_written_short_matches_and_what_existed_before_is_never_the_runs():
    container = "f" * 64
    before = {"containers": {container: {"name": "users", "labels": {}}}, "images": {}, "volumes": {},
              "networks": {}}
    result = snapshot.diff(before, before, RUN, {"containers": {container[:12]}})
    assert not result.violated, "a user's container that was there before is not the run's leak"
    after = {**before, "containers": {**before["containers"], "e" * 64: {"name": "new", "labels": {}}}}
    result = snapshot.diff(before, after, RUN, {"containers": {"e" * 12}})
    assert result.leaked["containers"] == ["eeeeeeeeeeeeeeeeeee new"]
