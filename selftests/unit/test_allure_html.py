"""The parts of the HTML generator that need no Node: ids, CLI lookup, input checks."""

import json

import pytest

from fixtures.reporting.allure_html import (AllureCliMissing, allure_cli, generate_html_reports, report_id,
                                            strip_analytics)


def _project(tmp_path, pinned="3.18.0", installed=None):
    (tmp_path / "package.json").write_text(json.dumps({"devDependencies": {"allure": pinned}}))
    if installed:
        package = tmp_path / "node_modules" / "allure"
        package.mkdir(parents=True)
        (package / "package.json").write_text(json.dumps({"version": installed}))
        (tmp_path / "node_modules" / ".bin").mkdir()
        (tmp_path / "node_modules" / ".bin" / "allure").write_text("")
    return tmp_path


def test_report_id_is_hex_md5_of_the_result_uuid():
    assert report_id("abc") == "900150983cd24fb0d6963f7d28e17f72"


def test_missing_node_modules_says_run_npm_ci(tmp_path):
    project = _project(tmp_path)

    with pytest.raises(AllureCliMissing, match=r"not installed .*: run npm ci") as raised:
        allure_cli(project)
    assert "\n" not in str(raised.value)


def test_stale_node_modules_says_run_npm_ci(tmp_path):
    project = _project(tmp_path, installed="3.0.0")

    with pytest.raises(AllureCliMissing, match=r"found 3\.0\.0 .*: run npm ci"):
        allure_cli(project)


def test_pinned_cli_is_found(tmp_path):
    project = _project(tmp_path, installed="3.18.0")

    assert allure_cli(project) == project / "node_modules" / ".bin" / "allure"


def test_missing_results_dir_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="allure results dir not found"):
        generate_html_reports(tmp_path / "nope", tmp_path / "reports", "r", project_root=_project(tmp_path))


def test_results_dir_with_glob_characters_is_refused(tmp_path):
    results = tmp_path / "allure-results[1]"
    results.mkdir()

    with pytest.raises(ValueError, match="glob"):
        generate_html_reports(results, tmp_path / "reports", "r", project_root=_project(tmp_path))


def test_the_analytics_tag_is_stripped_and_nothing_else(tmp_path):
    page = tmp_path / "index.html"
    page.write_text(
        '<head>\n    <script>window.allure = {};</script>\n'
        '    <script async src="https://www.googletagmanager.com/gtag/js?id=G-X"></script>\n'
        "    <script>\n        window.dataLayer = window.dataLayer || [];\n"
        "        function gtag(){dataLayer.push(arguments);}\n        gtag('js', new Date());\n"
        "        gtag('config', 'G-X', {\"report\": \"awesome\"});\n    </script>\n"
        "    <script async>window.allureReportDataReady = true;</script>\n</head>\n")
    assert strip_analytics(page)
    text = page.read_text()
    assert "googletagmanager" not in text and "gtag" not in text
    assert "window.allure = {};" in text and "allureReportDataReady" in text
    assert not strip_analytics(page)
