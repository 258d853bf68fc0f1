"""The claims x engines table of ``docs/engines.md``, from the ``summary.json`` of one run per engine.

    .venv/bin/python -m selftests.engines.matrix "dockerd/runc=A/summary.json" "Podman=B/summary.json" ...

Prints Markdown: one row per claim of the ledger, one column per engine, each cell the
claim's verdict there, and under it the tests that failed or errored on each engine.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _load(spec: str) -> tuple[str, dict]:
    name, _, path = spec.partition("=")
    return name, json.loads(Path(path).read_text(encoding="utf-8"))


def table(runs: dict[str, dict]) -> str:
    names = list(runs)
    claims = {}
    for summary in runs.values():
        for entry in summary["claims"]:
            claims.setdefault(entry["id"], entry.get("claim", ""))
    verdicts = {name: {c["id"]: c["verdict"] for c in summary["claims"]} for name, summary in runs.items()}
    lines = ["| Claim | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for claim in claims:
        cells = [verdicts[name].get(claim, "-") for name in names]
        marker = "" if len(set(cells)) == 1 else " \\*"
        lines.append(f"| {claim}{marker} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def failures(runs: dict[str, dict]) -> str:
    out = []
    for name, summary in runs.items():
        bad = [(t["nodeid"], t["outcome"]) for c in summary["claims"] for t in c["tests"]
               if t["outcome"] in ("failed", "error")]
        out.append(f"- {name}: {len(bad)} failed or errored" + "".join(
            f"\n  - `{nodeid.split('::', 1)[-1]}` {outcome}" for nodeid, outcome in sorted(bad)))
    return "\n".join(out)


def main(argv: list[str]) -> int:
    runs = dict(_load(spec) for spec in argv)
    print(table(runs))
    print("\n\\* the verdict differs between engines\n")
    print(failures(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
