"""The OCI schemas as the suite loads them, and the plots as the suite draws them."""

from __future__ import annotations

import io

import pytest

from fixtures.core.stats import Distribution, percentile
from fixtures.measure import plots
from fixtures.registry import oci_schema

DIGEST = "sha256:" + "a" * 64
MANIFEST = {
    "schemaVersion": 2, "mediaType": oci_schema.DOCKER_MANIFEST,
    "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1469, "digest": DIGEST},
    "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 3, "digest": DIGEST}],
}

pytestmark = pytest.mark.skipif(not oci_schema.SCHEMA_DIR.is_dir(), reason=f"{oci_schema.PACKAGE} not installed")


def test_a_docker_schema2_manifest_is_valid_and_its_family_known():
    assert oci_schema.violations("image-manifest-schema.json", MANIFEST) == []
    assert oci_schema.family_of(oci_schema.DOCKER_MANIFEST) == ("Docker image manifest v2, schema 2", "manifest")
    assert oci_schema.family_of(oci_schema.OCI_INDEX) == ("OCI image spec", "index")
    assert oci_schema.family_of("application/vnd.example.unknown+json") is None


def test_schema_violations_name_the_place_and_the_rule():
    broken = {**MANIFEST, "config": {"mediaType": "x/y", "size": "big"}, "layers": []}
    found = oci_schema.violations("image-manifest-schema.json", broken)
    assert "config: 'digest' is a required property" in found
    assert any(line.startswith("config/size:") for line in found)
    assert any(line.startswith("layers:") for line in found)  # minItems 1, across files of the spec


def test_config_schema_checks_rootfs():
    good = {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [DIGEST]}}
    assert oci_schema.violations("config-schema.json", good) == []
    assert oci_schema.violations("config-schema.json", {**good, "rootfs": {"type": "flat"}})


def test_percentiles_and_distribution():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 95) == pytest.approx(95.05)
    summary = Distribution.of(values)
    assert (summary.n, summary.max, summary.min) == (100, 100.0, 1.0)


@pytest.mark.parametrize("draw", [
    lambda: plots.latency("t", {"a": [1.0, 2.0, 3.0, 10.0], "b": [2.0, 3.0, 4.0, 11.0]},
                          {"p50 limit": 5.0, "p95 limit": 9.0}),
    lambda: plots.stacked_bars("t", ["c1", "c2"], {"cgroup": [0.4, 0.5], "shim": [3.0, 3.1]}, "MB",
                               limit=("limit", 32)),
], ids=["latency", "stacked-bars"])
def test_plots_render_to_png(draw):
    out = io.BytesIO()
    draw().savefig(out, format="png")
    assert out.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
