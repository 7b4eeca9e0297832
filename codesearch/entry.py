"""The ``codesearch`` console script: a plain search of one index is answered without importing click
and the CLI (about 30 ms of a resident process's ~60 ms answer, 10-20 ms of a one-shot search's
~200 ms): by the resident process when one serves the index, else in this process
(``resident.answer_here``, the resident's own code); everything else goes to ``codesearch.cli``.

``fast_search_params`` reads ``codesearch search`` arguments only when they are plainly valid and
plainly understood (every option spelled out as the CLI defines it, values in range, PATHs that
are readable directories); for anything else (``--help``, an unknown or abbreviated option, a bad
value, shell completion, Windows) it declines, and the CLI parses the arguments as always, errors
and all. It yields the same parameters as click's parser for the same arguments
(tests/test_startup.py checks that on many argument lists).
"""

from __future__ import annotations

import os
import sys

from codesearch.kinds import KINDS

# The search command's options (``codesearch.cli.search``): each spelling, its parameter, and its kind.
_VALUE = {"-e": "query_option", "--query": "query_option", "-k": "k", "--top-k": "k", "-l": "language",
          "--language": "language", "-f": "fmt", "--format": "fmt", "--index-dir": "index_dir",
          "--candidates": "candidates", "--per-file": "per_file", "--min-score": "min_score",
          "--max-lines": "max_lines"}
_MULTIPLE = {"-p": "path_globs", "--path": "path_globs", "-x": "exclude_globs", "--exclude": "exclude_globs",
             "--kind": "kinds"}
_FLAGS = {"--all": ("whole_index", True), "--json": ("as_json", True), "--hybrid": ("hybrid", True),
          "--no-hybrid": ("hybrid", False), "--rerank": ("rerank", True), "--fast": ("rerank", False),
          "--explain": ("explain", True), "--color": ("color", True), "--no-color": ("color", False),
          "-q": ("quiet", True), "--quiet": ("quiet", True), "-v": ("verbose", True), "--verbose": ("verbose", True),
          "--no-resident": ("no_resident", True), "--by-file": ("by_file", True)}
_FORMATS = ("text", "json", "jsonl", "grep")


def defaults() -> dict[str, object]:
    """The search command's parameters when no option is given (click's defaults)."""
    return {"words": (), "query_option": None, "k": 10, "language": None, "path_globs": (), "exclude_globs": (),
            "whole_index": False, "fmt": "text", "as_json": False, "index_dir": None, "workspace": None,
            "hybrid": None, "rerank": None, "rerank_model": None, "candidates": 20, "by_file": False, "per_file": 0,
            "min_score": 0.0, "kinds": (), "max_lines": None, "explain": False, "color": None, "quiet": False,
            "verbose": False, "no_resident": False}


def fast_search_params(args: list[str]) -> dict[str, object] | None:
    """The parameters click would give ``codesearch search`` for ``args`` (PATHs as strings), or None
    when these arguments are not plainly valid and plainly understood (the CLI then parses them)."""
    params = defaults()
    multiple: dict[str, list[str]] = {"path_globs": [], "exclude_globs": [], "kinds": []}
    words: list[str] = []
    position = 0
    while position < len(args):
        arg = args[position]
        position += 1
        if arg == "--":
            words += args[position:]
            break
        if not arg.startswith("-") or arg == "-":
            words.append(arg)
            continue
        name, equals, attached = arg.partition("=")
        if not arg.startswith("--"):
            name, equals, attached = arg, "", ""  # -k5, -qv: declined below
        if name in _FLAGS and not equals:
            key, flag = _FLAGS[name]
            params[key] = flag
            continue
        if name not in _VALUE and name not in _MULTIPLE:
            return None
        if equals:
            value = attached
        elif position < len(args):
            value, position = args[position], position + 1
        else:
            return None
        if name in _MULTIPLE:
            multiple[_MULTIPLE[name]].append(value)
        elif params.get(_VALUE[name]) not in (None, value) and _VALUE[name] in ("language", "query_option"):
            return None  # `-l go -l rust`, `-e retry -e backoff`: the CLI says to give it once
        else:
            params[_VALUE[name]] = value
    params.update({key: tuple(values) for key, values in multiple.items()})
    params["words"] = tuple(words)
    return params if _converted(params) else None


def _converted(params: dict[str, object]) -> bool:
    """Convert ``params``' string values as click's types do, in place; False if any is not plainly valid."""
    env_index = os.environ.get("CODESEARCH_INDEX_DIR")
    if params["index_dir"] is None and env_index:
        params["index_dir"] = env_index
    try:
        for key, low, high in (("k", 1, 1000), ("candidates", 1, 1000), ("per_file", 0, None), ("max_lines", 1, None)):
            if isinstance(params[key], str):
                params[key] = number = int(str(params[key]))
                if number < low or (high is not None and number > high):
                    return False
        if isinstance(params["min_score"], str):
            params["min_score"] = score = float(str(params["min_score"]))
            if not 0.0 <= score <= 1.0:
                return False
    except ValueError:
        return False
    index_dir = params["index_dir"]
    if index_dir is not None and (not index_dir or (os.path.exists(str(index_dir))
                                                    and not os.path.isdir(str(index_dir)))):
        return False
    words = params["words"]
    assert isinstance(words, tuple)
    given = words if params["query_option"] is not None else words[1:]
    if params["query_option"] is None and not words:
        return False
    kinds = params["kinds"]
    assert isinstance(kinds, tuple)
    return (params["fmt"] in _FORMATS and all(kind in KINDS for kind in kinds)
            and all(word and os.path.isdir(word) and os.access(word, os.R_OK) for word in given))


