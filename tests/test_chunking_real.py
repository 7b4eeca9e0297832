"""Chunking for real queries (issue 21): long definitions searchable throughout as one result."""

from __future__ import annotations

from pathlib import Path

from codesearch.pipeline import build_index
from codesearch.related import at_line
from codesearch.search import Searcher
from indexer.chunk import MAX_CODE_CHARS, chunks_for_file, definition_key, embedding_text, is_window
from indexer.types import SourceFile
from tests.conftest import FakeEmbedder, write

# A 90-line function: what it does at its end (follow the redirect's location header) lies
# far past the first MAX_CODE_CHARS characters that its own chunk embeds.
_FILLER = "".join(f"        total_{i} = compute_partial_sum(values, {i})\n" for i in range(60))
LONG = (
    "def collect_messages(response, values):\n"
    '    """Gather the messages of a response."""\n'
    "    messages = []\n"
    f"{_FILLER}"
    "    while response.is_redirect:\n"
    "        location = response.headers['location']\n"
    "        response = follow_redirect_location(location)\n"
    "        messages.append(response)\n"
    "    return messages\n"
)
OTHER = "def parse_header(line):\n    '''Split a header line.'''\n    return line.split(':')\n"


def _chunks(text: str, path: str = "http/messages.py") -> list:
    return chunks_for_file(SourceFile(path, "python", text.encode()))


def test_a_long_function_gets_windows_over_the_rest_of_its_body() -> None:
    """The body past what the definition's chunk embeds is in windows, marked as the definition's parts."""
    chunks = _chunks(LONG)
    (head,) = [c for c in chunks if c.qualname == "collect_messages"]
    windows = [c for c in chunks if c.window]
    assert len(head.code_without_doc) > MAX_CODE_CHARS
    assert "follow_redirect_location" not in embedding_text(head)
    assert windows and all(is_window(w.key) and definition_key(w.key) == head.key for w in windows)
    assert [w.window for w in windows] == list(range(1, len(windows) + 1))
    assert windows[-1].end_line == head.end_line and windows[0].start_line > head.start_line
    last = embedding_text(windows[-1])
    assert "follow_redirect_location" in last and last.startswith("function collect_messages\n")
    assert all(w.name != head.name for w in windows)  # a name lookup finds the definition only
    assert not [c for c in _chunks(OTHER) if c.window]  # short definitions have none


def test_a_phrase_from_the_end_of_a_long_function_finds_it_as_one_result(tmp_path: Path) -> None:
    """The vector stage alone finds a long function by words from its end; the hit reads as the
    definition with the window's lines, and the function takes one place in the results."""
    write(tmp_path, "http/messages.py", LONG)
    write(tmp_path, "http/headers.py", OTHER)
    build_index(tmp_path, embedder=FakeEmbedder())
    with Searcher(tmp_path / ".codesearch", embedder=FakeEmbedder()) as searcher:
        hits = searcher.search("follow redirect location", k=5, hybrid=False)
    assert hits[0].qualname == "collect_messages" and hits[0].kind == "function"
    assert hits[0].key == "http/messages.py::collect_messages" and hits[0].name == "collect_messages"
    assert 1 < hits[0].start_line and hits[0].end_line == LONG.count("\n")
    assert "follow_redirect_location" in hits[0].code
    assert [h.qualname for h in hits].count("collect_messages") == 1
    # It says it is a part: a new user read `UrlAutolinkParser.php:114-126 UrlAutolinkParser.parse` as the whole
    # method, which starts at line 81.
    from codesearch import render
    from codesearch.mcp_server import compact

    assert hits[0].part and not any(h.part for h in hits[1:])
    assert hits[0].to_dict()["part"] is True and compact(hits[0], 12)["part"] is True
    assert render.to_grep(hits[:1]).split("  [#")[0].endswith("collect_messages (part)")


def test_related_at_a_line_inside_a_window_starts_from_the_definition(tmp_path: Path) -> None:
    """`related FILE:LINE` on a line that a window covers takes the whole function as its source."""
    write(tmp_path, "http/messages.py", LONG)
    build_index(tmp_path, embedder=FakeEmbedder())
    with Searcher(tmp_path / ".codesearch", embedder=FakeEmbedder()) as searcher:
        source = at_line(searcher, "http/messages.py", LONG.count("\n") - 1)
    assert (source.qualname, source.start_line) == ("collect_messages", 1)


HANDLERS = '''
class SlackHandler:
    """Sends log records to a Slack channel through its web API.

    Needs a token."""

    def write(self, record):
        return self.post(record)

    class Attachment:
        def render(self):
            return {}

    class Field:
        """One field of an attachment."""

        def render(self):
            return {}


def helper():
    return 1
'''


def test_members_embed_the_doc_of_the_innermost_documented_definition_around_them() -> None:
    """``SlackHandler.write`` is embedded with "Sends log records to a Slack channel...": the first paragraph of
    its class's doc (at most ``CONTEXT_CHARS``); a nested class's member gets the nearest documented one; a
    container itself and a top-level function get none; the context is part of the content hash, so editing
    the class's doc embeds its members again."""
    from indexer.chunk import CONTEXT_CHARS

    chunks = {c.qualname: c for c in _chunks(HANDLERS, "log/slack.py")}
    summary = "Sends log records to a Slack channel through its web API."
    assert chunks["SlackHandler.write"].context == summary[:CONTEXT_CHARS]
    assert summary in embedding_text(chunks["SlackHandler.write"])
    assert chunks["SlackHandler.Attachment.render"].context == summary  # Attachment has no doc
    assert chunks["SlackHandler.Field.render"].context == "One field of an attachment."
    assert chunks["SlackHandler"].context == "" and chunks["helper"].context == ""
    edited = {c.qualname: c for c in _chunks(HANDLERS.replace("Sends log records", "Posts log records"),
                                             "log/slack.py")}
    assert edited["SlackHandler.write"].content_hash != chunks["SlackHandler.write"].content_hash
    assert edited["helper"].content_hash == chunks["helper"].content_hash
    long_doc = {c.qualname: c for c in _chunks(HANDLERS.replace("Sends", "Sends " + "very " * 40), "log/slack.py")}
    assert len(long_doc["SlackHandler.write"].context) == CONTEXT_CHARS
