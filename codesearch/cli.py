"""The ``codesearch`` command line: the only module that knows about click."""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import click

from codesearch import __version__
from codesearch.errors import CodeSearchError
from codesearch.kinds import KINDS

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
FORMATS = ("text", "json", "jsonl", "grep")
# Exit codes, as ripgrep's: 0 results (or success), 1 no results, 2 an error.
EXIT_NO_RESULTS = 1
EXIT_ERROR = 2
# True when the console script (``codesearch.entry``) already asked a resident process for this search.
_ASKED_RESIDENT = False


class _Failure(click.ClickException):
    exit_code = EXIT_ERROR


# click >= 8.2 answers `codesearch` alone with its help as a usage error; that stays as it is.
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


@contextmanager
def _one_line_usage_errors() -> Iterator[None]:
    """click's usage errors (a bad option, value or argument) as one line naming the help, exit code 2,
    as every other error, instead of click's usage, hint and message."""
    try:
        yield
    except click.UsageError as exc:
        if isinstance(exc, _NO_ARGS_IS_HELP):
            raise
        from codesearch.render import one_line

        message, ctx = exc.format_message().rstrip("."), exc.ctx
        if isinstance(exc, click.NoSuchOption) and ctx is not None and ctx.command.name == "search":
            name = exc.option_name
            if any(c.isspace() for c in name):  # `search '-v increase verbosity'`: click read `-v`, then `- `
                message = "an argument that starts with a dash and holds a space is no option"
            message += "; a query that starts with a dash goes after -e or --"
            if name.startswith("--"):  # not "-r" of "-retry": that is not what was typed
                message += f" (codesearch search -e {shlex.quote(name) if shlex.quote(name) != name else repr(name)})"
        raise _Failure(one_line(message) + (f" (see '{ctx.command_path} -h')" if ctx is not None else "")) from exc


# What an index run stopped by Ctrl-C leaves: what its last commit held (a long run commits as it goes).
INDEX_INTERRUPTED = ("Interrupted; the index is as this run's last commit or the run before left it (none on a "
                     "first run stopped early); `codesearch index` goes on from there.")


@contextmanager
def cli_errors(interrupted: str = "Interrupted.") -> Iterator[None]:
    """Turn library errors into one-line messages and exit code 2; Ctrl-C into ``interrupted`` and exit code 130
    (SIGTERM: 143)."""
    try:
        yield
    except CodeSearchError as exc:
        from codesearch.render import one_line

        raise _Failure(one_line(str(exc))) from exc
    except KeyboardInterrupt as stopped:  # Ctrl-C, or SIGTERM (``entry.Terminated``)
        from codesearch.entry import exit_code

        click.echo(interrupted, err=True)
        sys.exit(exit_code(stopped))


