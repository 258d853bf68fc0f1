"""One cause, one line: failures grouped by their first error line, ids and ports out."""

import re

import pytest

from fixtures.reporting.causes import allure_categories, cause_of, group, pattern_of
from fixtures.reporting.outcomes import TestOutcome as Outcome

CLI = ("`docker run -d --label conformance.run=20261201T203718-1d33b2 alpine` exited 125: docker: Error "
       "response from daemon: failed to create shim: OCI runtime create failed: refuses {id}: unknown.")
SDK = ('docker.errors.APIError: 500 Server Error for http+docker://localhost/v1.41/containers/{id}/start: '
       'Internal Server Error ("failed to create shim: OCI runtime create failed: refuses {id}: unknown.")')


@pytest.mark.parametrize("message, cause", [
    (CLI.format(id="3f2a1b4c5d6e"), "failed to create shim: OCI runtime create failed: refuses <id>: unknown."),
    (SDK.format(id="abcdef0123456789"), "failed to create shim: OCI runtime create failed: refuses <id>: unknown."),
    ("AssertionError: B reached A at 10.199.16.2:45678 via localhost:8080", "B reached A at 10.199.16.2:<port> via "
                                                                          "localhost:<port>"),
    ("the proxy serves published port 32770 at 20:46:01", "the proxy serves published port <port> at <time>"),
    ("mknod: brw-r--r-- 254, 0 Dec  1 20:46 /tmp/hostdisk", "mknod: brw-r--r-- 254, 0 Dec  1 20:46 /tmp/hostdisk"),
])
def test_cause_takes_the_engine_answer_with_ids_and_ports_out(message, cause):
    assert cause_of(message) == cause
    assert re.search(pattern_of(cause), message), "the Allure category must find the raw message"


def test_failures_of_one_cause_make_one_group_biggest_first():
    outcomes = [Outcome(f"suites/t.py::test_{n}[CMD-{n}]", f"CMD-{n}", "major", "failed",
                        message=CLI.format(id=f"{n:012x}")) for n in range(5)]
    outcomes += [Outcome("suites/t.py::test_x[LW-2]", "LW-2", "major", "error",
                         message=SDK.format(id="ab" * 8)),
                 Outcome("suites/t.py::test_y[LW-3]", "LW-3", "major", "failed", message="p50 900 ms > 800 ms"),
                 Outcome("suites/t.py::test_z[LW-4]", "LW-4", "major", "failed", message="waived one",
                         waiver={"state": "waived"}),
                 Outcome("suites/t.py::test_w[LW-5]", "LW-5", "major", "passed")]
    groups = group(outcomes)
    assert [len(g.tests) for g in groups] == [6, 1], "a CLI call and an SDK call that hit one refusal: one cause"
    assert groups[0].line.startswith("6 checks: failed to create shim: OCI runtime create failed")
    assert groups[0].outcome == "failed", "a product failure among them makes the group one"
    assert all("test_z" not in t for g in groups for t in g.tests), "a waived failure is no cause to fix"
    categories = allure_categories(groups)
    assert len(categories) == 1 and categories[0]["name"].startswith("6 checks:")
    assert re.search(categories[0]["messageRegex"], CLI.format(id="999999999999"))
