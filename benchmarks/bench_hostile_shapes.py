"""Hostile shapes from real syntax: each line of the sample repositories repeated, nested and left open,
indexed at two sizes, to find a file whose cost grows faster than its size.

    python benchmarks/bench_hostile_shapes.py [--languages c,rust] [--size 16000] [-o FILE]

A cloned repository can hold any file under the size limits (``indexer.discover.Limits``). The
hostile-input tests hold the shapes found so far; this script looks for new ones. For every registry
language it takes the distinct lines of ``sample_repos/<language>/`` (a line's shape: names and
numbers that occur fewer than five times in the language's samples written as one name, so
``def load_users(self):`` and ``def save(self, x):`` count once) and, from each, builds:

- ``repeat``: the line (and, separately, the line with the one after it) repeated to the size;
- ``nest``: a line that opens a block (ends with ``{``, ``(``, ``[``, ``:``, ``do``, ``then`` or
  ``=``), nested in itself as deep as the size allows, closed at the end;
- ``inside``: a comment line repeated inside each of the first four kinds of block that open in the
  samples (Rust's ``//!`` lines in ``mod m {`` once cost the square of their count);
- ``open``: the repeated first line after an unterminated comment, string, heredoc or bracket of
  any registry language, and each such opener alone, repeated (2,000 lines of ``<!--`` took
  tree-sitter-ruby 58 s before every parse had a deadline).

Each file is processed as a worker does (``indexer.work.process``: read checks, parse, chunk, the
embedding and lexical terms of ``codesearch.pipeline.ChunkEmbedder`` with the shipped model) at the
size and at four times the size, in CPU seconds. A shape is super-linear when four times the bytes
cost more than ``--ratio`` times the time (eight by default: twice linear; a quadratic path costs
16 times) and the larger file takes more than ``--floor`` seconds; each such shape is then timed at
16 times the size: ``refused`` when its grammar refuses that file (the parse deadline, the nesting
limits: it is read as line windows, at a bounded cost), ``flagged`` when it costs ``--ratio`` times
the 4x file's time again (the exit status is 1), else ``noise``. A file the read checks skip (a long
line, minified) costs nothing and is counted as skipped; one whose parsing or embedding raised is
listed as ``failed`` (exit status 1): a bug, whatever its time.

The report lists, per language, the shapes tried, skipped and flagged, and each flagged shape's
times, so a fix can be checked by running the script again on its language.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codesearch.embed.static import StaticEmbedder
from codesearch.pipeline import ChunkEmbedder
from indexer.discover import FileEntry, Limits
from indexer.languages import language_for_path, language_names
from indexer.types import SkippedFile
from indexer.work import ParsedFile, Task, process

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_repos"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+")
_OPENS = re.compile(r"(?:[{(\[:=]|\bdo|\bthen)\s*$")
_CLOSERS = {"{": "}", "(": ")", "[": "]"}
_COMMENT = re.compile(r"\s*(?://|#|--|;|%|/\*|\*|\{-|\"\"\"|\'\'\'|@doc)")
# Openers of comments, strings, heredocs and markup in one registry language or another: each is tried in
# every language, alone on its lines and before the language's first sample line (what it opens runs on).
_UNTERMINATED = ("/*", "/**", '"', "'", "`", "(", "{-", "{-#", "--[[", "--[==[", '"""', "'''", "<<EOF", "<<~EOS",
                 "=begin", "<!--", "%q(", "%w[", "#|", "(*", 'r#"', 'R"(', '@"', '$"', "#if", "?>", "<?php", "${")


