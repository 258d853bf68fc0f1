"""A registry proxy that weakens a real registry, for the negative controls of LW-7 and STD-1.

It listens on loopback (so the engine talks plain HTTP to it, as to any 127.0.0.0/8
registry), forwards every request to the real registry with the client's credentials,
and bends one thing, by mode:

``forget``
    The registry receives every blob again: it denies having any blob that was not
    uploaded through it into the same repository (HEAD answers 404) and ignores
    cross-repository mounts, so a push sends every layer; and it serves each
    manifest with its layers recompressed (other digests, same content), as a mirror that
    recompresses does, so an engine that has the base cannot recognise it and a pull
    downloads every layer.
``unknown-media-type``
    Serves manifests under a media type neither the OCI spec nor Docker's schema 2 knows.
``malformed-manifest``
    Serves manifests whose config descriptor has no digest.

Everything else passes through unchanged. For the self-tests only: suites never use it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import secrets
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests

MODES = ("forget", "unknown-media-type", "malformed-manifest")
UNKNOWN_MEDIA_TYPE = "application/vnd.example.unknown+json"
MANIFEST_TYPES = ("application/vnd.oci.image.manifest.v1+json",
                  "application/vnd.docker.distribution.manifest.v2+json")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "te", "trailer",
              "upgrade", "proxy-authorization", "proxy-authenticate"}


def recompress(layer: bytes, stamp: int) -> bytes:
    """The same tar, gzipped differently: same diff_id, another blob digest.

    ``stamp`` goes into the gzip header, so each proxy's digests are new even to an engine
    that pulled through an earlier one (engines remember which blob digest held which layer).
    """
    return gzip.compress(zlib.decompress(layer, 16 + zlib.MAX_WBITS), compresslevel=1, mtime=stamp)


def _repository(path: str, marker: str) -> str:
    """``a/b`` of ``/v2/a/b/blobs/...`` (the marker is where the repository name ends)."""
    return path.split("/v2/", 1)[1].rsplit(marker, 1)[0]


def digest_of(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass  # the real registry keeps the log

    def do_GET(self):
        self._handle()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _request_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _handle(self):
        body = self._request_body()
        split = urlsplit(self.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        weak = self.server.weakness
        if weak == "forget" and "/blobs/sha256:" in split.path and self.command in ("GET", "HEAD"):
            repository, digest = _repository(split.path, "/blobs/"), split.path.rsplit("/", 1)[1]
            if digest in self.server.recompressed:
                return self._reply(200, {"Content-Type": "application/octet-stream",
                                         "Docker-Content-Digest": digest}, self.server.recompressed[digest])
            # The engine stats a blob right after uploading it; only that stat may succeed.
            if self.command == "HEAD" and (repository, digest) not in self.server.uploaded:
                return self._reply(404, {"Content-Type": "application/json"},
                                   b'{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}')
        if "/manifests/sha256:" in split.path and split.path.rsplit("/", 1)[1] in self.server.bent:
            # The engine resolves a tag to a digest, then fetches by that digest: ours.
            return self._reply(200, *self.server.bent[split.path.rsplit("/", 1)[1]])
        if weak == "forget" and self.command == "POST" and "mount" in query:
            query.pop("mount")
            query.pop("from", None)
        # A manifest's HEAD must agree with its bent GET: fetch it whole and answer headers only.
        method = "GET" if self.command == "HEAD" and "/manifests/" in split.path else self.command
        upstream = requests.request(
            method, f"http://{self.server.upstream}{split.path}" + (f"?{urlencode(query)}" if query else ""),
            headers={**self._forwarded_headers(), "Host": self.server.address},
            data=body, allow_redirects=False, timeout=120)
        if weak == "forget" and self.command == "PUT" and "digest" in query and upstream.status_code == 201:
            self.server.uploaded.add((_repository(split.path, "/blobs/uploads/"), query["digest"]))
        headers = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
        content = upstream.content
        if self.command == "HEAD" and method == "HEAD":
            # A HEAD's length is the resource's: the engine takes a blob's size from it.
            return self._reply(upstream.status_code, headers, b"", length=upstream.headers.get("Content-Length", "0"))
        # Only a manifest asked for by tag is bent: one asked for by digest must match it.
        if "/manifests/" in split.path and "/manifests/sha256:" not in split.path and \
                upstream.status_code == 200 and upstream.headers.get("Content-Type") in MANIFEST_TYPES:
            content, headers = self._bend_manifest(content, headers, split.path)
        self._reply(upstream.status_code, headers, content)

    def _forwarded_headers(self) -> dict[str, str]:
        # Go's client sends one Accept line per media type; all of them must reach the registry.
        return {k: ", ".join(self.headers.get_all(k)) for k in dict.fromkeys(self.headers.keys())
                if k.lower() not in HOP_BY_HOP}

    def _bend_manifest(self, content: bytes, headers: dict, path: str) -> tuple[bytes, dict]:
        manifest = json.loads(content)
        weak = self.server.weakness
        if weak == "forget":
            repository = _repository(path, "/manifests/")
            for layer in manifest["layers"]:
                layer["digest"], layer["size"] = self._recompressed(repository, layer["digest"])
        elif weak == "unknown-media-type":
            manifest["mediaType"] = UNKNOWN_MEDIA_TYPE
            headers["Content-Type"] = UNKNOWN_MEDIA_TYPE
        elif weak == "malformed-manifest":
            manifest["config"].pop("digest", None)
        content = json.dumps(manifest, indent=3).encode()
        headers["Docker-Content-Digest"] = digest_of(content)
        headers.pop("Etag", None)
        self.server.bent[digest_of(content)] = (headers, content)
        return content, headers

    def _recompressed(self, repository: str, digest: str) -> tuple[str, int]:
        with self.server.lock:
            if digest not in self.server.renamed:
                blob = requests.get(f"http://{self.server.upstream}/v2/{repository}/blobs/{digest}",
                                    headers={"Authorization": self.headers.get("Authorization", "")},
                                    timeout=120)
                blob.raise_for_status()
                again = recompress(blob.content, self.server.stamp)
                self.server.renamed[digest] = digest_of(again)
                self.server.recompressed[digest_of(again)] = again
            renamed = self.server.renamed[digest]
            return renamed, len(self.server.recompressed[renamed])

    def _reply(self, status: int, headers: dict, content: bytes, length: str | None = None) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", length if length is not None else str(len(content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: str, weakness: str):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream = upstream
        self.weakness = weakness
        self.address = f"127.0.0.1:{self.server_address[1]}"
        self.lock = threading.Lock()
        self.stamp = secrets.randbelow(2**31)
        self.uploaded: set[tuple[str, str]] = set()  # (repository, digest) uploaded through the proxy
        self.renamed: dict[str, str] = {}  # upstream digest -> recompressed digest
        self.recompressed: dict[str, bytes] = {}  # recompressed digest -> blob
        self.bent: dict[str, tuple[dict, bytes]] = {}  # digest of a bent manifest -> (headers, body)


class WeakenedRegistry:
    """``with WeakenedRegistry("127.0.0.1:5000", "forget") as proxy: proxy.address``"""

    def __init__(self, upstream: str, weakness: str):
        if weakness not in MODES:
            raise ValueError(f"unknown weakness {weakness!r}; known: {', '.join(MODES)}")
        self._server = _Server(upstream, weakness)
        self._thread = threading.Thread(target=self._server.serve_forever, name="weakened-registry", daemon=True)

    @property
    def address(self) -> str:
        return self._server.address

    def __enter__(self) -> "WeakenedRegistry":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
