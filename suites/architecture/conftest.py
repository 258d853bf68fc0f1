"""Fixtures of the architecture suite: an engine of the run's own (reached over tcp:// as a
remote daemon) and the CLI logged in to the registry."""

from fixtures.engine.owned import owned_engine  # noqa: F401
from fixtures.registry.client import registry_cli  # noqa: F401
