"""One suite run's verdicts per claim, as the control matrix keeps them."""

from __future__ import annotations

import os
from pathlib import Path

from selftests.control_matrix.expectations import failed_on_time

FAILING = ("failed", "error")


def per_claim(summary: dict | None) -> dict[str, dict]:
    """claim -> {"verdict", "failing": {nodeid: first line}} for every claim that ran a test."""
    claims = {}
    for row in (summary or {}).get("claims", []):
        if not row["tests"]:
            continue
        failing = {t["nodeid"]: t["message"] for t in row["tests"] if t["outcome"] in FAILING}
        claims[row["id"]] = {"verdict": row["verdict"], "failing": failing}
    return claims


def load_average() -> float:
    """The host's 1-minute load average: timing checks are judged against it."""
    return round(os.getloadavg()[0], 2)


def compact(record: dict, project: Path) -> dict:
    """A run record without what can hold this machine's paths or addresses (messages, stderr):
    each claim's verdict, the node ids that failed, and which of them failed on a time (read
    from their messages here), which is what the matrix is written from."""
    on_time = sorted(nodeid for row in record["claims"].values() for nodeid, message in row["failing"].items()
                     if failed_on_time(nodeid, message, project))
    return {"exit_code": record["exit_code"], "seconds": record["seconds"], "load": record["load"],
            "summary": not record["no_summary"],
            "left": {kind: len(ids) for kind, ids in record.get("left", {}).items()},
            "verdicts": {claim: row["verdict"] for claim, row in sorted(record["claims"].items())},
            "failing": {claim: sorted(row["failing"]) for claim, row in sorted(record["claims"].items())
                        if row["failing"]},
            "failed_on_time": on_time}


def run_record(summary: dict | None, *, exit_code: int, seconds: float, load: list[float],
               stderr_tail: str = "") -> dict:
    """``load``: the 1-minute load average sampled around (or right after) the run."""
    return {"exit_code": exit_code, "seconds": round(seconds, 1), "load": load,
            "claims": per_claim(summary), "no_summary": "" if summary else stderr_tail[-600:]}
