"""Negative controls of STD-3 and PKG-2 across engines: a second engine that does not run
the image as built."""

from __future__ import annotations

import pytest

from selftests.controls.negative import Control, check_control

PORTABILITY = "suites/standard/test_portability.py"


@pytest.mark.parametrize("fault", ["set-env=GREETING=tampered"])
def test_second_engine_that_changes_the_image_config_fails_std3_and_pkg2(fault, suite, faulty_engine,
                                                                         real_client):
    """The second engine injects an environment variable over the image's own."""
    second = faulty_engine(fault)
    control = Control("STD-3-second-engine-alters-config", select=(PORTABILITY,),
                      args=("--second-engine", second.url),
                      expect={"test_ported_image_runs_with_the_same_config[STD-3]": "different Env",
                              "[PKG-2-second-engine]": "outputs differ between engines"})
    check_control(suite, control, real_client)
