"""``codesearch mcp``: an MCP server over stdio for coding agents (the only module that knows the ``mcp`` SDK).

Tools:

- ``search``: code for a plain-English query, with language, path, exclude and kind filters;
- ``related``: code like the definition at a file and line, or with a name;
- ``index_status``: files, functions, languages, last update, stale files.

The repository's ``Workspace`` keeps the model and the index loaded between calls and
refreshes changed files before each answer (``codesearch.workspace``). Results are
compact: path, lines, qualified name, kind, similarity and a snippet of at most
``max_lines`` lines, so an agent spends few tokens per hit. Every failure (bad
arguments, a path outside the repository, an empty or oversized query) is an error
result with one clear sentence; the server keeps running.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from codesearch import __version__
from codesearch.errors import CodeSearchError, MissingExtra
from codesearch.search import SearchResult
from codesearch.workspace import Workspace

DEFAULT_K = 10
MAX_K = 100
DEFAULT_MAX_LINES = 12
KINDS = ("function", "method", "class", "interface", "module", "trait", "enum", "type", "code")
INSTRUCTIONS = """Semantic code search over one local repository, offline.
Use `search` with a plain-English description of what the code does ("where do we retry
failed HTTP requests") or with a name; use `related` from a definition you are looking at
(file and line, or a symbol name) to find its overloads, implementations, tests and
look-alikes; `index_status` says what is indexed. Results are always for the files as they
are now: changed files are re-indexed before each answer. Paths are relative to the root."""


def compact(result: SearchResult, max_lines: int) -> dict[str, Any]:
    """A result as an agent needs it: where, what, how close, and a trimmed snippet."""
    lines = result.code.splitlines()
    snippet = "\n".join(lines[:max_lines])
    out: dict[str, Any] = {
        "path": result.path,
        "start_line": result.start_line,
        "end_line": result.end_line,
        "qualname": result.qualname,
        "kind": result.kind,
        "language": result.language,
        "score": round(result.score, 4),
        "snippet": snippet,
    }
    if len(lines) > max_lines:
        out["snippet_truncated"] = True
    if result.stale:
        out["stale"] = True
    if result.duplicates:
        out["duplicates"] = list(result.duplicates)
    return out


def bounds_problem(k: int, max_lines: int) -> str:
    """What is wrong with ``k`` and ``max_lines`` (``""``: nothing)."""
    if not 1 <= k <= MAX_K:
        return f"k must be between 1 and {MAX_K}, got {k}"
    if max_lines < 1:
        return f"max_lines must be at least 1, got {max_lines}"
    return ""


def build_server(workspace: Workspace) -> Any:
    """The MCP server with its three tools, bound to ``workspace``.

    :raises MissingExtra: if the ``mcp`` SDK is not installed.
    """
    try:
        from mcp.server.mcpserver import MCPServer
        from mcp.server.mcpserver.exceptions import ToolError
    except ImportError as exc:
        raise MissingExtra("the MCP server needs the mcp extra: pip install 'codesearch[mcp]'") from exc

    from mcp.types import CallToolResult, TextContent

    async def strict_arguments(ctx: Any, call_next: Any) -> Any:
        """An argument a tool does not take is an error, not silently dropped (the SDK drops it)."""
        params = ctx.params if isinstance(ctx.params, dict) else {}
        if ctx.method == "tools/call" and isinstance(params.get("arguments"), dict):
            tool = server._tool_manager.get_tool(params.get("name"))
            if tool is not None:
                known = set(tool.parameters.get("properties", {}))
                unknown = sorted(set(params["arguments"]) - known)
                if unknown:
                    text = (f"{params['name']} takes no argument {', '.join(map(repr, unknown))}; "
                            f"it takes {', '.join(sorted(known)) or 'none'}")
                    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)
        return await call_next(ctx)

    server = MCPServer("codesearch", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING",
                       middleware=[strict_arguments])

    async def run(fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run on the workspace's thread; library errors become one-sentence tool errors."""
        try:
            return await asyncio.wrap_future(workspace.submit(fn, *args, **kwargs))
        except CodeSearchError as exc:
            raise ToolError(str(exc)) from None

    def check(k: int, max_lines: int) -> None:
        problem = bounds_problem(k, max_lines)
        if problem:
            raise ToolError(problem)

    @server.tool()
    async def search(query: str, k: int = DEFAULT_K, language: str | None = None, path: str | None = None,
                     exclude: str | None = None, kind: str | None = None,
                     max_lines: int = DEFAULT_MAX_LINES) -> dict[str, Any]:
        """Find code by what it does, in plain English, or by name.

        query: e.g. "retry failed http requests", "where is the session cookie parsed", "HttpClient".
        k: number of results (1-100). language: python, javascript, typescript, java, php, ruby or go.
        path: only paths matching this glob (e.g. "src/*", "*.py"). exclude: leave out paths matching this glob
        (e.g. "*_test.go"). kind: function, method, class, ... max_lines: snippet lines per result.
        """
        check(k, max_lines)
        if kind is not None and kind not in KINDS:
            raise ToolError(f"unknown kind {kind!r}; choose from {', '.join(KINDS)}")
        results = await run(workspace.search, query, k, language=language, include=[path] if path else [],
                            exclude=[exclude] if exclude else [], kinds=[kind] if kind else [])
        return {"root": str(workspace.root), "results": [compact(r, max_lines) for r in results]}

    @server.tool()
    async def related(path: str | None = None, line: int | None = None, symbol: str | None = None,
                      k: int = DEFAULT_K, exclude: str | None = None,
                      max_lines: int = DEFAULT_MAX_LINES) -> dict[str, Any]:
        """Find code like a definition: its overloads, implementations, overrides, tests, look-alikes.

        Give path (relative to the root) and line of any line inside the definition, or symbol
        (a name such as "parse_args" or "Router.Handle"). The definition itself and its class
        are left out. exclude: leave out paths matching this glob.
        """
        check(k, max_lines)
        source, results = await run(workspace.related, path=path, line=line, symbol=symbol, k=k,
                                    exclude=[exclude] if exclude else [])
        return {"root": str(workspace.root), "source": source.to_dict(),
                "results": [compact(r, max_lines) for r in results]}

    @server.tool()
    async def index_status() -> dict[str, Any]:
        """What is indexed: files, functions, languages, last update, and files changed since then."""
        return await run(workspace.status)

    return server


def serve(root: Path, **workspace_options: Any) -> None:
    """Serve MCP over stdin/stdout until the client closes the connection.

    :raises MissingExtra: if the ``mcp`` SDK is not installed.
    """
    workspace = Workspace(root, **workspace_options)
    try:
        server = build_server(workspace)
        server.run("stdio")
    finally:
        workspace.close()


if __name__ == "__main__":  # python -m codesearch.mcp_server [ROOT]
    serve(Path(sys.argv[1] if len(sys.argv) > 1 else "."))
