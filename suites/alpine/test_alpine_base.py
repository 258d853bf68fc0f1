"""ALP-1: Alpine Linux is the container base image.

Document: "容器基础镜像AlpineLinux" (the container base image, Alpine Linux).

Each property of the base is a check of its own; every command runs in a fresh container
with no network, and its exit status is checked before its output is read.
"""

from __future__ import annotations

import re

import pytest

from fixtures.core import evidence
from fixtures.core.stats import Distribution
from fixtures.inspection.run_to_exit import Finished, sh
from fixtures.ledger.marks import claim
from fixtures.measure import start_latency
from fixtures.measure.disturbance import quietly

BASE_PACKAGES = {"musl", "busybox", "apk-tools", "alpine-baselayout"}
# Where a glibc system keeps its dynamic loader and C library.
GLIBC_FILES = ("/lib/ld-linux*", "/lib64/ld-linux*", "/lib/*-linux-gnu/libc.so.6",
               "/usr/lib/*-linux-gnu/libc.so.6")


def _ran(finished: Finished, what: str) -> str:
    """The probe's output, once it is known to have run: a failed probe is never "nothing seen"."""
    assert finished.exit_code == 0, f"{what} exited {finished.exit_code}: {finished.output[:300]}"
    return finished.output


def _held(alpine_image):
    """The image held to the claim, recorded as such (its ref is run-unique when this run imported it)."""
    evidence.figure("image", alpine_image.ref, trend=False)
    evidence.figure("image source", alpine_image.source)
    return alpine_image


@claim("ALP-1")
def test_alpine_image_is_under_the_size_limit(alpine_image, engine, thresholds):
    """The Alpine base MUST be small: its uncompressed size under ``alpine_max_mb``.

    Reads the image's size as the engine reports it (the sum of its layers, uncompressed).
    """
    limit = thresholds.alpine_max_mb
    size_mb = engine.api.inspect_image(_held(alpine_image).image_id)["Size"] / 1e6
    evidence.figure("uncompressed size", round(size_mb, 2), "MB")
    assert size_mb < limit, f"the Alpine base is {size_mb:.2f} MB uncompressed, not under {limit} MB"


@claim("ALP-1", smoke=True)
def test_alpine_release_names_alpine_3(alpine_image, resources):
    """The Alpine base MUST carry ``/etc/alpine-release`` with an Alpine 3.x version."""
    release = _ran(sh(resources, _held(alpine_image).image_id, "cat /etc/alpine-release"),
                   "`cat /etc/alpine-release`")
    evidence.figure("alpine-release", release)
    assert re.fullmatch(r"3\.\d+\.\d+", release), \
        f"/etc/alpine-release holds {release!r}, not an Alpine 3.x version"


@claim("ALP-1")
def test_alpine_libc_is_musl(alpine_image, resources):
    """The Alpine base's C library MUST be musl: its loader resolves busybox, and no glibc is present.

    Looks for a glibc loader or ``libc.so.6`` where a glibc system keeps them (none MUST be
    there), then resolves ``/bin/busybox`` with ``ldd``: the musl loader
    (``/lib/ld-musl-*.so.1``) MUST be what resolves it.
    """
    image = _held(alpine_image).image_id
    search = f"for f in {' '.join(GLIBC_FILES)}; do [ -e \"$f\" ] && echo \"$f\"; done; exit 0"
    found = _ran(sh(resources, image, search), "the search for glibc files")
    evidence.text("glibc files", found or "(none)")
    assert not found, f"glibc is present: {found.splitlines()}"
    musl = _ran(sh(resources, image, "ldd /bin/busybox 2>&1"), "`ldd /bin/busybox`")
    evidence.text("ldd /bin/busybox", musl)
    assert "ld-musl" in musl, f"busybox is not resolved by a musl loader: {musl}"


@claim("ALP-1")
def test_alpine_shell_is_busybox(alpine_image, resources):
    """The Alpine base's ``/bin/sh`` MUST be busybox."""
    target = _ran(sh(resources, _held(alpine_image).image_id, "readlink -f /bin/sh"), "`readlink -f /bin/sh`")
    evidence.figure("/bin/sh", target)
    assert target == "/bin/busybox", f"/bin/sh is {target!r}, not busybox"


@claim("ALP-1")
def test_apk_lists_the_base_packages(alpine_image, resources):
    """The Alpine base's ``apk info`` MUST work and list musl, busybox, apk-tools and alpine-baselayout."""
    # apk warns on stderr that it cannot refresh its indexes without a network; the package
    # list is stdout alone.
    listing = _ran(sh(resources, _held(alpine_image).image_id, "apk info 2>/dev/null"), "`apk info`")
    packages = listing.splitlines()
    evidence.text("apk info", "\n".join(packages))
    evidence.figure("apk packages", len(packages))
    assert BASE_PACKAGES <= set(packages), \
        f"apk info lacks the base packages {sorted(BASE_PACKAGES - set(packages))}: {packages}"


@claim("ALP-1")
def test_apk_verifies_the_installed_files(alpine_image, resources):
    """The Alpine base's ``apk verify`` MUST pass: every installed file matches its package."""
    finished = sh(resources, _held(alpine_image).image_id, "apk verify 2>&1")
    evidence.text("apk verify", finished.output or "(no output)")
    assert finished.exit_code == 0, f"apk verify failed ({finished.exit_code}): {finished.output[:300]}"


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
    and p95 against ``start_p50_ms`` and ``start_p95_ms``; taken again while the engine's
    events show someone else's work on it. Attaches every sample.
    """
    samples, watch = quietly(resources.client.api, resources.identity.run_id,
                             lambda: start_latency.series(resources, alpine_image.ref, ["true"],
                                                          samples=thresholds.start_samples,
                                                          warmup=thresholds.start_warmup, network_mode="none"))
    watch.report()
    total = Distribution.of([s.total_ms for s in samples])
    evidence.as_json("start samples (ms)", {"summary": total.as_dict(),
                                            "samples": [s.as_dict() for s in samples]})
    evidence.figure("start p50", round(total.p50, 1), "ms")
    evidence.figure("start p95", round(total.p95, 1), "ms")
    failed = [s.exit_code for s in samples if s.exit_code != 0]
    assert not failed, f"{len(failed)} of {len(samples)} `true` containers exited non-zero: {failed[:5]}"
    assert total.p50 <= thresholds.start_p50_ms, \
        f"start p50 {total.p50:.0f} ms exceeds {thresholds.start_p50_ms} ms ({total.line()})"
    assert total.p95 <= thresholds.start_p95_ms, \
        f"start p95 {total.p95:.0f} ms exceeds {thresholds.start_p95_ms} ms ({total.line()})"
