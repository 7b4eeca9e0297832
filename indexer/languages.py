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
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # tree-sitter and importlib.resources are imported when a grammar is first loaded: a
    # search imports this module for its names and test-file patterns only (~5 ms of its start)
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
    :param rewrites: (pattern, replacement) pairs applied to the source before parsing, for syntax
        newer than the grammar wheel: each match's ``span`` group becomes the replacement, which has
        the span's length ("" blanks it with spaces, "x*" fills it with ``x``), so offsets and lines stay and
        names and code are still read from the original source.
    :param segments: a pattern of where a top-level definition starts: a file whose parse has an error is
        parsed again part by part between them, so that a construct the grammar misreads costs its own
        definition only (``indexer.parse._segmented``).
    :param test_modules: modules whose definitions are tests, kept in the source file beside the code
        they test (Rust's ``#[cfg(test)] mod tests``): search demotes them as it demotes test files.
    :param test_signatures: signature prefixes of test blocks kept in a source file (Zig's ``test "name" {}``).
    :param module_functions: a function directly inside a module is a function, not a method, as the language calls
        it (an Elixir ``def`` in its ``defmodule``, a function in Rust's ``mod`` or a TypeScript ``namespace``; a
        Ruby ``def`` in a ``module`` is a method of the classes that include it).
    :param body_ends: how a function's code ends when it has a body (``}``): one that ends otherwise is a signature
        (``is_signature``: a TypeScript overload, kept without its ``;``).
    :param stub_ends: how a function's code ends when it is a stub without a body (Python's ``@overload`` ``...``).
    :param first_branch: conditional compilation (``#if``/``#elif``/``#else``/``#endif`` on lines of their own) is
        read as its first branch: the directive lines and the other branches are blanked for the parser, as the
        rewrites are (``indexer.parse.first_branches``): ``"all"`` of them, or ``"heads"``, only a conditional
        whose every branch is one line opening a block (two heads of one function, ``indexer.parse.first_heads``).
    :param file_scope: a file is a container, named by its stem: what it defines at its top is qualified by it
        (Zig's ``Uri.zig`` is the struct ``Uri``, its ``parse`` is ``Uri.parse``, as callers write it).
    """

    name: str
    extensions: tuple[str, ...]
    grammar_module: str
    grammar_function: str = "language"
    snippet_wrappers: tuple[tuple[str, str], ...] = (("", ""),)
    boilerplate_names: frozenset[str] = frozenset()
    test_files: tuple[str, ...] = ()
    query_name: str = ""
    rewrites: tuple[tuple[str, str], ...] = ()
    segments: str = ""
    test_modules: frozenset[str] = frozenset()
    test_signatures: tuple[str, ...] = ()
    module_functions: bool = False
    body_ends: str = ""
    stub_ends: str = ""
    first_branch: str = ""
    file_scope: bool = False

    @property
    def query_file(self) -> str:
        """The query file name inside ``indexer/queries``."""
        return f"{self.query_name or self.name}.scm"


# C and C++: a macro alone on its line, between declarations (`FMT_BEGIN_NAMESPACE`,
# `NLOHMANN_BASIC_JSON_TPL_DECLARATION` above `class basic_json`, `Q_OBJECT`; `JSON_PRIVATE_UNLESS_TESTED:` as
# an access specifier; `FMT_PRAGMA_CLANG(diagnostic ...)`), expands to code the grammar cannot see; read as a
# declaration without its `;`, it swallowed the definitions after it. Blanked: an upper-case name with an
# underscore (its arguments, or a colon) on a line of its own, not inside an expression (the line before does
# not end in an operator, `(` or `,`, a comment's `*/` aside: nlohmann's `class basic_json` under its doc comment
# was lost; the line after does not start with one, `{`, `)` or `;`). `^` before the look-behinds: only line
# starts pay for them (2.5x faster over boost's headers).
_LONE_MACRO = (r"(?m)^(?<![(,=+\-*&|<>?:\\]\n)(?<![^*]/\n)(?P<span>[ \t]*[A-Z][A-Z0-9]*_[A-Z0-9_]*"
               r"(?:\([^()\n]*(?:\([^()\n]*\)[^()\n]*)*\)|:(?!:))?)[ \t]*(?://[^\n]*)?$"
               r"(?!\n[ \t]*(?:[{),;.+\-*&|?:=<>\[]|/(?![/*])))", "")

# C++: try and catch written as macros, for builds without exceptions (nlohmann's `JSON_TRY` and
# `JSON_CATCH (std::out_of_range&)`, `BOOST_TRY`, `QT_CATCH(...)`), on their own line before a block: the
# grammar's error recovery ended `class basic_json` 3,200 lines early. Blanked, they leave plain blocks.
_TRY_MACRO = (r"(?m)^[ \t]*(?P<span>[A-Z][A-Z0-9]*_(?:TRY|CATCH(?:_ALL)?)"
              r"(?:[ \t]*\([^()\n]*(?:\([^()\n]*\)[^()\n]*)*\))?)[ \t]*(?=\n[ \t]*\{)", "")

# C++: an export or alignment macro between `class` (or `struct`, `union`) and the name (`class FMT_API
# format_error : public std::runtime_error {`, `struct JSON_API Value {`, rocksdb's `class ALIGN_AS(CACHE_LINE_SIZE)
# LRUCacheShard final`) read as the name, and the class was lost (its members were free functions). Blanked, with
# its arguments, where a name and then a base list, a body, `final` or the line's end follow.
_EXPORT_MACRO = (r"\b(?:class|struct|union)[ \t]+(?P<span>[A-Z][A-Z0-9]*_[A-Z0-9_]*(?:[ \t]*\([^()\n]*\))?)[ \t]+"
                 r"(?=[A-Za-z_]\w*[ \t]*(?:[:{]|final\b|\r?\n))", "")

# C++: macros in front of a declaration's type (`FMT_CONSTEXPR void check(int id);`, `GLM_FUNC_DECL GLM_CONSTEXPR
# genType golden_ratio();`) made a prototype an error. Blanked where a type and a name and `(` follow, the name
# qualified or not (CLI11's `CLI11_INLINE void App::parse(...)` was `void.parse`), or a qualified name alone
# (its constructor `CLI11_INLINE ExistingFileValidator::ExistingFileValidator()`) or on the next line (`CLI11_INLINE
# bool` above `App::_parse_arg(`), after a template's parameters or not.
# (At most five macros and eight type words: unbounded, a line of thousands of `A_B` words cost the square of
# its length, 8 s for one of 32 KB.)
_PREFIX_MACRO = (r"(?m)^[ \t]*(?:template[ \t]*<[^<>\n]*(?:<[^<>\n]*>[^<>\n]*)*>[ \t]*)?"
                 r"(?P<span>[A-Z][A-Z0-9]*_[A-Z0-9_]*(?:[ \t]+[A-Z][A-Z0-9]*_[A-Z0-9_]*){0,4})[ \t]+"
                 r"(?=(?:(?:[\w:<>,]+[ \t*&]+){1,8}[*&]*|(?=\w+::)|[\w:<>,]+[ \t*&]*\n)"
                 r"(?:\w+::){0,4}~?[A-Za-z_]\w*[ \t]*\()", "")

# C++: a specifier macro after a parameter list (`get_executor() const ASIO_NOEXCEPT {`, `BOOST_NOEXCEPT`,
# `Q_DECL_OVERRIDE`) made the function an error. Blanked when its name says what it stands for (no cast
# of a constant reads `(int) X_NOEXCEPT;`): a thread-safety annotation too, also on the next line (googletest's
# `void Mock::Verify()` then `GTEST_LOCK_EXCLUDED_(g_gmock_mutex) {`, abseil's `ABSL_LOCKS_EXCLUDED(mu_)`: 101
# functions of googletest were named after the macro).
_SUFFIX_MACRO = (r"\)(?:[ \t]*\r?\n)?[ \t]*(?:(?:const|override|final|noexcept)\b[ \t]*){0,3}(?:\r?\n[ \t]*)?"
                 r"(?P<span>[A-Z][A-Z0-9_]*_[A-Z0-9_]*"
                 r"(?:NOEXCEPT|OVERRIDE|FINAL|NOTHROW|THROW|DEPRECATED|REF_QUAL|LOCKS?_|EXCLUDES|REQUIRES|ACQUIRE"
                 r"|RELEASE)[A-Z0-9_]*(?:\([^()\n]*\))?)"
                 r"(?=[ \t]*(?:[{;:=]|->|\r?\n|override\b|final\b|const\b))", "")

# C++: a macro called as a statement on a line of its own (googletest's `GMOCK_DEFINE_DEFAULT_ACTION_FOR_RETURN_TYPE_(
# bool, false);`, `DISALLOW_COPY_AND_ASSIGN(Foo);`) is no declaration the grammar knows: at namespace level its error
# recovery took the next 300 lines into a function named after the macro, their namespace lost. The call is
# blanked and its `;` kept (an empty statement or declaration wherever it stood).
_CALL_MACRO = (r"(?m)^[ \t]*(?P<span>(?:[A-Z][A-Z0-9]*_[A-Z0-9_]*[ \t]+)?[A-Z][A-Z0-9]*_[A-Z0-9_]*[ \t]*"
               r"\([^()\n]*(?:\([^()\n]*\)[^()\n]*)*\))[ \t]*;[ \t]*(?://[^\n]*)?$", "")

LANGUAGES: tuple[LanguageSpec, ...] = (
    LanguageSpec(
        "python", (".py", ".pyi"), "tree_sitter_python",
        stub_ends="...",
        boilerplate_names=frozenset({"__init__", "__new__", "__del__", "__repr__", "__str__", "__eq__", "__ne__",
                                     "__hash__", "__lt__", "__le__", "__gt__", "__ge__", "__len__", "__iter__",
                                     "__next__", "__contains__", "__getitem__", "__setitem__", "__delitem__",
                                     "__enter__", "__exit__", "__bool__", "__call__", "__getattr__", "__setattr__"}),
        test_files=("test_*.py", "*_test.py", "conftest.py"),
        rewrites=(
            # A line of operators ending in `*` (`/*`, `%*`, `|*`), never code outside a string: a run of them at
            # the end of a file sends tree-sitter-python's error recovery into a loop that never asks the
            # deadline's callback, its memory growing with the square of the run (5,000 lines of `/*`, 15 KB,
            # took 15 s and 7 GB; 20,000 were killed at 24 GB). Blanked for the parser (a string's text is
            # read from the original source); found by benchmarks/bench_hostile_shapes.py.
            (r"(?m)^[ \t]*(?P<span>[-+*/%&|^<>=!~@:;?,]+\*)[ \t]*$", ""),
        ),
    ),
    LanguageSpec(
        "javascript", (".js", ".jsx", ".mjs", ".cjs"), "tree_sitter_javascript",
        body_ends="}",
        snippet_wrappers=(("", ""), ("class Snippet {\n", "\n}\n"), ("const snippet = {\n", "\n};\n")),
        boilerplate_names=frozenset({"constructor", "toString", "valueOf", "toJSON"}),
        test_files=("*.test.*", "*.spec.*", "*_test.js", "*-test.js"),
        module_functions=True,  # its modules are test suites (`describe`): their tests are functions
    ),
    LanguageSpec(
        "typescript", (".ts", ".mts", ".cts"), "tree_sitter_typescript", "language_typescript",
        body_ends="}",
        snippet_wrappers=(("", ""), ("class Snippet {\n", "\n}\n")),
        boilerplate_names=frozenset({"constructor", "toString", "valueOf", "toJSON"}),
        test_files=("*.test.*", "*.spec.*"),
        module_functions=True,
    ),
    LanguageSpec(
        "tsx", (".tsx",), "tree_sitter_typescript", "language_tsx",
        body_ends="}",
        snippet_wrappers=(("", ""), ("class Snippet {\n", "\n}\n")),
        boilerplate_names=frozenset({"constructor", "toString", "valueOf", "toJSON"}),
        test_files=("*.test.*", "*.spec.*"),
        query_name="typescript",
        module_functions=True,
    ),
    LanguageSpec(
        "java", (".java",), "tree_sitter_java",
        body_ends="}",
        snippet_wrappers=(("class Snippet {\n", "\n}\n"),),
        boilerplate_names=frozenset({"toString", "equals", "hashCode", "clone", "finalize"}),
        test_files=("*Test.java", "*Tests.java", "*IT.java", "Test*.java", "*TestCase.java"),
    ),
    LanguageSpec(
        "php", (".php",), "tree_sitter_php", "language_php",
        body_ends="}",
        snippet_wrappers=(("<?php\n", ""), ("<?php\nclass Snippet {\n", "\n}\n")),
        boilerplate_names=frozenset({"__construct", "__destruct", "__toString", "__get", "__set", "__isset",
                                     "__unset", "__call", "__callStatic", "__clone", "__invoke"}),
        test_files=("*Test.php", "*TestCase.php"),
    ),
    LanguageSpec(
        "ruby", (".rb", ".rake", ".gemspec", ".podspec", ".ru"), "tree_sitter_ruby",
        boilerplate_names=frozenset({"initialize", "to_s", "inspect", "==", "eql?", "hash", "<=>", "to_h", "to_a"}),
        test_files=("*_spec.rb", "*_test.rb", "test_*.rb", "spec_helper.rb", "test_helper.rb"),
    ),
    LanguageSpec(
        "go", (".go",), "tree_sitter_go",
        body_ends="}",
        snippet_wrappers=(("package snippet\n\n", ""),),
        boilerplate_names=frozenset({"String", "Error"}),
        test_files=("*_test.go",),
    ),
    # The languages below were added together; each row's fields are its query file's owner's.
    LanguageSpec(
        "c", (".c",), "tree_sitter_c",
        body_ends="}",
        test_files=("test_*.c", "*_test.c"),
        rewrites=(_LONE_MACRO,),
        first_branch="heads",
    ),
    # `.h` is C++'s by its name (its grammar reads a C header, C's cannot read a C++ one), and C's by its
    # content when it has nothing of C++ (``header_language``).
    LanguageSpec(
        "cpp", (".cc", ".cpp", ".cxx", ".c++", ".h", ".hpp", ".hh", ".hxx", ".h++", ".ipp", ".tpp"), "tree_sitter_cpp",
        body_ends="}",
        boilerplate_names=frozenset({"operator=", "operator==", "operator!=", "operator<", "operator<<", "swap"}),
        test_files=("test_*.cc", "test_*.cpp", "*_test.cc", "*_test.cpp", "*_unittest.cc"),
        rewrites=(_LONE_MACRO, _CALL_MACRO, _TRY_MACRO, _EXPORT_MACRO, _PREFIX_MACRO, _SUFFIX_MACRO),
        # googletest's `#if ...` `TEST(ComparisonBaseTest, DISABLED_WorksWithMoveOnly) {` `#else` `TEST(...,
        # WorksWithMoveOnly) {` `#endif` made one function of the 1,347 lines after it, 111 tests unscoped.
        first_branch="heads",
    ),
    LanguageSpec(
        "csharp", (".cs",), "tree_sitter_c_sharp",
        body_ends="}",
        snippet_wrappers=(("class Snippet {\n", "\n}\n"), ("", "")),
        boilerplate_names=frozenset({"ToString", "Equals", "GetHashCode", "Dispose"}),
        test_files=("*Test.cs", "*Tests.cs"),
        # tree-sitter-c-sharp 0.23 parses `#if` as a statement or a member only: one in a base list (Json.NET's
        # `class JToken : IJEnumerable<JToken>` then `#if ...` `, ICloneable`) or between an `if`'s block and
        # its `else` took the class, its members unscoped (30 of Json.NET's 541 files, 9 of Cecil's 233).
        first_branch="all",
    ),
    LanguageSpec(
        "rust", (".rs",), "tree_sitter_rust",
        body_ends="}",
        boilerplate_names=frozenset({"new", "default", "fmt", "clone", "eq", "hash", "cmp", "partial_cmp", "drop",
                                     "deref", "deref_mut"}),
        test_files=("tests.rs",),
        test_modules=frozenset({"tests", "test"}),
        module_functions=True,
    ),
    LanguageSpec(
        "kotlin", (".kt", ".kts"), "tree_sitter_kotlin",
        body_ends="}",
        snippet_wrappers=(("", ""), ("class Snippet {\n", "\n}\n")),
        boilerplate_names=frozenset({"toString", "equals", "hashCode", "constructor"}),
        test_files=("*Test.kt", "*Tests.kt", "*Spec.kt"),
        # tree-sitter-kotlin 1.1 predates Kotlin 2.1 and fails whole files (Exposed: 19 of 100):
        rewrites=(
            # a guard in a `when` branch (`is Join if dialect is OracleDialect ->`) reads as the older
            # `is Join ,  dialect is OracleDialect ->`;
            (r"(?m)^[ \t]*!?(?:is|in)[ \t](?:(?!->)[^\n])*?[ \t](?P<span>if)(?=[ \t(])", ", "),
            # an annotated accessor (`@OptIn(X::class)` above `get() = ...`) loses its annotation;
            (r"(?P<span>@[\w.]+(?:\([^()\n]*\))?)(?=[ \t]*\n[ \t]*(?:get|set)\b)", ""),
            # so does an annotated primary constructor on a line of its own (Kotlin's `class Regex` then
            # `@PublishedApi` then `internal constructor(...)`: the class's members were code between definitions);
            # (at most eight annotation lines looked across: the lookahead from each of thousands of annotation
            # lines was quadratic, 54 s for 20,000)
            (r"(?P<span>@[\w.]+(?:\([^()\n]*\))?)(?=[ \t]*\n(?:[ \t]*@[\w.]+(?:\([^()\n]*\))?[ \t]*\n){0,8}"
             r"[ \t]*(?:(?:public|internal|private|protected)[ \t]+)?constructor\b)", ""),
            # a multiplatform `actual` (or `expect`) primary constructor on a line of its own (the standard library's
            # `internal actual class SafeContinuation<in T>` then `internal actual constructor(`) loses the modifier:
            # the class ended at its name, `resumeWith` and the rest were code between definitions;
            (r"(?m)^[ \t]*(?:(?:public|internal|private|protected)[ \t]+)?(?P<span>actual|expect)[ \t]+"
             r"(?=constructor\b)", ""),
            # the soft keyword `where` used as a name (`where?.let`, `val where: Op`) becomes `wher_`.
            (r"\b(?P<span>where)(?=[ \t]*(?:\?\.|\.|:|\)|,|=(?!=)|\?:|!!|\]|\}))", "wher_"),
        ),
    ),
    LanguageSpec(
        "scala", (".scala", ".sc"), "tree_sitter_scala",
        body_ends="}",
        snippet_wrappers=(("", ""), ("object Snippet {\n", "\n}\n")),
        boilerplate_names=frozenset({"toString", "equals", "hashCode", "this"}),
        test_files=("*Test.scala", "*Spec.scala", "*Suite.scala"),
    ),
    LanguageSpec(
        "swift", (".swift",), "tree_sitter_swift",
        body_ends="}",
        snippet_wrappers=(("", ""), ("class Snippet {\n", "\n}\n")),
        boilerplate_names=frozenset({"init", "description", "debugDescription", "hash"}),
        test_files=("*Tests.swift", "*Test.swift"),
        # tree-sitter-swift 0.7 fails from a `#if` right after `switch x {` to the end of the file (expo's
        # `AppContext`: every member was code between definitions); the block up to its `#endif`, within 40
        # lines, is blanked (cases hold no definitions; the code is still the original). Bounded: a search to
        # the end of the file from every such `#if` was quadratic (18 s for 8,000 of them).
        rewrites=((r"(?m)\bswitch\b[^\n{]*\{[ \t]*\n[ \t]*(?P<span>#if\b[^\n]*\n(?:[^\n]*\n){0,40}?[ \t]*#endif\b)",
                   ""),
                  # Swift 5.9's `consume x` (expo's `switch consume result {`) is unknown to the grammar, whose error
                  # took the whole file: `AsyncFunctionDefinition` and its methods were lost. The operator is
                  # blanked where a name follows it (`consume(x)`, a call, and `func consume<T>` are left alone).
                  (r"(?<![\w.$`])(?P<span>consume)[ \t]+(?=[A-Za-z_$`])", ""),),
    ),
    LanguageSpec(
        "elixir", (".ex", ".exs"), "tree_sitter_elixir",
        test_files=("*_test.exs",),
        module_functions=True,
    ),
    LanguageSpec(
        "haskell", (".hs",), "tree_sitter_haskell",
        boilerplate_names=frozenset({"show", "showsPrec", "showList", "==", "/=", "compare", "<=", "<>",
                                     "mempty", "mappend", "fmap", "pure", "<*>", ">>=", "return"}),
        test_files=("*Spec.hs", "*Test.hs", "*Tests.hs"),
    ),
    LanguageSpec(
        "lua", (".lua", ".rockspec"), "tree_sitter_lua",
        boilerplate_names=frozenset({"__index", "__newindex", "__call", "__tostring", "__eq", "__lt", "__le",
                                     "__len", "__concat", "__gc", "__close"}),
        test_files=("*_spec.lua", "*_test.lua", "test_*.lua"),
        module_functions=True,  # its modules are busted's `describe` blocks: their tests are functions
    ),
    LanguageSpec(
        "zig", (".zig",), "tree_sitter_zig",
        body_ends="}",
        boilerplate_names=frozenset({"init", "deinit", "format"}),
        test_files=("*_test.zig",),
        test_signatures=("test ", 'test"'),
        file_scope=True,  # a file is a struct: `Uri.zig`'s `parse` is `Uri.parse` (`related --symbol Uri.parse` failed)
    ),
    LanguageSpec(
        "bash", (".sh", ".bash", ".bats"), "tree_sitter_bash",
        test_files=("*.bats", "test_*.sh", "*_test.sh"),
        rewrites=(
            # The regular expression of `[[ $cur =~ REGEX ]]`, unquoted, read as one word: tree-sitter-bash reads
            # bracket expressions such as `[^]]*` as the test's end, and every function after it in the file was
            # code between definitions (52 of bash-completion's 53). Up to the first ` ]]` that ends the test.
            (r"(?m)=~[ \t]+(?:\\\n[ \t]*)?(?P<span>[^\s'\"][^\n]*?)(?=[ \t]+\]\](?:[ \t;&|)]|$))", "x*"),
        ),
        # A function at the start of a line: `name()` or `function name`.
        segments=r"(?m)^(?:function[ \t]+[\w:.@+-]+|[\w:.@+-]+[ \t]*\([ \t]*\))",
    ),
)

_BY_NAME = {spec.name: spec for spec in LANGUAGES}
# The languages that keep tests inside source files (``is_test_definition``).
INLINE_TEST_LANGUAGES = frozenset(spec.name for spec in LANGUAGES if spec.test_modules or spec.test_signatures)
_BY_EXTENSION = {ext: spec for spec in LANGUAGES for ext in spec.extensions}


def language_names() -> list[str]:
    """Names of every supported language, in registry order."""
    return [spec.name for spec in LANGUAGES]


def is_signature(language: str, code: str) -> bool:
    """Whether a function's code is a signature without a body in its language (``body_ends``, ``stub_ends``); False
    for a language the registry does not know."""
    spec = _BY_NAME.get(language)
    if spec is None:
        return False
    code = code.rstrip()
    if spec.body_ends and not code.endswith(spec.body_ends):
        return True
    return bool(spec.stub_ends) and code.endswith(spec.stub_ends)


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


# A header's code (comments and string literals aside) is C++ when it declares a class, a namespace or a
# template, has an access specifier, or names something with `::`; anything else is C.
_CPP_HEADER = re.compile(rb"^[ \t]*(?:template\s*<|namespace\b|class\s+\w|using\s+namespace\b)"
                         rb"|\b(?:public|private|protected)\s*:|\w::~?\w", re.MULTILINE)
# A `/*` with no `*/` after it comments out the rest (searching on for a `*/` from each such `/*` was quadratic:
# 80 KB of `/*a` lines took 7.6 s).
_COMMENTS_AND_STRINGS = re.compile(rb'/\*.*?(?:\*/|\Z)|//[^\n]*|"(?:\\.|[^"\\\n])*"', re.DOTALL)
SHARED_HEADER = ".h"


def header_language(path: str, language: str, data: bytes) -> str:
    """The language a file is labelled with once its bytes are read: a ``.h`` file (C++'s by its name) is
    C when its code has nothing of C++, so that a C project's headers are C in its results, its stats and
    ``--language c`` (curl's 232 headers, libuv's 17: all C; fmt's 15: 13 C++, its C API ``fmt-c.h`` C,
    and ``core.h``, which only includes another, C); any other file keeps ``language``. Either way a
    header is parsed by C++'s grammar (``grammar_language``)."""
    if language != "cpp" or not path.endswith(SHARED_HEADER):
        return language
    return "cpp" if _CPP_HEADER.search(_COMMENTS_AND_STRINGS.sub(b" ", data)) else "c"


def grammar_language(path: str, language: str) -> str:
    """The registry row whose grammar and query file read a file labelled ``language``: C++'s for every
    ``.h`` file. C's grammar cannot read a header's export macros around a definition
    (``HEAP_EXPORT(void heap_init(...)) {...}`` in libuv), and a C header reads the same under C++'s."""
    return "cpp" if language == "c" and path.endswith(SHARED_HEADER) else language


@cache
def grammar(name: str) -> Language:
    """The tree-sitter grammar for a language, loaded once."""
    from tree_sitter import Language

    spec = spec_for(name)
    module = importlib.import_module(spec.grammar_module)
    return Language(getattr(module, spec.grammar_function)())


@cache
def query_source(name: str) -> str:
    """The text of a language's query file."""
    from importlib import resources

    return resources.files("indexer").joinpath("queries", spec_for(name).query_file).read_text("utf-8")


@cache
def query(name: str) -> Query:
    """The compiled query for a language, compiled once per process."""
    from tree_sitter import Query

    return Query(grammar(name), _TEXT_PREDICATE.sub(rf"(#{TEXT_PREDICATE_PREFIX}\1", query_source(name)))


# A query predicate that reads a node's text (``#eq?``, ``#not-match?``, ``#any-of?``): a tree parsed through a
# read callback holds none, and py-tree-sitter's own predicates crash on one, so they are renamed with this
# prefix and evaluated on the source (``indexer.parse.TextPredicates``).
_TEXT_PREDICATE = re.compile(r"\(#((?:not-)?(?:eq|match)\?|any-of\?)")
TEXT_PREDICATE_PREFIX = "source-"


@cache
def segment_pattern(name: str) -> re.Pattern[bytes] | None:
    """A language's ``LanguageSpec.segments``, compiled (None: it has none)."""
    pattern = spec_for(name).segments
    return re.compile(pattern.encode()) if pattern else None


@cache
def rewrites(name: str) -> tuple[tuple[re.Pattern[bytes], bytes], ...]:
    """A language's source rewrites before parsing (``LanguageSpec.rewrites``), compiled once.

    :raises ValueError: for a pattern without a ``span`` group.
    """
    compiled = []
    for pattern, replacement in spec_for(name).rewrites:
        regex = re.compile(pattern.encode())
        if "span" not in regex.groupindex:
            raise ValueError(f"{name}: rewrite {pattern!r} has no 'span' group")
        compiled.append((regex, replacement.encode()))
    return tuple(compiled)


def parser(name: str) -> Parser:
    """A new parser for a language (parsers are cheap and not thread-safe, so not cached)."""
    from tree_sitter import Parser

    return Parser(grammar(name))


@cache
def parser_fingerprint() -> str:
    """A hash of every query file, the extractor's version and the rules that judge a file by its content
    (``indexer.discover.CONTENT_RULES``): when it changes, files are read and parsed again."""
    import hashlib

    from indexer.discover import CONTENT_RULES
    from indexer.parse import PARSER_VERSION

    h = hashlib.sha1(PARSER_VERSION.encode())
    h.update(CONTENT_RULES.encode())
    for spec in LANGUAGES:
        h.update(spec.name.encode())
        h.update(query_source(spec.name).encode())
        h.update(repr((spec.rewrites, spec.module_functions, spec.first_branch, spec.file_scope,
                       spec.segments)).encode())
    return h.hexdigest()[:16]


# Directories that hold tests in every language: `tests/`, `Test/`, .NET's test projects (`Mono.Cecil.Tests/`,
# `App.UnitTests/`) and Gradle's test source sets (`src/androidTest/`, Kotlin Multiplatform's `src/commonTest/`).
_TEST_DIRS = re.compile(r"(?:^|/)(?:tests?|Tests?|__tests__|specs?|testing|testdata|fixtures"
                        r"|[\w.-]+\.(?:Unit|Integration|Functional)?Tests?|src/\w+Test)/")


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


def is_test_definition(language: str, kind: str, qualname: str, signature: str) -> bool:
    """Whether a definition is a test kept inside a source file: inside one of the language's
    ``test_modules`` (``tests.pool_max_idle`` in Rust), or that module itself, or a block whose signature
    starts with one of its ``test_signatures`` (Zig's ``test "parse args"``)."""
    spec = _BY_NAME.get(language)
    if spec is None:
        return False
    if spec.test_signatures and signature.startswith(spec.test_signatures):
        return True
    if not spec.test_modules:
        return False
    *scopes, name = qualname.split(".")  # the parser joins a definition's scopes with dots
    return not spec.test_modules.isdisjoint(scopes) or (kind == "module" and name in spec.test_modules)


# Every file name falls in one of three groups: a registry language (above, by extension; or,
# below, by file name or the interpreter its `#!` line names), a source without a grammar
# (``TEXT_LANGUAGE``: indexed as line windows, see ``indexer.chunk.text_symbols``), or nothing
# (neither indexed nor counted; ``UNSUPPORTED_EXTENSIONS`` are counted as not indexed).
TEXT_LANGUAGE = "text"
# Source and configuration people search, in languages without a grammar here. Left out on
# purpose: prose (.md, .rst, .txt), data (.json, .csv, .xml), lock files, source maps, images
# (.svg), stylesheets and HTML (mostly built or boilerplate: they would crowd out the code).
TEXT_EXTENSIONS = frozenset({
    # building, containers, infrastructure
    ".mk", ".cmake", ".gradle", ".bzl", ".bazel", ".nix", ".dockerfile", ".tf", ".tfvars", ".hcl",
    # configuration
    ".toml", ".yaml", ".yml", ".ini", ".cfg",
    # schemas and queries
    ".sql", ".proto", ".thrift", ".graphql", ".gql",
    # programming languages without a grammar here
    ".pl", ".pm", ".r", ".jl", ".dart", ".erl", ".hrl", ".ml", ".mli", ".clj", ".cljs", ".cljc", ".groovy",
    ".vue", ".svelte", ".nim", ".fs", ".fsi", ".fsx", ".vb", ".f90", ".f95", ".sol", ".elm", ".ps1", ".psm1",
    ".m", ".mm", ".zsh", ".fish", ".tcl", ".awk", ".vim", ".pyx", ".pxd", ".pxi",
    # ... Lisps (a new user's 24 Emacs Lisp files were left out without a word), and more
    ".el", ".lisp", ".lsp", ".cl", ".scm", ".ss", ".rkt", ".fnl", ".janet", ".cr", ".ada", ".adb", ".ads", ".pas",
    ".pp", ".coffee", ".hx", ".gd", ".raku", ".rakumod", ".p6", ".pm6", ".sml", ".re", ".rei", ".res", ".resi",
    ".gleam", ".vala", ".purs", ".idr", ".agda", ".lean", ".odin", ".nu", ".cob", ".cbl", ".f", ".for", ".f03",
    ".f08", ".asm", ".s", ".bat", ".cmd", ".ahk", ".sv", ".svh", ".vhd", ".vhdl", ".glsl", ".hlsl", ".wgsl",
    ".frag", ".vert", ".geom", ".tesc", ".tese", ".comp", ".metal", ".cu", ".cuh", ".hip", ".ispc", ".f77", ".ino",
    ".applescript", ".sas", ".mojo",
    # parser and scanner generators' sources (tmux's `cmd-parse.y`: every question went to the generated
    # `cmd-parse.c`), automake and autoconf sources
    ".y", ".yy", ".ypp", ".l", ".ll", ".lpp", ".am", ".ac",
})
# Files known by their whole name (build files, CI pipelines, process lists) ...
TEXT_FILE_NAMES = frozenset({
    "Dockerfile", "Containerfile", "Makefile", "makefile", "GNUmakefile", "CMakeLists.txt", "Jenkinsfile",
    "Justfile", "justfile", "Procfile", "Tiltfile", "BUILD", "WORKSPACE", "meson.build",
})
# ... or by these globs (``Dockerfile.dev``); ``*.dockerfile`` is an extension above.
TEXT_FILE_GLOBS = ("Dockerfile.*", "Dockerfile-*", "Containerfile.*")
# Lock files are generated: `pnpm-lock.yaml`, `.terraform.lock.hcl`, `conda-lock.yml` (`*.lock` is no source).
_LOCK_FILE = re.compile(r"(?:^|[._-])lock\.[^.]+$", re.IGNORECASE)
# Files of a registry language known by their whole name: Ruby's build and dependency DSLs.
FILE_NAME_LANGUAGES = {
    "Gemfile": "ruby", "Rakefile": "ruby", "Vagrantfile": "ruby", "Podfile": "ruby", "Guardfile": "ruby",
    "Brewfile": "ruby", "Capfile": "ruby", "Fastfile": "ruby", "Dangerfile": "ruby", ".luacheckrc": "lua",
}
# Interpreters of `#!` lines (without a version: `python3.12` is `python`) whose language has a
# grammar here; a script for any other interpreter is text.
SHEBANG_LANGUAGES = {
    "python": "python", "node": "javascript", "nodejs": "javascript", "ruby": "ruby", "php": "php",
    "sh": "bash", "bash": "bash", "dash": "bash", "lua": "lua", "elixir": "elixir",
}
SHEBANG_BYTES = 128  # of a file that may be a script (``may_be_script``), read to find its `#!` line
# An Emacs mode line's mode (``-*- shell-script -*-``, ``-*- mode: python; coding: utf-8 -*-``), and the registry
# languages of the modes a script without an extension or ``#!`` names there.
_EMACS_LINE = re.compile(r"-\*-(.*?)-\*-")
_EMACS_MODE = re.compile(r"(?:^|;)\s*mode:\s*([\w+-]+)", re.IGNORECASE)  # `-*- coding: utf-8; mode: python -*-`
EMACS_MODES = {"shell-script": "bash", "sh": "bash", "bash": "bash", "ksh": "bash", "python": "python",
               "python3": "python", "ruby": "ruby", "lua": "lua", "js": "javascript", "js2": "javascript",
               "javascript": "javascript", "typescript": "typescript", "php": "php", "c": "c", "c++": "cpp",
               "java": "java", "go": "go", "rust": "rust", "kotlin": "kotlin", "scala": "scala", "swift": "swift",
               "haskell": "haskell", "elixir": "elixir", "csharp": "csharp", "zig": "zig", "perl": TEXT_LANGUAGE,
               "cperl": TEXT_LANGUAGE, "tcl": TEXT_LANGUAGE, "makefile": TEXT_LANGUAGE, "zsh": TEXT_LANGUAGE}


def emacs_mode(line: str) -> str | None:
    """The registry language (or ``TEXT_LANGUAGE``) of the mode an Emacs mode line names (``-*- shell-script -*-``,
    ``-*- mode: python; coding: utf-8 -*-``, ``-*- coding: utf-8; mode: c++ -*-``, ``-*- python-mode -*-``), else
    None (``-*- coding: utf-8 -*-`` names none)."""
    found = _EMACS_LINE.search(line)
    if found is None:
        return None
    inside = found.group(1).strip()
    named = _EMACS_MODE.search(inside)
    mode = named.group(1) if named else inside if ":" not in inside and ";" not in inside else ""
    mode = mode.lower().removesuffix("-mode")
    return EMACS_MODES.get(mode)
_INTERPRETER = re.compile(r"([A-Za-z_+-]*[A-Za-z_+])[0-9.]*")
# Source that neither a grammar nor line windows read well (code inside JSON): counted, not indexed.
UNSUPPORTED_EXTENSIONS = frozenset({".ipynb"})


def _extension(name: str) -> str:
    """The lower-case extension of a file name, with its dot (``""`` for none, or a dotfile's name)."""
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def file_language(name: str) -> str | None:
    """The language a file is indexed as, judged from its name: a registry language's name,
    ``TEXT_LANGUAGE``, or None (see ``may_be_script`` for a file without an extension)."""
    spec = language_for_path(name)
    if spec is not None:
        return spec.name
    if name in FILE_NAME_LANGUAGES:
        return FILE_NAME_LANGUAGES[name]
    if _LOCK_FILE.search(name):
        return None
    if (_extension(name) in TEXT_EXTENSIONS or name in TEXT_FILE_NAMES
            or any(fnmatch.fnmatchcase(name, glob) for glob in TEXT_FILE_GLOBS)):
        return TEXT_LANGUAGE
    return None


# Extensions of files that are no script whatever their first line says (media, archives, compiled code, data,
# prose, backups): ``may_be_script`` does not read them, so an index run opens no image or font to look.
NO_SCRIPT_EXTENSIONS = frozenset({
    ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".icns", ".webp", ".svg", ".tif", ".tiff", ".psd", ".pdf",
    ".zip", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".7z", ".rar", ".tar", ".jar", ".war", ".whl", ".egg", ".deb",
    ".rpm", ".so", ".dylib", ".dll", ".exe", ".o", ".a", ".obj", ".lib", ".class", ".pyc", ".pyo", ".wasm", ".bin",
    ".dat", ".db", ".sqlite", ".woff", ".woff2", ".ttf", ".otf", ".eot", ".mp3", ".mp4", ".wav", ".ogg", ".flac",
    ".avi", ".mov", ".webm", ".mkv", ".json", ".csv", ".tsv", ".xml", ".lock", ".map", ".txt", ".md", ".rst",
    ".html", ".htm", ".css", ".log", ".orig", ".rej", ".bak", ".swp", ".tmp", ".patch", ".diff", ".po", ".mo",
    ".old", ".save", ".dpkg-old", ".dpkg-dist", ".dpkg-new", ".dpkg-bak", ".rpmsave", ".rpmnew", ".ucf-old",
    ".ucf-dist",
})


def may_be_script(name: str) -> bool:
    """Whether a file that ``file_language`` does not know may be a script: it has no extension, or one no
    language here has (Debian's `invoke-rc.d`, bash-completion's `_mount.linux`) and not one of
    ``NO_SCRIPT_EXTENSIONS`` (its first ``SHEBANG_BYTES`` bytes are read, and ``shebang_language`` decides)."""
    if name.endswith("~"):  # an editor's backup
        return False
    return "." not in name.lstrip(".") or _extension(name) not in NO_SCRIPT_EXTENSIONS


def shebang_language(head: bytes) -> str | None:
    """The language of a script from its first bytes: the registry language of the interpreter its
    ``#!`` line names (``#!/usr/bin/env python3``), ``TEXT_LANGUAGE`` for another interpreter,
    or None without a ``#!`` line; without one, the mode an Emacs mode line on the first line names
    (``# foo completion  -*- shell-script -*-``: bash-completion's 500 scripts were left out, no extension
    and no ``#!``), as ``EMACS_MODES`` has it."""
    if not head.startswith(b"#!"):
        return emacs_mode(head.split(b"\n", 1)[0].decode("utf-8", "replace"))
    words = head[2:].split(b"\n", 1)[0].decode("utf-8", "replace").split()
    if words and words[0].rsplit("/", 1)[-1] == "env":  # `env python3`, `env -S node --flag`
        words = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
    match = _INTERPRETER.fullmatch(words[0].rsplit("/", 1)[-1]) if words else None
    language = SHEBANG_LANGUAGES.get(match.group(1).lower()) if match else None
    return language if language in _BY_NAME else TEXT_LANGUAGE


def unsupported_extension(name: str) -> str | None:
    """The extension of a source file that codesearch neither parses nor reads as text, else None."""
    extension = _extension(name)
    return extension if extension in UNSUPPORTED_EXTENSIONS else None


def searchable_languages() -> list[str]:
    """What the index records and ``--language`` accepts: the registry's languages, then ``TEXT_LANGUAGE``."""
    return [*language_names(), TEXT_LANGUAGE]


def canonical_language(name: str) -> str:
    """A language name as the index records it (any case): a registry language or ``TEXT_LANGUAGE``.

    :raises UnknownLanguage: for any other name.
    """
    if name.lower() == TEXT_LANGUAGE:
        return TEXT_LANGUAGE
    try:
        return spec_for(name).name
    except UnknownLanguage:
        raise UnknownLanguage(
            f"unknown language {name!r}; supported: {', '.join(searchable_languages())}"
        ) from None
