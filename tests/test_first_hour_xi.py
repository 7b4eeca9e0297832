"""A new user's first hour XI: what this round's users found (2026-12-07, sixteenth round). Each test fails on
the commit before its fix."""

from __future__ import annotations

from pathlib import Path

from codesearch.mcp_server import compact
from codesearch.pipeline import build_index
from codesearch.search import Searcher
from tests.conftest import symbols_of, write


def _redirects(root: Path) -> None:
    body = "".join(f"    step_{n} = follow(step_{n - 1 if n else 'start'})\n" for n in range(40))
    write(root, "request.py",
          "def handle_redirect(request, headers):\n"
          "    if request.redirects_left <= 0:\n"
          "        count = request.redirects\n"
          '        return None, "maximum redirects exceeded"\n' + body + "    return step_39\n")
    for n in range(3):
        write(root, f"other{n}.py", f"def other_{n}(x):\n    '''Count the steps {n}.'''\n    return x + {n}\n")


def test_a_pasted_message_near_a_functions_head_has_its_line_for_a_short_snippet(tmp_path: Path) -> None:
    """An agent asked for "maximum redirects exceeded" with `max_lines` 3: the 137-line method that returns it came
    first with no `line`, its snippet the three lines above the message (a line was given only past the eight any
    snippet shows). The message's line is given wherever it lies below the first, and the short snippet shows it."""
    _redirects(tmp_path)
    build_index(tmp_path, workers=1)
    with Searcher(tmp_path / ".codesearch") as searcher:
        hit = searcher.search("maximum redirects exceeded", 1)[0]
    assert hit.qualname == "handle_redirect" and hit.line == 4
    shown = compact(hit, 3)
    assert shown["line"] == 4 and '"maximum redirects exceeded"' in shown["snippet"]
    assert compact(hit, 12)["snippet"].startswith("def handle_redirect")  # a longer snippet starts at the head


def test_a_definitions_code_keeps_the_comment_that_ends_its_last_line() -> None:
    """An agent's snippet of hledger's `(*) = error "..." -- PARTIAL:` ended before the comment, so the line was not
    the file's (an agent copies snippet lines as an edit's anchor). The comment that ends a definition's last line
    is part of its code (`};  // class Foo` too); one that goes on below, or code after it, is not."""
    haskell = symbols_of("haskell", 'module M where\n\ninstance Num Amount where\n'
                                    '  (*) = error "no multiplication" -- PARTIAL:\n  abs = id\n')
    assert haskell["Amount.*"].code.endswith('error "no multiplication" -- PARTIAL:')
    cpp = symbols_of("cpp", "namespace n {\nclass Foo {\n  int f() { return 1; }  // the one\n};  // class Foo\n}\n")
    assert cpp["n.Foo.f"].code.endswith("// the one") and cpp["n.Foo"].code.endswith("};  // class Foo")
    c = symbols_of("c", "int f(void) { return 1; } /* one\n two */\nint g(void) { return 2; } /* g */ int h;\n")
    assert c["f"].code.endswith("}") and c["g"].code.endswith("}") and c["f"].end_line == 1
