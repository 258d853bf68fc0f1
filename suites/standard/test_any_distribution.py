"""STD-2: containers run on all major Linux distributions and on any infrastructure.

Document: "标准" (standard): containers run on all major Linux distributions, Microsoft
Windows, and any infrastructure including VMs, bare metal and the cloud
("可在所有主要的Linux发行版，Microsoft Windows以及包括VM、裸机和云在内的任何基础设施上运行").
"""

from __future__ import annotations

from fixtures.core import evidence
from fixtures.ledger.marks import claim
from fixtures.measure.host_platform import describe, os_release, same_distribution

SEPARATOR = "@@"
# One shell line for any distribution: its os-release, the kernel, and its C library. The
# first two must succeed (a failed read is never "another distribution"); the C library is
# told by which of the two signs answers.
PROBE = (f"cat /etc/os-release && echo {SEPARATOR} && uname -r && echo {SEPARATOR} && "
         "{ ls /lib/ld-musl-* 2>/dev/null; getconf GNU_LIBC_VERSION 2>/dev/null; true; }")

# case -> (image fixture, os-release ID, libc and how it shows)
DISTRIBUTIONS = {
    "alpine-musl": ("alpine_image", "alpine", "musl"),
    "debian-glibc": ("nginx_image", "debian", "glibc"),
}


def _libc(found: str) -> str:
    if "glibc" in found:
        return "glibc"
    return "musl" if "ld-musl" in found else "unknown"


@claim("STD-2", cases=DISTRIBUTIONS, smoke="alpine-musl")
def test_distribution_runs_on_the_host_kernel(case, request, run_container, engine_host, engine_facts):
    """Base images of different distributions MUST run on the same host and kernel.

    Runs the Alpine base (musl) and the Debian image of the nginx example (glibc) on the
    engine. Each MUST report its own distribution in ``/etc/os-release`` and its own C
    library (the musl loader, or ``getconf GNU_LIBC_VERSION``), and the kernel release of
    the engine's host (``uname -r``), the one kernel they share.
    """
    fixture, distribution, libc = case
    image = request.getfixturevalue(fixture)
    container = run_container(image.ref, [PROBE], entrypoint=["/bin/sh", "-c"], network_mode="none")
    code = container.wait(timeout=60)["StatusCode"]
    output = container.logs().decode(errors="replace")
    assert code == 0, f"{image.ref} could not run the probe (exit {code}): {output[:300]}"
    release_text, kernel, libc_text = (output.split(f"{SEPARATOR}\n") + ["", "", ""])[:3]
    release = os_release(release_text)
    host_kernel = engine_host.check_output("uname -r").strip()
    found_libc = _libc(libc_text)
    evidence.as_json("distribution", {"image": f"{image.ref} ({image.source})", "os-release": release,
                                      "kernel inside": kernel.strip(), "host kernel": host_kernel,
                                      "libc": libc_text.strip()})
    evidence.figure("distribution", release.get("PRETTY_NAME", "?"))
    evidence.figure("libc", libc_text.strip().splitlines()[-1] if libc_text.strip() else "?")
    evidence.figure("kernel", kernel.strip())
    ids = {release.get("ID", "")} | set(release.get("ID_LIKE", "").split())
    assert distribution in ids, \
        (f"{image.ref} ({image.source}) is {release.get('PRETTY_NAME', '?')!r} (ID={release.get('ID')}), "
         f"not {distribution}")
    assert found_libc == libc, f"{image.ref} has {found_libc} as its C library, not {libc}: {libc_text.strip()!r}"
    assert kernel.strip() == host_kernel == engine_facts["kernel"], \
        f"{image.ref} runs on kernel {kernel.strip()!r}; the host's is {host_kernel!r}"


@claim("STD-2")
def test_host_platform_is_recorded(engine_host, engine_facts):
    """The host's distribution and virtualisation MUST be recorded, and agree with the engine.

    Reads, on the engine's host, ``/etc/os-release`` and the signs of virtualisation
    (``systemd-detect-virt``, DMI vendor and product, the CPU's hypervisor flag,
    ``/sys/hypervisor/type``, container markers) and records them. The distribution MUST
    be known and be the one the engine reports (``OperatingSystem``), however the engine
    spells it: Docker gives the PRETTY_NAME ("Debian GNU/Linux 12 (bookworm)"), Podman the
    ID ("debian").
    """
    platform = describe(engine_host)
    evidence.as_json("host platform", {**platform, "engine reports": engine_facts["os.distribution"]})
    evidence.figure("host distribution", platform["distribution"])
    evidence.figure("virtual machine", platform["virtual machine"])
    evidence.figure("container", platform["container"])
    assert platform["distribution"] != "unknown", "the engine's host has no readable /etc/os-release"
    assert same_distribution(platform["os-release"], engine_facts["os.distribution"]), \
        (f"the host reads as {platform['distribution']!r} (ID={platform['os-release'].get('ID')}) but the "
         f"engine reports {engine_facts['os.distribution']!r}: the host checked is not the engine's")
