"""What the user reads: the numbers printed with results, `related --symbol` names, help text,
and the one cleaner that every human-facing output of a hostile repository goes through."""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from codesearch import render
from codesearch.cli import cli
from codesearch.pipeline import build_index
from codesearch.search import Searcher
from indexer.languages import searchable_languages
from tests.conftest import FakeEmbedder, write

# Characters that must never reach a terminal raw: escape sequences and bells, what
# str.splitlines (and many editors) take for a line break, bidi controls, invisible ones.
HOSTILE = ["\x1b", "\x07", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029",
           "\u202a", "\u202e", "\u2066", "\u2069", "\u200b", "\u200f", "\ufeff", "\U000e0041"]
EVIL_FILE = "lib/we\u2028ird\u202e\x1b[31m\x85.js"
EVIL_NAME = "evil\x1b]0;owned\x07\u2028fake.js:1: x\u202ename\x1d"
EVIL_JS = ('const handlers = {\n'
           f'  "{EVIL_NAME}": function (request) {{\n'
           '    // owner check \u202e\u2066 }; if (admin) { \u2069 \x0b\x1c\u2029 done \U000e0041\n'
           '    return request.owner;\n'
           '  },\n'
           '};\n'
           'function plainHandler(request) {\n'
           '  return request.owner; // \u2028 line\n'
           '}\n')


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI embeds with the fake embedder the index was built with (fast, deterministic)."""
    import codesearch.embed.static as static

    monkeypatch.setattr(static.StaticEmbedder, "default", classmethod(lambda cls: FakeEmbedder()))


# 1. The numbers printed with results follow their order.

def test_printed_numbers_follow_the_order_of_results(tmp_path: Path) -> None:
    """Text and grep output show each result's rank, 1, 2, 3 ... in the order printed (the similarity,
    which does not order them, is in --explain and JSON), on a real index built by the shipped model."""
    root = tmp_path / "repo"
    write(root, "net.py", 'def retry_request(url, attempts=3):\n    """Retry a failed HTTP request."""\n    return url\n\n'
                          'def fetch_page(url):\n    """Download one web page."""\n    return url\n')
    write(root, "db.go", "package db\n\n// Connect opens a database connection.\nfunc Connect(dsn string) error { return nil }\n")
    write(root, "cache.py", 'class Cache:\n    """Keep recent HTTP responses."""\n    def get(self, key):\n        return key\n')
    assert run("index", str(root), "-q").exit_code == 0
    query = ("search", "retry a failed http request", str(root), "--fast", "-k", "5")
    hits = json.loads(run(*query, "--json").output)["results"]
    assert len(hits) >= 3
    grep = run(*query, "--format", "grep").output.splitlines()
    assert [re.search(r"\[#(\d+)\]$", line).group(1) for line in grep] == [str(n) for n in range(1, len(hits) + 1)]
    text = run(*query, "--no-color").output
    heads = [line for line in text.splitlines() if re.match(r"\s*\d+\. ", line)]
    assert [int(line.split(".")[0]) for line in heads] == list(range(1, len(hits) + 1))
    assert not any(re.search(r"\d\.\d{3}", line) for line in heads)  # no number that contradicts the order
    explained = run(*query, "--format", "grep", "--explain").output.splitlines()
    assert [re.search(r"similarity (\d\.\d{3})", line).group(1) for line in explained] == \
        [f"{h['score']:.3f}" for h in hits]


# 2. related --symbol takes any trailing part of a qualified name, in the language's separators.

RUBY = ("module Jekyll\n  module Utils\n    def self.slugify(s)\n      s.downcase\n    end\n\n"
        "    def titleize(s)\n      s.capitalize\n    end\n  end\nend\n")
OTHER = "module Other\n  def self.slugify(s)\n    s.strip\n  end\nend\n"
PHP = "<?php\nnamespace App\\Support;\n\nclass Str {\n    public static function slug($s) { return $s; }\n}\n"


@pytest.fixture
def named_repo(tmp_path: Path) -> Path:
    root = tmp_path / "named"
    write(root, "lib/utils.rb", RUBY)
    write(root, "lib/other.rb", OTHER)
    write(root, "app/Str.php", PHP)
    build_index(root, embedder=FakeEmbedder())
    return root


@pytest.mark.parametrize(("symbol", "qualname"), [
    ("Jekyll.Utils.slugify", "Jekyll.Utils.slugify"),
    ("Utils.slugify", "Jekyll.Utils.slugify"),
    ("Jekyll::Utils.slugify", "Jekyll.Utils.slugify"),
    ("Utils::slugify", "Jekyll.Utils.slugify"),
    ("Jekyll::Utils#titleize", "Jekyll.Utils.titleize"),
    ("titleize", "Jekyll.Utils.titleize"),
    ("utils.SLUGIFY", "Jekyll.Utils.slugify"),
    ("Str::slug", "Str.slug"),
    ("App\\Support\\Str::slug", "Str.slug"),
])
def test_related_symbol_accepts_partial_qualified_names(named_repo: Path, fake_model: None, symbol: str,
                                                        qualname: str) -> None:
    out = run("related", "--symbol", symbol, "-C", str(named_repo), "--json", "-k", "1")
    assert out.exit_code in (0, 1), out.output
    assert json.loads(out.output)["source"]["qualname"] == qualname


def test_ambiguous_symbol_lists_the_choices(named_repo: Path, fake_model: None) -> None:
    """A name of two definitions is an error listing both (path:line qualname), not a silent pick."""
    from codesearch.errors import AmbiguousSymbol
    from codesearch.related import one_named

    out = run("related", "--symbol", "slugify", "-C", str(named_repo))
    assert out.exit_code == 2 and len(out.output.strip().splitlines()) == 1, out.output
    assert "lib/other.rb:2 Other.slugify" in out.output and "lib/utils.rb:3 Jekyll.Utils.slugify" in out.output
    with Searcher(named_repo / ".codesearch", FakeEmbedder()) as searcher:
        with pytest.raises(AmbiguousSymbol, match="names 2 definitions.*or a longer qualified name"):
            one_named(searcher, "slugify")
        assert one_named(searcher, "Other.slugify").path == "lib/other.rb"
    missing = run("related", "--symbol", "Nowhere::slugify", "-C", str(named_repo))
    assert missing.exit_code == 2 and "no definition named" in missing.output


# 3. Help text generated from the registry and the settings.

def _help(*command: str) -> str:
    return " ".join(run(*command, "--help").output.split())  # unwrapped


def test_help_lists_every_language_and_the_real_rerank_default(monkeypatch: pytest.MonkeyPatch) -> None:
    import codesearch.search as search

    languages = f"Only results in this language ({', '.join(searchable_languages())})"
    assert languages in _help("search") and languages in _help("related")
    assert "DEFAULT_RERANK" not in _help("search")
    for value, shown in ((False, "--fast"), (True, "--rerank")):
        monkeypatch.setattr(search, "DEFAULT_RERANK", value)
        assert f"or skip it (default: {shown})" in _help("search")


# 4. One cleaner for every human-facing output.

def test_the_cleaner_escapes_every_control_separator_and_format_character() -> None:
    """Checked against this Python's Unicode database: Cc, Cf, Zl, Zp and lone surrogates."""
    unsafe = "".join(chr(c) for c in range(sys.maxunicode + 1)
                     if unicodedata.category(chr(c)) in ("Cc", "Cf", "Zl", "Zp", "Cs"))
    assert not set(render.one_line(unsafe)) & set(unsafe)
    assert set(render.clean(unsafe)) & set(unsafe) == {"\n", "\t"}
    assert not set(render.quote_path(unsafe)) & set(unsafe)
    assert render.one_line("a\u202eb\u2028c") == "a\\u202eb\\u2028c"
    # Default-ignorable letters and marks render as nothing: `isAdmin\u3164` looked like `isAdmin`.
    fillers = "\u115f\u1160\u3164\uffa0\ufe0f\U000e0100\u034f\u17b4\u180b\u2800"
    assert not set(render.one_line(fillers)) & set(fillers) and not set(render.clean(fillers)) & set(fillers)
    assert render.quote_path("auth\ufe0f.js") == '"auth\\ufe0f.js"'
    assert render.quote_path("a\x85b") == '"a\\x85b"' and render.quote_path("src/a.py") == "src/a.py"


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    root = tmp_path / "hostile"
    write(root, EVIL_FILE, EVIL_JS)
    write(root, "lib/ok.py", "def check_owner(request):\n    return request.owner\n")
    return root


