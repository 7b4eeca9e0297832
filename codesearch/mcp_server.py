"""``codesearch mcp``: an MCP server over stdio for coding agents (the only module that knows the ``mcp`` SDK).

Tools:

- ``search``: code for a plain-English query, with language, path, exclude and kind filters;
- ``related``: code like the definition at a file and line, or with a name;
- ``index_status``: files, functions, languages, last update, stale files, what was skipped and why.

The repository's ``RepositorySession`` keeps the model and the index loaded between calls and
refreshes changed files before each answer (``codesearch.session``). Results are
compact: path, lines, qualified name, kind, similarity and a snippet of at most
``max_lines`` lines, so an agent spends few tokens per hit. Every failure (bad
arguments, a path outside the repository, an empty or oversized query, a repository
moved away) is an error result with one clear sentence; the server keeps running.

Start-up answers ``initialize`` at once: the model, the index and the heavy modules
behind them load on the session's thread after that first reply, and a tool call
that comes sooner waits for them (``RepositorySession.start_loading``).

The stdio transport is ours, not the SDK's, because the SDK drops a line it cannot
parse without answering, so a client would wait forever. Every line is parsed here
(``parse_line``); a request that is not JSON, not a valid request, has params of the
wrong type or text that is not Unicode (a lone surrogate) gets a JSON-RPC error reply
with its id whenever the id can be recovered; only valid messages reach the SDK.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO

from codesearch import __version__
from codesearch.errors import CodeSearchError, MissingExtra
from codesearch.kinds import KINDS
from codesearch.resident_client import refuse_escaping
from codesearch.session import RepositorySession, served_root
from indexer.languages import searchable_languages

if TYPE_CHECKING:
    from codesearch.search import SearchResult

DEFAULT_K = 10
MAX_K = 100
DEFAULT_MAX_LINES = 12
# An answer's results in JSON, at most (about 10,000 tokens): past it, further results come without their snippet
# (``budgeted``). `k` 100 with `max_lines` 40 and `by_file` made a 210 KB answer, more than an agent's context
# takes from one tool call.
MAX_ANSWER_CHARS = 40_000
WHOLE_SHARE = 0.75  # of it for results with their snippets; the rest for the places of further results
_SNIPPET_FIELDS = ("snippet", "snippet_start_line", "snippet_truncated", "members", "doc", "code_cut")
try:  # the tools' input schemas state the bounds their descriptions give (checked by ``bounds_problem``)
    from pydantic import Field

    Results = Annotated[int, Field(json_schema_extra={"minimum": 1, "maximum": MAX_K})]
    Lines = Annotated[int, Field(json_schema_extra={"minimum": 1})]
    # The names a filter takes, listed for the agent; what is checked is the search's own check (a
    # language in any case, as the CLI's --language), so the list is documentation, not validation.
    Kind = Annotated[str, Field(json_schema_extra={"enum": list(KINDS)})]
    Language = Annotated[str, Field(json_schema_extra={"enum": searchable_languages()})]
    # A glob or several (an agent's `exclude: "tests/*,docs/*"` was one glob that matched nothing, and a list
    # was refused): a list of globs is any of them.
    Globs = str | list[str]
    Kinds = Kind | list[Kind]

    def _arg(kind: Any, text: str) -> Any:
        """A tool argument's type with what it means, in the schema an agent reads (it saw titles only)."""
        return Annotated[kind, Field(description=text)]
except ImportError:  # no mcp extra: ``build_server`` says so
    Results = Lines = int  # type: ignore[misc]
    Kind = Language = str  # type: ignore[misc]
    Globs = Kinds = str | list[str]  # type: ignore[misc]

    def _arg(kind: Any, text: str) -> Any:
        return kind
QUERY = _arg(str, 'What the code does, in plain English ("where are failed requests retried"), or a name '
                  '("HttpClient.send": its definitions first, then code like it); "what calls X" (or "callers of '
                  'X") gives X\'s definition, then the code that names it.')