class _HelpOption(click.Option):
    """An option whose help text is computed when help is shown (``help_text``), from a setting
    or the language registry, so that it never disagrees with them and costs nothing at start-up."""

    def __init__(self, *args: Any, help_text: Callable[[], str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help_text = help_text

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        self.help = self.help_text()
        return super().get_help_record(ctx)


def _given_once(message: str) -> Callable[[click.Context, click.Parameter, tuple[str, ...]], str | None]:
    """A callback for an option taken once (``multiple=True`` only to see it given twice): its value, None when
    not given; given twice with two values, a usage error saying ``message`` (click keeps the last without a
    word: `-l go -l rust` said the index had no rust files, `-e retry -e backoff` searched for backoff)."""
    def once(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> str | None:
        if len(set(value)) > 1:
            raise click.UsageError(message.format(given=" and ".join(value)), ctx)
        return value[0] if value else None
    once.taken_once = True  # type: ignore[attr-defined]  # the CLI reference says no "repeatable" (``devcli.accepts``)
    return once


_one_language = _given_once("give --language once, not {given}: a search is of one language or all")
_one_symbol = _given_once("give --symbol once: related starts from one definition")
_one_query = _given_once("give -e once: a search is one query (put every word of it in that one -e)")


def _index_start(file: Path, repo: Path) -> Path:
    """Where the index of ``related FILE:LINE`` is looked for: above the file; for a relative path that is not
    there, above -C/--repo (the file is then read from the repository: `related python/x.py:22 -C repos` from
    elsewhere said to index the working directory); for an absolute one, above its nearest existing directory
    (the error then says the file does not exist)."""
    if os.path.isdir(file.parent):  # False for a name too long for the system (`is_dir` raised: a traceback)
        return file.parent
    if not file.is_absolute():
        return repo
    start = file.parent
    while not os.path.isdir(start) and start != start.parent:
        start = start.parent
    return start


class _Directory(click.Path):
    """An existing directory; a file is refused in words (click says "Directory 'x' is a file")."""

    def __init__(self) -> None:
        super().__init__(exists=True, file_okay=False, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if os.path.exists(value) and not os.path.isdir(value):
            name = max(param.opts, key=len) if isinstance(param, click.Option) else "PATH"
            raise click.UsageError(_not_a_directory(name, value), ctx)
        return super().convert(value, param, ctx)


def _not_a_directory(name: str, value: str | os.PathLike[str]) -> str:
    """The error for a file given where a directory is needed."""
    from codesearch.render import one_line

    return f"{name} must be a directory (a repository or a folder in one), got a file: {one_line(os.fsdecode(value))}"


class _Number(click.FloatRange):
    """A float in a range that is a number: click's FloatRange lets `nan` through (each comparison with it is
    false), and `--min-score nan` filtered nothing without a word (the red team)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if number != number:
            self.fail(f"{value!r} is not a number in the range {self._describe_range()}.", param, ctx)
        return number


_DIRECTORY = _Directory()
_SEARCH_PATH = click.Path(exists=True, path_type=Path)


def _languages() -> str:
    """The names ``--language`` accepts, from the registry."""
    from indexer.languages import searchable_languages

    return ", ".join(searchable_languages())


def _rerank_default() -> str:
    """What a search does without --rerank or --fast (``codesearch.search.DEFAULT_RERANK``)."""
    from codesearch.search import DEFAULT_RERANK

    return "--rerank" if DEFAULT_RERANK else "--fast"


def _hybrid_default() -> str:
    """Whether a search fuses the lexical ranking without --hybrid or --no-hybrid (``DEFAULT_HYBRID``)."""
    from codesearch.search import DEFAULT_HYBRID

    return "--hybrid" if DEFAULT_HYBRID else "--no-hybrid"


class _Group(click.Group):
    """The ``codesearch`` group: ``-h`` lists the user's commands, then the developer commands
    (``codesearch.devcli``: benchmarks and training) under a heading of their own."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.developer_commands: set[str] = set()

    def add_developer_command(self, command: click.Command) -> None:
        """Register COMMAND like any other, listed under "Developer commands" in ``-h``."""
        self.add_command(command)
        self.developer_commands.add(command.name or "")

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        with _one_line_usage_errors():  # the group's own options
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with _one_line_usage_errors():  # the command's name, its options and arguments, and its callback
            return super().invoke(ctx)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        listed = [(name, command) for name in self.list_commands(ctx)
                  if (command := self.get_command(ctx, name)) is not None and not command.hidden]
        if not listed:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in listed)
        for title, developer in (("Commands", False), ("Developer commands", True)):
            rows = [(name, command.get_short_help_str(limit)) for name, command in listed
                    if (name in self.developer_commands) == developer]
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


@click.group(cls=_Group, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version")
def cli() -> None:
    """Semantic code search for local repositories, offline.

    \b
    Example:
        codesearch index .
        codesearch search "retry failed http requests"
    """


@cli.command()
@click.argument("path", default=".", type=_DIRECTORY)
@click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path), envvar="CODESEARCH_INDEX_DIR",
              help="Where to keep the index (default: PATH/.codesearch).")
@click.option("--rebuild", is_flag=True, help="Discard the existing index and index everything again.")
@click.option("--wait", type=_Number(min=0), default=0.0, show_default=True, metavar="SECONDS",
              help="Seconds to wait if another run is updating the same index.")
@click.option("--max-file-bytes", type=click.IntRange(min=1), default=1_000_000, show_default=True,
              help="Skip files larger than this many bytes.")
@click.option("--workers", type=click.IntRange(min=1), envvar="CODESEARCH_WORKERS",
              help="Most worker processes for parsing and embedding (default: the CPU count).")
@click.option("--deep", is_flag=True,
              help="Also embed every new chunk with the reranker, so reranked searches pay only for the query.")
@click.option("--rerank-model", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="With --deep: the reranker to embed with (default: the shipped one).")
@click.option("--no-ignore", is_flag=True,
              help="For this run, ignore .gitignore/.codesearchignore and the vendored, hidden and build-output "
                   "directory rules.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def index(path: Path, index_dir: Path | None, rebuild: bool, wait: float, max_file_bytes: int,
          workers: int | None, deep: bool, rerank_model: Path | None, no_ignore: bool, as_json: bool,
          quiet: bool) -> None:
    """Index the functions, methods, classes and the code between them under PATH (default: current directory).

    A second run only re-reads changed files and re-embeds changed chunks. Inside a
    subdirectory of an indexed repository it updates that repository's index (as git finds
    its repository); --index-dir keeps a separate one.

    \b
    Example:
        codesearch index ~/src/myproject
        codesearch index --deep           # precompute the reranker's vectors too
        codesearch index --rebuild        # after upgrading the model
    """
    from codesearch.pipeline import build_index
    from indexer.discover import Limits

    if rerank_model is not None and not deep:  # it was taken and unused, without a word
        raise click.UsageError("--rerank-model is the reranker --deep embeds with: give --deep too")
    deep_report = None
    started = time.perf_counter()
    with cli_errors(INDEX_INTERRUPTED), progress_bars(quiet or as_json) as progress:
        from codesearch.resident_client import refuse_escaping

        refuse_escaping(path)  # a link the repository planted, leading out of it: never indexed
        if index_dir is None:
            path = _enclosing_repository(path, quiet or as_json)
        report = build_index(path, index_dir, rebuild=rebuild, wait=wait,
                             limits=Limits(max_bytes=max_file_bytes), progress=progress, workers=workers,
                             use_ignore_files=not no_ignore)
        if deep:
            from codesearch.deep import deep_index
            from codesearch.rerank import load_reranker

            reranker = load_reranker(rerank_model, Path(report.index_dir))
            deep_report = deep_index(Path(report.index_dir), reranker, progress)
    wall = time.perf_counter() - started
    if as_json:
        payload = {k: v for k, v in vars(report).items() if k not in ("skipped", "seconds")}
        payload["wall_seconds"] = round(wall, 3)
        payload["stage_seconds_summed_over_workers"] = report.seconds
        payload["skipped"] = [{"path": s.path, "reason": s.reason} for s in report.skipped]
        if deep_report is not None:
            payload["deep"] = {**asdict(deep_report), "per_second": round(deep_report.per_second, 1)}
        click.echo(json.dumps(payload, indent=2))
        return
    if quiet:
        return
    from codesearch.render import index_report

    click.echo(index_report(report, wall))
    if deep_report is not None:
        click.echo(f"Deep: {deep_report.embedded} chunks embedded by the reranker in {deep_report.seconds:.1f}s "
                   f"({deep_report.per_second:.0f}/s), {deep_report.chunks - deep_report.embedded} already cached, "
                   f"{deep_report.removed} dropped")


def _enclosing_repository(path: Path, quiet: bool) -> Path:
    """The indexed repository that PATH lies in (its nearest parent with an index, as git finds
    its repository), or PATH itself when none does: a subdirectory never gets an index of its own.
    A git repository of its own between them (`git init` in a folder of an indexed one) is PATH's repository, as
    git has it: the recheck's nested repository was indexed into its parent's index."""
    from codesearch.errors import IndexNotFound
    from codesearch.search import find_index

    try:
        root = find_index(path).parent
    except IndexNotFound:
        return path
    here = path.resolve()
    for directory in (here, *here.parents):
        if directory == root:
            break
        if os.path.lexists(directory / ".git"):
            return directory  # a repository of its own, inside the indexed one
    if root != here and not quiet:
        from codesearch.render import quote_path  # the names are the repository's (an archive's folder name)

        click.echo(f"Updating the index of the enclosing repository {quote_path(str(root))} "
                   f"(pass --index-dir to keep a separate index for {quote_path(str(path))})", err=True)
    return root


def _cluster_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--cluster and --cpus, for the commands that run on Ray."""
    command = click.option("--cpus", type=click.IntRange(min=1),
                           help="With --cluster local: CPUs to use (default: all).")(command)
    return click.option("--cluster", "address", default="local", show_default=True, metavar="ADDRESS",
                        help="Ray cluster address (e.g. 10.0.0.5:6379 or auto), "
                             "or 'local' to start one on this machine.")(command)


@cli.command("index-many")
@click.argument("sources", type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Workspace directory: the manifest and one index per repository (shared storage on a cluster).")
@_cluster_options
@click.option("--shard-files", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Split a repository with more changed files than this into shards of this many.")
@click.option("--pack-files", type=click.IntRange(min=0), default=500, show_default=True,
              help="Put a new repository with at most this many files into a pack shared with other small "
                   "ones (0: one index per repository).")
@click.option("--pack-capacity", type=click.IntRange(min=1), default=20_000, show_default=True,
              help="The most files a pack takes.")
@click.option("--max-file-bytes", type=click.IntRange(min=1), default=1_000_000, show_default=True,
              help="Skip files larger than this many bytes.")
@click.option("--rebuild", is_flag=True, help="Discard every existing index and index everything again.")
@click.option("--deep", is_flag=True,
              help="Also embed every new chunk with the reranker (Ray Data; on GPU workers when the cluster has GPUs).")
@click.option("--rerank-model", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="With --deep: the reranker to embed with (default: the shipped one).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def index_many_command(sources: Path, out: Path, address: str, cpus: int | None, shard_files: int,
                       pack_files: int, pack_capacity: int, max_file_bytes: int, rebuild: bool, deep: bool,
                       rerank_model: Path | None, as_json: bool, quiet: bool) -> None:
    """Index many repositories on a Ray cluster into one workspace (needs the `cluster` extra).

    SOURCES is a directory whose subdirectories are repositories, or a file with one
    repository path per line. Each repository gets an ordinary index in OUT/indexes/, but
    small ones share packs in OUT/packs/ (a query then costs per pack, not per repository);
    OUT/workspace.json lists them. Failed repositories are reported and the others go
    on (exit code 1 if any failed); running it again updates only what changed.

    \b
    Example:
        pip install 'codesearch[cluster]'
        codesearch index-many ~/src --out ~/workspace                 # a local Ray cluster
        codesearch index-many repos.txt --out /shared/ws --cluster 10.0.0.5:6379 --deep
        codesearch index-many ~/src --out ~/ws --pack-files 0             # one index per repository
        codesearch search "retry failed requests" --workspace ~/workspace
    """
    from codesearch.cluster import connected
    from codesearch.cluster.index_many import index_many
    from indexer.discover import Limits

    if rerank_model is not None and not deep:
        raise click.UsageError("--rerank-model is the reranker --deep embeds with: give --deep too")
    started = time.perf_counter()
    sources, out = sources.resolve(), out.resolve()
    with cli_errors(INDEX_INTERRUPTED), progress_bars(quiet or as_json) as progress:
        with connected(address, cpus):
            connect = time.perf_counter() - started
            report = index_many(sources, out, rebuild=rebuild, limits=Limits(max_bytes=max_file_bytes),
                                shard_files=shard_files, pack_files=pack_files, pack_capacity=pack_capacity,
                                progress=progress)
            deep_report = None
            if deep:
                from codesearch.cluster.deep import deep_many
                from codesearch.manifest import Manifest

                done = {r.name for r in report.repos if r.status == "indexed"}
                listed = {name: d for name, d, mounts in Manifest.load(out).searchable()
                          if name in done or done.intersection(mounts.roots)}
                deep_report = deep_many(listed, rerank_model, progress)
    report.seconds.update(connect=connect, total=time.perf_counter() - started)
    if as_json:
        payload = report.as_dict()
        if deep_report is not None:
            payload["deep"] = asdict(deep_report)
        click.echo(json.dumps(payload, indent=2))
    elif not quiet:
        from codesearch.render import index_many_report

        click.echo(index_many_report(report))
        if deep_report is not None:
            click.echo(f"Deep: {deep_report.embedded} chunks embedded by the reranker on {deep_report.actors} "
                       f"{'GPU' if deep_report.gpus_per_actor else 'CPU'} actor(s) in {deep_report.seconds:.1f}s, "
                       f"{deep_report.chunks - deep_report.embedded} already cached, {deep_report.removed} dropped")
    if report.failed:
        sys.exit(EXIT_NO_RESULTS)


@cli.command()
@click.option("--workspace", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The workspace to serve (made by index-many).")
@_cluster_options
@click.option("--groups", type=click.IntRange(min=1), default=2, show_default=True,
              help="Split the repositories into this many shard groups, one deployment each.")
@click.option("--replicas", type=click.IntRange(min=1), default=1, show_default=True,
              help="Replicas per shard group.")
@click.option("--host", default="127.0.0.1", show_default=True, metavar="HOST",
              help="IP address or host name to listen on (0.0.0.0: every interface; then set --token).")
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True, help="Port to listen on.")
@click.option("--token", envvar="CODESEARCH_SERVE_TOKEN", metavar="TOKEN",
              help="Ask every request for 'Authorization: Bearer TOKEN' (or set CODESEARCH_SERVE_TOKEN).")
def serve(workspace: Path, address: str, cpus: int | None, groups: int, replicas: int, host: str, port: int,
          token: str | None) -> None:
    """Serve a workspace over HTTP with Ray Serve (needs the `cluster` extra); Ctrl-C stops it.

    Shard-group replicas hold the indexes; a router fans each query out and merges the
    top k. GET /search?q=QUERY&k=10 answers the JSON of `codesearch search --json`
    (also: language, kind, path, exclude, per_file, min_score, max_lines, hybrid=0).

    \b
    Example:
        codesearch serve --workspace ~/workspace --groups 4
        curl 'http://127.0.0.1:8765/search?q=retry+failed+requests&k=5'
    """
    from codesearch.cluster import connected
    from codesearch.cluster import serve as serving
    from codesearch.render import quote_path

    workspace = workspace.resolve()
    with cli_errors(), connected(address, cpus):
        url = serving.start(workspace, groups=groups, host=host, port=port, replicas=replicas, token=token)
        click.echo(f"Serving {quote_path(str(workspace))} at {url}?q=QUERY (Ctrl-C stops)", err=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            serving.stop()


@cli.command()
@click.argument("words", nargs=-1, metavar="QUERY [PATHS]...")
@click.option("-e", "--query", "query_option", metavar="QUERY", multiple=True, callback=_one_query,
              help="The query, as rg's -e PATTERN: for a query that starts with a dash, e.g. -e '--offline'; "
                   "every argument is then a PATH.")
@click.option("-k", "--top-k", "k", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="Number of results.")
@click.option("-l", "--language", metavar="LANGUAGE", cls=_HelpOption, multiple=True,
              callback=_one_language,
              help_text=lambda: f"Only results in this language ({_languages()}).")
@click.option("-p", "--path", "path_globs", metavar="GLOB", multiple=True,
              help="Only results whose path matches GLOB (as printed, or relative to the repository), "
                   "e.g. 'src/*' or '*.py'; a directory matches the files below it, and a name without '/' "
                   "matches at any depth, as rg's -g ('retry.py', 'tests'); repeatable.")
@click.option("-x", "--exclude", "exclude_globs", metavar="GLOB", multiple=True,
              help="Leave out results whose path matches GLOB, e.g. '*_test.go' or 'tests'; repeatable.")
@click.option("--all", "whole_index", is_flag=True,
              help="Search the whole index even when PATH is a subdirectory of the indexed repository.")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output format.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path), envvar="CODESEARCH_INDEX_DIR",
              help="Index to search (default: the .codesearch of PATH or its nearest parent).")
@click.option("--workspace", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Search every repository of this workspace (made by index-many) as one corpus.")
@click.option("--hybrid/--no-hybrid", default=None, cls=_HelpOption,
              help_text=lambda: "Fuse the semantic ranking with a lexical (BM25) one "
                                f"(default: {_hybrid_default()}).")
@click.option("--rerank/--fast", default=None, cls=_HelpOption,
              help_text=lambda: "Rescore the top candidates with the transformer second stage, or skip it "
                                f"(default: {_rerank_default()}).")
@click.option("--rerank-model", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Reranker directory: an exported one (reranker.json) or a sentence-transformers model "
                   "(default: the shipped reranker).")
@click.option("--candidates", type=click.IntRange(1, 1000), default=20, show_default=True,
              help="How many first-stage hits --rerank rescores (at least -k of them).")
@click.option("--by-file", is_flag=True,
              help="Group the results by file, as rg does: -k files, in the order of their best hit, each "
                   "with its best hits (--per-file of them, default 3).")
@click.option("--per-file", type=click.IntRange(min=0), default=0, show_default=True,
              help="At most N hits of one file before every other file's (0: no limit, but five for a task "
                   "such as 'parse a date'); with --by-file, the hits shown under each file (0: three).")
@click.option("--min-score", type=_Number(0, 1), default=0.0, show_default=True,
              help="Leave out hits whose similarity is below this.")
@click.option("--kind", "kinds", type=click.Choice(KINDS, case_sensitive=False), multiple=True,
              help="Only chunks of this kind (repeatable), e.g. --kind function --kind method.")
@click.option("--max-lines", type=click.IntRange(min=1),
              help="Cut each snippet (and the code field of JSON) to N lines.")
@click.option("--explain", is_flag=True,
              help="Show each stage's score (static, lexical, fused, ranking signals, rank, rerank).")
@click.option("--color/--no-color", default=None,
              help="Syntax highlighting (default: on a terminal, unless NO_COLOR is set).")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing; the exit code says whether anything was found.")
@click.option("-v", "--verbose", is_flag=True, help="Show the progress bars of the libraries that load a reranker.")
@click.option("--no-resident", "no_resident", is_flag=True,
              help="Search in this process even when a resident process (`codesearch resident`) serves the index.")
def search(words: tuple[str, ...], query_option: str | None, k: int, language: str | None, path_globs: tuple[str, ...],
           exclude_globs: tuple[str, ...], whole_index: bool, fmt: str, as_json: bool, index_dir: Path | None,
           workspace: Path | None, hybrid: bool | None, rerank: bool | None, rerank_model: Path | None,
           candidates: int, by_file: bool, per_file: int, min_score: float, kinds: tuple[str, ...],
           max_lines: int | None, explain: bool, color: bool | None, quiet: bool, verbose: bool,
           no_resident: bool) -> None:
    """Search the index of PATH (default: current directory) for QUERY, in plain English.

    PATH may be a subdirectory of an indexed repository: then only files below it are
    searched (--all searches everything), or one of its files: only that file; one inside a directory the
    index skipped (hidden,
    vendored, build output) finds nothing, and says why. Several PATHs search their repositories as one
    corpus (each PATH that is a subdirectory, only below it; --all: the whole repositories), and several
    subdirectories of one repository search below each of them (as rg does); text and grep
    print each result's path from the working directory, and JSON's starts with its repository's name (its
    `repo`). A QUERY that starts
    with a dash goes after -e (or after --, which ends the options). Exit code 0 when
    something was found, 1 when nothing was, 2 on an error.

    \b
    Example:
        codesearch search "where do we retry failed HTTP requests?"
        codesearch search "parse a config file" -l python -k 5
        codesearch search "open a database connection" --path 'src/*' --format grep
        codesearch search "retry with backoff" --rerank --explain
        codesearch search "session handling" --per-file 1    # one hit per file first
        codesearch search "how are templates rendered" --by-file  # files, each with its best hits
        codesearch search "parse a url" ~/src/app ~/src/lib     # two repositories as one
        codesearch search "parse a url" --workspace ~/workspace  # every repository of index-many
        codesearch search -e --offline src/       # a query that starts with a dash (or: -- --offline src/)
    """
    query, paths = _query_and_paths(words, query_option)
    fmt = "json" if as_json else fmt
    use_color = (sys.stdout.isatty() and not os.environ.get("NO_COLOR")) if color is None else color
    if not _ASKED_RESIDENT:
        from codesearch import resident_client  # stdlib only: the answer of a resident process costs no numpy

        params = click.get_current_context().params
        asked = resident_client.search_request(params, tuple(map(str, paths)), query, use_color)
        answer = None if asked is None else resident_client.search_reply(*asked)
        if answer is not None:
            text, found, notice = answer
            if text is not None:
                click.echo(text, color=use_color if fmt == "text" else None)
            if notice is not None:
                click.echo(notice, err=True)
            if not found:
                sys.exit(EXIT_NO_RESULTS)
            return
    from codesearch.resident import (below_floor, filtered_out, not_indexed, subdirectory, unindexed,
                                     unindexed_of_several)
    from codesearch.search import DEFAULT_HYBRID, DEFAULT_RERANK, PathFilter, Searcher, SearchOptions, find_index
    from codesearch.search import files, validate_query

    if not verbose:
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("TQDM_DISABLE", "1")
    path = paths[0] if paths else Path(".")
    with cli_errors():
        validate_query(query, k)
        PathFilter(include=path_globs, exclude=exclude_globs)  # a bad glob is refused before an index is opened
        if len(paths) > 1 and index_dir is not None:
            raise click.UsageError("--index-dir names one index; give one PATH with it")
        within: tuple[Path, ...] = ()  # several PATHs of one repository, searched below each (as rg searches two)
        if len(paths) > 1 and workspace is None:
            paths, within = _subdirectories_of_one(paths)
            within = () if whole_index else within  # --all: the whole repository they are in
            path = paths[0]
        if workspace is not None and (paths or index_dir is not None):
            raise click.UsageError("--workspace searches its own repositories; give no PATH or --index-dir with it")
        if workspace is not None:
            from codesearch.manifest import Manifest

            listed = Manifest.load(workspace).searchable()
            directory = listed[0][1]
        else:
            directory = index_dir or find_index(path)
        reranker = None
        asked = bool(rerank) or rerank_model is not None
        if asked or (rerank is None and DEFAULT_RERANK):
            from codesearch.errors import MissingExtra, ModelNotFound
            from codesearch.rerank import load_reranker

            try:
                reranker = load_reranker(rerank_model, directory)
            except (ModelNotFound, MissingExtra) as exc:
                if asked:
                    raise
                from codesearch.render import one_line

                click.echo(f"warning: {one_line(str(exc))}; showing first-stage results", err=True)
        started = time.perf_counter()
        extra: dict[str, Any] = {}
        options = SearchOptions(k=k, language=language, kinds=kinds,
                                hybrid=DEFAULT_HYBRID if hybrid is None else hybrid, rerank=reranker,
                                candidates=candidates, per_file=0 if by_file else per_file, min_score=min_score)
        if len(paths) > 1 or workspace is not None:
            from codesearch.multi import MultiSearcher, prefixes

            indexes, names, mounts = ([d for _, d, _ in listed], [n for n, _, _ in listed],
                                      [m for _, _, m in listed]) if workspace is not None else \
                ([find_index(p) for p in paths], None, None)
            roots = None  # of several PATHs, by name: each index in its repository
            unders: dict[str, str] = {}  # of several PATHs, by name: the subdirectory searched (as one PATH's)
            if workspace is None:
                _one_path_per_repository(paths, indexes)
                tops = [Path(d).resolve().parent for d in indexes]
                names = prefixes(tops)
                roots = dict(zip(names, tops))
                if not whole_index:
                    unders = {name: subdirectory(top, path) for name, top, path in zip(names, tops, paths)}
            # A damaged or unreadable index is left out with a warning, the others answer (CLI.md).
            with MultiSearcher(indexes, names=names, mounts=mounts, keep_going=True, unders=unders) as multi:
                _warn_left_out(multi.left_out, quiet, roots)
                # as printed too: `app/src/*`, or `../x2/app/*` from elsewhere (each searcher's root and Path.cwd())
                filters = PathFilter(include=path_globs, exclude=exclude_globs, cwd=Path.cwd())
                found = files.answer(lambda n: multi.search(query, n, options, paths=filters), k, by_file, per_file)
                extra["repos"] = multi.roots
                unders = [multi.unders.get(name, "") for name in multi.names]
                extra.update(unindexed_of_several(multi.searchers, filters, unders))
                if not found.results:  # why, in each repository (the recheck: several PATHs said only "No results.")
                    notes = [filtered_out(s, [], language, path_globs, kinds, exclude_globs, under).get("note")
                             for s, under in zip(multi.searchers, unders)]
                    if notes and all(notes):
                        extra["note"] = "; ".join(f"in {name}: {note}" for name, note in zip(multi.names, notes))
                    elif min_score > 0:
                        extra.update(below_floor(lambda: multi.search(query, 1, replace(options, min_score=0.0),
                                                                      paths=filters), min_score))
                if multi.left_out:
                    extra["left_out"] = multi.left_out
        else:
            # An index named by --index-dir must belong to the PATH given with it (one line if not).
            with Searcher(directory, root=path if index_dir is not None and paths else None) as searcher:
                under = "" if whole_index else subdirectory(searcher.root, path)
                filters = PathFilter(include=path_globs, exclude=exclude_globs, under=under, cwd=Path.cwd(),
                                     within=tuple(subdirectory(searcher.root, place) for place in within))
                found = files.answer(lambda n: searcher.search(query, n, options, paths=filters), k, by_file,
                                     per_file)
                extra.update(not_indexed(searcher, under, found.results))
                extra.update(unindexed(searcher, under, filters))
                extra.update(filtered_out(searcher, found.results, language, path_globs, kinds, exclude_globs,
                                          under))
                if not found.results and "note" not in extra and min_score > 0:  # the floor left nothing: say so
                    extra.update(below_floor(lambda: searcher.search(query, 1, replace(options, min_score=0.0),
                                                                     paths=filters), min_score))
        elapsed_ms = (time.perf_counter() - started) * 1000
    _print_results(query, found.results, fmt, max_lines=max_lines, explain=explain, color=use_color, quiet=quiet,
                   elapsed_ms=elapsed_ms, extra=extra, files=found.groups, best=found.best)


def one_query_threads() -> None:
    """One thread for OpenBLAS and OpenMP (FAISS) in a process that answers one query at a time
    (``codesearch resident``), unless the environment says otherwise; set before numpy and FAISS
    load (they read it then).

    A single query gains nothing from a thread pool, and a pool's threads spin while they wait:
    a resident process answered in 9-13 ms with one thread against 35-39 ms with FAISS's default
    two (2 cores, load ~6). A one-shot search measured no clear difference, and keeps the defaults."""
    if "numpy" in sys.modules:  # too late to matter, and the caller's process keeps its settings
        return
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(name, "1")


def _query_and_paths(words: tuple[str, ...], query_option: str | None) -> tuple[str, tuple[Path, ...]]:
    """The query and the PATHs of ``search``'s arguments: with ``-e QUERY`` every argument is a
    PATH (as rg's ``-e PATTERN``), without it the first argument is the query."""
    if query_option is None and not words:
        raise click.UsageError("give a QUERY, or -e QUERY for one that starts with a dash")
    query, given = (query_option, words) if query_option is not None else (words[0], words[1:])
    try:  # a directory or a file: one PATH scopes the search to the files below it, or to that file (as rg)
        return query, tuple(_SEARCH_PATH.convert(word, None, click.get_current_context()) for word in given)
    except click.BadParameter as exc:
        exc.param_hint = "'[PATHS]...'"
        raise


def _warn_left_out(left_out: dict[str, str], quiet: bool, roots: dict[str, Path] | None = None) -> None:
    """One warning line per repository of a workspace (or of several PATHs, their ``roots`` by name) that its search
    leaves out, with the fix."""
    if quiet or not left_out:
        return
    import shlex

    from codesearch.render import one_line

    for name, why in left_out.items():
        fix = f"; `codesearch index --rebuild {shlex.quote(str(roots[name]))}` rebuilds it" if roots else ""
        click.echo(f"warning: {one_line(name)} left out: {one_line(why)}{one_line(fix)}", err=True)
    if not roots:
        click.echo(f"warning: `codesearch index-many` over the repositories, where they are now, brings "
                   f"{'it' if len(left_out) == 1 else 'them'} back", err=True)


def _subdirectories_of_one(paths: tuple[Path, ...]) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """Several PATHs in one repository, none inside another (`src/proto/h1 src/proto/h2`: refused as "give one PATH
    per repository" to a new user), as one PATH, their common directory, and the places to search below it (each
    PATH, resolved); any other PATHs as given, and no places."""
    from codesearch.errors import CodeSearchError
    from codesearch.search import find_index

    try:
        indexes = {find_index(p).resolve() for p in paths}
    except CodeSearchError:
        return paths, ()  # refused below, as it is
    places = [p.resolve() for p in paths]
    if len(indexes) != 1 or any(a == b or a.is_relative_to(b) for a in places for b in places if a is not b):
        return paths, ()
    return (Path(os.path.commonpath(places)),), tuple(places)


def _one_path_per_repository(paths: tuple[Path, ...], indexes: list[Path]) -> None:
    """Refuse two PATHs of one index (one PATH per repository), naming them as given."""
    from codesearch.render import one_line

    seen: dict[Path, Path] = {}
    for path, directory in zip(paths, indexes):
        other = seen.setdefault(directory, path)
        if other is path:
            continue
        first, second = other.resolve(), path.resolve()
        if first == second:
            message = f"{one_line(str(path))} is given twice"
        elif first.is_relative_to(second) or second.is_relative_to(first):
            inner, outer = (other, path) if first.is_relative_to(second) else (path, other)
            message = f"{one_line(str(inner))} is inside {one_line(str(outer))}, which is already searched"
        else:
            message = (f"{one_line(str(other))} and {one_line(str(path))} are in the same repository "
                       f"{one_line(str(directory.parent))}; give one PATH per repository (their common directory, "
                       "and -p globs to narrow it)")
        raise click.UsageError(message)


def _print_results(query: str, results: list[Any], fmt: str, *, max_lines: int | None, explain: bool,
                   color: bool | None, quiet: bool, elapsed_ms: float, extra: dict[str, Any],
                   files: list[Any] | None = None, best: float | None = None) -> None:
    """Print results in the chosen format (``resident.search_output``); exit 1 when there are none."""
    from codesearch.resident import search_notice, search_output

    use_color = (sys.stdout.isatty() and not os.environ.get("NO_COLOR")) if color is None else color
    text = None if quiet else search_output(query, results, fmt, max_lines=max_lines, explain=explain,
                                            color=use_color, elapsed_ms=elapsed_ms, extra=extra, files=files,
                                            best=best)
    if text is not None:
        # color= as well: click.echo strips escape sequences off a pipe unless told (`--color | less -R`).
        _echo_piped(text, color=use_color if fmt == "text" else None)
    if not quiet and (notice := search_notice(fmt, extra, query, results, best)) is not None:
        click.echo(notice, err=True)
    if not results:
        sys.exit(EXIT_NO_RESULTS)


def _echo_piped(text: str, **settings: Any) -> None:
    """``click.echo``, ending quietly with exit code 0 when the reader closed the pipe (`| head -1`): click's own
    handling exits 1, which says "nothing found" (`related | head -1` did, its header written first)."""
    try:
        click.echo(text, **settings)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        sys.exit(0)


@cli.command()
@click.argument("location", required=False, metavar="[FILE:LINE]")
@click.option("-s", "--symbol", metavar="NAME", multiple=True, callback=_one_symbol,
              help="Start from the definition with this (qualified) name instead of FILE:LINE, e.g. HttpClient.send "
                   "(an overload with its parameters: Element.text(String)).")
@click.option("-C", "--repo", "repo", default=".", type=_DIRECTORY,
              help="Repository whose index --symbol looks in (and FILE, when its path is from the repository).")
@click.option("-k", "--top-k", "k", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="Number of results.")
@click.option("-l", "--language", metavar="LANGUAGE", cls=_HelpOption, multiple=True,
              callback=_one_language,
              help_text=lambda: f"Only results in this language ({_languages()}).")
@click.option("-p", "--path", "path_globs", metavar="GLOB", multiple=True,
              help="Only results whose path matches GLOB (as printed, or relative to the repository); repeatable.")
@click.option("-x", "--exclude", "exclude_globs", metavar="GLOB", multiple=True,
              help="Leave out results whose path matches GLOB; repeatable.")
@click.option("--kind", "kinds", type=click.Choice(KINDS, case_sensitive=False), multiple=True,
              help="Only chunks of this kind (repeatable).")
@click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path), envvar="CODESEARCH_INDEX_DIR",
              help="Index to search (default: the .codesearch above the file, or above --repo).")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output format.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--max-lines", type=click.IntRange(min=1), help="Cut each snippet to N lines.")
