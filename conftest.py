"""docker-conformance: holds a real container engine to the claims of a product document.

The machinery lives in ``fixtures/``, one plugin per concern, listed here in the order a
run uses them. The tests live in ``suites/``, one folder per chapter of the document.
"""

pytest_plugins = [
    "fixtures.run.options",  # the option group and its ini twins
    "fixtures.run.thresholds",  # thresholds from conformance.toml, as the `thresholds` fixture
    "fixtures.session.state",  # the session state the controller sends to xdist workers
    "fixtures.session.lifecycle",  # the run: settings, engine target or sandbox, reaping, snapshots
    "fixtures.session.plugin",  # run, engine_target, engine_facts, run_images, registry_service
    "fixtures.session.engine_lost",  # an engine that goes away: broken tests, the rest not run, no hang
    "fixtures.session.scheduling",  # a fleet run: each xdist worker keeps to one target
    "fixtures.engine.plugin",  # engine, docker_cli, engine_host fixtures
    "fixtures.engine.second",  # second_engine: --second-engine, or a private Podman service
    "fixtures.resources.plugin",  # labelled factories: run_container, create_volume, ...
    "fixtures.resources.labelled_cli",  # labelled_cli: the docker CLI, labelling and adopting what it makes
    "fixtures.run.hypothesis_profiles",  # Hypothesis profiles (ci, thorough) for the stateful checks
    "fixtures.run.quiet",  # timing tests get the engine to themselves
    "fixtures.images.plugin",  # alpine_image, nginx_image: provisioned once per run
    "fixtures.registry.plugin",  # registry: one per run, shared by all workers
    "fixtures.host.plugin",  # engine_process, daemon_config: the daemon as its host runs it
    "fixtures.ledger.plugin",  # every test proves a claim; profiles select tests
    # OSCAL, SARIF and the signed results, written by the reporting plugin's last step (listed
    # first because that plugin imports it: pytest then rewrites its asserts as a plugin's)
    "fixtures.reporting.audit",
    "fixtures.reporting.plugin",  # outcomes, summary, Allure reports, the gate's exit code
]
