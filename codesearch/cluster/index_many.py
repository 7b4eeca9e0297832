"""``index-many``: index many repositories on a Ray cluster into one workspace.

Each repository is indexed by one Ray task into its own ordinary index
(``OUT/indexes/NAME``), with ``build_index``: the same incremental, locked,
one-commit run as ``codesearch index``. Small repositories (at most ``pack_files`` files when
first seen) share packs instead (``OUT/packs/pack-N``, ``codesearch.pack``) of up to
``pack_capacity`` files, each built by one task like a repository: a workspace query then
costs per pack, not per repository. A repository stays in its pack as it grows. A repository
with more changed files than ``shard_files`` has its files parsed and embedded by further Ray tasks, one per shard
of files; the repository's task writes all their results in its single commit, so an
index is never half-written whichever worker dies. Ray re-runs a task whose worker died
(and one that failed on a transient error: a lock held, the disk momentarily full); a
repository that still fails is reported and the others go on. Re-running updates only
what changed: every index is incremental.

The output directory must be shared by the cluster's machines (NFS or the like) when it
has more than one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from codesearch.cluster import require_ray
from codesearch.errors import CodeSearchError, IndexLocked, IndexUnavailable
from codesearch.manifest import Manifest, RepoEntry, read_sources
from codesearch.multi import prefixes
from codesearch.pack import Mounts
from codesearch.store import trust
from indexer.discover import FileEntry, Limits, walk
from indexer.types import SkippedFile
from indexer.work import ParsedFile, PostProcess, Task, process, process_all

# A repository with more changed files than this is parsed and embedded in shards of this many.
SHARD_FILES = 1000
# A repository with at most this many files when first indexed goes into a pack (0: none does) ...
PACK_FILES = 500
# ... of up to this many files (the median repository of the registries has about 100 files and 800 chunks).
PACK_CAPACITY = 20_000
# Ray re-runs a task this many times after its worker died or it raised a transient error.
MAX_RETRIES = 3
TRANSIENT = (IndexLocked, IndexUnavailable)

# progress(stage, done, total), as for build_index.
ProgressFn = Callable[[str, int, int], None]


@dataclass
class IndexManyReport:
    """What one ``index-many`` run did."""

    workspace: str
    repos: list[RepoEntry] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # connect (Ray start-up), index, total

    @property
    def failed(self) -> list[RepoEntry]:
        return [r for r in self.repos if r.status != "indexed"]

    def as_dict(self) -> dict[str, Any]:
        return {"workspace": self.workspace,
                "indexed": sum(r.status == "indexed" for r in self.repos), "failed": len(self.failed),
                "packed": sum(r.packed for r in self.repos), "packs": len({r.index for r in self.repos if r.packed}),
                "files": sum(r.files for r in self.repos), "chunks": sum(r.chunks for r in self.repos),
                "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
                "repos": [asdict(r) for r in self.repos]}


def _process_shard(tasks: Sequence[Task], limits: Limits, postprocess: PostProcess) -> list[ParsedFile | SkippedFile]:
    return [process(task, limits, postprocess) for task in tasks]


class ShardRunner:
    """A ``build_index`` runner: in this process for a few files, else shards as Ray tasks.

    At most ``in_flight`` shards are queued at once; results come back in task order.
    """

    def __init__(self, shard_files: int = SHARD_FILES, in_flight: int = 4) -> None:
        self.shard_files = shard_files
        self.in_flight = in_flight
        self.shards = 0

    def __call__(self, tasks: Sequence[Task], limits: Limits,
                 postprocess: PostProcess) -> Iterator[ParsedFile | SkippedFile]:
        if len(tasks) <= self.shard_files:
            yield from process_all(tasks, limits, 1, postprocess)  # workers=1: in this process
            return
        ray = require_ray()
        remote = ray.remote(max_retries=MAX_RETRIES)(_process_shard)
        shards = [list(tasks[i : i + self.shard_files]) for i in range(0, len(tasks), self.shard_files)]
        self.shards = len(shards)
        limits_ref, post_ref = ray.put(limits), ray.put(postprocess)
        queued = [remote.remote(shard, limits_ref, post_ref) for shard in shards[: self.in_flight]]
        for n in range(len(shards)):
            if n + self.in_flight < len(shards):
                queued.append(remote.remote(shards[n + self.in_flight], limits_ref, post_ref))
            yield from ray.get(queued[n])
            queued[n] = None  # let the object store drop it


def index_repository(root: str, index_dir: str, limits: Limits, shard_files: int, rebuild: bool,
                     mounts: dict[str, str] | None = None) -> dict[str, Any]:
    """Index one repository, or the repositories ``mounts`` into the pack in ``root`` (the body of a
    Ray task); a permanent failure comes back as ``error``. A pack's outcome has ``by_mount``:
    repository -> (files, chunks, changed), and ``missing``: its repositories that are no directory.

    :raises IndexLocked, IndexUnavailable: transient failures, which Ray retries.
    """
    from codesearch.pipeline import build_index

    started = time.perf_counter()
    runner = ShardRunner(shard_files)
    try:
        if mounts is not None:
            Path(root).mkdir(parents=True, exist_ok=True)
        report = build_index(Path(root), Path(index_dir), limits=limits, rebuild=rebuild, runner=runner, wait=5.0,
                             mounts=Mounts(mounts) if mounts is not None else None)
    except TRANSIENT:
        raise
    except (CodeSearchError, OSError) as exc:
        return {"error": str(exc)}
    return {"files": report.files, "chunks": report.chunks_total, "generation": report.generation,
            "changed": report.changed, "shards": runner.shards, "seconds": time.perf_counter() - started,
            "index_id": report.index_id, "by_mount": report.by_mount,
            "missing": sorted(name for name, path in (mounts or {}).items() if not Path(path).is_dir())}


def count_files(root: Path, limits: Limits, stop: int) -> int:
    """How many files of ``root`` would be indexed, counting no further than ``stop``."""
    found = 0
    for item in walk(root, limits):
        if isinstance(item, FileEntry):
            found += 1
            if found >= stop:
                break
    return found


def task_pids() -> list[int]:
    """Processes on this machine running one of ``index-many``'s tasks (Ray titles a busy worker
    ``ray::<task name>``): what the kill tests and benchmarks pick their victims from."""
    titles = tuple(f"ray::{task.__name__}".encode() for task in (index_repository, _process_shard))
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes().split(b"\0")[0]
            except OSError:
                continue
            if title.startswith(titles):
                pids.append(int(entry.name))
    return pids


def index_many(
    sources: Path | Sequence[Path],
    out: Path,
    *,
    rebuild: bool = False,
    limits: Limits = Limits(),
    shard_files: int = SHARD_FILES,
    pack_files: int = PACK_FILES,
    pack_capacity: int = PACK_CAPACITY,
    progress: ProgressFn | None = None,
) -> IndexManyReport:
    """Index every repository of ``sources`` into the workspace ``out`` on the connected Ray cluster.

    :param sources: a file listing repositories or a directory of them (see ``read_sources``), or the roots.
    :param pack_files: a repository seen for the first time with at most this many files goes into a
        pack of up to ``pack_capacity`` files (0: every repository gets its own index).
    :raises CodeSearchError: if ``sources`` names nothing or the workspace manifest is damaged;
        a repository's own failure is reported in its entry instead.
    """
    ray = require_ray()
    progress = progress or (lambda stage, done, total: None)
    started = time.perf_counter()
    roots = read_sources(sources) if isinstance(sources, (str, Path)) else [Path(p).resolve() for p in sources]
    out = Path(out).resolve()
    manifest = Manifest.load(out, missing_ok=True)
    entries = manifest.entries_for(roots, prefixes(roots))
    if pack_files > 0:
        _assign_packs(manifest, entries, limits, pack_files, pack_capacity, progress)
    task = ray.remote(max_retries=MAX_RETRIES, retry_exceptions=list(TRANSIENT))(index_repository)
    pending: dict[Any, tuple[list[RepoEntry], Mounts]] = {}
    named = {id(e) for e in entries}
    for entry in entries:
        if not entry.packed:
            manifest.index_dir(entry).parent.mkdir(parents=True, exist_ok=True)
            pending[task.remote(entry.root, str(manifest.index_dir(entry)), limits, shard_files, rebuild)] = \
                ([entry], Mounts())
    for pack in sorted({e.index for e in entries if e.packed}):
        mounts = manifest.mounts(pack)  # also those not named this time: a pack is indexed whole
        pending[task.remote(str(manifest.pack_root(pack)), str(manifest.pack_index(pack)), limits,
                            shard_files, rebuild, dict(mounts.roots))] = (manifest.members(pack), mounts)
    saved = time.monotonic()
    total, done = len(entries), 0
    progress("repos", 0, total)
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        group, mounts = pending.pop(ready[0])
        try:
            outcome = ray.get(ready[0])
        except Exception as exc:  # retries spent: the worker kept dying, or a transient error persisted
            outcome = {"error": _failure(exc)}
        for entry in group:
            _record(entry, outcome)
        if "index_id" in outcome:  # built by our own task, maybe on another machine with its own registry
            root = manifest.pack_root(group[0].index) if mounts else Path(group[0].root)
            trust.register(outcome["index_id"], manifest.index_dir(group[0]), root, mounts.digest())
        done += sum(id(e) in named for e in group)
        progress("repos", done, total)
        if time.monotonic() - saved > 2.0:  # a killed driver loses at most the last seconds of the list
            manifest.save()
            saved = time.monotonic()
    manifest.save()
    return IndexManyReport(str(out), entries, {"index": time.perf_counter() - started})


def _assign_packs(manifest: Manifest, entries: Sequence[RepoEntry], limits: Limits, pack_files: int,
                  capacity: int, progress: ProgressFn) -> None:
    """Put each small repository that has no index yet into a pack (its own index stays its own)."""
    new = [e for e in entries if not e.packed and e.generation == 0 and not manifest.index_dir(e).exists()]
    small = []
    for n, entry in enumerate(new, 1):
        if Path(entry.root).is_dir():  # a missing one fails in its own task, as it always did
            files = count_files(Path(entry.root), limits, pack_files + 1)
            if files <= pack_files:
                small.append((entry, files))
        progress("sizing", n, len(new))
    manifest.pack(small, capacity)


def _failure(exc: Exception) -> str:
    """One line for a task that failed for good (Ray wraps the task's own exception as ``cause``)."""
    cause = getattr(exc, "cause", None) or exc
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[-1] if lines else 'no message'}"


def _record(entry: RepoEntry, outcome: dict[str, Any]) -> None:
    entry.updated_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    if "error" in outcome:
        entry.status, entry.error = "failed", outcome["error"]
        return
    entry.status, entry.error = "indexed", ""
    entry.files, entry.chunks, entry.generation = outcome["files"], outcome["chunks"], outcome["generation"]
    entry.changed = outcome["changed"]
    if entry.packed:  # the pack's counts are all its repositories'; this one's are its own
        entry.files, entry.chunks, entry.changed = outcome["by_mount"].get(entry.name, (0, 0, False))
        if entry.name in outcome["missing"]:
            entry.status, entry.error = "failed", f"{entry.root} is not a directory"
    entry.shards, entry.seconds = outcome["shards"], round(outcome["seconds"], 3)
