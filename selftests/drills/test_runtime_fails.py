"""Drill 2: an engine whose runtime cannot create or start any container."""

from __future__ import annotations

import shutil
from contextlib import closing

from fixtures.core.exitcodes import Exit
from selftests.drills.running import NOT_TIMING, Background, outcomes_by_node

# A runtime that answers everything runc answers, except creating a container: dockerd and
# containerd start, images import and build metadata, and every container fails to start
# with "OCI runtime create failed", as on a host whose runtime is broken.
REFUSING_RUNTIME = """#!/bin/sh
for arg in "$@"; do
  case "$arg" in
    create|run) echo "drill: this runtime refuses to create containers" >&2; exit 1 ;;
  esac
done
exec {runc} "$@"
"""


def test_runtime_that_fails_gives_one_cause_and_leaves_nothing(drill_engine, drill_dir, figures):
    """On an engine that cannot start a container, the run finishes with its failures grouped
    under one cause ("N checks: ... OCI runtime create failed ..."), first in the summary,
    and leaves nothing on the engine: not a container in "created", not an image."""
    runtime = drill_dir / "refusing-runtime"
    runtime.write_text(REFUSING_RUNTIME.format(runc=shutil.which("runc")))
    runtime.chmod(0o755)
    engine = drill_engine(daemon_config={"runtimes": {"refusing": {"path": str(runtime)}},
                                         "default-runtime": "refusing"})
    before = engine.contents()
    run = Background.start(drill_dir, "--engine", engine.url, "-n", "2", "--profile", "smoke", *NOT_TIMING)
    code = run.wait(timeout=900)
    output, summary = run.output(), run.summary()
    after = engine.contents()
    leftovers = {kind: sorted(after[kind] - before[kind]) for kind in after}
    with closing(engine.client()) as client:
        figures["leftover images"] = [
            {"id": i[7:19], **{k: v for k, v in (client.api.inspect_image(i)["Config"].get("Labels") or {}).items()
                               if k in ("conformance.test", "conformance.worker")},
             "tags": client.api.inspect_image(i)["RepoTags"], "parent": client.api.inspect_image(i)["Parent"][7:19]}
            for i in leftovers["images"]]
    figures["exit code"] = code
    figures["leftovers"] = {kind: len(items) for kind, items in leftovers.items()}

    assert summary is not None, output[-4000:]
    assert code == Exit.GATE_FAILED, output[-4000:]
    for bad in ("INTERNALERROR", "Traceback (most recent call last)"):
        assert bad not in output, f"{bad} in the output:\n{output[-4000:]}"
    failing = [t for t in outcomes_by_node(summary).values() if t["outcome"] in ("failed", "error")]
    causes = summary["causes"]
    figures["failing checks"] = len(failing)
    figures["causes"] = len(causes)
    figures["biggest cause"] = causes[0]["line"][:160] if causes else ""
    assert causes and "OCI runtime create failed" in causes[0]["cause"], causes[:3]
    assert causes[0]["count"] >= len(failing) * 0.6, \
        f"the runtime's failure is one cause for most checks: {[c['line'][:120] for c in causes[:6]]}"
    markdown = (run.reports / "summary.md").read_text()
    assert markdown.index("## Failures by cause") < markdown.index("| Claim |"), "the causes come first"
    assert causes[0]["line"] in output, "the console shows the causes too"
    assert not any(leftovers.values()), f"the run left on the engine: {leftovers}"