K = _arg(Results, "How many results (1-100; with by_file, how many files).")
RELATED_K = _arg(Results, "How many results (1-100).")
LANGUAGE = _arg(Language | None, "Only results in this language.")
PATH = _arg(Globs | None, 'Only paths matching this glob or any of a list ("src/*", "*.py"; a directory means the '
                          'files below it; a name without "/" matches at any depth).')
EXCLUDE = _arg(Globs | None, 'Leave out paths matching this glob or any of a list ("*_test.go", ["tests", "docs"]).')
KIND = _arg(Kinds | None, "Only chunks of this kind, or of any of a list (function, method, class, ...).")
MAX_LINES = _arg(Lines, "Snippet lines per result.")
BY_FILE = _arg(bool, 'Files instead of chunks, each with its best 3 hits (for "how does X work" questions).')
AT_PATH = _arg(str | None, "The file of the definition to start from (relative to the root), with line.")
AT_LINE = _arg(int | None, "Any line inside that definition, with path.")
INCLUDE = _arg(Globs | None, 'Only results whose path matches this glob or any of a list ("*_test.go", "tests": '
                             'its tests; a name without "/" matches at any depth).')
SYMBOL = _arg(str | None, 'Or the definition\'s name ("parse_args", "Router.Handle"; an overload with its parameters: '
                          '"Element.text(String)"), instead of path and line.')
INSTRUCTIONS = """Semantic code search over one local repository, offline.
Use `search` with a plain-English description of what the code does ("where do we retry
failed HTTP requests") or with a name; for a question that files answer ("how does caching
work"), `search` with `by_file` gives k files, each with its best hits. Use `related` from a
definition you are looking at (file and line, or a symbol name) to find its overloads,
implementations, tests and look-alikes; `index_status` says what is indexed. Results are
always for the files as they are now: changed files are re-indexed before each answer. Paths
are relative to the root."""
MAX_LINE_BYTES = 8 * 1024 * 1024  # one JSON-RPC message; a longer line is refused, not buffered whole
PARSE_ERROR, INVALID_REQUEST, INVALID_PARAMS, INTERNAL_ERROR = -32700, -32600, -32602, -32603
_ID = re.compile(r'"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")')
log = logging.getLogger("codesearch.mcp")


def compact(result: SearchResult, max_lines: int) -> dict[str, Any]:
    """A result as an agent needs it: its rank, where, what, how close (``score``: the cosine with the query, which
    is not the order: an agent that sorted by it reversed the ranking), and a trimmed snippet."""
    from codesearch.render import members_of  # loaded with the search it presents
    from codesearch.search.results import doc_outside, snippet_of, snippet_skip, whole_lines

    skip = snippet_skip(result, max_lines)
    lines, more = snippet_of(whole_lines(result), max_lines, skip)
    snippet = "\n".join(lines)
    out: dict[str, Any] = {
        "rank": result.rank,
        "path": result.path,
        "start_line": result.start_line,
        "end_line": result.end_line,
        "qualname": result.qualname,
        "kind": result.kind,
        "language": result.language,
        "score": round(result.score, 4),
        "snippet": snippet,
    }
    if (doc := doc_outside(result.doc, snippet, DOC_CHARS)):
        out["doc"] = doc  # a doc comment above the code (Go, Rust, Java, JS): no line of the snippet
    if result.line:
        out["line"] = result.line  # the query's name is on this line, or in a window most of its words
    if skip:
        out["snippet_start_line"] = result.start_line + skip  # the snippet starts here, the line before `line`
    if more:
        out["snippet_truncated"] = True
    elif result.code_cut:  # the snippet reaches where the index's copy stops, before the definition does
        out["code_cut"] = True
    if result.part:
        out["part"] = True  # a window of a longer definition: lines and snippet are a part of it
        if result.definition_lines is not None:  # ... whose own lines these are (read them all)
            out["definition_start_line"], out["definition_end_line"] = result.definition_lines
    if result.outline:
        out["outline"] = True  # the snippet leaves members' bodies out (`...`): not the file's text
    if result.members:  # the outline's members the search found too: where to read next
        out["members"] = members_of(result)
    if result.stale:
        out["stale"] = True
    if result.duplicates:
        out["duplicates"] = list(result.duplicates)
    if result.similar:
        out["similar"] = list(result.similar)
    if result.declarations:
        out["declarations"] = list(result.declarations)  # its signatures without a body, folded into it
    return out