@click.option("--explain", is_flag=True, help="Show each stage's score.")
@click.option("--color/--no-color", default=None, help="Syntax highlighting (default: on a terminal).")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing; the exit code says whether anything was found.")
def related(location: str | None, symbol: str | None, repo: Path, k: int, language: str | None,
            path_globs: tuple[str, ...], exclude_globs: tuple[str, ...], kinds: tuple[str, ...],
            index_dir: Path | None, fmt: str, as_json: bool, max_lines: int | None, explain: bool,
            color: bool | None, quiet: bool) -> None:
    """Code like the definition at FILE:LINE (or --symbol NAME): overloads, implementations,
    tests, the same helper elsewhere.

    The definition itself, its class and its methods are left out. Exit code 0 when
    something was found, 1 when nothing was, 2 on an error.

    \b
    Example:
        codesearch related src/http/client.py:120
        codesearch related --symbol HttpClient.send -k 5
        codesearch related mux.go:305 --path '*_test.go'     # its tests
    """
    from codesearch.related import at_line, one_named
    from codesearch.related import related as find_related
    from codesearch.errors import IndexNotFound
    from codesearch.resident import unindexed
    from codesearch.search import PathFilter, Searcher, find_index

    fmt = "json" if as_json else fmt
    if (location is None) == (symbol is None):
        raise click.UsageError("give FILE:LINE or --symbol NAME (one of them)")
    with cli_errors():
        if location is not None:
            file, line = _location(location)
            try:
                directory = index_dir or find_index(_index_start(Path(file), repo))
            except IndexNotFound:
                if os.path.lexists(file) or os.path.lexists(repo / file):
                    raise
                from codesearch.errors import BadQuery

                # no index around a file that is not there: the file is what is wrong (`related.relative_path`
                # says so where an index is found)
                raise BadQuery(f"no such file: {file}") from None
        else:
            try:
                directory = index_dir or find_index(repo)
            except IndexNotFound as exc:
                raise IndexNotFound(f"{exc}, or give the repository with -C/--repo") from None
        started = time.perf_counter()
        with Searcher(directory) as searcher:
            from codesearch.render import quote_path, shown_path

            source = at_line(searcher, file, line) if location is not None else one_named(
                searcher, symbol or "", place=lambda path: quote_path(shown_path(str(searcher.root), path)))
            filters = PathFilter(include=path_globs, exclude=exclude_globs, cwd=Path.cwd())  # as printed too
            results = find_related(searcher, source, k, language=language, paths=filters, kinds=kinds)
            root = str(searcher.root)
            extra = {"source": source.to_dict(), **unindexed(searcher, "", filters)}  # files added or deleted since
        elapsed_ms = (time.perf_counter() - started) * 1000
    if fmt == "text" and not quiet:
        from codesearch.render import related_header

        _echo_piped(related_header(source, root) + "\n")  # its path as the results' are shown
    _print_results(f"{source.path}:{source.start_line}", results, fmt, max_lines=max_lines, explain=explain,
                   color=color, quiet=quiet, elapsed_ms=elapsed_ms, extra=extra)


