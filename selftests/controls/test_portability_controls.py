"""Negative controls of STD-3 and PKG-2 across engines: a second engine that does not run
the image as built."""

from __future__ import annotations

from dataclasses import replace

from selftests.controls.negative import Control, check_control

PORTABILITY = "suites/standard/test_portability.py"


# The faults are the second engine's; the test names it with ``--second-engine``.
ALTERS_CONFIG = Control(
    "STD-3-second-engine-alters-config", select=(PORTABILITY,), faults=("set-env=GREETING=tampered",),
    weakens="a second engine that injects an environment variable over the image's own",
    expect={"test_ported_image_runs_with_the_same_config[STD-3]": "different Env",
            "[PKG-2-second-engine]": "outputs differ between engines"})


def test_second_engine_that_changes_the_image_config_fails_std3_and_pkg2(suite, faulty_engine, real_client):
    """The second engine injects an environment variable over the image's own."""
    second = faulty_engine(*ALTERS_CONFIG.faults)
    check_control(suite, replace(ALTERS_CONFIG, args=("--second-engine", second.url)), real_client)