DOC_CHARS = 300  # of a result's doc comment an answer carries (its first paragraph)


def budgeted(entries: list[dict[str, Any]], budget: int = MAX_ANSWER_CHARS,
             what: str = "results") -> tuple[list[dict[str, Any]], str]:
    """Compact results, or files with their hits (``what``), best first, within about ``budget`` characters of the
    answer's JSON as the SDK prints it (indented; the text sent is that on one line, shorter): whole while they
    take at most ``WHOLE_SHARE`` of it, the first one always; then without their snippets (``snippet_omitted``),
    their places kept, while those fit; the rest left out. Returns them and a sentence that says what was left out,
    by rank (empty when all fit)."""
    sizes = [_size(entry) for entry in entries]
    if sum(sizes) <= budget:
        return entries, ""
    used, out = 0, []
    for entry, size in zip(entries, sizes):
        if out and used + size > budget * WHOLE_SHARE:
            break
        used += size
        out.append(entry)
    cut = len(out)
    for entry in entries[cut:]:
        place = _placed(entry)
        used += _size(place)
        if used > budget:
            break
        out.append(place)
    said = [f"snippets of {what} {cut + 1}-{len(out)}"] if len(out) > cut else []
    if len(out) < len(entries):
        said.append(f"{what} {len(out) + 1}-{len(entries)}")
    lines = max(_lines(entry) for entry in entries) > 1
    fewer = "fewer results (k) or lines (max_lines)" if lines else "fewer results (k)"
    return out, f"{' and '.join(said)} left out to keep this answer under {budget:,} characters; ask for {fewer}"


def _lines(entry: dict[str, Any]) -> int:
    """The most lines a snippet of ``entry`` (a result, or a file's hits) shows."""
    if "hits" in entry:
        return max((_lines(hit) for hit in entry["hits"]), default=0)
    return str(entry.get("snippet", "")).count("\n") + 1


def _placed(entry: dict[str, Any]) -> dict[str, Any]:
    """A result without its snippet (``snippet_omitted``), or a file whose hits are so."""
    if "hits" in entry:
        return {**entry, "hits": [_placed(hit) for hit in entry["hits"]]}
    return {**{k: v for k, v in entry.items() if k not in _SNIPPET_FIELDS}, "snippet_omitted": True}


def _size(entry: dict[str, Any]) -> int:
    """The characters ``entry`` takes in an answer as it is sent: JSON on one line (``strict_arguments`` turns the
    SDK's indented text into it; measured indented, `k: 30` with `by_file` was cut at 26,594 characters of 40,000),
    and the comma after it."""
    return len(json.dumps(entry, ensure_ascii=False)) + 1


def bounds_problem(k: int, max_lines: int) -> str:
    """What is wrong with ``k`` and ``max_lines`` (``""``: nothing)."""
    if not 1 <= k <= MAX_K:
        return f"k must be between 1 and {MAX_K}, got {k}"
    if max_lines < 1:
        return f"max_lines must be at least 1, got {max_lines}"
    return ""


JSON_TYPES = {"string": "a string", "integer": "an integer", "number": "a number", "boolean": "true or false",
              "array": "a list", "object": "an object"}


def expected(schema: dict[str, Any], name: str) -> str:
    """What argument ``name`` takes, in words, from a tool's JSON schema: "a string", "an integer", ..."""
    prop = schema.get("properties", {}).get(name, {})
    options = prop.get("anyOf", [prop]) if isinstance(prop, dict) else []
    words = [JSON_TYPES[o["type"]] for o in options if isinstance(o, dict) and o.get("type") in JSON_TYPES]
    return " or ".join(dict.fromkeys(words)) or "a valid value"


