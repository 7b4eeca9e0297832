"""``codesearch serve``: a workspace searched over HTTP, as a Ray Serve application.

The workspace's repositories are split into groups of about equal chunk counts. Each
group is one deployment whose replicas hold its indexes in memory and run the first
stage of a search (``multi.gather``); a router deployment fans a query out to every
group, picks the shortlist over all of them (``multi.shortlist``), has each group fetch
its share (``multi.fill``), merges the parts into one ranking (``multi.merge``) and
answers the JSON of ``codesearch search --json``:

    GET /search?q=parse+a+url&k=10[&language=go][&kind=function][&path=GLOB][&exclude=GLOB]
              [&per_file=N][&min_score=X][&max_lines=N][&hybrid=0]

A bad query answers 400 with ``{"error": ...}``, an index that fails in a group 503. The router reads the files of its
results to check them against the index (stale marks), so on a cluster of several
machines the repositories and the workspace must be on shared storage.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from codesearch.cluster import require_ray
from codesearch.manifest import Manifest

APP_NAME = "codesearch"


def groups_of(manifest: Manifest, groups: int) -> list[list[tuple[str, Path]]]:
    """The searchable repositories split into at most ``groups`` groups of about equal chunk counts.

    :raises IndexNotFound: if no repository of the workspace is indexed.
    """
    listed = manifest.searchable()
    buckets: list[list[tuple[str, Path]]] = [[] for _ in range(max(1, min(groups, len(listed))))]
    load = [0] * len(buckets)
    for name, directory in sorted(listed, key=lambda item: -manifest.repos[item[0]].chunks):
        smallest = load.index(min(load))
        buckets[smallest].append((name, directory))
        load[smallest] += manifest.repos[name].chunks
    return [sorted(b) for b in buckets]


class ShardGroup:
    """A replica holding one group's indexes; answers ``gather`` for them.

    The indexes' SQLite connections belong to the thread that opened them, so one private
    thread opens and searches them (Serve calls methods from a pool of threads).
    """

    def __init__(self, names: Sequence[str], index_dirs: Sequence[str]) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from codesearch.multi import MultiSearcher

        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="codesearch-shard")
        self.multi = self.thread.submit(MultiSearcher, [Path(d) for d in index_dirs], None, names).result()

    def _gather(self, query: str, k: int, options: dict[str, Any]) -> list[Any]:
        from codesearch.errors import BadQuery

        try:
            return self.multi.gather(query, k, **options)
        except BadQuery as exc:
            return [exc]

    async def gather(self, query: str, k: int, options: dict[str, Any]) -> list[Any]:
        return await asyncio.wrap_future(self.thread.submit(self._gather, query, k, options))

    async def fill(self, parts: list[Any], keep: list[list[int]]) -> list[Any]:
        return await asyncio.wrap_future(self.thread.submit(self.multi.fill, parts, keep))


class Router:
    """The HTTP ingress: fans a query out to every group and merges their parts."""

    def __init__(self, groups: list[Any], roots: dict[str, str]) -> None:
        self.groups = groups
        self.roots = roots

    async def __call__(self, request: Any) -> Any:
        from starlette.responses import Response

        from codesearch import render
        from codesearch.errors import BadQuery, CodeSearchError
        from codesearch.multi import merge, shortlist
        from codesearch.search import PathFilter

        started = time.perf_counter()
        try:
            if request.url.path.rstrip("/") not in ("/search", ""):
                return Response(json.dumps({"error": "not found; use /search?q=QUERY"}), status_code=404,
                                media_type="application/json")
            query, k, gather_options, merge_options, max_lines = _parameters(request.query_params, PathFilter)
            answers = await asyncio.gather(*(g.gather.remote(query, k, gather_options) for g in self.groups))
            for part in (p for answer in answers for p in answer):
                if isinstance(part, BadQuery):
                    raise part
            # Second round: each group fetches the rows of its parts' share of the merged shortlist.
            keep = shortlist(query, [p for answer in answers for p in answer], k,
                             hybrid=gather_options["hybrid"])
            shares, start = [], 0
            for answer in answers:
                shares.append(keep[start : start + len(answer)])
                start += len(answer)
            # A part with nothing on the shortlist is not sent back: none of its hits made the cut,
            # so leaving it out of the merge changes no score.
            sent = [[p if ids else None for p, ids in zip(answer, share)] for answer, share in zip(answers, shares)]
            filled = await asyncio.gather(*(g.fill.remote(parts, share)
                                            for g, parts, share in zip(self.groups, sent, shares)))
            results = merge(query, [p for answer in filled for p in answer], k, **merge_options)
        except (BadQuery, ValueError) as exc:
            return Response(json.dumps({"error": str(exc)}), status_code=400, media_type="application/json")
        except CodeSearchError as exc:  # an index a group holds failed (Ray re-raises it as its own type)
            message = getattr(exc, "cause", None) or exc
            return Response(json.dumps({"error": str(message).strip().splitlines()[-1]}), status_code=503,
                            media_type="application/json")
        elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
        return Response(render.to_json(query, results, max_lines, elapsed_ms=elapsed_ms, repos=self.roots),
                        media_type="application/json")


def _parameters(params: Any, path_filter: Any) -> tuple[str, int, dict[str, Any], dict[str, Any], int | None]:
    """The search of a request's query string. :raises ValueError: for a malformed number."""
    query = params.get("q", "")
    k = int(params.get("k", 10))
    hybrid = params.get("hybrid", "1") not in ("0", "false", "no")
    filters = path_filter(include=tuple(params.getlist("path")), exclude=tuple(params.getlist("exclude")))
    gather_options = dict(language=params.get("language") or None, paths=filters,
                          kinds=tuple(params.getlist("kind")), hybrid=hybrid)
    merge_options = dict(hybrid=hybrid, per_file=int(params.get("per_file", 0)),
                         min_score=float(params.get("min_score", 0.0)))
    max_lines = int(params["max_lines"]) if params.get("max_lines") else None
    return query, k, gather_options, merge_options, max_lines


def start(workspace: Path, groups: int = 2, host: str = "127.0.0.1", port: int = 8765, replicas: int = 1,
          cpus_per_replica: float = 0.5) -> str:
    """Deploy the workspace on the connected Ray cluster; returns the search URL. ``stop()`` ends it.

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
            [name for name, _ in group], [str(d) for _, d in group])
        for n, group in enumerate(split)
    ]
    served = {name for group in split for name, _ in group}
    roots = {name: entry.root for name, entry in sorted(manifest.repos.items()) if name in served}
    app = router_deployment.options(name="router", ray_actor_options={"num_cpus": 0.1}).bind(handles, roots)
    serve.run(app, name=APP_NAME, route_prefix="/", blocking=False)
    return f"http://{host}:{port}/search"


def stop() -> None:
    """Remove the application and Serve from the connected cluster."""
    from ray import serve

    serve.shutdown()
