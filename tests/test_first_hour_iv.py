"""A new user's first hour IV: large codebases and questions about how something works (a black-box review on
SQLAlchemy, eslint, Symfony and gRPC-Go)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from codesearch.cli import cli
from codesearch.mcp_server import compact
from codesearch.search import Searcher
from tests.conftest import write


def run(*args: str) -> object:
    return CliRunner().invoke(cli, list(args))


LINT_CACHE_JS = """\
/**
 * Keeps the results of linting files between runs, so that unchanged files are not linted again.
 */
class LintResultCache {
    constructor(cacheFileLocation, cacheStrategy) {
        this.fileEntryCache = createCache(cacheFileLocation, cacheStrategy);
    }

    /**
     * Checks the cache for a file's lint results: the cached results when the file is unchanged
     * since they were stored, else null, so that the caller lints the changed file again.
     */
    getCachedLintResults(filePath, config) {
        const fileDescriptor = this.fileEntryCache.getFileDescriptor(filePath);
        if (fileDescriptor.notFound || fileDescriptor.changed) {
            return null;
        }
        return fileDescriptor.meta.results;
    }

    /** Stores a file's lint results in the cache. */
    setCachedLintResults(filePath, config, result) {
        const fileDescriptor = this.fileEntryCache.getFileDescriptor(filePath);
        fileDescriptor.meta.results = result;
    }

    /** Writes the cache to its file. */
    reconcile() {
        this.fileEntryCache.reconcile();
    }
}

module.exports = LintResultCache;
"""

COLORS_JS = """\
/** Paints a string in a terminal color. */
function paint(text, color) {
    return `\\u001b[${color}m${text}\\u001b[0m`;
}

module.exports = { paint };
"""


def test_an_outline_lists_its_members_that_the_search_found_too(tmp_path: Path) -> None:
    """eslint's `LintResultCache` (a 140-line class) came first for "where is the lint result cache checked to skip
    unchanged files", its snippet the constructor's doc, while its `getCachedLintResults` is the answer: an outline
    now names the members the search found too, best first, with their lines (text, JSON, MCP)."""
    write(tmp_path, "lint-result-cache.js", LINT_CACHE_JS)
    write(tmp_path, "colors.js", COLORS_JS)
    assert run("index", str(tmp_path), "-q").exit_code == 0
    query = "where is the lint result cache checked to skip unchanged files"
    found = json.loads(run("search", "--json", "-k", "10", query, str(tmp_path)).output)["results"]
    outline = next(r for r in found if r["qualname"] == "LintResultCache")
    assert outline["outline"] is True
    members = outline["members"]
    assert {"qualname": "LintResultCache.getCachedLintResults", "start_line": 13, "end_line": 19} in members, members
    assert 1 <= len(members) <= 3 and all(m["qualname"].startswith("LintResultCache.") for m in members)
    assert all(r["members"] == [] for r in found if r["qualname"] != "LintResultCache"), found
    text = run("search", "-k", "10", query, str(tmp_path)).output
    assert "members that match: " in text and "getCachedLintResults 13-19" in text, text
    with Searcher(tmp_path / ".codesearch") as searcher:
        agent = [compact(r, 12) for r in searcher.search(query, k=10)]
    assert next(a for a in agent if a["qualname"] == "LintResultCache")["members"] == members
    assert all("members" not in a for a in agent if a["qualname"] != "LintResultCache")
    # A name asks for the class itself: nothing is listed with it.
    named = json.loads(run("search", "--json", "-k", "3", "LintResultCache", str(tmp_path)).output)["results"]
    assert named[0]["qualname"] == "LintResultCache" and named[0]["members"] == []
