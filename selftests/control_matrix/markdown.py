"""``docs/control-matrix.md``: the matrix for people, written from the model in build.py, and the
few lines of it the self-test reads back (the score lines and the weakenings' rows)."""

from __future__ import annotations

import re
import statistics

from selftests.control_matrix.build import REAL, RESPONSE_ONLY, Matrix, Row

SCORE_REAL = "Real weakenings caught"
SCORE_CLAIMS = "Claims covered by at least one real weakening"
SCORE_RESPONSE = "Response-only weakenings caught (counted apart)"
SCORE_LINE = re.compile(r"^- (?P<what>[^:]+): \*\*(?P<got>\d+) / (?P<of>\d+)\*\*")
WEAKENINGS_HEADING = "## Weakenings"


def _claims(ids: list[str]) -> str:
    return ", ".join(ids) or "–"


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min" if seconds >= 3600 \
        else f"{int(seconds // 60)} min {int(seconds % 60):02d} s"


def _verdict(row: Row) -> str:
    if not row.applied:
        return "not applied (no result)"
    if row.stale:
        return "stale (changed since its run)"
    if row.caught_all:
        return "yes"
    return f"no: {_claims(row.missed)} did not fail" if row.expected else "no: expects nothing"


def _noise(row: Row) -> str:
    return "; ".join(f"{claim} ({why})" for claim, why in row.noise.items()) or "–"


def _weakening_line(row: Row) -> str:
    held = "" if row.held or not row.applied else " (its own check did not hold)"
    caught = [f"{claim} (on a time, load up to {max(row.load or [0]):.1f})" if claim in row.caught_on_time else claim
              for claim in row.caught]
    return (f"| {row.name} | {row.kind} | {row.weakens} | {_claims(row.expected)} | {_claims(caught)} | "
            f"{_claims(row.also)} | {_noise(row)} | {_verdict(row)}{held} |")


def _how_run(matrix: Matrix) -> list[str]:
    meta = matrix.meta
    if meta.get("smoke", True):
        failing = ", ".join(f"{claim} ({len(nodes)} check{'s' * (len(nodes) != 1)})"
                            for claim, nodes in sorted(matrix.baseline_failing.items())) or "none"
        return ["Every weakening the negative controls apply (`selftests/controls/`), run on its own: the "
                "control's own selection and the smoke profile (one check per claim), both against the same "
                "weakened engine, daemon, image or registry. Baseline (the smoke profile on the unweakened "
                f"engine): failing {failing}."]
    return ["Every weakening the negative controls apply (`selftests/controls/`), run on its own: **only the "
            "control's own selection** (`tools/control-matrix --no-smoke`: `./selftest controls` in matrix "
            "mode, one control after another, no smoke run and no baseline run).",
            "",
            "What this run therefore does not show: which claims a weakening breaks beyond the checks its "
            "own control selects. *Also failed* lists only unexpected failures within that selection, and no "
            "failure is set apart as failing on the unweakened engine too. The scores do not depend on it: a "
            "claim counts as caught only through a check its control expects to fail, and every such check "
            "is in the control's own selection."]


def _reruns(meta: dict) -> list[str]:
    """The controls re-run since (``-k``): their results replace the full run's."""
    lines = [f"- Re-run since, replacing their results: `-k {run['selection']}` on {run['date']}, "
             f"{'with' if run.get('smoke', True) else 'without'} smoke runs, {_minutes(run['wall_time_s'])}"
             f"{', against ' + run['engine'] if run.get('engine') else ''}."
             for run in meta.get("partial_runs", [])]
    return lines + ([""] if lines else [])


def _header(matrix: Matrix) -> list[str]:
    meta = matrix.meta
    loads = [value for row in matrix.rows + matrix.positives for value in row.load]
    load = (f"1-minute load average {min(loads):.1f} to {max(loads):.1f} (median {statistics.median(loads):.1f})"
            if loads else "no load recorded")
    engine = f" against {meta['engine']}" if meta.get("engine") else ""
    return [
        "# Control matrix",
        "",
        *_how_run(matrix),
        "",
        "Written by `tools/control-matrix` from `docs/control-matrix.json`; `./selftest test_control_matrix.py` "
        "checks that both agree with the controls and the ledger. Do not edit by hand.",
        "",
        f"Generated {meta.get('generated', '?')}{engine}, on a {meta.get('cores', '?')}-core machine shared with "
        f"other work: wall time {_minutes(meta.get('wall_time_s', 0))}, {load}.",
        "",
    ] + _reruns(meta) + [f"- {note}" for note in meta.get("notes", [])] + ([""] if meta.get("notes") else [])


def _scores(matrix: Matrix) -> list[str]:
    caught, applied = matrix.score(REAL)
    covered, claims = matrix.coverage()
    r_caught, r_applied = matrix.score(RESPONSE_ONLY)
    defined = len(matrix.of_kind(REAL))
    return [
        "## Scores",
        "",
        f"- {SCORE_REAL}: **{caught} / {applied}** (applied, of {defined} defined)",
        f"- {SCORE_CLAIMS}: **{covered} / {claims}** (the ledger, HOST-n included)",
        f"- {SCORE_RESPONSE}: **{r_caught} / {r_applied}**; they never count as a claim's control",
        "",
        "A weakening is caught when every claim its control expects to break failed, through a check "
        "the control expects to fail (in `./selftest` each such failure must name the weakness). Failures "
        "a weakening causes beyond those are listed as *also failed* and count for nothing. Failures that "
        "happen on the unweakened engine too, and failures of a time-bound check on a time (start latency, "
        "idle CPU, a neighbour's response, a detached run's return; a loaded host causes these whatever the "
        "weakening) that the weakening does not expect, are *not counted* and not attributed to it, with "
        "the reason. A claim caught only through expected time-bound checks failing on a time is marked "
        "*on a time*, with the highest load seen around its run: the control's message names its weakening, "
        "but the load may have added to the time.",
        "",
    ]


def _weakenings(matrix: Matrix) -> list[str]:
    lines = [WEAKENINGS_HEADING, "",
             "| Weakening | Kind | What it weakens | Expected to break | Caught | Also failed | Not counted | "
             "Caught all |", "|---|---|---|---|---|---|---|---|"]
    lines += [_weakening_line(row) for row in matrix.rows]
    applied = [row for row in matrix.rows if row.applied]
    lines.append(f"| **Total** ({len(matrix.rows)}) | | | {sum(len(r.expected) for r in matrix.rows)} | "
                 f"{sum(len(r.caught) for r in applied)} | {sum(len(r.also) for r in applied)} | "
                 f"{sum(len(r.noise) for r in applied)} | {sum(r.caught_all for r in applied)} / {len(applied)} |")
    return lines + [""]


def _positives(matrix: Matrix) -> list[str]:
    lines = ["## Positive controls", "",
             "Stronger engines, or ones only relabelled: the checks they name must pass there. What they "
             "expect to fail is the host's (no AppArmor or SELinux here), not a weakening's.", "",
             "| Control | What it is | Expected to fail | Held | Also failed | Not counted |", "|---|---|---|---|---|---|"]
    for row in matrix.positives:
        held = "not applied" if not row.applied else ("yes" if row.held else "no")
        lines.append(f"| {row.name} | {row.weakens} | {_claims(row.expected)} | {held} | {_claims(row.also)} | "
                     f"{_noise(row)} |")
    return lines + [""]


def _claims_table(matrix: Matrix) -> list[str]:
    lines = ["## Claims", "",
             "| Claim | Real weakenings that catch it | Response-only | Status |", "|---|---|---|---|"]
    for claim in matrix.claims:
        if claim.covered:
            status = f"covered ({len(claim.real)})"
        elif claim.defined:
            status = f"NOT caught in this run: {', '.join(claim.defined)} expected to break it"
        else:
            status = "no real control (reason below)"
        lines.append(f"| {claim.id} | {', '.join(claim.real) or '–'} | {', '.join(claim.response_only) or '–'} | "
                     f"{status} |")
    return lines + [""]


def _without(matrix: Matrix, checks: dict[str, str]) -> list[str]:
    lines = ["## Claims without a real control", ""]
    lines += [f"- **{claim.id}**: {claim.reason}" for claim in matrix.claims if not claim.covered and claim.reason]
    lines += ["", "## Checks without a control, in claims that others cover", ""]
    lines += [f"- `{check}`: {why}" for check, why in checks.items()]
    lines += ["", "The reasons are kept in one place, `selftests/controls/without_control.py`.", "",
              "## Regenerate", "",
              "```sh",
              "tools/control-matrix                 # every control, then write this file (hours on 2 cores)",
              "tools/control-matrix --no-smoke      # each control's own selection only (tens of minutes)",
              "tools/control-matrix -k pid-host     # re-run some controls, keep the others' results",
              "tools/control-matrix --write-only    # rewrite this file from docs/control-matrix.json",
              "```", ""]
    return lines


def render(matrix: Matrix, checks_without_control: dict[str, str]) -> str:
    return "\n".join(_header(matrix) + _scores(matrix) + _weakenings(matrix) + _positives(matrix)
                     + _claims_table(matrix) + _without(matrix, checks_without_control))


def read_scores(text: str) -> dict[str, tuple[int, int]]:
    return {m["what"]: (int(m["got"]), int(m["of"])) for m in map(SCORE_LINE.match, text.splitlines()) if m}


def read_weakenings(text: str) -> list[dict[str, str]]:
    """The weakenings' rows (not the total): name, kind, caught all."""
    section = text.split(WEAKENINGS_HEADING, 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines()[4:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if len(cells) == 8 and not cells[0].startswith("**Total**"):
            rows.append({"name": cells[0], "kind": cells[1], "caught": cells[7]})
    return rows
