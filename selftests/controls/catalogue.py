"""Every negative (and positive) control, by name: each ``Control`` defined at module level in a
``test_*_controls.py`` file of this package, also inside lists and tuples there.

The control matrix lists exactly these; a control built only inside a test would be missing
from it, which is why the matrix mode refuses to record one that is not here.
"""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path

from selftests.controls.negative import Control

HERE = Path(__file__).resolve().parent


def _controls_in(value) -> list[Control]:
    if isinstance(value, Control):
        return [value]
    if isinstance(value, (list, tuple)):
        return [control for item in value for control in _controls_in(item)]
    return []


@cache
def all_controls() -> dict[str, Control]:
    found: dict[str, Control] = {}
    for path in sorted(HERE.glob("test_*_controls.py")):
        module = importlib.import_module(f"selftests.controls.{path.stem}")
        for value in vars(module).values():
            for control in _controls_in(value):
                other = found.setdefault(control.name, control)
                if other is not control and other != control:
                    raise ValueError(f"two controls are named {control.name!r} ({path.name})")
    return found
