"""The language registry: one row per language, nothing language-specific elsewhere.

Each row names the file extensions, the grammar wheel and the function in it that
returns the grammar, and the query file in ``indexer/queries/``. Adding a language
means adding a row here and one ``.scm`` file.
"""

from __future__ import annotations

import fnmatch
import importlib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from tree_sitter import Language, Parser, Query


class UnknownLanguage(ValueError):
    """Raised for a language name that is not in the registry."""


@dataclass(frozen=True, slots=True)
class LanguageSpec:
    """How to parse one language.

    :param name: registry name, used in the index and on the command line.
    :param extensions: file suffixes (with the dot) that belong to the language.
    :param grammar_module: the official tree-sitter grammar wheel's module.
    :param grammar_function: the function in that module that returns the grammar.
    :param snippet_wrappers: (prefix, suffix) pairs that make a lone function or method a
        parseable file (``<?php``, a class around a method), tried in order.
    :param boilerplate_names: constructors and standard overrides (``toString``, ``__repr__``),
        which retrieval benchmarks drop as CodeSearchNet did.
    :param test_files: file-name globs of the language's test files (search demotes them
        unless the query asks for tests; test directories count for every language).
    :param query_name: the query file's name when languages share one (``tsx`` uses ``typescript``).
    """

    name: str
    extensions: tuple[str, ...]
    grammar_module: str
    grammar_function: str = "language"
    snippet_wrappers: tuple[tuple[str, str], ...] = (("", ""),)
    boilerplate_names: frozenset[str] = frozenset()
    test_files: tuple[str, ...] = ()
    query_name: str = ""

    @property
    def query_file(self) -> str:
        """The query file name inside ``indexer/queries``."""
        return f"{self.query_name or self.name}.scm"


LANGUAGES: tuple[LanguageSpec, ...] = (
    LanguageSpec(
        "python", (".py", ".pyi"), "tree_sitter_python",
        boilerplate_names=frozenset({"__init__", "__new__", "__del__", "__repr__", "__str__", "__eq__", "__ne__",
                                     "__hash__", "__lt__", "__le__", "__gt__", "__ge__", "__len__", "__iter__",
                                     "__next__", "__contains__", "__getitem__", "__setitem__", "__delitem__",
                                     "__enter__", "__exit__", "__bool__", "__call__", "__getattr__", "__setattr__"}),
        test_files=("test_*.py", "*_test.py", "conftest.py"),
    ),
    LanguageSpec(
        "javascript", (".js", ".jsx", ".mjs", ".cjs"), "tree_sitter_javascript",
        snippet_wrappers=(("", ""), ("class Snippet {\n", "\n}\n"), ("const snippet = {\n", "\n};\n")),
        boilerplate_names=frozenset({"constructor", "toString", "valueOf", "toJSON"}),
        test_files=("*.test.*", "*.spec.*", "*_test.js", "*-test.js"),
    ),
    LanguageSpec(
        "typescript", (".ts", ".mts", ".cts"), "tree_sitter_typescript", "language_typescript",
        snippet_wrappers=(("", ""), ("class Snippet {\n", "\n}\n")),
        boilerplate_names=frozenset({"constructor", "toString", "valueOf", "toJSON"}),
        test_files=("*.test.*", "*.spec.*"),
    ),
    LanguageSpec(
        "tsx", (".tsx",), "tree_sitter_typescript", "language_tsx",
        snippet_wrappers=(("", ""), ("class Snippet {\n", "\n}\n")),
        boilerplate_names=frozenset({"constructor", "toString", "valueOf", "toJSON"}),
        test_files=("*.test.*", "*.spec.*"),
        query_name="typescript",
    ),
    LanguageSpec(
        "java", (".java",), "tree_sitter_java",
        snippet_wrappers=(("class Snippet {\n", "\n}\n"),),
        boilerplate_names=frozenset({"toString", "equals", "hashCode", "clone", "finalize"}),
        test_files=("*Test.java", "*Tests.java", "*IT.java", "Test*.java", "*TestCase.java"),
    ),
    LanguageSpec(
        "php", (".php",), "tree_sitter_php", "language_php",
        snippet_wrappers=(("<?php\n", ""), ("<?php\nclass Snippet {\n", "\n}\n")),
        boilerplate_names=frozenset({"__construct", "__destruct", "__toString", "__get", "__set", "__isset",
                                     "__unset", "__call", "__callStatic", "__clone", "__invoke"}),
        test_files=("*Test.php", "*TestCase.php"),
    ),
    LanguageSpec(
        "ruby", (".rb", ".rake"), "tree_sitter_ruby",
        boilerplate_names=frozenset({"initialize", "to_s", "inspect", "==", "eql?", "hash", "<=>", "to_h", "to_a"}),
        test_files=("*_spec.rb", "*_test.rb", "test_*.rb", "spec_helper.rb", "test_helper.rb"),
    ),
    LanguageSpec(
        "go", (".go",), "tree_sitter_go",
        snippet_wrappers=(("package snippet\n\n", ""),),
        boilerplate_names=frozenset({"String", "Error"}),
        test_files=("*_test.go",),
    ),
)

