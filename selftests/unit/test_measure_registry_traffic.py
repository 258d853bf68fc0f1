"""Reading blob traffic from the registry's access log and the engine's progress streams."""

from __future__ import annotations

import pytest

from fixtures.registry import access_log
from fixtures.registry.transfer_progress import (
    PULL_FETCHED,
    PULL_SKIPPED,
    PUSH_SENT,
    PUSH_SKIPPED,
    TransferError,
    any_status,
    manifest_digest,
    short,
    statuses,
)

UA = '"" "docker/20.10.24+dfsg1 go/go1.19.8"'
D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
# Lines as Debian's docker-registry 2.8 writes them, with one of its own text lines between.
LOG = f"""\
time="2026-11-28T11:05:51Z" level=info msg="response completed" http.request.method=GET
127.0.0.1 - - [28/Nov/2026:11:05:51 +0000] "GET /v2/ HTTP/1.1" 401 87 {UA}
127.0.0.1 - - [28/Nov/2026:11:05:51 +0000] "HEAD /v2/team/app/blobs/{D1} HTTP/1.1" 404 157 {UA}
127.0.0.1 - - [28/Nov/2026:11:05:51 +0000] "POST /v2/team/app/blobs/uploads/?from=team%2Fbase&mount=sha256%3A{'1' * 64} HTTP/1.1" 201 0 {UA}
127.0.0.1 - - [28/Nov/2026:11:05:51 +0000] "PATCH /v2/team/app/blobs/uploads/u1?_state=x HTTP/1.1" 202 0 {UA}
127.0.0.1 - - [28/Nov/2026:11:05:51 +0000] "PUT /v2/team/app/blobs/uploads/u1?_state=x&digest=sha256%3A{'2' * 64} HTTP/1.1" 201 0 {UA}
127.0.0.1 - - [28/Nov/2026:11:05:51 +0000] "PUT /v2/team/app/manifests/v1 HTTP/1.1" 201 0 {UA}
127.0.0.1 - - [28/Nov/2026:11:05:52 +0000] "GET /v2/team/app/manifests/v1 HTTP/1.1" 200 738 {UA}
127.0.0.1 - - [28/Nov/2026:11:05:52 +0000] "GET /v2/team/app/blobs/{D2} HTTP/1.1" 200 300291 {UA}
127.0.0.1 - - [28/Nov/2026:11:05:52 +0000] "GET /v2/team/other/blobs/{D1} HTTP/1.1" 200 5 {UA}
127.0.0.1 - - [28/Nov/2026:11:05:52 +0000] "GET /v2/team/app/blobs/{D1} HTTP/1.1" 404 10 {UA}
"""


def test_blob_traffic_of_one_repository():
    traffic = access_log.blob_traffic(access_log.parse(LOG.splitlines()), "team/app")
    assert traffic.mounted == [D1]
    assert traffic.uploaded == [D2]
    assert traffic.fetched == {D2: 300291}  # the other repository and the 404 do not count
    assert (traffic.manifests_put, traffic.manifests_got) == (1, 1)


def test_read_from_an_offset_sees_only_later_lines(tmp_path):
    log = tmp_path / "registry.log"
    log.write_text(LOG)
    offset = access_log.offset(str(log))
    with log.open("a") as more:
        more.write(f'127.0.0.1 - - [28/Nov/2026:11:06:00 +0000] "GET /v2/team/app/blobs/{D1} HTTP/1.1" 200 42 {UA}\n')
    later = access_log.requests_since(str(log), offset)
    assert [(r.method, r.status, r.bytes) for r in later] == [("GET", 200, 42)]


def test_who_asked_for_what_of_one_repository(tmp_path):
    log = tmp_path / "registry.log"
    log.write_text(LOG + '127.0.0.1 - - [28/Nov/2026:11:06:00 +0000] "GET /v2/team/app/manifests/v1 HTTP/1.1" 200 9 '
                   '"" "docker/20.10.24 UpstreamClient(Docker-Client/20.10.24 \\"linux\\")"\n')
    assert access_log.offset(None) == 0
    found = access_log.requests_since(str(log), 0, "team/app")
    assert {r.path.split("/")[3] for r in found} == {"app"}  # neither /v2/ nor team/other
    assert found[-1].agent == 'docker/20.10.24 UpstreamClient(Docker-Client/20.10.24 "linux")'  # unescaped
    assert found[0].agent == "docker/20.10.24+dfsg1 go/go1.19.8"
    assert found[1].path == "/v2/team/app/blobs/uploads/" and found[1].query["from"] == "team/base"


def test_progress_statuses_per_layer_and_their_meaning():
    stream = [{"status": "The push refers to repository [x]"},
              {"id": "aaa", "status": "Preparing"}, {"id": "bbb", "status": "Preparing"},
              {"id": "aaa", "status": "Mounted from team/base"},
              {"id": "bbb", "status": "Pushing", "progressDetail": {"current": 1}},
              {"id": "bbb", "status": "Pushing", "progressDetail": {"current": 2}},
              {"id": "bbb", "status": "Pushed"}]
    seen, lines = statuses(stream)
    assert seen == {"aaa": ["Preparing", "Mounted from team/base"], "bbb": ["Preparing", "Pushing", "Pushed"]}
    assert all("progressDetail" not in line for line in lines)
    assert any_status(seen["aaa"], PUSH_SKIPPED) and not any_status(seen["aaa"], PUSH_SENT)
    assert any_status(seen["bbb"], PUSH_SENT)
    assert any_status(["Already exists"], PULL_SKIPPED) and any_status(["Pull complete"], PULL_FETCHED)
    assert short(D1) == "1" * 12


def test_an_error_in_the_stream_is_raised_with_the_engines_words():
    with pytest.raises(TransferError, match="denied"):
        statuses([{"id": "a", "status": "Preparing"}, {"error": "denied: requested access is denied"}])


def test_the_manifest_digest_a_push_or_pull_reports():
    assert manifest_digest([{"status": "Preparing", "id": "a"},
                            {"status": f"lw7: digest: {D1} size: 738"}]) == D1
    assert manifest_digest([{"status": f"Digest: {D2}"}, {"status": "Status: Downloaded newer image"}]) == D2
    assert manifest_digest([{"status": "Pushed", "id": "a"}]) is None


def test_the_weakened_registry_recompresses_to_new_digests_with_the_same_content():
    # The LW-7 control's fake (selftests/controls/weakened_registry.py) depends on this.
    import gzip

    from selftests.controls.weakened_registry import digest_of, recompress

    layer = gzip.compress(b"tar bytes" * 1000, mtime=0)
    first, second = recompress(layer, 1), recompress(layer, 2)
    assert gzip.decompress(first) == gzip.decompress(second) == gzip.decompress(layer)
    assert len({digest_of(layer), digest_of(first), digest_of(second)}) == 3
    assert recompress(layer, 1) == first  # one proxy serves one digest per layer