def shown(value: Any, limit: int = 40) -> str:
    """A rejected value on one short line: strings quoted, everything else as JSON (null, true, [1])."""
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def boolean_problem(schema: dict[str, Any], arguments: dict[str, Any]) -> str:
    """``true``/``false`` given for an argument that is not a boolean (pydantic would take it as 1/0)."""
    for name, value in arguments.items():
        if isinstance(value, bool) and expected(schema, name) != JSON_TYPES["boolean"]:
            return f"{name} must be {expected(schema, name)}, got {shown(value)}"
    return ""


def argument_problem(tool: str, schema: dict[str, Any], arguments: dict[str, Any],
                     errors: list[dict[str, Any]]) -> str:
    """One sentence for the first argument that failed validation (``errors``: pydantic's ``errors()``).

    A missing argument: ``search needs query (a string)``; a wrong type: ``k must be an integer, got 'ten'``.
    The value shown is the one the client sent (the SDK may have parsed it from JSON text since).
    """
    for error in errors:
        loc = error.get("loc") or ()
        if not loc:
            continue
        name = str(loc[0])
        if error.get("type") == "missing":
            return f"{tool} needs {name} ({expected(schema, name)})"
        return f"{name} must be {expected(schema, name)}, got {shown(arguments.get(name, error.get('input')))}"
    return f"{tool} cannot use these arguments"  # no argument named: not a dict of arguments


