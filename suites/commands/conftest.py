"""Fixtures of the command-list suites: the document's friendlyname image, an engine of the
run's own (for the literal "remove all" commands), and the CLI logged in to the registry."""

from fixtures.engine.owned import owned_engine  # noqa: F401
from fixtures.images.friendlyname import friendlyname, friendlyname_builds  # noqa: F401
from fixtures.registry.client import registry_cli  # noqa: F401
