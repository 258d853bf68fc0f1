"""docker-conformance: holds a real container engine to the claims of a product document.

The machinery lives in ``fixtures/``, one plugin per concern, listed here in the order a
run uses them. The tests live in ``suites/``, one folder per chapter of the document.
"""

pytest_plugins = [
    "fixtures.options",  # the option group and its ini twins
    "fixtures.thresholds",  # thresholds from conformance.toml, as the `thresholds` fixture
    "fixtures.lifecycle",  # the run: settings, engine target or sandbox, reaping, snapshots
    "fixtures.engine.plugin",  # engine, engine_facts, docker_cli fixtures
    "fixtures.resources.plugin",  # labelled factories: run_container, create_volume, ...
    "fixtures.model_based",  # Hypothesis profiles (ci, thorough) for the stateful checks
    "fixtures.quiet",  # timing tests get the engine to themselves
    "fixtures.images.plugin",  # alpine_image, nginx_image: provisioned once per run
    "fixtures.registry.plugin",  # registry: one per run, shared by all workers
    "fixtures.host.plugin",  # engine_process, daemon_config: the daemon as its host runs it
    "fixtures.ledger.plugin",  # every test proves a claim; profiles select tests
    "fixtures.reporting.plugin",  # outcomes, summary, Allure reports, the gate's exit code
]
