"""Checks on the ``=ARG`` part of a fault spec, so a typo fails at start-up, not mid-run."""

from __future__ import annotations


class FaultSpecError(ValueError):
    """A fault name or argument that the registry cannot turn into rules."""


def no_argument(arg: str | None) -> None:
    if arg is not None:
        raise FaultSpecError(f"takes no argument, got {arg!r}")


def argument_list(arg: str | None, *, example: str) -> list[str]:
    items = [item.strip() for item in (arg or "").split(",") if item.strip()]
    if not items:
        raise FaultSpecError(f"needs a comma-separated argument, e.g. ={example}")
    return items


def seconds(arg: str | None) -> float:
    try:
        value = float(arg or "")
    except ValueError:
        raise FaultSpecError(f"needs a number of seconds, got {arg!r}") from None
    if value < 0:
        raise FaultSpecError(f"needs a non-negative number of seconds, got {value}")
    return value
