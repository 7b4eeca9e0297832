"""Retrieval datasets in the CodeSearchNet jsonl schema: read them, or build them from code.

A record has the official fields: ``language, func_name, code, docstring,
original_string, code_tokens, docstring_tokens, repo, path, url, partition``. The query
is the first paragraph of ``docstring``; the document is ``code`` without its docstring
or doc comment.

``build_from_repo`` makes such records from any local repository with our indexer,
dropping trivial pairs the way CodeSearchNet did: docstrings under 3 tokens, functions
under 3 lines, names containing "test", constructors and standard methods
(``__repr__``, ``toString``...; one list per language in the registry).
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from codesearch.errors import CodeSearchError
from indexer.chunk import chunks_for_file
from indexer.discover import FileEntry, read_source, walk
from indexer.docs import first_paragraph
from indexer.languages import UnknownLanguage, spec_for
from indexer.types import SourceFile, SymbolKind

_TOKEN = re.compile(r"\w+|[^\w\s]")
FIELDS = ("language", "func_name", "code", "docstring", "original_string", "code_tokens", "docstring_tokens",
          "repo", "path", "url", "partition")


class DatasetError(CodeSearchError):
    """A dataset file is missing or malformed."""


@dataclass(frozen=True, slots=True)
class Example:
    """One CodeSearchNet-style pair: a function and its documentation."""

    language: str
    func_name: str
    code: str
    docstring: str
    original_string: str
    code_tokens: list[str]
    docstring_tokens: list[str]
    repo: str
    path: str
    url: str
    partition: str

    @property
    def query(self) -> str:
        """The natural-language query: the docstring's first paragraph."""
        return first_paragraph(self.docstring)


def tokens(text: str) -> list[str]:
    """Word and punctuation tokens, as in the dataset's ``*_tokens`` fields."""
    return _TOKEN.findall(text)


def dataset_files(paths: Iterable[Path]) -> list[Path]:
    """The .jsonl / .jsonl.gz files named by ``paths``: files as given, folders searched recursively.

    :raises DatasetError: for a missing path or a folder without dataset files.
    """
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.name.endswith((".jsonl", ".jsonl.gz")))
            if not found:
                raise DatasetError(f"no .jsonl or .jsonl.gz files in {path}")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise DatasetError(f"dataset file {path} does not exist")
    return files


def read_jsonl(paths: Iterable[Path]) -> Iterator[Example]:
    """Examples from .jsonl / .jsonl.gz files, or folders of them (searched recursively).

    :raises DatasetError: for a missing path or a record without the required fields.
    """
    for path in dataset_files(paths):
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if line.strip():
                    yield _example(json.loads(line), path, number)


def _example(record: dict[str, object], path: Path, line: int) -> Example:
    missing = [f for f in ("language", "code", "docstring") if not record.get(f)]
    if missing:
        raise DatasetError(f"{path}:{line}: record lacks {', '.join(missing)}")
    try:
        language = spec_for(str(record["language"])).name
    except UnknownLanguage as exc:
        raise DatasetError(f"{path}:{line}: {exc}") from None
    code, docstring = str(record["code"]), str(record["docstring"])
    return Example(
        language=language,
        func_name=str(record.get("func_name") or ""),
        code=code,
        docstring=docstring,
        original_string=str(record.get("original_string") or code),
        code_tokens=list(record.get("code_tokens") or tokens(code)),  # type: ignore[arg-type]
        docstring_tokens=list(record.get("docstring_tokens") or tokens(docstring)),  # type: ignore[arg-type]
        repo=str(record.get("repo") or ""),
        path=str(record.get("path") or ""),
        url=str(record.get("url") or ""),
        partition=str(record.get("partition") or "test"),
    )


def write_jsonl(examples: Iterable[Example], path: Path) -> int:
    """Write examples as jsonl (gzip if the name ends in .gz); returns how many."""
    path.parent.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if path.name.endswith(".gz") else open
    count = 0
    with opener(path, "wt", encoding="utf-8") as fh:
        for example in examples:
            fh.write(json.dumps(asdict(example), ensure_ascii=False) + "\n")
            count += 1
    return count


def build_from_repo(root: Path, repo: str | None = None, partition: str = "test") -> list[Example]:
    """CodeSearchNet-style pairs from the documented functions and methods of a repository."""
    root = Path(root).resolve()
    repo = repo or root.name
    examples = []
    for item in walk(root):
        if not isinstance(item, FileEntry):
            continue
        source = read_source(item)
        if not isinstance(source, SourceFile):
            continue
        try:
            chunks = chunks_for_file(source)
        except Exception:  # noqa: BLE001 - as the index does (indexer/work.py): a parser failure costs one file
            continue
        for chunk in chunks:
            if chunk.kind not in (SymbolKind.FUNCTION, SymbolKind.METHOD) or chunk.window or not keep_pair(
                chunk.language, chunk.name, chunk.qualname, chunk.doc, chunk.code_without_doc
            ):
                continue
            code = chunk.code_without_doc
            examples.append(
                Example(
                    language=chunk.language,
                    func_name=chunk.qualname,
                    code=code,
                    docstring=chunk.doc,
                    original_string=chunk.code,
                    code_tokens=tokens(code),
                    docstring_tokens=tokens(first_paragraph(chunk.doc)),
                    repo=repo,
                    path=chunk.path,
                    url=f"{repo}/{chunk.path}#L{chunk.start_line}-L{chunk.end_line}",
                    partition=partition,
                )
            )
    return examples


def keep_pair(language: str, name: str, qualname: str, doc: str, code: str) -> bool:
    """CodeSearchNet's filters: a useful query, a real body, no tests, no boilerplate."""
    if len(tokens(first_paragraph(doc))) < 3:
        return False
    if len(code.strip().splitlines()) < 3:
        return False
    if "test" in qualname.lower():
        return False
    parent = qualname.rsplit(".", 2)[-2] if "." in qualname else ""
    return name not in spec_for(language).boilerplate_names and name != parent  # constructor: Foo.Foo
