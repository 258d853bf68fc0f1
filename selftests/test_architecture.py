"""The machinery's layers: every package in ``fixtures/`` imports only from the layers below it.

The contract is ``.importlinter`` at the repository root (core, run, the domains, session,
ledger, reporting); ``lint-imports`` names the import that broke it.
"""

import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def test_imports_flow_one_way():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--config", str(PROJECT / ".importlinter"), "--no-cache"],
                            cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout
