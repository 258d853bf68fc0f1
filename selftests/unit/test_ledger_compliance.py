"""The ledger's compliance mapping and remediation: parsing, lookup, and the real claims.yaml.

The real ledger is held to more than parsing: every check has a remediation, every mapping
names the same CIS recommendation in each version it lists, and the generated mapping
table in docs/ matches it.
"""

import pytest

from fixtures.ledger import frameworks
from fixtures.ledger.claims import Claim, load
from fixtures.ledger.compliance import MappingError, parse_controls, parse_remediation, remedy_for
from fixtures.reporting import mapping_doc
from selftests.conftest import PROJECT

FUNCTIONS = {"test_a", "test_b"}


@pytest.fixture(scope="module")
def ledger():
    return load(PROJECT)


def test_controls_parse_per_framework():
    [m] = parse_controls("SEC-1", [{"checks": ["test_a[SEC-1-pid]"], "cis-docker-1.8.0": ["5.16", "2.10"],
                                    "nist-sp-800-190": ["4.4.3"], "note": "engine default"}], FUNCTIONS)
    assert m.ids("cis-docker-1.8.0") == ("5.16", "2.10") and m.ids("cis-docker-1.6.0") == ()
    assert m.covers("suites/s.py::test_a[SEC-1-pid]") and not m.covers("suites/s.py::test_a[SEC-1-net]")
    assert not m.covers("suites/s.py::test_b[SEC-1]")
    [everything] = parse_controls("SEC-1", [{"nist-sp-800-190": ["4.4.3"]}], FUNCTIONS)
    assert everything.covers("suites/s.py::test_b[SEC-1]")


@pytest.mark.parametrize("entry, fragment", [
    ({"cis-docker-1.8.0": [2.1]}, 'quoted IDs like "2.10"'),  # YAML read 2.10 as the float 2.1
    ({"cis-docker-1.8.0": ["9.99"]}, "has no control 9.99"),
    ({"cis-docker-2.0.0": ["2.2"]}, "unknown key cis-docker-2.0.0"),
    ({"checks": ["test_z"], "nist-sp-800-190": ["4.4.3"]}, "test_z is not one of its tests"),
    ({"note": "nothing"}, "names no control"),
], ids=["float", "unknown-id", "unknown-framework", "unknown-check", "empty"])
def test_bad_controls_are_one_line_errors(entry, fragment):
    with pytest.raises(MappingError, match=fragment):
        parse_controls("SEC-1", [entry], FUNCTIONS)


def test_remedy_for_picks_the_most_specific():
    remedies = parse_remediation("SEC-4", [
        {"do": "default", "impact": "d"},
        {"checks": ["test_a"], "do": "function", "impact": "f"},
        {"checks": ["test_a[SEC-4-icc]"], "do": "case", "impact": "c"},
    ], FUNCTIONS)
    assert remedy_for(remedies, "s.py::test_a[SEC-4-icc]").do == "case"
    assert remedy_for(remedies, "s.py::test_a[SEC-4-userns-remap]").do == "function"
    assert remedy_for(remedies, "s.py::test_b[SEC-4]").do == "default"
    assert remedy_for(remedies[1:], "s.py::test_b[SEC-4]") is None


@pytest.mark.parametrize("raw, fragment", [
    ([{"do": "x"}], "do and impact must be non-empty"),
    ([{"do": "x", "impact": "y", "why": "z"}], "each entry has checks"),
    ([{"do": "x", "impact": "y"}, {"do": "x", "impact": "y"}], "more than one default"),
])
def test_bad_remediation_is_a_one_line_error(raw, fragment):
    with pytest.raises(MappingError, match=fragment):
        parse_remediation("SEC-4", raw, FUNCTIONS)


def test_short_title_is_english_and_short():
    claim = Claim("SEC-4", "Secure", "安全", "The engine SHOULD provide the strongest default isolation: "
                  "its defaults are findings.", "advisory", ())
    assert claim.short_title == "The engine SHOULD provide the strongest default isolation"
    assert Claim("X-1", "c", "s", "word " * 40, "minor", ()).short_title.endswith("…")
    assert Claim("X-1", "c", "s", "long", "minor", (), title="Short").short_title == "Short"


def test_every_claim_has_remediation_and_an_english_title(ledger):
    missing = [c.id for c in ledger.values() if not any(not r.checks for r in c.remediation)
               and not all(any(t.rsplit("::", 1)[-1] in r.checks for r in c.remediation) for t in c.tests)]
    assert not missing, f"claims without a default remediation or one per test: {missing}"
    assert all(c.short_title.isascii() and len(c.short_title) <= 91 for c in ledger.values())


def test_each_mapping_names_one_recommendation_across_cis_versions(ledger):
    """1.6.0 and 1.7.0 number alike; 1.8.0 renumbers 2.7-2.18: a mapping's IDs must agree."""
    catalog = frameworks.catalog()
    wrong = []
    for claim in ledger.values():
        for m in claim.controls:
            titles = {f: sorted(catalog[f][i].title for i in m.ids(f))
                      for f in frameworks.FRAMEWORKS if f.startswith("cis-") and m.ids(f)}
            if len({tuple(t) for t in titles.values()} | set()) > 1:
                devicemapper = "Ensure devicemapper storage driver is not used"
                trimmed = {tuple(t for t in ts if t != devicemapper) for ts in titles.values()}
                if len(trimmed) > 1:  # 1.8.0 may add 2.7, which older versions do not have
                    wrong.append(f"{claim.id} {m.checks}: {titles}")
    assert not wrong, "\n".join(wrong)


def test_catalogs_hold_every_control():
    catalog = frameworks.catalog()
    assert [len(catalog[f"cis-docker-{v}"]) for v in frameworks.CIS_VERSIONS] == [117, 117, 118]
    assert catalog["cis-docker-1.8.0"]["2.10"].title == catalog["cis-docker-1.6.0"]["2.9"].title
    assert len(catalog[frameworks.NIST]) == 24 and "4.4.3" in catalog[frameworks.NIST]


def test_docs_mapping_table_matches_the_ledger(ledger):
    doc = (PROJECT / mapping_doc.DOC).read_text(encoding="utf-8")
    assert mapping_doc.render(doc, ledger) == doc, (
        "docs/compliance-mapping.md is out of date: run .venv/bin/python -m fixtures.reporting.mapping_doc")