def _raw(text: str) -> list[str]:
    return [repr(c) for c in HOSTILE if c in text]


def test_hostile_names_and_code_reach_no_output_raw(hostile: Path, fake_model: None) -> None:
    """A file name, a symbol name and code full of escapes, separators and bidi controls: every
    text, grep and related output shows them escaped, and grep prints one line per hit."""
    report = run("index", str(hostile))
    assert report.exit_code == 0 and not _raw(report.output), _raw(report.output)
    stats = run("stats", str(hostile))
    assert stats.exit_code == 0 and not _raw(stats.output)
    query = ("search", "request owner handler", str(hostile), "--fast", "-k", "5")
    hits = json.loads(run(*query, "--json").output)["results"]
    assert f"handlers.{EVIL_NAME}" in {h["qualname"] for h in hits}
    outputs = {"text": run(*query, "--no-color", "--explain").output}
    for explain in ((), ("--explain",)):
        grep = run(*query, "--format", "grep", *explain).output
        assert len(grep.splitlines()) == len(hits), grep
        outputs[f"grep{explain}"] = grep
    by_symbol = run("related", "--symbol", EVIL_NAME, "-C", str(hostile), "--no-color")
    assert "Related to method" in by_symbol.output or "Related to function" in by_symbol.output, by_symbol.output
    outputs["related --symbol"] = by_symbol.output
    outputs["related FILE:LINE"] = run("related", f"{hostile / EVIL_FILE}:3", "--no-color").output
    related_grep = run("related", f"{hostile / EVIL_FILE}:3", "--format", "grep")
    outputs["related grep"] = related_grep.output
    assert len(related_grep.output.splitlines()) == len(json.loads(
        run("related", f"{hostile / EVIL_FILE}:3", "--json").output)["results"])
    outputs["error"] = run("related", "--symbol", EVIL_NAME + "Missing", "-C", str(hostile)).output
    assert {name: _raw(out) for name, out in outputs.items() if _raw(out)} == {}
    assert "\\u202e" in outputs["text"] and "\\u2028" in outputs["grep()"]


# 5. An absurd line number is bad input, not a traceback.

@pytest.mark.parametrize("line", ["99999999999999999999", "\u00b2"])
def test_related_with_an_absurd_line_is_a_one_line_error(named_repo: Path, fake_model: None, line: str) -> None:
    out = run("related", f"{named_repo / 'lib/utils.rb'}:{line}")
    assert out.exit_code == 2 and not isinstance(out.exception, (OverflowError, ValueError)), out.exception
    assert out.output.strip().splitlines()[-1].startswith("Error: ")