def build_server(session: RepositorySession) -> Any:
    """The MCP server with its three tools, bound to ``session``.

    :raises MissingExtra: if the ``mcp`` SDK is not installed.
    """
    try:
        from mcp.server.mcpserver import MCPServer
        from mcp.server.mcpserver.exceptions import ToolError
    except ImportError as exc:
        raise MissingExtra("the MCP server needs the mcp extra: pip install 'codesearch[mcp]'") from exc

    from mcp import MCPError
    from mcp.types import CallToolResult, TextContent
    from pydantic import ValidationError

    async def clean_errors(ctx: Any, call_next: Any) -> Any:
        """A request a handler fails on is a one-line JSON-RPC error, never a traceback on stderr.

        The SDK raises ``ValueError`` for a name it does not know (``prompts/get`` of an unknown
        prompt, ``resources/read`` of an unknown resource): that is invalid params.
        """
        try:
            return await call_next(ctx)
        except (MCPError, ValidationError):
            raise  # the SDK answers these itself, without a traceback
        except ValueError as exc:
            raise MCPError(INVALID_PARAMS, one_line(exc)) from None
        except Exception as exc:
            log.warning("%s failed: %s", ctx.method, one_line(exc))
            raise MCPError(INTERNAL_ERROR, f"{ctx.method} failed: {one_line(exc)}") from None

    async def strict_arguments(ctx: Any, call_next: Any) -> Any:
        """A tool's arguments are checked before it runs; a bad one is an error result with one sentence.

        An argument a tool does not take is refused (the SDK drops it silently); one that is
        missing or of the wrong type is named with what it takes (the SDK answers pydantic's
        multi-line dump, with its input and a link): ``search needs query (a string)``,
        ``k must be an integer, got 'ten'``. ``true`` for a number is refused too (pydantic takes it as 1).
        """
        params = ctx.params if isinstance(ctx.params, dict) else {}
        arguments = params.get("arguments")
        arguments = {} if arguments is None else arguments
        if ctx.method == "tools/call" and isinstance(arguments, dict):
            tool = server._tool_manager.get_tool(params.get("name"))
            if tool is not None:
                known = set(tool.parameters.get("properties", {}))
                unknown = sorted(set(arguments) - known)
                text = ""
                if unknown:
                    text = (f"{params['name']} takes no argument {', '.join(map(repr, unknown))}; "
                            f"it takes {', '.join(sorted(known)) or 'none'}")
                else:
                    try:
                        tool.fn_metadata.validate_arguments(arguments)
                        text = boolean_problem(tool.parameters, arguments)
                    except ValidationError as exc:
                        text = argument_problem(tool.name, tool.parameters, arguments, exc.errors())
                if text:
                    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)
        result = await call_next(ctx)
        if ctx.method == "tools/call" and isinstance(result, dict) and result.get("isError"):
            # The SDK puts "Error executing tool search: " before a tool's own sentence; the checks above did not
            # (an agent saw both forms): the sentence alone. (A result reaches middleware as its JSON data.)
            prefix = f"Error executing tool {params.get('name')}: "
            for item in result.get("content") or ():
                if isinstance(item, dict) and str(item.get("text", "")).startswith(prefix):
                    item["text"] = item["text"][len(prefix):]
        elif ctx.method == "tools/call" and isinstance(result, dict):
            # An answer's text on one line: the SDK indents it by two spaces a level, about a seventh of what an
            # agent reads; the structured content beside it is the same data.
            for item in result.get("content") or ():
                if isinstance(item, dict) and item.get("type") == "text":
                    try:
                        item["text"] = json.dumps(json.loads(item["text"]), ensure_ascii=False)
                    except (ValueError, TypeError):
                        pass
        return result

    server = MCPServer("codesearch", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING",
                       middleware=[clean_errors, strict_arguments])

    async def run(fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run on the session's thread; library errors become one-sentence tool errors."""
        try:
            return await asyncio.wrap_future(session.submit(fn, *args, **kwargs))
        except CodeSearchError as exc:
            from codesearch.render import one_line as visible
            from indexer.discover import encodable

            # The names in it are the repository's: a file name's ESC, BEL or U+202E reached the agent's host raw
            # (the red team: `related` of a name with several definitions lists their paths), where the CLI shows
            # them escaped.
            raise ToolError(visible(encodable(str(exc)))) from None

    def check(k: int, max_lines: int) -> None:
        problem = bounds_problem(k, max_lines)
        if problem:
            raise ToolError(problem)

    @server.tool()
    async def search(query: QUERY, k: K = DEFAULT_K, language: LANGUAGE = None, path: PATH = None,
                     exclude: EXCLUDE = None, kind: KIND = None, max_lines: MAX_LINES = DEFAULT_MAX_LINES,
                     by_file: BY_FILE = False) -> dict[str, Any]:
        """Find code by what it does, in plain English, or by name.

        query: e.g. "retry failed http requests", "where is the session cookie parsed", "HttpClient".
        k: number of results (1-100). language: e.g. python, typescript, go, rust, cpp, csharp, kotlin, swift,
        or text (files without a grammar); a wrong name's error lists them all.
        path: only paths matching this glob, or any of a list of globs (e.g. "src/*", "*.py"; a directory, "src",
        means the files below it; a name without "/", "retry.py" or "tests", matches at any depth).
        exclude: leave out paths matching this glob or any of a list (e.g. "*_test.go", ["tests", "docs"]).
        kind: function, method, class, ... or a list of them. max_lines: snippet lines per result.
        by_file: k files instead of k chunks, each with its best 3 hits (for "how does X work" questions).
        Each result's score is its similarity to the query (0-1), not its rank; "note" says when every hit is
        weak (the code may not be there). An answer stays near 40,000 characters: further results come without
        their snippet, then not at all ("truncated" says which).
        """
        from codesearch.render import weak_answer
        from codesearch.search import files
        from indexer.discover import encodable

        check(k, max_lines)
        kinds = [each.lower() for each in _listed(kind)]  # in any case, as language is (`Function` was refused)
        for each in kinds:
            if each not in KINDS:
                raise ToolError(f"unknown kind {each!r}; choose from {', '.join(KINDS)}")
        include, leave_out = _listed(path), _listed(exclude)
        # The CLI's answer (``files.answer``): k chunks, or k files read as deep as they take, and the similarity
        # that tells a weak one; on the session's thread, as its searches are.
        found = await run(files.answer, lambda n: session.search(query, n, language=language, include=include,
                                                                 exclude=leave_out, kinds=kinds), k, by_file)
        results, groups = files.at_best_lines(query, found.results, found.groups)  # a window's snippet: its best
        if groups is not None:
            grouped, note = budgeted([{"rank": group.rank, "path": group.path, "hits": [
                {n: v for n, v in compact(r, max_lines).items() if n != "path"}
                for r in group.hits]} for group in groups], what="files")
            answer: dict[str, Any] = {"root": encodable(str(session.root)), "files": grouped}
        else:
            listed, note = budgeted([compact(r, max_lines) for r in results])
            answer = {"root": encodable(str(session.root)), "results": listed}
        if not results:  # a language the index has no file of, a path no indexed file matches: say so
            answer.update(await run(session.filtered_out, results, language, include, kinds, leave_out))
        elif weak := weak_answer(query, results, found.best):  # as the CLI says in a line
            answer["note"] = weak
        answer.update(await run(session.out_of_date, include, leave_out))  # read-only: files added or deleted
        return {**answer, "truncated": note} if note else answer

    @server.tool()
    async def related(path: AT_PATH = None, line: AT_LINE = None, symbol: SYMBOL = None, k: RELATED_K = DEFAULT_K,
                      include: INCLUDE = None, exclude: EXCLUDE = None,
                      max_lines: MAX_LINES = DEFAULT_MAX_LINES) -> dict[str, Any]:
        """Find code like a definition: its overloads, implementations, overrides, tests, look-alikes.

        Give path (relative to the root) and line of any line inside the definition, or symbol
        (a name such as "parse_args" or "Router.Handle"), not both. The definition itself and its class
        are left out. k: number of results (1-100). include: only paths matching this glob or any of a list
        ("*_test.go" for its tests). exclude: leave out paths matching this glob or any of a list.
        max_lines: snippet lines per result.
        """
        if symbol is not None and (path is not None or line is not None):
            raise ToolError("give path and line, or symbol (one of them)")
        if symbol is None and path is None and line is None:
            raise ToolError("related needs path and line, or symbol")
        if symbol is None and line is None:
            raise ToolError("give line with path (any line inside the definition)")
        if symbol is None and path is None:
            raise ToolError("give path with line (the file the line is in)")
        check(k, max_lines)
        source, results = await run(session.related, path=path, line=line, symbol=symbol, k=k,
                                    include=_listed(include), exclude=_listed(exclude))
        from indexer.discover import encodable

        found, note = budgeted([compact(r, max_lines) for r in results])
        answer = {"root": encodable(str(session.root)), "source": source.to_dict(), "results": found,
                  **await run(session.out_of_date, _listed(include), _listed(exclude))}  # read-only: as search's
        return {**answer, "truncated": note} if note else answer

    @server.tool()
    async def index_status() -> dict[str, Any]:
        """What is indexed: files, functions, languages, last update, files changed since then, and the files
        and directories left out with why (skipped: build output, vendored, too large, ...)."""
        return await run(session.status)

    return server


def _listed(value: str | list[str] | None) -> list[str]:
    """A filter given as one value or a list of them, as a list (empty values left out)."""
    if value is None:
        return []
    return [v for v in ([value] if isinstance(value, str) else value) if v]


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message (its class name when it has none), its unsafe characters (a
    control, an invisible one) made visible: it may hold a name the repository wrote."""
    from codesearch.render import one_line as visible

    text = str(exc).strip()
    return visible(text.splitlines()[0]) if text else type(exc).__name__


def _is_text(value: Any) -> bool:
    """No string in ``value`` (keys included) holds a lone UTF-16 surrogate, so it encodes as UTF-8."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _valid_id(value: Any) -> bool:
    """A JSON-RPC id MCP accepts: an integer or a string (never null, a float or a bool)."""
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, str) and _is_text(value))


