"""What no real weakening makes fail yet, and why: the one place these reasons are kept.

The control matrix (``docs/control-matrix.md``) lists them, and its self-test
(``selftests/test_control_matrix.py``) keeps them true: every claim of the ledger has a real
control or a reason here, and no claim that has a real control keeps a reason here. A
response-only control (one that only rewrites what the engine reports) is not a real one.
"""

from __future__ import annotations

KERNEL = ("reads the running kernel (namespaces, cgroup controllers, filesystems, netfilter, "
          "seccomp), which no control can weaken without another kernel; the decision logic is "
          "unit-tested on kernel configs that lack each feature (unit/test_host_helpers.py)")

# claim -> why no real weakening makes it fail
CLAIMS: dict[str, str] = {
    "PKG-3": ("reporting only: records the engine's OS type and architecture, and Windows is not "
              "applicable on a Linux engine; its one Linux check (`uname -s -m` in a container) "
              "would need a runtime that runs containers under another personality (linux32), "
              "which no control starts yet"),
    "HOST-1": KERNEL,
    "HOST-2": KERNEL,
    "HOST-3": KERNEL,
    "HOST-4": KERNEL,
    "HOST-5": KERNEL,
    "HOST-9": ("the data-root's free space is the host's disk; a control needs a daemon whose "
               "data-root sits on a filesystem under `host_data_root_min_free_gb` (a small mount "
               "of its own), which no control builds yet"),
}

# check (node id fragment) -> why no control makes it fail, in claims that others do cover
CHECKS: dict[str, str] = {
    "test_resolv_conf_is_its_own[ISO-1]": (
        "the engine writes the file; a shared one needs the host's network namespace, which "
        "ISO-1's hostname and hosts checks catch first"),
    "test_same_path_holds_each_teams_file[ISO-2]": (
        "needs an engine that mixes two images' files; no real weakening the suite can force does"),
    "test_each_team_runs_its_own_version[ISO-2]": (
        "needs an engine that mixes two images' files; no real weakening the suite can force does"),
    "test_libraries_resolve_inside[PKG-1-alpine]": (
        "an Alpine base without its libc does not run at all, so the check cannot reach a verdict"),
    "test_memory_hog_is_contained[SEC-3]": (
        "its neighbour condition: a hog bounded to stay safe cannot starve a neighbour's memory; "
        "the verdict code is the fork bomb's neighbour condition, which does fail"),
    "test_writes_leave_the_image_unchanged[SEC-3]": (
        "its layers half: no engine fault rewrites an image's layers; a new container seeing "
        "the writes does fail it (shared-tmp)"),
}
