"""``codesearch serve``: a workspace searched over HTTP, as a Ray Serve application.

The workspace's repositories are split into groups of about equal chunk counts. Each
group is one deployment whose replicas hold its indexes in memory and run the first
stage of a search (``multi.gather``); a router deployment fans a query out to every
group, picks the shortlist over all of them (``multi.shortlist``), has each group fetch
its share (``multi.fill``), merges the parts into one ranking (``multi.merge``) and
answers the JSON of ``codesearch search --json``:

    GET /search?q=parse+a+url&k=10[&language=go][&kind=function][&path=GLOB][&exclude=GLOB]
              [&per_file=N][&min_score=X][&max_lines=N][&hybrid=0]

A bad query answers 400 with ``{"error": ...}``. A repository whose index fails (damaged,
unreadable) is left out and named in ``errors`` (``[{"repo": ..., "error": ...}]``) next to
the results of the others; only when no repository answers is it 503. The router reads the
files of its results to check them against the index (stale marks), so on a cluster of
several machines the repositories and the workspace must be on shared storage.

A web page must not read the results (the indexed code) through the visitor's browser,
even by DNS rebinding, so the router answers only GET and HEAD (405), only requests whose
``Host`` is the address it listens on or a loopback name, and no cross-origin browser
request (403: see ``Guard``). A token (``codesearch serve --token``) is then asked of every
request as ``Authorization: Bearer TOKEN`` (401).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import sqlite3
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from codesearch.cluster import require_ray
from codesearch.errors import BadQuery, CodeSearchError
from codesearch.manifest import Listed, Manifest

APP_NAME = "codesearch"
TOKEN_ENV = "CODESEARCH_SERVE_TOKEN"
METHODS = ("GET", "HEAD")
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARDS = frozenset({"", "0.0.0.0", "::"})
# What a damaged or unreadable index raises while it is searched: that repository's error.
INDEX_FAILURES = (CodeSearchError, sqlite3.DatabaseError, OSError)


@dataclass(frozen=True)
class Guard:
    """Who may ask the router: the checks of every request before any search.

    :param host: the address the server listens on (``--host``).
    :param port: its port.
    :param token: if set, every request must carry ``Authorization: Bearer TOKEN``.
    """

    host: str = "127.0.0.1"
    port: int = 8765
    token: str | None = None

    def refusal(self, method: str, headers: Mapping[str, str]) -> tuple[int, str] | None:
        """``(status, message)`` if the request must be refused, else None.

        ``headers`` maps lowercase names to values (as Starlette's ``request.headers``).
        """
        if method.upper() not in METHODS:
            return 405, f"method {method} not allowed; use GET /search?q=QUERY"
        host = headers.get("host")
        if host is not None and not self.allowed_host(host):  # none: an HTTP/1.0 client, not a browser
            return 403, ("Host header not allowed (a DNS-rebinding page?); ask http://"
                         f"{_netloc(self.host, self.port)}/search or a loopback address")
        origin = headers.get("origin")
        if origin is not None and not self.allowed_origin(origin):
            return 403, "cross-origin requests are refused; call the API from a program, not a web page"
        if headers.get("sec-fetch-site", "").lower() == "cross-site":
            return 403, "cross-site requests are refused; call the API from a program, not a web page"
        if self.token:
            scheme, _, given = headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self.token.encode()):
                return 401, f"a token is needed: send 'Authorization: Bearer TOKEN' (the token of --token or {TOKEN_ENV})"
        return None

    def allowed_host(self, value: str) -> bool:
        """Whether a ``Host`` header names this server: a loopback name or the address it listens
        on (any IP address when it listens on all of them: a rebinding page's Host is a domain
        name), with no port or its port."""
        if not value:
            return False
        parts = urlsplit(f"//{value}")
        try:
            port = parts.port
        except ValueError:
            return False
        name = (parts.hostname or "").lower()
        if port is not None and port != self.port:
            return False
        if name in LOOPBACK_NAMES or name == self.host.strip("[]").lower():
            return True
        return self.host.strip("[]") in WILDCARDS and _is_ip(name)

    def allowed_origin(self, origin: str) -> bool:
        """Whether an ``Origin`` header is this server's own (``http://HOST[:PORT]``)."""
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and not parts.path.strip("/") and self.allowed_host(parts.netloc)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _netloc(host: str, port: int) -> str:
    host = host if host not in WILDCARDS else "127.0.0.1"
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


def groups_of(manifest: Manifest, groups: int) -> list[list[Listed]]:
    """The searchable indexes (repositories' and packs') split into at most ``groups`` groups of about
    equal chunk counts.

    :raises IndexNotFound: if no repository of the workspace is indexed.
    """
    listed = manifest.searchable()

    def chunks(item: Listed) -> int:
        return sum(manifest.repos[n].chunks for n in item.mounts.roots) if item.mounts else \
            manifest.repos[item.name].chunks

    buckets: list[list[Listed]] = [[] for _ in range(max(1, min(groups, len(listed))))]
    load = [0] * len(buckets)
    for item in sorted(listed, key=lambda item: -chunks(item)):
        smallest = load.index(min(load))
        buckets[smallest].append(item)
        load[smallest] += chunks(item)
    return [sorted(b, key=lambda item: item.name) for b in buckets]


class ShardGroup:
    """A replica holding one group's indexes; answers ``gather`` and ``fill`` for them.

    Each repository is opened and searched on its own: one whose index fails (at start or
    in a search) is left out of the answer and named in its ``errors``, the others answer.
    ``gather`` and ``fill`` answer ``{"parts": [Part | None per repository], "errors":
    {name: message}}`` (``gather``: or ``{"bad": message}`` for a bad query or filter).

    The indexes' SQLite connections belong to the thread that opened them, so one private
    thread opens and searches them (Serve calls methods from a pool of threads).
    """

    def __init__(self, names: Sequence[str], index_dirs: Sequence[str],
                 mounts: Sequence[dict[str, str]] | None = None) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.names = list(names)
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="codesearch-shard")
        packs = list(mounts) if mounts is not None else [{} for _ in self.names]
        self.searchers, self.broken = self.thread.submit(self._open, [Path(d) for d in index_dirs], packs).result()

    def _open(self, index_dirs: Sequence[Path], packs: Sequence[dict[str, str]]
              ) -> tuple[dict[str, Any], dict[str, str]]:
        from codesearch.embed.static import StaticEmbedder
        from codesearch.pack import Mounts
        from codesearch.search import Searcher

        embedder = StaticEmbedder.default()
        searchers: dict[str, Any] = {}
        broken: dict[str, str] = {}
        for name, directory, mounted in zip(self.names, index_dirs, packs):
            try:
                searchers[name] = Searcher(directory, embedder, mounts=Mounts(mounted))
            except INDEX_FAILURES as exc:
                broken[name] = _one_line(exc)
        return searchers, broken

    def _gather(self, query: str, options: Any) -> dict[str, Any]:
        from codesearch.multi import gather

        errors = dict(self.broken)
        parts: list[Any] = []
        try:
            parsed = next(iter(self.searchers.values())).parse(query, options.k) if self.searchers else None
            for name in self.names:
                part = None
                if name in self.searchers:
                    try:
                        part = gather(self.searchers[name], parsed, options, repo=name)
                    except BadQuery:
                        raise
                    except INDEX_FAILURES as exc:
                        errors[name] = _one_line(exc)
                parts.append(part)
        except BadQuery as exc:
            return {"bad": str(exc)}
        return {"parts": parts, "errors": errors}

    def _fill(self, parts: list[Any], keep: list[list[int]]) -> dict[str, Any]:
        from codesearch.multi import fill

        filled: list[Any] = []
        errors: dict[str, str] = {}
        for name, part, ids in zip(self.names, parts, keep):
            try:
                filled.append(fill(self.searchers[name], part, ids) if part is not None else None)
            except INDEX_FAILURES as exc:
                errors[name] = _one_line(exc)
                filled.append(None)
        return {"parts": filled, "errors": errors}

    async def gather(self, query: str, options: Any) -> dict[str, Any]:
        """Every repository's ``multi.gather`` of ``query`` (parsed here, once) with ``options`` (``SearchOptions``)."""
        return await asyncio.wrap_future(self.thread.submit(self._gather, query, options))

    async def fill(self, parts: list[Any], keep: list[list[int]]) -> dict[str, Any]:
        return await asyncio.wrap_future(self.thread.submit(self._fill, parts, keep))