def recover_id(text: str) -> int | str | None:
    """The id of a line that is not valid JSON, when it names exactly one (else None)."""
    found = _ID.findall(text)
    if len(found) != 1:
        return None
    try:
        value = json.loads(found[0])
    except ValueError:
        return None
    return value if _valid_id(value) else None


def _request_problem(message: dict[str, Any]) -> tuple[int, str]:
    """What is wrong with a request (a message with a method and an id): (code, sentence), or (0, "")."""
    if message.get("jsonrpc") != "2.0":
        return INVALID_REQUEST, 'invalid request: "jsonrpc" must be "2.0"'
    if not isinstance(message["method"], str):
        return INVALID_REQUEST, 'invalid request: "method" must be a string'
    if message.get("params") is not None and not isinstance(message["params"], dict):
        return INVALID_PARAMS, 'invalid params: "params" must be a JSON object'
    if not _is_text(message):
        return INVALID_PARAMS, ("invalid params: a string holds a lone UTF-16 surrogate (such as \\ud800); "
                                "send Unicode text")
    return 0, ""


def parse_line(line: bytes) -> tuple[Any, list[Any]]:
    """One line of input: (the message for the SDK, or None; the error replies it calls for).

    Every request with an id gets an answer: a line that is not JSON is a parse error
    (-32700), a message that is not a valid request is an invalid request (-32600), params
    that are not an object or text that is not Unicode are invalid params (-32602). A bad
    notification or response is dropped: nobody waits for its answer.
    """
    from mcp.types import ErrorData, JSONRPCError, JSONRPCRequest, jsonrpc_message_adapter
    from pydantic import ValidationError

    def error(request_id: int | str | None, code: int, message: str) -> JSONRPCError:
        return JSONRPCError(jsonrpc="2.0", id=request_id, error=ErrorData(code=code, message=message))

    text = line.decode("utf-8", errors="replace")
    if not text.strip():
        return None, []
    try:
        message = json.loads(text)
    except ValueError:
        return None, [error(recover_id(text), PARSE_ERROR, "parse error: the line is not JSON; "
                                                          "send one JSON-RPC message per line")]
    except RecursionError:
        return None, [error(recover_id(text), PARSE_ERROR, "parse error: the JSON is nested too deeply")]
    if isinstance(message, list):  # JSON-RPC batches: MCP has none
        ids = [m["id"] for m in message if isinstance(m, dict) and _valid_id(m.get("id"))] or [None]
        return None, [error(i, INVALID_REQUEST, "invalid request: batches are not supported; "
                                                "send one JSON-RPC message per line") for i in ids]
    if not isinstance(message, dict):
        return None, [error(None, INVALID_REQUEST, "invalid request: a JSON-RPC message is a JSON object")]
    request_id = message.get("id")
    if "id" in message and "result" not in message and "error" not in message:  # a request: it is answered
        if not _valid_id(request_id):
            return None, [error(None, INVALID_REQUEST, 'invalid request: "id" must be a string or an integer')]
        if "method" not in message:
            return None, [error(request_id, INVALID_REQUEST, 'invalid request: "method" is missing')]
        code, problem = _request_problem(message)
        if code:
            return None, [error(request_id, code, problem)]
        try:
            return JSONRPCRequest.model_validate(message, by_name=False), []
        except ValidationError:
            return None, [error(request_id, INVALID_REQUEST, "invalid request: not a JSON-RPC request")]
    if not _is_text(message):
        return None, []
    try:
        return jsonrpc_message_adapter.validate_python(message, by_name=False), []
    except ValidationError:
        return None, []


