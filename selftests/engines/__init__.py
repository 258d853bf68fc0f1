"""The other engines the self-tests hold to the same claims: a private Podman service, a
rootless dockerd, and dockerd with crun (as its default runtime, or as an added one).

Only the self-tests start these; a user's ``./conformance`` tests whatever engine it is given
and installs none of them. Each is started on first use, recorded for cleanup in a run
directory of its own (``conftest.py``: users and device modes are not the suite's kinds of
cleanup record), and stopped and removed when the self-tests end, or by the next self-test
session after a crash.
"""