@cli.command()
@click.argument("path", default=".", type=_DIRECTORY)
@click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path), envvar="CODESEARCH_INDEX_DIR",
              help="Index directory (default: PATH/.codesearch).")
@click.option("--read-only", is_flag=True,
              help="Never index: serve an existing index as it is (results in changed files are re-located).")
@click.option("--rerank", is_flag=True, help="Load the transformer reranker once and rerank every search.")
@click.option("--workers", type=click.IntRange(min=1), envvar="CODESEARCH_WORKERS",
              help="Worker processes for indexing (default: the CPU count).")
def mcp(path: Path, index_dir: Path | None, read_only: bool, rerank: bool, workers: int | None) -> None:
    """Serve PATH's code to coding agents over MCP (stdio); needs the mcp extra.

    Tools: search, related, index_status. The repository is indexed on first use, and
    changed files are re-indexed before each answer. PATH inside a repository you indexed
    already (a subdirectory, as an editor's workspace folder) serves that repository.

    \b
    Example:
        codesearch mcp /path/to/repo                              # speaks MCP on stdin/stdout
        claude mcp add codesearch -- codesearch mcp /path/to/repo   # register it with Claude Code
    """
    from codesearch.mcp_server import serve

    with cli_errors():
        if rerank:
            from codesearch.rerank import load_reranker

            load_reranker(None, None)  # fail now, in one line, if it cannot load; the server loads its own
        serve(path, index_dir=index_dir, auto_index=not read_only, rerank=rerank, workers=workers)