def _one_line(exc: BaseException) -> str:
    """The last line of an error's message (Ray wraps a task's exception as ``cause``, with a traceback)."""
    cause = getattr(exc, "cause", None) or exc
    lines = str(cause).strip().splitlines()
    return lines[-1] if lines else type(cause).__name__


class Router:
    """The HTTP ingress: checks the request (``Guard``), fans the query out to every group and
    merges their parts; a repository or group that fails is named in ``errors``.

    :param names: the repositories of each group (to name them when a whole group fails).
    """

    def __init__(self, groups: list[Any], roots: dict[str, str], names: list[list[str]] | None = None,
                 guard: Guard | None = None) -> None:
        self.groups = groups
        self.roots = roots
        self.names = names or [[] for _ in groups]
        self.guard = guard or Guard()

    async def __call__(self, request: Any) -> Any:
        from codesearch import render
        from codesearch.multi import merge, shortlist
        from codesearch.query import analyse
        from codesearch.search import files, validate_query

        started = time.perf_counter()
        refused = self.guard.refusal(request.method, request.headers)
        if refused:
            extra = {"Allow": ", ".join(METHODS)} if refused[0] == 405 else {}
            if refused[0] == 401:
                extra["WWW-Authenticate"] = "Bearer"
            return _answer({"error": refused[1]}, refused[0], extra)
        if request.url.path.rstrip("/") not in ("/search", ""):
            return _answer({"error": "not found; use /search?q=QUERY"}, 404)
        errors: dict[str, str] = {}
        try:
            query, options, max_lines = _parameters(request.query_params)
            query = validate_query(query, options.k)  # before any group works on it
            # Ranked as deep as the CLI ranks an answer (``files.answer``: at least WEAK_TOP, the first k shown):
            # the same results, and the same best similarity to tell a weak one.
            asked, options = options.k, replace(options, k=max(options.k, files.WEAK_TOP))
            info = analyse(query)  # once; each group embeds it once
            answers = await self._each("gather", [(query, options)] * len(self.groups), errors)
            bad = next((a["bad"] for a in answers if "bad" in a), None)
            if bad:
                raise BadQuery(bad)
            if not any(p is not None for a in answers for p in a["parts"]) and errors:
                return _answer({"error": "; ".join(f"{n}: {e}" for n, e in sorted(errors.items()))}, 503)
            # Second round: each group fetches the rows of its parts' share of the merged shortlist.
            keep = shortlist(info, [p for a in answers for p in a["parts"]], options)
            shares, start = [], 0
            for answer in answers:
                shares.append(keep[start : start + len(answer["parts"])])
                start += len(answer["parts"])
            # A part with nothing on the shortlist is not sent back: none of its hits made the cut,
            # so leaving it out of the merge changes no score.
            sent = [[p if ids else None for p, ids in zip(a["parts"], share)] for a, share in zip(answers, shares)]
            # A group with nothing on the shortlist (or that failed) is not asked at all.
            filled = await self._each("fill", [(parts, share) if any(p is not None for p in parts) else None
                                               for parts, share in zip(sent, shares)], errors)
            ranked = merge(info, [p for a in filled for p in a["parts"]], options)
            results = ranked[:asked]
        except (BadQuery, ValueError) as exc:
            return _answer({"error": str(exc)}, 400)
        elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
        extra: dict[str, Any] = {"elapsed_ms": elapsed_ms, "repos": self.roots}
        if weak := render.weak_answer(query, results, files.best_similarity(ranked)):  # as the CLI's --json says
            extra["note"] = weak
        if errors:
            extra["errors"] = [{"repo": name, "error": error} for name, error in sorted(errors.items())]
        return _respond(render.to_json(query, results, max_lines, **extra), 200)

    async def _each(self, method: str, arguments: list[tuple[Any, ...] | None],
                    errors: dict[str, str]) -> list[dict[str, Any]]:
        """Every group's answer to ``method`` called with its ``arguments`` (None: not called, no
        parts); a group that failed as a whole answers no parts and its repositories are named in
        ``errors`` (with those its answer names)."""
        async def nothing() -> dict[str, Any]:
            return {"parts": [], "errors": {}}

        calls = (getattr(g, method).remote(*args) if args is not None else nothing()
                 for g, args in zip(self.groups, arguments))
        answers = await asyncio.gather(*calls, return_exceptions=True)
        out = []
        for n, answer in enumerate(answers):
            if isinstance(answer, BaseException):
                if isinstance(answer, BadQuery):
                    raise answer
                if not isinstance(answer, Exception):
                    raise answer
                for name in self.names[n] or [f"group-{n}"]:
                    errors[name] = _one_line(answer)
                answer = {"parts": [None] * len(self.names[n]), "errors": {}}
            errors.update(answer.get("errors", {}))
            out.append(answer)
        return out