def _read_line(stream: BinaryIO) -> tuple[bytes, bool]:
    """The next line (b"" at the end) and False; for a line over ``MAX_LINE_BYTES``, its head and True.

    The rest of a line that is too long is read and thrown away, never held whole.
    """
    line = stream.readline(MAX_LINE_BYTES + 1)
    if len(line) <= MAX_LINE_BYTES or line.endswith(b"\n"):
        return line, False
    head, rest = line[:4096], line
    while rest and not rest.endswith(b"\n"):
        rest = stream.readline(MAX_LINE_BYTES)
    return head, True


def _claim_stdio() -> tuple[BinaryIO, BinaryIO, Callable[[], None]]:
    """The wire's stdin and stdout on private descriptors, and how to put them back.

    While serving, fd 0 reads the null device and fd 1 writes to stderr, so a library
    that prints (or a child process) cannot corrupt the protocol.
    """
    try:
        sys.stdout.flush()
        wire_in, wire_out = os.dup(0), os.dup(1)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.dup2(2, 1)
    except (OSError, ValueError):
        return sys.stdin.buffer, sys.stdout.buffer, lambda: None

    def restore() -> None:
        os.dup2(wire_in, 0)
        os.dup2(wire_out, 1)

    # closefd=False: a reader thread may still block on the descriptor after the server stops
    return os.fdopen(wire_in, "rb", closefd=False), os.fdopen(wire_out, "wb", closefd=False), restore