@cli.command("resident")
@click.argument("path", default=".", type=_DIRECTORY)
@click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path), envvar="CODESEARCH_INDEX_DIR",
              help="Index to serve (default: the .codesearch of PATH or its nearest parent).")
@click.option("--status", "action", flag_value="status",
              help="Only say whether a resident process answers for the index (exit code 1 if none does).")
@click.option("--stop", "action", flag_value="stop",
              help="Stop the resident process of the index (exit code 1 if none).")
def resident_command(path: Path, index_dir: Path | None, action: str | None) -> None:
    """Keep the index of PATH open in a resident process that `codesearch search` asks first.

    A one-shot search spends most of its time starting; a resident process pays that once
    and answers searches of one index until stopped (Ctrl-C, SIGTERM or --stop). It listens
    on a socket only you can open (in your runtime directory, else ~/.cache/codesearch/run)
    and is only ever started by you. A search falls back to its own process, silently, when
    none answers (or with --no-resident).

    \b
    Example:
        codesearch resident ~/src/app &               # serve until stopped
        codesearch search "parse a url" ~/src/app     # answered by it
        codesearch resident ~/src/app --status
        codesearch resident ~/src/app --stop
    """
    if action is None:
        one_query_threads()
    from codesearch import resident
    from codesearch.errors import IndexNotFound
    from codesearch.render import quote_path
    from codesearch.search import find_index
    from codesearch.store.layout import INDEX_DIR_NAME

    with cli_errors():
        try:
            directory = index_dir or find_index(path)
        except IndexNotFound:
            if action is None:
                raise
            directory = path.resolve() / INDEX_DIR_NAME  # --status, --stop: the socket of the index that was there
        if action is None:
            server = resident.Resident(directory)
    if action is not None:
        reply = resident.ask(directory, {"op": action}, timeout=2.0)
        if reply is None or not reply.get("ok"):
            click.echo("No resident process answers for this index.", err=True)
            sys.exit(EXIT_NO_RESULTS)
        if action == "status":
            shown = quote_path(str(reply.get("index_dir")))
            click.echo(f"pid {reply.get('pid')}: {shown} ({reply.get('chunks')} chunks, "
                       f"generation {reply.get('generation')}, {reply.get('searches')} searches answered)")
        else:
            click.echo(f"Stopped the resident process of {quote_path(str(directory))}.", err=True)
        return
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # the finally below removes the socket
    click.echo(f"Serving {quote_path(str(server.index_dir))} on {quote_path(str(server.path))} (pid {os.getpid()})",
               err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


def _location(text: str) -> tuple[str, int]:
    """``FILE:LINE`` split (a path may contain colons; the line is after the last one)."""
    file, sep, line = text.rpartition(":")
    if not sep or not file or not (line.isascii() and line.isdigit()):  # not "²", which int() refuses
        raise click.UsageError(f"expected FILE:LINE, e.g. src/app.py:42, got {text!r}")
    return file, int(line)


@cli.command()
@click.argument("path", default=".", type=_DIRECTORY)
@click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path), envvar="CODESEARCH_INDEX_DIR",
              help="Index to describe (default: the .codesearch of PATH or its nearest parent).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def stats(path: Path, index_dir: Path | None, as_json: bool) -> None:
    """Describe the index of PATH: model, counts per language and kind, skipped files, and the files added or
    deleted since the last index run.

    \b
    Example:
        codesearch stats
        codesearch stats --json | jq .chunks_by_language
    """
    from codesearch.search import find_index
    from codesearch.store.reader import IndexReader

    from codesearch.errors import IndexCorrupt, IndexOutOfDate, naming_index

    with cli_errors():
        directory = index_dir or find_index(path)
        try:
            with IndexReader(directory) as reader:
                reader.snapshot_files()  # a damaged vector or lexical file is no healthy index (search refuses it)
                info: dict[str, Any] = {"index_dir": str(directory), **asdict(reader.meta), "root": str(reader.root),
                                        **reader.stats()}
                info.update(_out_of_date(reader))
            from codesearch.embed.static import StaticEmbedder
            from codesearch.store.reader import check_model

            try:  # described all the same, but said: search refuses an index of another model
                check_model(reader.meta, StaticEmbedder.default().fingerprint)
            except IndexOutOfDate as exc:
                info["out_of_date"] = str(naming_index(exc, reader.root, Path(directory).resolve()))
        except (IndexCorrupt, IndexOutOfDate) as exc:
            raise naming_index(exc, None, Path(directory).resolve()) from exc
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    from codesearch.render import stats_text

    click.echo(stats_text(info))


