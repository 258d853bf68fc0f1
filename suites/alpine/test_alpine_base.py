"""ALP-1: Alpine Linux is the container base image.

Document: "容器基础镜像AlpineLinux" (the container base image, Alpine Linux).
"""

from __future__ import annotations

import re

import pytest

from fixtures.core import evidence
from fixtures.core.stats import Distribution
from fixtures.ledger.marks import claim
from fixtures.measure import start_latency


def _sh(run_container, image: str, script: str) -> tuple[int, str]:
    container = run_container(image, ["sh", "-c", script], network_mode="none")
    code = container.wait(timeout=60)["StatusCode"]
    return code, container.logs().decode(errors="replace").strip()


def check_size(image, run_container, thresholds):
    limit = thresholds.alpine_max_mb
    size_mb = image.attrs["Size"] / 1e6
    evidence.figure("uncompressed size", round(size_mb, 2), "MB")
    assert size_mb < limit, f"the Alpine base is {size_mb:.2f} MB uncompressed, not under {limit} MB"


def check_release(image, run_container, thresholds):
    code, out = _sh(run_container, image.id, "cat /etc/alpine-release")
    evidence.figure("alpine-release", out)
    assert code == 0, f"/etc/alpine-release is missing: {out}"
    assert re.fullmatch(r"3\.\d+\.\d+", out), f"/etc/alpine-release holds {out!r}, not an Alpine 3.x version"


def check_musl(image, run_container, thresholds):
    code, out = _sh(run_container, image.id,
                    "ls /lib/ld-musl-*.so.1 && ldd /bin/busybox 2>&1; "
                    "for f in /lib/ld-linux* /lib64/ld-linux* /lib/*-linux-gnu/libc.so.6; do "
                    "[ -e \"$f\" ] && echo GLIBC $f; done; true")
    evidence.text("libc", out)
    assert "GLIBC" not in out, f"glibc is present: {[l for l in out.splitlines() if 'GLIBC' in l]}"
    assert code == 0 and "ld-musl" in out, f"no musl loader (/lib/ld-musl-*.so.1) resolves busybox: {out}"


def check_busybox_sh(image, run_container, thresholds):
    code, out = _sh(run_container, image.id, "readlink -f /bin/sh")
    evidence.figure("/bin/sh", out)
    assert code == 0 and out == "/bin/busybox", f"/bin/sh is {out!r}, not busybox"


def check_apk_info(image, run_container, thresholds):
    # apk warns on stderr that it cannot refresh its indexes without a network; the package
    # list is stdout alone.
    code, out = _sh(run_container, image.id, "apk info 2>/dev/null")
    packages = out.splitlines()
    evidence.text("apk info", out)
    evidence.figure("apk packages", len(packages))
    assert code == 0, f"apk info failed ({code}): {out[:200]}"
    assert {"musl", "busybox", "apk-tools", "alpine-baselayout"} <= set(packages), \
        f"apk info lacks the base packages: {packages}"


def check_apk_verify(image, run_container, thresholds):
    code, out = _sh(run_container, image.id, "apk verify 2>&1")
    evidence.text("apk verify", out or "(no output)")
    assert code == 0, f"apk verify failed ({code}): {out[:300]}"


CHECKS = {"size": check_size, "release": check_release, "musl": check_musl,
          "busybox-sh": check_busybox_sh, "apk-info": check_apk_info, "apk-verify": check_apk_verify}


@claim("ALP-1", cases=list(CHECKS), smoke="release")
def test_alpine_image(case, alpine_image, engine, run_container, thresholds):
    """The Alpine base MUST be a small musl image with busybox and a working apk.

    One case per property: uncompressed size under the ``alpine_max_mb`` threshold;
    ``/etc/alpine-release`` holds a 3.x version; the musl loader resolves busybox and no
    glibc is present; ``/bin/sh`` is busybox; ``apk info`` lists the base packages;
    ``apk verify`` passes. Every command runs with no network.
    """
    evidence.figure("image", alpine_image.ref, trend=False)  # run-unique when this run imported it
    evidence.figure("image source", alpine_image.source)
    CHECKS[case](engine.images.get(alpine_image.image_id), run_container, thresholds)


@claim("ALP-1")
def test_alpine_config_cmd_is_sh(engine, alpine_image):
    """The Alpine base's default command MUST be ``/bin/sh``, with no entrypoint."""
    config = engine.api.inspect_image(alpine_image.image_id)["Config"]
    evidence.as_json("image config", config)
    assert config.get("Cmd") == ["/bin/sh"], f"CMD is {config.get('Cmd')}, not ['/bin/sh']"
    assert not config.get("Entrypoint"), f"unexpected ENTRYPOINT {config.get('Entrypoint')}"


@pytest.mark.quiet
@claim("ALP-1")
def test_alpine_start_latency(resources, alpine_image, thresholds):
    """A container of the Alpine base MUST start within LW-2's latency thresholds.

    After ``start_warmup`` uncounted runs, measures ``start_samples`` runs of ``true``
    (create, start, exit; no network), end to end by the client's clock, and checks p50
    and p95 against ``start_p50_ms`` and ``start_p95_ms``. Attaches every sample.
    """
    samples = start_latency.series(resources, alpine_image.ref, ["true"],
                                   samples=thresholds.start_samples,
                                   warmup=thresholds.start_warmup, network_mode="none")
    total = Distribution.of([s.total_ms for s in samples])
    evidence.as_json("start samples (ms)", {"summary": total.as_dict(),
                                            "samples": [s.as_dict() for s in samples]})
    evidence.figure("start p50", round(total.p50, 1), "ms")
    evidence.figure("start p95", round(total.p95, 1), "ms")
    assert all(s.exit_code == 0 for s in samples), "a `true` container did not exit 0"
    assert total.p50 <= thresholds.start_p50_ms, \
        f"start p50 {total.p50:.0f} ms exceeds {thresholds.start_p50_ms} ms ({total.line()})"
    assert total.p95 <= thresholds.start_p95_ms, \
        f"start p95 {total.p95:.0f} ms exceeds {thresholds.start_p95_ms} ms ({total.line()})"