@dataclass(frozen=True, slots=True)
class Shape:
    """A way to fill a file from one snippet: ``build(n)`` gives about ``n`` bytes."""

    language: str
    kind: str
    snippet: str

    def build(self, size: int) -> str | None:
        if self.kind == "nest":
            return _nested(self.snippet, size)
        body = self.snippet if self.snippet.endswith("\n") else self.snippet + "\n"
        count = max(1, size // len(body))
        if self.kind == "repeat":
            return body * count
        if self.kind.startswith("inside "):
            opener = self.kind.removeprefix("inside ")
            return opener + "\n" + body * count + _closer(opener) + "\n"
        opener = self.kind.removeprefix("open ")
        return opener + "\n" + body * count


def _closer(line: str) -> str:
    """What closes the block ``line`` opens (nothing for an indented block, ``:`` or ``=``)."""
    text = line.strip()
    return _CLOSERS.get(text[-1], "end" if re.search(r"\b(?:do|then)$", text) else "")


def _nested(line: str, size: int) -> str | None:
    """``line`` (which opens a block) inside itself, indented, then closed: ``size`` bytes or fewer."""
    text = line.strip()
    closer = _closer(text)
    depth, used = 0, 0
    while used + len(text) + len(closer) + 2 + 4 * depth < size and depth < 2_000:  # a level's two lines
        used += len(text) + len(closer) + 2 + 4 * depth
        depth += 1
    if depth < 2:
        return None
    # Deep indentation makes long lines; past a few hundred levels one space a level keeps them readable.
    pad = 1 if depth > 200 else 2
    opened = "".join(" " * (pad * d) + text + "\n" for d in range(depth))
    body = " " * (pad * depth) + ("pass" if text.endswith(":") else "x") + "\n"
    closed = "".join(" " * (pad * d) + closer + "\n" for d in reversed(range(depth))) if closer else ""
    return opened + body + closed


def _skeleton(line: str, common: set[str]) -> str:
    return _NAME.sub(lambda m: m.group() if m.group() in common else "x", line.strip())


def shapes(language: str) -> Iterator[Shape]:
    """Every distinct shape of the language's sample lines, each line alone and with the next one."""
    files = [p for p in (SAMPLES / language).rglob("*")
             if p.is_file() and (spec := language_for_path(p.name)) is not None and spec.name == language]
    lines = [line.rstrip() for p in sorted(files) for line in p.read_text(errors="replace").splitlines()]
    counts = Counter(name for line in lines for name in _NAME.findall(line))
    common = {name for name, n in counts.items() if n >= 5}
    seen: set[tuple[str, str]] = set()

    def fresh(kind: str, snippet: str) -> bool:
        key = (kind, _skeleton(snippet, common))
        if key in seen:
            return False
        seen.add(key)
        return True

    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if fresh("repeat", line):
            yield Shape(language, "repeat", line)
        if i + 1 < len(lines) and lines[i + 1].strip() and fresh("repeat2", line + "\n" + lines[i + 1]):
            yield Shape(language, "repeat", line + "\n" + lines[i + 1])
        if _OPENS.search(line) and fresh("nest", line):
            yield Shape(language, "nest", line)
    # A comment line repeated inside each of the first four kinds of block: a doc of lines inside a
    # definition (Rust's `//!` in `mod m {`) was a quantified capture whose cost grew with its square.
    openers = list(dict.fromkeys(line.strip() for line in lines if _OPENS.search(line)))[:4]
    markers = {}  # a comment line of each marker (`///`, `//!`, `#`, `--`, ...)
    for line in lines:
        if _COMMENT.match(line):
            markers.setdefault(re.match(r"\s*([^\w\s]*)", line).group(1), line)
    for line in markers.values():
        for opener in openers:
            yield Shape(language, "inside " + opener, line)
    body = next((line for line in lines if line.strip()), "x")
    for opener in _UNTERMINATED:
        if fresh("repeat", opener):
            yield Shape(language, "repeat", opener)
        yield Shape(language, "open " + opener, body)


def _extension(language: str) -> str:
    for path in sorted((SAMPLES / language).rglob("*")):
        spec = language_for_path(path.name)
        if path.is_file() and spec is not None and spec.name == language:
            return path.name[path.name.index("."):] if "." in path.name else path.name
    raise SystemExit(f"no sample file for {language}")


@dataclass(frozen=True, slots=True)
class Cost:
    """What processing one file took, in CPU seconds, and how it ended."""

    seconds: float
    windowed: bool = False  # its grammar refused it (the parse deadline, the limits): read as line windows
    failed: str = ""  # the parser or the embedding raised: a bug, whatever the time


def cost(shape: Shape, size: int, work: Path, ext: str, embed: ChunkEmbedder) -> Cost | None:
    """Processing the shape's file of about ``size`` bytes; None when none is built or the read checks skip it."""
    text = shape.build(size)
    if text is None:
        return None
    path = work / ("hostile" + ext)
    path.write_text(text)
    stat = path.stat()
    entry = FileEntry(path.name, str(work), shape.language, stat.st_size, stat.st_mtime_ns)
    started = time.process_time()
    result = process(Task(entry), Limits(), embed)
    seconds = time.process_time() - started
    if isinstance(result, SkippedFile):
        failed = result.reason.startswith(("parser failed", "indexing failed"))
        return Cost(seconds, failed=result.reason) if failed else None
    assert isinstance(result, ParsedFile)
    return Cost(seconds, windowed=bool(result.windowed))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--languages", help="comma-separated registry languages (default: all)")
    parser.add_argument("--size", type=int, default=16_000, help="bytes of the smaller file (default 16000)")
    parser.add_argument("--ratio", type=float, default=8.0, help="flag when 4x the bytes cost more (default 8)")
    parser.add_argument("--floor", type=float, default=0.3, help="and the larger file takes more seconds")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every shape's times")
    parser.add_argument("-o", "--output", type=Path, help="write the report as JSON")
    args = parser.parse_args(argv)
    languages = args.languages.split(",") if args.languages else [
        name for name in language_names() if (SAMPLES / name).is_dir()]
    embed = ChunkEmbedder(StaticEmbedder.default())
    work = Path(__import__("tempfile").mkdtemp(prefix="hostile-shapes-"))
    report: dict[str, Any] = {"size": args.size, "ratio": args.ratio, "floor": args.floor, "languages": {}}
    for language in languages:
        ext = _extension(language)
        tried = skipped = 0
        flagged: list[dict[str, Any]] = []
        refused: list[dict[str, Any]] = []
        noise: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        windowed = 0
        slowest = (0.0, "")
        for shape in shapes(language):
            if args.verbose:
                print(f"  ... {shape.kind}: {shape.snippet[:60]!r}", flush=True)
            small = cost(shape, args.size, work, ext, embed)
            large = cost(shape, 4 * args.size, work, ext, embed) if small is not None else None
            if small is None or large is None:
                skipped += 1
                continue
            tried += 1
            windowed += large.windowed
            for done in (small, large):
                if done.failed:
                    failed.append({"kind": shape.kind, "snippet": shape.snippet[:200], "reason": done.failed})
                    print(f"  FAILED {language} {shape.kind} {shape.snippet[:60]!r}: {done.failed}", flush=True)
            slowest = max(slowest, (large.seconds, f"{shape.kind}: {shape.snippet[:60]!r}"))
            if args.verbose:
                print(f"  {small.seconds:7.3f} {large.seconds:7.3f}  {shape.kind}: {shape.snippet[:60]!r}", flush=True)
            if large.seconds > args.floor and large.seconds > args.ratio * max(small.seconds, 1e-3):
                larger = cost(shape, 16 * args.size, work, ext, embed)
                entry = {"kind": shape.kind, "snippet": shape.snippet[:200],
                         "seconds": [round(small.seconds, 3), round(large.seconds, 3),
                                     larger and round(larger.seconds, 3)]}
                if larger is None or larger.windowed:
                    verdict, into = "refused", refused  # the deadline or a limit stopped it: bounded
                elif larger.seconds > args.ratio * large.seconds:
                    verdict, into = "FLAG", flagged  # super-linear again from 4x to 16x
                else:
                    verdict, into = "noise", noise  # linear from 4x to 16x: the 4x time was a blip
                into.append(entry)
                print(f"  {verdict} {language} {shape.kind} {shape.snippet[:60]!r}: {entry['seconds']} s", flush=True)
        report["languages"][language] = {"tried": tried, "skipped": skipped, "windowed": windowed,
                                         "flagged": flagged, "refused": refused, "noise": noise, "failed": failed,
                                         "slowest": {"seconds": round(slowest[0], 3), "shape": slowest[1]}}
        print(f"{language:11s} tried {tried:5d} skipped {skipped:4d} windowed {windowed:4d} "
              f"flagged {len(flagged):3d} refused {len(refused):3d} failed {len(failed)} "
              f"slowest {slowest[0]:.2f} s ({slowest[1][:70]})", flush=True)
    if args.output:
        args.output.write_text(json.dumps(report, indent=1) + "\n")
    return 1 if any(v["flagged"] or v["failed"] for v in report["languages"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