_BY_NAME = {spec.name: spec for spec in LANGUAGES}
_BY_EXTENSION = {ext: spec for spec in LANGUAGES for ext in spec.extensions}


def language_names() -> list[str]:
    """Names of every supported language, in registry order."""
    return [spec.name for spec in LANGUAGES]


def spec_for(name: str) -> LanguageSpec:
    """Look up a language by name.

    :raises UnknownLanguage: if ``name`` is not supported.
    """
    try:
        return _BY_NAME[name.lower()]
    except KeyError:
        raise UnknownLanguage(
            f"unknown language {name!r}; supported: {', '.join(language_names())}"
        ) from None


def language_for_path(path: str) -> LanguageSpec | None:
    """The language of a file, from its extension, or None if it is not supported."""
    dot = path.rfind(".")
    return _BY_EXTENSION.get(path[dot:].lower()) if dot >= 0 else None


@cache
def grammar(name: str) -> Language:
    """The tree-sitter grammar for a language, loaded once."""
    spec = spec_for(name)
    module = importlib.import_module(spec.grammar_module)
    return Language(getattr(module, spec.grammar_function)())


@cache
def query_source(name: str) -> str:
    """The text of a language's query file."""
    return resources.files("indexer").joinpath("queries", spec_for(name).query_file).read_text("utf-8")


@cache
def query(name: str) -> Query:
    """The compiled query for a language, compiled once per process."""
    return Query(grammar(name), query_source(name))


def parser(name: str) -> Parser:
    """A new parser for a language (parsers are cheap and not thread-safe, so not cached)."""
    return Parser(grammar(name))


@cache
def parser_fingerprint() -> str:
    """A hash of every query file and the extractor's version: when it changes, files are parsed again."""
    import hashlib

    from indexer.parse import PARSER_VERSION

    h = hashlib.sha1(PARSER_VERSION.encode())
    for spec in LANGUAGES:
        h.update(spec.name.encode())
        h.update(query_source(spec.name).encode())
    return h.hexdigest()[:16]


# Directories that hold tests in every language.
_TEST_DIRS = re.compile(r"(?:^|/)(?:tests?|__tests__|specs?|testing|testdata|fixtures)/")


@cache
def _test_file_pattern(name: str) -> re.Pattern[str] | None:
    globs = spec_for(name).test_files
    return re.compile("|".join(fnmatch.translate(g) for g in globs)) if globs else None


def is_test_path(path: str, language: str) -> bool:
    """Whether a repo-relative path is a test file: in a test directory, or named like the language's tests."""
    if _TEST_DIRS.search(path):
        return True
    pattern = _test_file_pattern(language) if language in _BY_NAME else None
    return bool(pattern and pattern.match(path.rsplit("/", 1)[-1]))


# Source files of languages not in the registry: counted and reported, not indexed.
OTHER_CODE_EXTENSIONS = frozenset({
    ".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".rs", ".cs", ".kt", ".kts",
    ".swift", ".scala", ".m", ".mm", ".lua", ".pl", ".pm", ".r", ".jl", ".dart", ".ex", ".exs", ".erl", ".hs",
    ".ml", ".mli", ".clj", ".cljs", ".groovy", ".vue", ".svelte", ".sh", ".bash", ".zsh", ".zig", ".nim", ".fs",
    ".fsx", ".vb", ".f90", ".sol", ".elm", ".ps1",
})


def unsupported_extension(name: str) -> str | None:
    """The extension of a source file in a language codesearch does not parse, else None."""
    dot = name.rfind(".")
    extension = name[dot:].lower() if dot > 0 else ""
    return extension if extension in OTHER_CODE_EXTENSIONS and extension not in _BY_EXTENSION else None
