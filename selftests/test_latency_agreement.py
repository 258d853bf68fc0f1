"""The start latency the suite reports agrees with an independent timer.

LW-2 times container starts with its own client; hyperfine (Debian's package) times
``docker run --rm alpine:3.23 true`` through the real CLI on the same engine, right before
and right after.
The suite's figure for the same life (default bridge, create to removed) must be within
10% of hyperfine's median: if the suite's clock or its way of driving the engine were
off, the two would part.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from selftests.conftest import SELFTEST_LABEL

LW2_BRIDGE = "suites/lightweight/test_start_latency.py::test_start_latency[LW-2-bridge]"
AGREEMENT = 0.10
RUNS, WARMUP = 30, 3


def hyperfine_median_ms(engine_url: str, label: str, json_path) -> tuple[float, str]:
    command = f"docker run --rm --label {SELFTEST_LABEL}={label} alpine:3.23 true"
    argv = ["hyperfine", "-N", "--warmup", str(WARMUP), "--runs", str(RUNS), "--export-json", str(json_path),
            command]
    subprocess.run(argv, check=True, capture_output=True, text=True, timeout=600,
                   env={"PATH": "/usr/local/bin:/usr/bin:/bin", "DOCKER_HOST": engine_url})
    result = json.loads(json_path.read_text())["results"][0]
    return result["median"] * 1000.0, " ".join(argv[:-1]) + f" '{command}'"


# Thorough only: two timings taken minutes apart on a shared 2-core machine; in CI-like runs it
# passed 3 times and once found them 18.0 % apart (suite 272.4 ms, hyperfine 334.5 ms) at
# load 3.3. Speed is measured in tools/benchmark, not asserted in CI.
@pytest.mark.thorough
def test_suite_start_p50_agrees_with_hyperfine(suite, real_engine, selftest_labels, tmp_path):
    # ./selftest installs hyperfine; its absence is a broken set-up, not a reason to skip.
    assert shutil.which("hyperfine"), "hyperfine is not installed: run ./selftest (or tools/setup selftest)"
    # hyperfine times the same thing just before and just after the suite: on a machine
    # others share, the load can drift meanwhile, and the suite must agree with either.
    label = selftest_labels[SELFTEST_LABEL]
    before, command = hyperfine_median_ms(real_engine.url, label, tmp_path / "before.json")
    run = suite(LW2_BRIDGE)
    after, _ = hyperfine_median_ms(real_engine.url, label, tmp_path / "after.json")
    measured = run.tests().get(LW2_BRIDGE) or {}
    assert measured.get("outcome") == "passed", run.describe()
    figures = measured["figures"]
    suite_ms = figures["bridge with remove p50"]["value"]
    difference = min(abs(suite_ms - before) / before, abs(suite_ms - after) / after)
    print(f"suite: create -> removed p50 {suite_ms:.1f} ms (create -> exit p50 "
          f"{figures['bridge start p50']['value']} ms); {command}: median {before:.1f} ms before, "
          f"{after:.1f} ms after; difference {difference:.1%}")
    assert difference <= AGREEMENT, \
        (f"the suite's start p50 (create -> removed, default bridge) is {suite_ms:.1f} ms, hyperfine's "
         f"median of `{command}` is {before:.1f} ms before and {after:.1f} ms after it: "
         f"{difference:.1%} apart, over {AGREEMENT:.0%}")