def _answer(data: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> Any:
    return _respond(json.dumps(data), status, headers)


def _respond(body: str, status: int, headers: dict[str, str] | None = None) -> Any:
    from starlette.responses import Response

    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _parameters(params: Any) -> tuple[str, Any, int | None]:
    """The query, the ``SearchOptions`` and the snippet length of a request's query string.

    :raises ValueError: for a malformed number.
    """
    from codesearch.search import PathFilter, SearchOptions

    filters = PathFilter(include=tuple(params.getlist("path")), exclude=tuple(params.getlist("exclude")))
    options = SearchOptions(k=int(params.get("k", 10)), language=params.get("language") or None, paths=filters,
                            kinds=tuple(params.getlist("kind")),
                            hybrid=params.get("hybrid", "1") not in ("0", "false", "no"),
                            per_file=int(params.get("per_file", 0)), min_score=float(params.get("min_score", 0.0)))
    max_lines = int(params["max_lines"]) if params.get("max_lines") else None
    return params.get("q", ""), options, max_lines


def start(workspace: Path, groups: int = 2, host: str = "127.0.0.1", port: int = 8765, replicas: int = 1,
          cpus_per_replica: float = 0.5, token: str | None = None) -> str:
    """Deploy the workspace on the connected Ray cluster; returns the search URL. ``stop()`` ends it.

    :param token: if set, every request must carry ``Authorization: Bearer TOKEN``.
    :raises IndexNotFound: if the workspace has no indexed repository.
    """
    require_ray()  # a clear error when the extra is missing
    from ray import serve

    manifest = Manifest.load(workspace)
    split = groups_of(manifest, groups)
    serve.start(http_options={"host": host, "port": port})
    group_deployment = serve.deployment(ShardGroup)
    router_deployment = serve.deployment(Router)
    handles = [
        group_deployment.options(name=f"group-{n}", num_replicas=replicas,
                                 ray_actor_options={"num_cpus": cpus_per_replica}).bind(
            [item.name for item in group], [str(item.directory) for item in group],
            [dict(item.mounts.roots) for item in group])
        for n, group in enumerate(split)
    ]
    served = {name for group in split for item in group for name in (item.mounts.roots or [item.name])}
    roots = {name: entry.root for name, entry in sorted(manifest.repos.items()) if name in served}
    names = [[item.name for item in group] for group in split]
    app = router_deployment.options(name="router", ray_actor_options={"num_cpus": 0.1}).bind(
        handles, roots, names, Guard(host, port, token or None))
    serve.run(app, name=APP_NAME, route_prefix="/", blocking=False)
    return f"http://{_netloc(host, port)}/search"


def stop() -> None:
    """Remove the application and Serve from the connected cluster."""
    from ray import serve

    serve.shutdown()
