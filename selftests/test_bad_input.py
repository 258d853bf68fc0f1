"""Bad input ends a run with one clear line and a distinct exit code, never a traceback storm."""

from __future__ import annotations

import socket

import pytest

from fixtures.core.exitcodes import Exit


def _one_clear_line(run) -> str:
    """The error is one line (argparse's usage line and pytest's rootdir/inifile lines aside)."""
    text = (run.stderr + run.stdout).strip()
    assert "Traceback" not in text, run.describe()
    # Lines about cleaning up after other, crashed runs are news about those runs, not this error.
    context = ("usage:", "  inifile:", "  rootdir:", "docker-conformance: cleaned up after crashed run",
               "docker-conformance: removed resources of crashed earlier runs", "docker-conformance: crashed run ")
    lines = [line for line in run.stderr.splitlines() if line.strip() and not line.startswith(context)
             and not line.startswith("ERROR: usage:")]
    assert len(lines) == 1, f"expected one line of error, got:\n{run.stderr}"
    return run.stderr


def test_unreachable_unix_engine(suite, tmp_path):
    run = suite(engine=f"unix://{tmp_path}/nothing.sock")
    err = _one_clear_line(run)
    assert run.exit_code == Exit.ENGINE_UNREACHABLE, run.describe()
    assert "does not answer" in err and "nothing.sock" in err
    assert run.summary is None, "no test may run against an engine that does not answer"


def test_unreachable_tcp_engine_gives_up_within_5_seconds(suite):
    # A listener that never accepts: the connection opens and no answer ever comes, so only
    # the probe's own time budget can end the wait.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    with silent:
        run = suite(engine=f"tcp://127.0.0.1:{silent.getsockname()[1]}")
    _one_clear_line(run)
    assert run.exit_code == Exit.ENGINE_UNREACHABLE, run.describe()
    assert "no answer within 5 s" in run.stderr
    assert run.seconds < 5 + 4, f"took {run.seconds:.1f} s (5 s budget plus interpreter start)"


def test_docker_host_that_does_not_answer_is_not_replaced_by_a_sandbox(suite, tmp_path):
    run = suite(engine="", env={"DOCKER_HOST": f"unix://{tmp_path}/gone.sock"})
    assert run.exit_code == Exit.ENGINE_UNREACHABLE, run.describe()
    assert "from DOCKER_HOST" in run.stderr


@pytest.mark.parametrize("args, fragment", [
    (["--profile", "everything"], "invalid choice"),
    (["--gate", "critical"], "invalid choice"),
    (["-o", "conformance_profile=everything"], "conformance_profile"),
    (["--threshold", "start_p50_ms=fast"], "not a number"),
    (["--threshold", "no_such_threshold=1"], "no such threshold"),
    (["--threshold", "start_p50_ms"], "expected NAME=VALUE"),
    (["--thresholds", "/nonexistent/conformance.toml"], "does not exist"),
    (["--no-such-option"], "unrecognized arguments"),
], ids=["profile", "gate", "ini-profile", "threshold-value", "threshold-name", "threshold-form",
        "thresholds-file", "unknown-option"])
def test_bad_option_or_config_value(suite, args, fragment):
    run = suite(*args)
    _one_clear_line(run)
    assert run.exit_code == Exit.USAGE, run.describe()
    assert fragment in run.stderr, run.describe()


def test_malformed_thresholds_file(suite, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[thresholds]\nstart_p50_ms = 'fast'\n")
    run = suite("--thresholds", str(bad))
    _one_clear_line(run)
    assert run.exit_code == Exit.USAGE and "is not a number" in run.stderr, run.describe()


def test_missing_image_archive(suite, tmp_path):
    run = suite("--image-archive", str(tmp_path / "missing.tar"))
    err = _one_clear_line(run)
    assert run.exit_code == Exit.IMAGE_MISSING, run.describe()
    assert "missing.tar" in err


def test_unusable_image_archive(suite, tmp_path):
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"this is not a docker save archive")
    run = suite("--image-archive", str(junk), "--alpine-image", "conformance-absent/alpine:none")
    _one_clear_line(run)
    assert run.exit_code == Exit.IMAGE_MISSING, run.describe()


def test_image_no_source_can_provide(suite):
    run = suite("--alpine-image", "conformance-absent/alpine:none")
    err = _one_clear_line(run)
    assert run.exit_code == Exit.IMAGE_MISSING, run.describe()
    assert "no source could provide conformance-absent/alpine:none" in err


def test_no_tests_selected_is_not_success(suite):
    run = suite("-k", "no_test_is_called_this")
    assert run.exit_code == Exit.NO_TESTS, run.describe()


@pytest.mark.parametrize("text, fragment", [
    ("targets: [\n", "not YAML"),
    ("hosts: []\n", "needs a non-empty list under 'targets:'"),
    ("targets:\n  - name: a\n    url: unix:///x.sock\n    color: red\n", "unknown field(s) color"),
    ("targets:\n  - name: a\n    url: unix:///x.sock\n  - name: a\n    url: unix:///y.sock\n", "given twice"),
    ("targets:\n  - name: 'a b'\n    url: unix:///x.sock\n", "must be letters, digits"),
    ("targets:\n  - name: a\n    url: http://x:80\n", "is not a unix://, tcp:// or ssh:// URL"),
    ("targets:\n  - name: a\n    url: unix:///x.sock\n    tls: {ca: c, cert: c, key: k}\n", "tls is for tcp://"),
    ("targets:\n  - name: a\n    url: tcp://10.0.0.7:2376\n    tls: {ca: missing.pem, cert: c, key: k}\n",
     "is not a file"),
], ids=["not-yaml", "no-list", "unknown-field", "name-twice", "bad-name", "bad-url", "tls-on-unix", "tls-missing"])
def test_bad_targets_file(suite, tmp_path, text, fragment):
    targets = tmp_path / "fleet.yaml"
    targets.write_text(text)
    run = suite("--targets", str(targets), engine="")
    _one_clear_line(run)
    assert run.exit_code == Exit.USAGE, run.describe()
    assert fragment in run.stderr, run.describe()
    assert run.summary is None


def test_engine_and_targets_together(suite, tmp_path):
    targets = tmp_path / "fleet.yaml"
    targets.write_text("targets:\n  - name: a\n    url: unix:///x.sock\n")
    run = suite("--targets", str(targets))  # the runner names an --engine too
    _one_clear_line(run)
    assert run.exit_code == Exit.USAGE and "not both" in run.stderr, run.describe()


def test_one_hosts_for_a_fleet(suite, tmp_path):
    run = suite("--engine", f"a=unix://{tmp_path}/a.sock", "--engine", f"b=unix://{tmp_path}/b.sock",
                "--hosts", "local://", engine="")
    _one_clear_line(run)
    assert run.exit_code == Exit.USAGE and "each target its hosts" in run.stderr, run.describe()