@asynccontextmanager
async def stdio_transport(on_first_reply: Callable[[], Any] = lambda: None) -> AsyncIterator[tuple[Any, Any]]:
    """The SDK's (read stream, write stream) over stdin/stdout, answering bad lines itself.

    ``on_first_reply`` runs once, after the first message (the reply to ``initialize``)
    has been written: the moment to start loading what tools need.
    """
    import anyio
    from mcp.shared.message import SessionMessage
    from mcp.types import ErrorData, JSONRPCError, JSONRPCResponse

    wire_in, wire_out, restore = _claim_stdio()
    read_send, read_stream = anyio.create_memory_object_stream[Any](0)
    write_stream, write_receive = anyio.create_memory_object_stream[Any](0)
    replied = False
    written = anyio.Event()  # the writer has sent everything and stopped

    def encode(message: Any) -> bytes:
        try:
            return message.model_dump_json(by_alias=True, exclude_unset=True).encode("utf-8")
        except (ValueError, UnicodeError) as exc:  # e.g. a lone surrogate in an answer: the client still gets one
            if not isinstance(message, JSONRPCResponse):
                raise
            problem = ErrorData(code=INTERNAL_ERROR, message=f"the answer is not JSON: {one_line(exc)}")
            failed = JSONRPCError(jsonrpc="2.0", id=message.id, error=problem)
            return failed.model_dump_json(by_alias=True, exclude_unset=True).encode("utf-8")

    def write(data: bytes) -> None:
        wire_out.write(data + b"\n")
        wire_out.flush()

    async def reader() -> None:
        async with read_send:
            while True:
                line, too_long = await anyio.to_thread.run_sync(_read_line, wire_in, abandon_on_cancel=True)
                if line == b"":
                    return
                if too_long:
                    request_id = recover_id(line.decode("utf-8", errors="replace"))
                    message, errors = None, [JSONRPCError(jsonrpc="2.0", id=request_id, error=ErrorData(
                        code=INVALID_REQUEST, message=f"invalid request: longer than {MAX_LINE_BYTES:,} bytes"))]
                else:
                    message, errors = parse_line(line)
                try:
                    for reply in errors:
                        await write_stream.send(SessionMessage(reply))
                    if message is not None:
                        await read_send.send(SessionMessage(message))
                except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                    return  # the server has stopped

    async def writer() -> None:
        nonlocal replied
        try:
            async with write_receive:
                async for session_message in write_receive:
                    try:
                        data = encode(session_message.message)
                    except (ValueError, UnicodeError) as exc:
                        log.warning("dropped an outgoing message: %s", one_line(exc))
                        continue
                    await anyio.to_thread.run_sync(write, data)
                    if not replied:
                        replied = True
                        on_first_reply()
        finally:
            written.set()

    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(reader)
            tasks.start_soon(writer)
            try:
                yield read_stream, write_stream
            finally:
                await write_stream.aclose()  # the writer sends what is queued, then ends
                with anyio.move_on_after(10):
                    await written.wait()
                tasks.cancel_scope.cancel()  # the reader may still wait for a line
    finally:
        restore()


async def _serve_stdio(server: Any, on_first_reply: Callable[[], Any]) -> None:
    lowlevel = server._lowlevel_server  # what the SDK's own run_stdio_async drives
    async with stdio_transport(on_first_reply) as (read_stream, write_stream):
        await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())


def serve(root: Path, **session_options: Any) -> None:
    """Serve MCP over stdin/stdout until the client closes the connection.

    ``initialize`` is answered before anything heavy loads; the session loads right after.

    :raises MissingExtra: if the ``mcp`` SDK is not installed.
    """
    refuse_escaping(root)
    if session_options.get("index_dir") is None:
        root = served_root(root)
    session = RepositorySession(root, **session_options)
    try:
        server = build_server(session)
        import anyio

        anyio.run(_serve_stdio, server, session.start_loading)
    finally:
        session.close()


if __name__ == "__main__":  # python -m codesearch.mcp_server [ROOT]
    serve(Path(sys.argv[1] if len(sys.argv) > 1 else "."))