def _out_of_date(reader: Any) -> dict[str, Any]:
    """``unindexed`` and ``deleted`` (``resident.unindexed``) of an open index: the files added and deleted since its
    last run (after a branch switch, `stats` counted the files of the other branch without a word). A pack: {}."""
    from types import SimpleNamespace

    from codesearch.pack import Mounts
    from codesearch.resident import unindexed

    if reader.registration is not None and reader.registration.mounts:
        return {}
    return unindexed(SimpleNamespace(reader=reader, root=reader.root, mounts=Mounts()), "")


@contextmanager
def progress_bars(quiet: bool) -> Iterator[Callable[[str, int, int], None]]:
    """A progress callback drawing one click bar per stage on stderr."""
    if quiet or not sys.stderr.isatty():
        yield lambda stage, done, total: None
        return
    bars: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if total <= 0:
            return
        bar = bars.get(stage)
        if bar is None:
            for other in bars.values():
                other.render_finish()
            bar = bars[stage] = click.progressbar(length=total, label=f"{stage:<8}", file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)

    try:
        yield update
    finally:
        for bar in bars.values():
            bar.__exit__(None, None, None)


def _register_developer_commands() -> None:
    """bench, distill and train-reranker live in ``codesearch.devcli`` (imported here, at the end:
    that module takes ``cli_errors`` and ``progress_bars`` from this one when a command runs)."""
    from codesearch.devcli import COMMANDS

    for command in COMMANDS:
        cli.add_developer_command(command)


_register_developer_commands()


def main(asked_resident: bool = False) -> None:
    """Console-script entry point; output piped into `head` and closed early ends quietly.
    ``asked_resident``: the console script asked a resident process for this search and got no answer."""
    global _ASKED_RESIDENT
    _ASKED_RESIDENT = asked_resident
    try:
        cli(prog_name="codesearch")
    except BrokenPipeError:
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        sys.exit(0)


if __name__ == "__main__":
    main()