def fast_search(args: list[str]) -> tuple[int | None, bool]:
    """Print the answer to ``codesearch search ARGS`` of a resident process, else of this process: the exit
    code (None when the CLI must run the search: arguments it must parse, several indexes, reranking, an
    error to report) and whether a resident process was asked (the CLI then does not ask again)."""
    if sys.platform == "win32" or "_CODESEARCH_COMPLETE" in os.environ:
        return None, False
    params = fast_search_params(args)
    if params is None:
        return None, False
    from codesearch import resident_client

    words = params["words"]
    assert isinstance(words, tuple)
    query, paths = (params["query_option"], words) if params["query_option"] is not None else (words[0], words[1:])
    fmt = "json" if params["as_json"] else params["fmt"]
    color = params["color"]
    use_color = (_isatty(sys.stdout) and not os.environ.get("NO_COLOR")) if color is None else bool(color)
    here = bool(params["no_resident"])  # --no-resident: this process answers, without asking
    asked = resident_client.search_request({**params, "no_resident": False}, tuple(paths), str(query), use_color)
    if asked is None:
        return None, True  # the CLI would find no resident process to ask either
    answer = None if here else resident_client.search_reply(*asked)
    if answer is None:
        from codesearch.resident import answer_here  # no resident process: search here, still without click

        answer = answer_here(*asked)
    if answer is None:
        return None, True
    text, found, notice = answer
    if text is not None:
        echo(text, use_color if fmt == "text" else None)
    if notice is not None:
        print(notice, file=sys.stderr)
    return (0 if found else 1), True


def _isatty(stream: object) -> bool:
    """``stream.isatty()``, False when it cannot say (as click's)."""
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - any stream object
        return False


def echo(text: str, color: bool | None) -> None:
    """Print ``text`` and a newline as ``click.echo(text, color=color)`` does on a POSIX system: ANSI
    styles stripped unless ``color`` (None: unless stdout is a terminal); click itself prints
    when stdout is not a plain text stream of a non-ASCII encoding."""
    stream = sys.stdout
    if stream is None:
        return
    encoding = getattr(stream, "encoding", None) or "ascii"
    import codecs

    if codecs.lookup(encoding).name == "ascii" or not hasattr(stream, "buffer"):
        import click

        click.echo(text, color=color)
        return
    out = text + "\n"
    if (not _isatty(stream) if color is None else not color) and "\033" in out:
        import re

        out = re.sub(r"\033\[[0-?]*[ -/]*[@-~]", "", out)  # click._compat._ansi_re
    stream.write(out)
    stream.flush()


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``timeout``, an editor cancelling a search), taken as Ctrl-C is, so that a run's cleanup
    runs: a search stopped so while it parsed a changed file left that parse's mark (``codesearch.reparse``), and
    every later search dropped the file's hits without a word; an index run ended with no message. Exit code 143."""


# The commands that stop as on Ctrl-C when terminated (the servers keep their own ways: ``resident`` removes its
# socket, ``mcp`` and ``serve`` end with their host).
TERMINATED_AS_INTERRUPTED = frozenset({"search", "index", "related", "stats", "index-many"})


def _terminated(_signum: int, _frame: object) -> None:
    raise Terminated()


def exit_code(interruption: KeyboardInterrupt) -> int:
    """130 for Ctrl-C, 143 for SIGTERM (``Terminated``), as a shell reports either."""
    return 143 if isinstance(interruption, Terminated) else 130


def main() -> None:
    """The console script: a resident process's answer to a search, else the CLI (``codesearch.cli.main``)."""
    import signal

    if sys.argv[1:2] and sys.argv[1] in TERMINATED_AS_INTERRUPTED and \
            signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:  # an ignored SIGTERM stays ignored
        signal.signal(signal.SIGTERM, _terminated)
    asked = False
    if sys.argv[1:2] == ["search"]:
        try:
            code, asked = fast_search(sys.argv[2:])
        except BrokenPipeError:  # as the CLI: output piped into `head` and closed early ends quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        except KeyboardInterrupt as stopped:  # as the CLI's search reports it (``cli_errors``)
            sys.stderr.write("Interrupted.\n")
            sys.exit(exit_code(stopped))
        if code is not None:
            sys.exit(code)
    from codesearch.cli import main as cli_main

    cli_main(asked_resident=asked)


if __name__ == "__main__":
    main()
