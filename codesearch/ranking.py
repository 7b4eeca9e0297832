"""Code-aware ranking: bounded signals on top of the fused first-stage score.

Each signal is a pure function of the query, one candidate and the candidate pool (its
file context), and adds to (or, for noise, scales) the candidate's score, so switching
one off in ``Signals`` gives an ablation. Scores are in units of the best fused score
of the pool, so a signal's weight means the same for every query:

- ``definition``: the chunk defines a name the query mentions (``HTTPAdapter``,
  ``Sinatra::Base``; a constant the code between definitions assigns: ``DEFAULT_POOLSIZE``),
  strongest when the whole query is that name, more when its file is named after the name; when
  one qualified name is defined in several files (C# partial classes, reopened Ruby classes,
  extensions) and one of them is called exactly that name
  (``SqlMapper.cs``), that is its *primary* definition and the others (``SqlMapper.Async.cs``)
  count half; a capitalised word of a sentence that three or more files define (hugo's ``Hugo()``
  accessors for "how does Hugo choose a layout") is a proper noun, and each counts a share;
- ``path``: query words (stemmed) appear in the file's name or its directory's
  (``session management`` → ``sessions.py``);
- ``file_named``: for a question, a topic or one word, the best chunk of each file whose name is
  all query words (``cookies.py`` for "cookie storage and persistence") gets ``FILE_NAMED_WEIGHT``;
- ``file_path``: the best chunk of each file whose path has query words gets ``FILE_PATH_WEIGHT``
  more (path evidence is about the file: the file's other chunks get the plain ``path`` lift only);
- ``file_topic``: for a natural-language query of two or more words, every chunk of a file gets
  ``FILE_TOPIC_WEIGHT`` times the cosine of the query with the file's topic (the mean of its chunks'
  vectors: ``file`` in its scores) over the best such cosine in the pool, so the files about the
  query rise as wholes and each keeps its chunks' order: the function that answers a task stays
  first within its file;
- ``coherence``: for a question (``how are routes registered``), the best chunk of each file gets a
  lift by how much of the pool's evidence the file holds (several matching chunks);
- ``saturation``: for a question, a topic (``streaming JSON reader and token parsing``: words that
  name a thing rather than start with a verb) or a query of one plain word (``offline``: where it
  occurs, as rg lists it file by file), each further chunk of a file counts half as much as the one
  before, so the first screen spans the files that answer it (``saturated``, applied after any
  ``Lift`` in ``codesearch.search.pool``); so for a name (``LxmlLinkExtractor``): its definition first,
  then the files that export or use it before the rest of its own file (``saturates_results``);
- ``overloads``: each further chunk of one name in one file (C++ and C# overloads, a Python
  property's getter and setter) counts half as much as the one before, so one overloaded name
  cannot fill the first screen (``saturated`` keyed by file and qualified name, at the end of ``rank``);
- ``uses``: for a question about where a name is used (``what calls execFinalizer``: ``QueryInfo.usages``), or a
  bare name whose definitions are functions (``_names_a_function``),
  code that names it as a whole word (rg -w), after its definition and before look-alike names (a helper on the
  JDK had `addDirtyRegion0`, the one caller of `extendDirtyRegion`, 28th under `GTKRegion`, `SF2GlobalRegion`);
- ``word``: for a one-word query (``offline``, ``slugify``), the chunk's code has that very
  word, not merely a longer name containing it (``args.offline``, ``"--offline"``; not
  ``test_offline``);
- ``noise``: tests, examples, compatibility shims and generated code are scaled down
  unless the query asks for them (or names a symbol defined only there); so are tests kept inside
  a source file (Rust's ``mod tests``, Zig's ``test`` blocks: ``is_noise_row``);
- ``stubs``: type declarations (``.d.ts``, ``.d.cts``, ``.d.mts``) are scaled down: they restate
  what the code defines (``__init__.py`` is not: much Python code lives there);
- ``declared``: a documented C or C++ prototype (a header's) and the one definition of its name
  elsewhere in the pool (the ``.c`` file's, often without a doc of its own): the definition takes
  the prototype's score when that is higher, and the prototype follows right after it, so a
  question the header's doc answers shows the code that does it first (libuv's ``uv__idna_toascii``);
- ``kind``: the code between definitions (``code`` chunks) is scaled down, so a
  definition comes first when both match about as well; for a task (``format a record as a
  single line``) so is a class, interface, module or trait, whose outline names every member
  while one of its functions is the answer (``LineFormatter.format``, not ``LineFormatter``);
- ``opening``: a file's opening (the code chunk at its first line) that holds a comment in words other
  than a licence, the file's own description (Rust's ``//!`` module doc, a C header's comment above its
  namespace: spdlog's ``cfg/env.h`` "Init levels and patterns from env variables"), is not scaled down
  as code between definitions is (``documented_opening``).

Diversity (at most ``per_file`` hits from one file before every other file had its
turn) is applied when results are picked, in ``codesearch.search.pool``, when asked for.

Coherence applies to questions, saturation to questions, topics and names, neither to tasks: for every
natural-language query they gained semble's file-level labels (NDCG@10 0.853 -> 0.883) and cost our
function-level plain-English set (R@5 0.702 -> 0.520), where a task ("send a request with a
timeout") is answered by one function, often next to others of its file; a question about how
something works, or a topic, is answered by files (``QueryInfo.task`` tells a task by its first word).
A task's results hold at most ``TASK_PER_FILE`` chunks of one file before every other file's (half of a
first screen of ten): its function and the others of its file come first, and the first screen still
shows other files (the large set's tasks had one file five times or more in 32 of 53 first screens).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any

from codesearch.query import IDENTIFIER, NATURAL, QueryInfo, stem, words_of
from codesearch.store.codec import code_of, stops_early
from indexer.chunk import definition_name, unscoped
from indexer.languages import INLINE_TEST_LANGUAGES, is_test_definition, is_test_path
from indexer.languages import is_signature as language_signature
from indexer.licences import OPENING_WORDS, comment_words

DEFINITION_WEIGHT = 1.0  # the whole query is the name the chunk defines
EMBEDDED_DEFINITION_WEIGHT = 0.5  # a name inside a longer query
FILE_NAMED_WEIGHT = 0.1  # a question's or topic's best chunk of a file named by its words (file_named)
TASK_CONTAINER_FACTOR = 0.6  # a task's class, interface, module or trait outline (kind): a function answers it
SPELLED_DEFINITION_WEIGHT = 0.25  # a name a topic or a question spells in words (``QueryInfo.spelled``)
NAMED_FILE_FACTOR = 1.5  # the definition's file (or directory) is named after the name (`Session` in sessions.py)
NAMESPACE_FILES = 3  # a module defined in this many files of the pool (none named after it) is a namespace
PARTIAL_FACTOR = 0.5  # a definition of a name whose primary definition (in a file called the name) is in the pool
OTHER_SCOPE_FACTOR = 0.5  # a scoped name's last part defined in another scope (`Queue.transfer` for `Map.transfer`)
PATH_WEIGHT = 0.3  # times the share of query stems found in the file's path
FILE_PATH_WEIGHT = 0.3  # more, on the best chunk of each such file (file_path)
FILE_TOPIC_WEIGHT = 0.1  # times the file's topic cosine over the pool's best, on every chunk of the file
COHERENCE_WEIGHT = 0.3  # times the file's summed fused score over the best file's, on its best chunk
SATURATION_DECAY = 0.5  # a question's further chunks of one file: each counts this much less than the last
TASK_PER_FILE = 5  # a task's chunks of one file before every other file's (``saturation``; see the module doc)
OVERLOAD_DECAY = 0.5  # further chunks of one name (kind and qualname) in one file: each counts this much less
WORD_WEIGHT = 0.3  # the one word of a one-word query is in the chunk's code as a whole word
PHRASE_WEIGHT = 1.0  # a message's words are in the chunk's code as written, one after the other (``phrase``)
PHRASE_WORDS = 3  # a query of this many words or more, and no question, may be a message pasted from the code
PHRASE_READ = 30  # the pool's chunks read for it, the lexical ranking's best
USES_WEIGHT = 0.75  # a question about a name's uses: the chunk's code names it (below the definition's 1.0)
NOISE_FACTOR = 0.3  # tests, examples, shims, generated code
CODE_FACTOR = 0.7  # `code` chunks (between definitions)
DECLARATION_FACTOR = 0.7  # .d.ts and its .d.cts/.d.mts twins
DECLARATION_BELOW = 0.99  # a prototype whose definition took its score (declared) follows it
_NAME = re.compile(r"[A-Za-z_$][\w$]*")  # an identifier a one-line code chunk names (``_exports_follow``)
DECLARING_LANGUAGES = frozenset({"c", "cpp"})  # documented prototypes are definitions (their query files)

# Plural example folders anywhere, singular ones only at the top (`com/example/` is a Java package). Release
# notes and changelog fragments (reno's `releasenotes/notes/*.yaml`, towncrier's `newsfragments/`, ansible's
# `changelogs/`) describe a change in a few lines of prose that names the feature: they matched a question about
# that feature better than its code (tenacity's "exponential backoff": 6 of the first 10). Benchmarks (Rust's
# `benches/`, `bench/`, `benchmarks/`) call the code they time, with its names: semver's `benches/parse.rs` came
# before its parser.
_NOISE_DIRS = re.compile(
    r"(?:^|/)(?:_?examples|samples|demos|docs?_src|compat|_compat|legacy|generated|__generated__"
    r"|releasenotes|release[-_]notes|newsfragments|changelogs?|changelog\.d|changes\.d|benches|benchmarks?|bench)/"
    r"|^(?:_?example|sample|demo)/"
)
# A project's machinery, indexed as text: CI pipelines and repository settings (`.github/`, `.gitlab-ci.yml`) and
# package manifests (`Cargo.toml`, `pyproject.toml`). They name the project and say what it does in words, and so
# matched questions about its code: zig-clap's two workflows were in the first ten of 7 of its 15 questions each,
# serde's `Cargo.toml`s 11 times in all, nvm's `toc.yml` first for "compare two semantic versions". Noise, unless
# the query asks about them (``QueryInfo.wants_project``) or names them (``project_file``).
_PROJECT_FILES = re.compile(
    r"(?:^|/)\.(?:github|gitlab|circleci|buildkite|azure-pipelines|devcontainer)/"
    r"|(?:^|/)(?:\.gitlab-ci|\.travis|appveyor|azure-pipelines|\.pre-commit-config|\.pre-commit-hooks|codecov"
    r"|\.codecov|\.readthedocs|\.golangci|\.rubocop|\.goreleaser|\.mergify|renovate|dependabot|pubspec|mkdocs"
    r"|\.yamllint|\.clang-tidy)\.ya?ml$"
    r"|(?:^|/)(?:Cargo|pyproject|rustfmt|\.rustfmt|clippy|deny|taplo|\.taplo)\.toml$"
    r"|(?:^|/)(?:setup|tox|\.flake8|\.pylintrc|mypy|pytest|\.coveragerc)\.(?:cfg|ini)$"
    r"|\.(?:gemspec|podspec|rockspec)$"
)
# Generated by name: protobuf's Python and Go (with grpc-gateway's and validators' `.pb.gw.go`, `.pb.validate.go`), and
# the `.g.` of C# source generators and Dart's build_runner (`.g.cs`, `.g.dart`) and of generated TypeScript.
_GENERATED_NAMES = re.compile(r"(?:_pb2\.py|\.pb(?:\.\w+)?\.go|_generated\.\w+|\.gen\.\w+|\.g\.(?:cs|dart|ts))$")
_DECLARATION_NAMES = re.compile(r"\.d\.[cm]?ts$|\.pyi$")  # TypeScript declarations, Python stubs
# A member of a test double by its type's name: `FakeLessor.Revoke` (`return nil`, first for "Lessor Revoke" before
# the real `lessor.Revoke`), rack's `MockResponse.cookies`, `nopPage.Hugo`.
_TEST_DOUBLE = re.compile(r"(?:[\w$]+\.)*(?:[Ff]ake|[Mm]ock|[Ss]tub|[Dd]ummy|[Nn]oop|[Nn]op)[A-Z]\w*\.")
_PLAIN_WORD = re.compile(r"[A-Za-z_$][\w$]*")
_NAME_SEPARATORS = re.compile(r"\.|::|->|\\|#|:")  # `:`: Lua's `Picker:find`
_CONTAINER_KINDS = frozenset({"class", "interface", "module", "trait", "type"})  # outlines (a Go struct: a type)
_TYPE_KINDS = _CONTAINER_KINDS | {"enum"}  # what a constructor constructs
# Kinds of definition that another file may hold a near-copy of (vendored copies, one class per platform build):
# ``saturated`` and ``codesearch.search.pool.pick`` treat them as such.
NEAR_COPY_KINDS = frozenset({"class", "interface", "trait", "enum", "type", "module"})
FUNCTION_KINDS = frozenset({"function", "method"})


@dataclass(frozen=True, slots=True)
class Signals:
    """Which ranking signals are on (all by default; the benchmark switches each off in turn)."""

    definition: bool = True
    path: bool = True
    noise: bool = True
    kind: bool = True
    stubs: bool = True
    word: bool = True
    uses: bool = True  # code naming the name a usage question asks about (see ``uses`` above)
    file_path: bool = True
    file_named: bool = True  # a question's or topic's words name the whole file (``cookies.py``)
    coherence: bool = True
    saturation: bool = True
    overloads: bool = True  # further chunks of one name in one file count less (see overload_of)
    similar: bool = True  # fold near-copies of a result in other files into it (see search.pool.pick)
    twins: bool = True  # fold a result's copies in build twins of its file into it (see build_twin, search.pool.pick)
    file_topic: bool = True  # a natural-language query's cosine with each file's topic (see file_topic)
    declared: bool = True  # a C or C++ prototype's one definition elsewhere takes its score (see _declared)
    opening: bool = True  # a file's documented opening is not scaled down as code (see documented_opening)
    exports: bool = True  # a one-line code chunk's one definition of its file takes its score (see _exports_follow)
    phrase: bool = True  # code that holds a message the query pastes, as written (see ``phrase``)

    @classmethod
    def without(cls, name: str) -> Signals:
        """All signals but ``name``. :raises ValueError: for an unknown signal."""
        if name not in {f.name for f in fields(cls)}:
            raise ValueError(f"unknown ranking signal {name!r}")
        return cls(**{name: False})

    @classmethod
    def none(cls) -> Signals:
        """Fusion only."""
        return cls(**{f.name: False for f in fields(cls)})


@dataclass(slots=True)
class Candidate:
    """A chunk in the pool: its stored row and what each stage and signal gave it.

    ``id`` orders ties: in a search it is (shard number, chunk id).
    """

    id: int | tuple[int, int]
    row: dict[str, Any]
    fused: float
    scores: dict[str, float] = field(default_factory=dict)
    score: float = 0.0
    path: str = field(init=False)  # the row's path (read by every signal: set once)
    file: Any = field(init=False)  # the file it is in (``file_of``)

    def __post_init__(self) -> None:
        self.path = str(self.row["path"])
        self.file = (self.id[0], self.path) if isinstance(self.id, tuple) else self.path


def rank(query: QueryInfo, pool: list[Candidate], signals: Signals = Signals()) -> list[Candidate]:
    """The pool scored and sorted, best first; each candidate's ``scores`` says why."""
    if not pool:
        return []
    top = max(c.fused for c in pool) or 1.0
    for c in pool:
        c.score = c.fused / top
    if signals.definition and query.identifiers:
        weight = DEFINITION_WEIGHT if query.kind == IDENTIFIER else EMBEDDED_DEFINITION_WEIGHT
        # In a sentence, a class's name names the class, not its constructor (named as the class): the JDK's
        # `protected LookAndFeel() {}` and GridBagLayout's empty constructor came first for questions about them.
        defining = [c for c in pool if defines(c.row, query, c.scores.get("lexical", 1.0) > 0)
                    and not (query.kind != IDENTIFIER and is_constructor(str(c.row["qualname"])))]
        primary = {str(c.row["qualname"]) for c in defining if named_after(c.path, query)}
        files: dict[str, set[Any]] = {}  # qualified name -> the files of the pool that define it
        for c in defining:
            files.setdefault(str(c.row["qualname"]), set()).add(c.file)
        scoped = scoped_names(query)
        # A capitalised word of a sentence defined in several files of the pool (hugo's "how does Hugo choose a
        # layout": `nopPage.Hugo`, `SiteInfo.Hugo`, `testSite.Hugo`, stubs that return the project) names
        # none of them: a proper noun, most often the project's own name.
        proper = {w for w in query.identifiers if w.isalpha() and w[:1].isupper() and w[1:].islower()}
        named: dict[str, set[Any]] = {}  # such a word -> the files of the pool that define it
        if query.kind != IDENTIFIER and proper:
            for c in defining:
                if str(c.row["name"]) in proper:
                    named.setdefault(str(c.row["name"]), set()).add(c.file)
        for c in defining:
            factor = definition_factor(c, query, primary)
            qualname = str(c.row["qualname"])
            if scoped and not in_scopes(qualname, scoped):
                factor *= OTHER_SCOPE_FACTOR  # the query names the scope too, and it is not this one
            if c.row.get("kind") == "module" and len(files[qualname]) >= NAMESPACE_FILES and qualname not in primary:
                factor /= len(files[qualname])  # a namespace reopened in every file (``module Sinatra``) names none
            elif len(spread := named.get(str(c.row["name"]), ())) >= NAMESPACE_FILES and qualname not in primary:
                factor /= len(spread)  # a proper noun defined in every page type names none of them
            _add(c, "definition", weight * factor)
    if signals.definition and query.spelled:
        spelled = set(query.spelled)
        for c in pool:
            if "definition" not in c.scores and spells(c.row, spelled) and not is_constructor(str(c.row["qualname"])):
                _add(c, "definition", SPELLED_DEFINITION_WEIGHT)
    if signals.path and query.stems:
        shares: dict[str, float] = {}  # a pool holds several chunks of most files
        for c in pool:
            share = shares.get(c.path)
            if share is None:
                share = shares[c.path] = path_share(c.path, query)
            if share:
                _add(c, "path", PATH_WEIGHT * share)
        file_named = signals.file_named and saturates(query)
        if signals.file_path or file_named:
            for c in best_of_files(pool):
                share = shares[c.path]
                if not share:
                    continue  # a file named by query words has some of them in its path
                if signals.file_path:
                    _add(c, "file_path", FILE_PATH_WEIGHT * share)
                if file_named and (named := _file_name_stems(c.path)) and query.stems.issuperset(named):
                    _add(c, "file_named", FILE_NAMED_WEIGHT)
    if signals.coherence and query.question:
        _coherence(pool)
    if signals.word and (exact := whole_word(query)) is not None:
        for c in pool:
            if exact.search(code_of(c.row)):
                _add(c, "word", WORD_WEIGHT)
    asked_for: set[Any] = set()  # the candidates the query names as a whole (a test by its printed name)
    if signals.phrase and (pasted := phrase(query)) is not None:
        # The code that holds it has every word of the query: the lexical ranking's best are read, no more (reading
        # the whole pool cost 10% of a search on libuv).
        lexical = sorted((c for c in pool if c.scores.get("lexical", 0.0) > 0), key=lambda c: -c.scores["lexical"])
        for c in lexical[:PHRASE_READ]:
            if pasted.search(code_of(c.row)):
                _add(c, "phrase", PHRASE_WEIGHT)
        # A test's name as its runner prints it, its suites' names before it ("http.util module query_args works",
        # Jest's "query args › encodes spaces", RSpec's "Hashie::Mash#fetch returns the value"): the test so named.
        named = _test_name(query.text)
        for c in pool:
            if named in (_test_name(str(c.row.get("qualname") or "")), _test_name(str(c.row.get("name") or ""))):
                if "phrase" not in c.scores:
                    _add(c, "phrase", PHRASE_WEIGHT)
                asked_for.add(c.id)  # a test asked for by its name: where it lives does not matter
    if signals.uses and (query.usages or _names_a_function(query, pool)) and (used := name_pattern(query)) is not None:
        for c in pool:
            # code that runs: a function's, a method's, or between definitions (a class's outline lists its
            # members' signatures: naming a member there is declaring it, not using it)
            runs = c.row.get("kind") in FUNCTION_KINDS or is_code(c.row)
            if runs and "definition" not in c.scores and used.search(code_of(c.row)):
                _add(c, "uses", USES_WEIGHT)
    if signals.noise:
        asked = query.wants_tests or query.wants_examples
        # The query names this very symbol: where it lives does not matter, unless it is also defined
        # outside tests and examples (a test's stand-in for `Serialize` is not the answer then).
        spared = query.kind == IDENTIFIER and not any(
            "definition" in c.scores and not is_noise_row(c.row) for c in pool)
        for c in pool:
            if (spared and "definition" in c.scores) or c.id in asked_for:
                continue
            named = project_file(c.path)
            if (named is not None and not query.wants_project and named.isdisjoint(query.stems)) or (
                    not asked and is_noise_row(c.row)):
                c.scores["noise"] = NOISE_FACTOR
                c.score *= NOISE_FACTOR
    if signals.stubs:
        for c in pool:
            factor = stub_factor(c.path)
            if factor < 1.0:
                c.scores["stubs"] = factor
                c.score *= factor
    if signals.kind:
        for c in pool:
            if c.row.get("kind") == "code":
                if signals.opening and c.row.get("start_line") == 1 and documented_opening(c.row):
                    continue
                c.scores["kind"] = CODE_FACTOR
                c.score *= CODE_FACTOR
            elif query.task and c.row.get("kind") in _CONTAINER_KINDS:
                c.scores["kind"] = TASK_CONTAINER_FACTOR
                c.score *= TASK_CONTAINER_FACTOR
    if signals.file_topic:
        _file_topic(pool)
    if signals.declared:
        _declared(pool)
        _signatures_follow(pool)
    if signals.exports:
        _exports_follow(pool)
    if signals.definition and query.kind == IDENTIFIER:
        _constructors_follow(pool)
    pool.sort(key=lambda c: (-c.score, c.id))
    if signals.overloads:
        free = further_overloads(query, pool)
        pool = saturated(pool, OVERLOAD_DECAY, signal="overloads",
                         key=lambda c: c.id if c.id in free else overload_of(c))
    return pool


def further_overloads(query: QueryInfo, ranked: list[Candidate]) -> set[Any]:
    """The ids of the candidates that are a further function or method of the very name the query is (in its
    scope, when the query gives one), after the best one of their file: a name asks for every overload, as rg
    lists them, so neither ``overloads`` nor ``saturation`` makes them wait (Alamofire's four `Session.request`
    in Session.swift: three were below the tenth). The best one counts as its file's first chunk as before. Not
    constructors (`log_msg_buffer.log_msg_buffer`): the name of a class asks for the class. None for a query that
    is no name: one overload, then other code."""
    if query.kind != IDENTIFIER:
        return set()
    scoped = scoped_names(query)
    seen: set[Any] = set()
    further: set[Any] = set()
    for c in ranked:
        qualname = str(c.row["qualname"])
        if ("definition" in c.scores and c.row["kind"] in FUNCTION_KINDS and not is_constructor(qualname)
                and (not scoped or in_scopes(qualname, scoped))):
            if c.file in seen:
                further.add(c.id)
            seen.add(c.file)
    return further


_OPENINGS: dict[str, bool] = {}  # documented_opening by content hash
_OPENINGS_KEPT = 65536


def documented_opening(row: dict[str, Any]) -> bool:
    """Whether a code chunk (a file's opening) holds ``OPENING_WORDS`` words or more of comments, counting
    only the paragraphs that are no licence (``indexer.licences``). Kept by content hash: a search reads
    an opening's code once."""
    key = str(row.get("content_hash") or "")
    known = _OPENINGS.get(key) if key else None
    if known is None:
        known = comment_words(code_of(row)) >= OPENING_WORDS
        if key:
            if len(_OPENINGS) >= _OPENINGS_KEPT:
                _OPENINGS.clear()
            _OPENINGS[key] = known
    return known


def _declared(pool: list[Candidate]) -> None:
    """A declaration and its one definition elsewhere in the pool (``declared``): the definition takes the
    declaration's score when that is higher (its ``declared`` score: the lift), and the declaration follows
    it (its ``declaration`` score: ``DECLARATION_BELOW``, the factor). Only a name found in two files or more
    has its code read (a decompression per chunk: reading every C function's cost 1.5 ms a search)."""
    named: dict[str, list[Candidate]] = {}
    for c in pool:
        row = c.row
        if row["language"] in DECLARING_LANGUAGES and row["kind"] in FUNCTION_KINDS:
            named.setdefault(row["qualname"], []).append(c)
    for group in named.values():
        if len(group) < 2 or len({c.file for c in group}) < 2:
            continue
        declarations: list[Candidate] = []
        definitions: list[Candidate] = []
        for c in group:
            (declarations if is_declaration(c.row) else definitions).append(c)
        for declaration in declarations:
            found = [d for d in definitions if d.file != declaration.file]
            if len(found) != 1:  # none, or one per platform (libuv's `uv__io_poll`): nothing to say which
                continue
            definition = found[0]
            # The prototype counts as a chunk of its definition's file from here on (``saturation``): tmux's
            # `void log_add_level(void);` in tmux.h came 3rd, its definition 10th as log.c's second chunk.
            declaration.file = definition.file
            if definition.score < declaration.score:
                definition.scores["declared"] = declaration.score - definition.score
                definition.score = declaration.score
                declaration.scores["declaration"] = DECLARATION_BELOW
                declaration.score = definition.score * DECLARATION_BELOW


def _exports_follow(pool: list[Candidate]) -> None:
    """A one-line code chunk that names one definition of its file the pool holds (`exports.default =
    calculateRetryDelay;`, `module.exports = Router;`) gives it its score when higher, and follows it (its ``export``
    score: ``DECLARATION_BELOW``): a line's vector is its names', and got's `calculateRetryDelay` was 10th for "how is
    the retry delay computed", its own file's export line 3rd (the file's first place taken by the line)."""
    defined: dict[tuple[Any, str], list[Candidate]] = {}
    for c in pool:
        if c.row.get("kind") in FUNCTION_KINDS or c.row.get("kind") in NEAR_COPY_KINDS:
            defined.setdefault((c.file, str(c.row["name"])), []).append(c)
    if not defined:
        return
    for c in pool:
        if not is_code(c.row) or c.row.get("start_line") != c.row.get("end_line"):
            continue
        found = {id(d): d for name in set(_NAME.findall(code_of(c.row))) for d in defined.get((c.file, name), ())}
        if len(found) != 1:
            continue
        definition = next(iter(found.values()))
        if definition.score < c.score:
            definition.scores["exported"] = c.score - definition.score
            definition.score = c.score
            c.scores["export"] = DECLARATION_BELOW
            c.score = definition.score * DECLARATION_BELOW


def _signatures_follow(pool: list[Candidate]) -> None:
    """A function's overload signatures (``is_signature``: TypeScript's `once(type: T, listener: L): this;`, Python's
    `@overload` stubs) follow its one implementation in the same file, which takes the best of their scores:
    maplibre's `Map.once` had seven signatures first and its body fifth to eighth."""
    named: dict[Any, list[Candidate]] = {}
    for c in pool:
        if c.row.get("kind") in FUNCTION_KINDS:
            named.setdefault((c.file, c.row["qualname"]), []).append(c)
    for group in named.values():
        if len(group) < 2:
            continue
        signatures = [c for c in group if is_signature(c.row)]
        bodies = [c for c in group if c not in signatures]
        if not signatures or len(bodies) != 1:
            continue
        body, best = bodies[0], max(c.score for c in signatures)
        if best > body.score:
            body.scores["declared"] = best - body.score
            body.score = best
        for c in signatures:
            c.scores["declaration"] = DECLARATION_BELOW
            c.score = min(c.score, body.score * DECLARATION_BELOW)


def _constructors_follow(pool: list[Candidate]) -> None:
    """For a name, a constructor (named as its class: Java's, C#'s, C++'s) follows its class when both define the name
    the query is: a new user's `TokenKind` had javac's constructor `TokenKind.TokenKind` first and the enum second,
    and `Lower`, `JavacParser` the same. Its score becomes just below the class's (``DECLARATION_BELOW``)."""
    types = {str(c.row["qualname"]): c for c in pool if "definition" in c.scores and c.row.get("kind") in _TYPE_KINDS}
    if not types:
        return
    for c in pool:
        qualname = str(c.row["qualname"])
        if "definition" in c.scores and c.row.get("kind") in FUNCTION_KINDS and is_constructor(qualname):
            owner = types.get(qualname.rsplit(".", 1)[0]) if "." in qualname else None
            if owner is not None and owner.file == c.file and c.score >= owner.score:
                c.scores["constructor"] = DECLARATION_BELOW
                c.score = owner.score * DECLARATION_BELOW


def is_signature(row: dict[str, Any]) -> bool:
    """Whether a function chunk is a signature without a body (``indexer.languages.is_signature``: in a braced
    language, code that does not end in `}`, as a TypeScript overload is kept without its `;`; Python's `...`). A
    definition whose stored code was cut (``STORED_CODE_CHARS``) has a body past the cut: capacitor's 80-line
    `webView(_:start:)` was folded as a declaration into the 3-line `webView(_:stop:)`."""
    code = code_of(row)
    if stops_early(code, int(row.get("start_line") or 0), int(row.get("end_line") or 0)):
        return False
    return language_signature(str(row.get("language") or ""), code)


def is_declaration(row: dict[str, Any]) -> bool:
    """Whether a function chunk is a declaration without a body (a C or C++ prototype ends in ``;``)."""
    return code_of(row).rstrip().endswith(";")


def is_code(row: dict[str, Any]) -> bool:
    """Whether a chunk is code between definitions (a ``code`` chunk, or an old index's unnamed kind)."""
    return row.get("kind") in (None, "", "code")


def overload_of(candidate: Candidate) -> Any:
    """What a candidate's overloads share: its file, kind and qualified name (a ``code`` chunk has none:
    the code between definitions is named after its file), a window's its definition's: the windows of a long
    overload are further chunks of its name too (they were not, and for `process` a Java overload's 124 lines came
    as their last window, above the whole method, which the decay had halved)."""
    if is_code(candidate.row):
        return candidate.id
    return file_of(candidate), candidate.row["kind"], definition_name(str(candidate.row["qualname"]))


def file_of(candidate: Candidate) -> Any:
    """The file a candidate is in: its path, with its shard's number in a search of several indexes."""
    return candidate.file


def best_of_files(pool: list[Candidate]) -> list[Candidate]:
    """The best-scored candidate of each file in the pool (ties: the lower id), in the pool's order."""
    best: dict[Any, Candidate] = {}
    for c in pool:
        f = file_of(c)
        if f not in best or (-c.score, c.id) < (-best[f].score, best[f].id):
            best[f] = c
    return list(best.values())


def _coherence(pool: list[Candidate]) -> None:
    """Lift each file's best chunk by ``COHERENCE_WEIGHT`` times the file's share of evidence: the sum of
    its candidates' fused scores over the largest such sum in the pool."""
    totals: dict[Any, float] = {}
    for c in pool:
        totals[file_of(c)] = totals.get(file_of(c), 0.0) + c.fused
    most = max(totals.values())
    if most > 0:
        for c in best_of_files(pool):
            _add(c, "coherence", COHERENCE_WEIGHT * totals[file_of(c)] / most)


def _file_topic(pool: list[Candidate]) -> None:
    """Lift every chunk by ``FILE_TOPIC_WEIGHT`` times its file's topic cosine (its ``file`` score, when the
    search measured it) over the best in the pool, scaled as the file is (``noise``, ``stubs``): the same
    lift for all of a file's chunks, added after the kind factors, so their order within the file stays
    and a file about the query as a whole rises with all its chunks."""
    most = max((c.scores.get("file", 0.0) for c in pool), default=0.0)
    if most > 0:
        for c in pool:
            if (similarity := c.scores.get("file", 0.0)) > 0:
                scale = c.scores.get("noise", 1.0) * c.scores.get("stubs", 1.0)
                _add(c, "file_topic", FILE_TOPIC_WEIGHT * scale * similarity / most)


def saturated(ranked: list[Candidate], decay: float = SATURATION_DECAY, key: Callable[[Candidate], Any] = file_of,
              signal: str = "saturation") -> list[Candidate]:
    """``ranked`` (best first) reordered so that each further chunk of a file counts ``decay`` times less.

    Greedy: the next result is the candidate whose score, times ``decay`` to the number of chunks of
    its file already placed, is highest; that product becomes its score (``scores[signal]``: the
    factor). A file's chunks keep their order. ``key`` says what counts as one file
    (``overload_of``: one name in one file).

    As a file's chunks come best first and ``decay`` is below 1, each one's product is at most the one
    before's, so the greedy order is one sort by the products (ties: the file met first, then the
    earlier chunk), the merge a heap of the files' heads would make.

    A type (class, interface, trait, enum, type, module) whose kind and qualified name a better candidate of
    another file has is no chunk of its file here and keeps its score: it is usually a copy that ``pick`` folds
    into that one (react-native-keyboard-controller's ``KeyboardControllerPackage`` in ``base/`` and ``turbo/``),
    and counting it made its file's own members wait as that file's further chunks.
    """
    queues: dict[Any, list[Candidate]] = {}
    copies: list[Candidate] = []  # types of a name an earlier candidate of another file has (see the doc)
    first_file: dict[tuple[Any, Any], Any] = {}
    for c in ranked:
        if c.row.get("kind") in NEAR_COPY_KINDS:
            name = (c.row.get("kind"), c.row.get("qualname"))
            if first_file.setdefault(name, c.file) != c.file:
                copies.append(c)
                continue
        queues.setdefault(key(c), []).append(c)
    if not copies and len(queues) == len(ranked):
        return list(ranked)  # no file (or name) twice: the order stays
    order = [(-(c.score * decay ** placed if placed else c.score), n, placed, c)
             for n, queue in enumerate(queues.values()) for placed, c in enumerate(queue)]
    order.sort(key=lambda entry: entry[:3])
    for score, _, placed, c in order:
        if placed:
            c.scores[signal] = decay ** placed
            c.score = -score
    out = [entry[3] for entry in order]
    if copies:  # each in its place by its own score (a stable sort: ties keep the order above)
        out = sorted([*out, *copies], key=lambda c: -c.score)
    return out


def saturates_results(query: QueryInfo) -> bool:
    """Whether a query's results are saturated by file (``saturated``, in ``codesearch.search.pool``): when
    ``saturates`` says so, and for a name: its definition comes first on its own score, then the other files that
    define or use it before the rest of its own file (scrapy's ``LxmlLinkExtractor`` had its class and then six of
    its own chunks, the package that exports it not in the first ten)."""
    return saturates(query) or query.kind == IDENTIFIER


def saturates(query: QueryInfo) -> bool:
    """Whether each further chunk of one file counts less for ``query`` (``saturated``): a question, a
    topic (several words that do not start with a verb: ``cookie jar implementation``) or one plain word;
    not a task (``send a request with a timeout``) or a name."""
    topic = query.kind == NATURAL and len(query.words) > 1 and not query.task
    return query.question or topic or whole_word(query) is not None


def names_a_definition(query: QueryInfo, ranked: list[Candidate], top: int = 3) -> Candidate | None:
    """The first of the ``top`` best candidates whose definition's name is two or three adjacent words of
    the query written together (``csv dict reader`` names ``DictReader``): the query names a symbol in
    plain words, and the file that defines it is the answer. None when there is none."""
    return next((c for c in ranked[:top] if spells(c.row, set(_adjacent_words(query)))), None)


def keeps_named_file(query: QueryInfo, ranked: list[Candidate]) -> bool:
    """Whether a topic that names a definition (``names_a_definition``) keeps that file's chunks together
    instead of saturating: unless another file of the pool is named by a query word the name does not
    spell. ``csv dict reader`` is all ``csv.py`` (no other file is about csv: without this its
    ``DictReader.__next__`` fell below three encodings' ``StreamReader``s); ``middleware handler stack
    composition`` names ``HandlerStack`` but also ``Middleware.php``, which must not wait for every chunk
    of ``HandlerStack.php``."""
    named = names_a_definition(query, ranked)
    if named is None:
        return False
    spelled = _adjacent_words(query)[str(named.row["name"]).lower().replace("_", "")]
    rest = query.stems - {stem(w) for w in spelled}
    return not (rest and any(c.file != named.file and rest & _path_stems(c.path) for c in ranked))


def _adjacent_words(query: QueryInfo) -> dict[str, list[str]]:
    """Two or three adjacent words of the query written together (lower case), each with its words."""
    words = [w for w in query.text.lower().replace("_", " ").split() if w.isalnum()]
    return {"".join(words[i:i + n]): words[i:i + n] for n in (2, 3) for i in range(len(words) - n + 1)}


def _add(candidate: Candidate, signal: str, value: float) -> None:
    candidate.scores[signal] = candidate.scores.get(signal, 0.0) + value
    candidate.score += value


@lru_cache(maxsize=256)
def _word_pattern(word: str, fold: bool) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w$]){re.escape(word)}(?![\w$])", re.IGNORECASE if fold else 0)


def whole_word(query: QueryInfo) -> re.Pattern[str] | None:
    """For a query of one plain word (``offline``), the pattern of that word standing alone in code
    (any case for a lowercase word); None for any other query, and for one written like code
    (``HTTPAdapter``, ``Session``, ``parse_config``: the definition signal finds those)."""
    text = query.text
    if query.kind == IDENTIFIER or not _PLAIN_WORD.fullmatch(text):  # a name: the definition signal's
        return None
    return _word_pattern(text, text.islower())


_MESSAGE_MARK = re.compile(r"[\w][':%][\w\s]|[\w]:\s|%[sdv]")  # `can't`, `session: %s`


_MESSAGE_PREFIX = re.compile(r"^(?:error|warning|warn|fatal|panic|exception|info|debug)\s*:\s*", re.IGNORECASE)
# What a program or runtime writes before a message: one or two words and a colon, once or more (`TypeError: `,
# `Uncaught Error: `, hledger's `hledger: Error: `, `error[E0382]: `).
_MESSAGE_LABELS = re.compile(r"^(?:(?:[A-Za-z_][\w.]*\s+)?[A-Za-z_][\w.]*(?:\[\w+\])?:\s+)+")


@lru_cache(maxsize=256)
def phrase(query: QueryInfo) -> re.Pattern[str] | None:
    """For a query that may be a message pasted from the code (an error a user sees: "can't find session",
    "connection closed before message completed"), the pattern of its words as written, any case, one after the
    other, any spaces between them; None for a name, a question, or a query of fewer than ``PHRASE_WORDS`` words
    or a task ("resize the pane") unless it is written like a message (an apostrophe or a colon inside it, a
    format directive). As a user sees it, a message may end with a full stop, start with `error:`, and have its
    values filled in after a colon ("can't find session: work"): the words before the colon are matched too, and
    those after what a program writes before it (`TypeError: `, `hledger: Error: `).
    A new user's pasted tmux message was below the thirtieth result, the one function that prints it split into
    windows. Words in double quotes are a message however few (an agent's `"Authentication failure"`)."""
    written = query.text.strip()
    quoted = len(written) > 2 and written[0] == written[-1] == '"'
    text = written.strip("\"'`")
    words = text.split()
    if query.kind != NATURAL or query.question or len(words) < 2:
        return None
    if (len(words) < PHRASE_WORDS or query.task) and not quoted and not _MESSAGE_MARK.search(text):
        return None
    text = _MESSAGE_PREFIX.sub("", text).rstrip(".!")
    unlabelled = _MESSAGE_LABELS.sub("", text)
    forms = [text, text.split(": ", 1)[0].rstrip(".!"), unlabelled, unlabelled.split(": ", 1)[0].rstrip(".!")]
    forms = [form.split() for form in dict.fromkeys(forms) if len(form.split()) >= 2]
    if not forms:
        return None
    return re.compile("|".join(r"\s+".join(re.escape(word) for word in form) for form in forms), re.IGNORECASE)


_TEST_NAME_GLUE = re.compile(r"[\s.›>#]+")


@lru_cache(maxsize=4096)
def _test_name(text: str) -> str:
    """A test's full name as a runner prints it or the index qualifies it, its parts' glue (spaces, `.`, `›`, `#`)
    made one space, in lower case: ``http.util module.query_args works`` and ``http.util module query_args works``
    alike."""
    return _TEST_NAME_GLUE.sub(" ", text.strip().strip("\"'`")).strip().lower()


def name_pattern(query: QueryInfo) -> re.Pattern[str] | None:
    """The name a query is, as rg -w looks for it: its last part (``transfer`` of ``ConcurrentHashMap.transfer``),
    or its one plain word (``whole_word``); None for any other query."""
    if query.kind == IDENTIFIER:
        return _word_pattern(_scopes(query.text)[-1], False)
    return whole_word(query)


def defines(row: dict[str, Any], query: QueryInfo, words: bool = True) -> bool:
    """Whether the chunk is the definition of a name the query mentions.

    Exact (case-sensitive) for names written like code; any case for the lone word of a
    one-word query (``session``, ``quantize``). The code between definitions defines the names it
    assigns at the start of a line (``DEFAULT_POOLSIZE = 10``, ``#define REDIS_VERSION``: ``assigns``),
    unless ``words`` says it holds none of the query's words (its lexical score is 0: its code is not read).
    """
    if is_code(row):  # top-level code defines the constants it assigns
        return words and row.get("kind") == "code" and assigns(code_of(row), query.identifiers)
    qualname = str(row["qualname"])
    scopes = _scopes(qualname)  # ``Puppet::Indirector`` and ``Sinatra.Base`` alike
    name = unscoped(str(row["name"]))  # an index of before PARSER_VERSION 8 kept the scope in the name
    loose = query.kind != IDENTIFIER and len(query.identifiers) == 1 and query.identifiers[0].islower()
    for identifier in query.identifiers:
        if name == identifier or qualname == identifier or scopes[-1] == identifier:
            return True
        if loose and name.lower() == identifier.lower():
            return True
        parts = _scopes(identifier)
        if len(parts) > 1 and scopes[-len(parts):] == parts:
            return True
    return False


def assigns(code: str, identifiers: tuple[str, ...]) -> bool:
    """Whether top-level ``code`` (between definitions) defines one of ``identifiers`` as a constant or
    variable: ``#define NAME``, or ``NAME =`` / ``NAME :=`` / ``NAME: type =`` at the start of a line after
    any modifiers and type (``public static final int NAME = 5``, ``export const NAME =``, Go's ``NAME = iota``)."""
    return any(identifier in code and _assignment(identifier).search(code)  # the scan only where the name is
               for identifier in identifiers if _PLAIN_WORD.fullmatch(identifier))


@lru_cache(maxsize=256)
def _assignment(name: str) -> re.Pattern[str]:
    word = re.escape(name)
    # A C macro, or: modifiers and a type, the name, an annotation, then `=` or `:=`.
    return re.compile(rf"(?m)^[ \t]*(?:#[ \t]*define[ \t]+{word}\b"
                      rf"|(?:[\w<>\[\],.*&]+[ \t]+)*{word}[ \t]*(?::[^=\n]+)?(?::=|=(?!=)))")


@lru_cache(maxsize=65536)
def _scopes(name: str) -> tuple[str, ...]:
    """The parts of a (qualified) name: ``Puppet::Indirector.Face`` -> Puppet, Indirector, Face."""
    return tuple(_NAME_SEPARATORS.split(name))


def is_constructor(qualname: str) -> bool:
    """Whether a qualified name is a constructor's, named as its class (``log_msg_buffer.log_msg_buffer``)."""
    parts = _scopes(qualname)
    return len(parts) > 1 and parts[-1] == parts[-2]


def scoped_names(query: QueryInfo) -> list[tuple[str, ...]]:
    """The parts of each name the query writes with its scope (``Session.request``, ``Picker:find``)."""
    return [parts for identifier in query.identifiers if len(parts := _scopes(identifier)) > 1]


def in_scopes(qualname: str, scoped: list[tuple[str, ...]]) -> bool:
    """Whether a qualified name ends with one of the ``scoped`` names' parts (``scoped_names``)."""
    parts = _scopes(qualname)
    return any(parts[-len(each):] == each for each in scoped)


def spells(row: dict[str, Any], spelled: set[str]) -> bool:
    """Whether the chunk defines a name that the query spells in words (``JsonArray`` for ``json
    array operations``)."""
    return not is_code(row) and str(row["name"]).lower().replace("_", "") in spelled


@lru_cache(maxsize=65536)
def _path_stems(path: str) -> frozenset[str]:
    """Stems of the words of a file's name and of its directory's name."""
    parts = path.rsplit("/", 2)
    name = parts[-1].rsplit(".", 1)[0]
    directory = parts[-2] if len(parts) > 1 else ""
    return frozenset(stem(w) for w in words_of(f"{name} {directory}") if len(w) > 1)


@lru_cache(maxsize=65536)
def _path_prefixes(path: str) -> frozenset[str]:
    """Every prefix of 4 or more characters of the file's stems (``_path_stems``)."""
    return frozenset(p[:k] for p in _path_stems(path) for k in range(4, len(p) + 1))


def path_share(path: str, query: QueryInfo) -> float:
    """The share of the query's stems that the file's name or directory contains: a stem of the path,
    or (4 characters or more) a prefix of one, or one with a path stem of 4+ characters as its prefix.

    Set lookups, not a scan of the path's stems for each query stem: a query ranks ~100 files.
    """
    stems = _path_stems(path)
    if not stems:
        return 0.0
    prefixes = _path_prefixes(path)
    hits = 0
    for s, heads in _stem_heads(query.stems):
        if s in stems or (heads is not None and (s in prefixes or not heads.isdisjoint(stems))):
            hits += 1
    return hits / len(query.stems)


@lru_cache(maxsize=1024)
def _stem_heads(stems: frozenset[str]) -> tuple[tuple[str, frozenset[str] | None], ...]:
    """Each query stem with its prefixes of 4 characters or more short of itself (None: a stem under 4
    characters, matched whole only), computed once per query for ``path_share``."""
    return tuple((s, frozenset(s[:k] for k in range(4, len(s))) if len(s) >= 4 else None) for s in stems)


def path_matches_name(path: str, query: QueryInfo) -> bool:
    """Whether the file is named after an identifier of the query (``Session`` in ``sessions.py``), or after the
    scope a scoped one names (``ConcurrentHashMap.java`` for ``ConcurrentHashMap.transfer``)."""
    stems = _path_stems(path)
    return any(s in stems for identifier in query.identifiers for s in _name_stems(identifier)) or any(
        scope and all(s in stems for s in scope) for identifier in query.identifiers
        for scope in (_scope_stems(identifier),))


@lru_cache(maxsize=4096)
def _scope_stems(identifier: str) -> tuple[str, ...]:
    """Stems of the words of the scope just above an identifier's last part (``ConcurrentHashMap.transfer`` ->
    ``concurr``, ``hash``, ``map``); none for a name without a scope."""
    parts = _NAME_SEPARATORS.split(identifier)
    return tuple(stem(w) for w in words_of(parts[-2])) if len(parts) > 1 else ()


@lru_cache(maxsize=4096)
def _name_stems(identifier: str) -> tuple[str, ...]:
    """Stems of the words of an identifier's last part (``client.HTTPAdapter`` -> ``http``, ``adapter``): asked
    for every defining candidate of a search."""
    return tuple(stem(w) for w in words_of(_NAME_SEPARATORS.split(identifier)[-1]))


@lru_cache(maxsize=65536)
def _file_name_stems(path: str) -> tuple[str, ...]:
    """Stems of the words of a file's name without its extension, in order."""
    return tuple(stem(w) for w in words_of(path.rsplit("/", 1)[-1].rsplit(".", 1)[0]))


def named_after(path: str, query: QueryInfo) -> bool:
    """Whether the file is called exactly the last part of an identifier of the query, compared by word stems
    (``SqlMapper.cs`` or ``sql_mapper.py`` for ``SqlMapper``, ``sessions.py`` for ``Session``; not
    ``SqlMapper.Async.cs``, ``adapters.py`` for ``HTTPAdapter``)."""
    stems = _file_name_stems(path)
    return bool(stems) and any(stems == _name_stems(identifier) for identifier in query.identifiers)


def definition_factor(candidate: Candidate, query: QueryInfo, primary: set[str]) -> float:
    """How much of the definition weight a defining chunk gets, by where it lives.

    ``PARTIAL_FACTOR`` for another file's definition of a qualified name in ``primary`` (defined in a
    file called exactly the name too: a partial class, reopened class or extension is part of the
    definition, whatever its file's name says); else ``NAMED_FILE_FACTOR`` in a file or folder named
    after the name, 1 elsewhere.
    """
    if str(candidate.row["qualname"]) in primary and not named_after(candidate.path, query):
        return PARTIAL_FACTOR
    return NAMED_FILE_FACTOR if path_matches_name(candidate.path, query) else 1.0


@lru_cache(maxsize=65536)
def is_noise(path: str, language: str) -> bool:
    """Tests, examples, compatibility shims and generated files (by path)."""
    return is_test_path(path, language) or bool(_NOISE_DIRS.search(path)) or bool(_GENERATED_NAMES.search(path))


@lru_cache(maxsize=65536)
def project_file(path: str) -> frozenset[str] | None:
    """The stems that name a file of the project's machinery (``_PROJECT_FILES``): those of its path from the
    CI directory on, or of its name (`github`, `workflow`, `main`; `cargo`); None for any other file."""
    match = _PROJECT_FILES.search(path)
    if match is None:
        return None
    tail = path[match.start():]
    named = tail.rsplit(".", 1)[0] or tail  # from the CI directory, the manifest's name, or a spec's extension
    return frozenset(stem(w) for w in words_of(named.replace("/", " ")) if len(w) > 1)


def _names_a_function(query: QueryInfo, pool: list[Candidate]) -> bool:
    """Whether the query is a bare name whose definitions in the pool are all functions or methods: its calls follow
    them, as rg lists a name's lines (jsoup's `copySafeNodes` listed copy and clone look-alikes, and none of its three
    calls in the first thirty). Not a type's name: a type is named all over (serde's `Visitor` lost its file)."""
    if query.kind != IDENTIFIER:
        return False
    kinds = {c.row.get("kind") for c in pool if "definition" in c.scores}
    return bool(kinds) and kinds <= FUNCTION_KINDS


def is_noise_row(row: dict[str, Any]) -> bool:
    """Whether a chunk is noise (``is_noise``), a member of a test double (``_TEST_DOUBLE``: a fake, mock, stub, dummy
    or no-op type), or a test kept in a source file (Rust's ``mod tests``, Zig's ``test`` blocks:
    ``indexer.languages.is_test_definition``)."""
    language = str(row["language"])
    if is_noise(str(row["path"]), language):
        return True
    if _TEST_DOUBLE.match(str(row.get("qualname") or "")):
        return True  # a test double's member, wherever it lives (etcd's `FakeLessor.Revoke` in lease/lessor.go)
    return language in INLINE_TEST_LANGUAGES and is_test_definition(
        language, str(row.get("kind") or ""), str(row.get("qualname") or ""), str(row.get("signature") or ""))


@lru_cache(maxsize=65536)
def stub_factor(path: str) -> float:
    """The scale of a type declaration file's chunks (1: not one)."""
    return DECLARATION_FACTOR if _DECLARATION_NAMES.search(path.rsplit("/", 1)[-1]) else 1.0


# Directories that hold a build of the sources, or the sources themselves (`build_twin`): `dist/cjs/x.js`,
# `dist/x.js`, `es/x.js`, `lib/x.js` and `src/x.ts` are one file built several ways. Platform directories
# (`node/`, `browser/`, `unix/`, `win/`) are not: their files are different implementations of one name.
BUILD_VARIANT_DIRS = frozenset({
    "dist", "build", "out", "lib", "src", "cjs", "esm", "es", "es5", "es6", "es2015", "es2017", "es2018", "es2019",
    "es2020", "es2022", "esnext", "mjs", "umd", "amd", "commonjs", "module", "types", "typings", "compiled"})
# The extensions one JavaScript or TypeScript module is built to, declarations first, after any build
# targets in the file's name (one bundle built several ways: `core.umd.js`, `core.browser.mjs`, `core.esm.js`).
_MODULE_EXTENSIONS = re.compile(r"(?:\.(?:esm|cjs|mjs|es[56]?|umd|amd|module|browser|node|development|production))*"
                                r"\.(?:d\.[cm]?ts|[cm]?[jt]sx?)$")


@lru_cache(maxsize=65536)
def build_twin(path: str) -> str:
    """The path of a file's build twins: without build directories (``BUILD_VARIANT_DIRS``) and, for
    JavaScript and TypeScript, without the extension; two files with the same twin path are one module
    built several ways (``dist/x.js``, ``dist/cjs/x.js``, ``x.mjs``, ``types/x.d.ts``), or a Python module
    and its stub (``x.py``, ``x.pyi``)."""
    parts = [p for p in path.split("/")[:-1] if p.lower() not in BUILD_VARIANT_DIRS]
    name = path.rsplit("/", 1)[-1]
    return "/".join([*parts, name[:-1] if name.endswith(".pyi") else _MODULE_EXTENSIONS.sub("", name)])


def diversified(ranked: list[Any], per_file: int, path_of: Any = lambda item: item.path) -> list[Any]:
    """``ranked`` with at most ``per_file`` items of one file ahead of any other file's items.

    Items beyond the cap keep their order and follow all the others (0: no cap).
    """
    if per_file <= 0:
        return list(ranked)
    seen: dict[str, int] = {}
    first, later = [], []
    for item in ranked:
        path = path_of(item)
        seen[path] = seen.get(path, 0) + 1
        (first if seen[path] <= per_file else later).append(item)
    return first + later


# After a rerank: final = weight * cosine + (1 - weight) * first-stage share, where the share is
# the candidate's first-stage score (fusion plus every ranking signal) divided by the best among
# the reranked candidates. A task or a name: equal weights, chosen before measuring (the reranker
# alone, weight 1, lost to the first stage on both real-query benchmarks). A question, a topic or
# one word (``saturates``) is answered by files, which the reranker, reading one chunk's first
# tokens, cannot judge: a quarter (semble-dev NDCG@10 0.868 -> 0.874 with the shipped reranker;
# Rust, Kotlin and TypeScript lost 0.04-0.05 to the first stage at a half and 0.00-0.02 at a
# quarter; 0.15 and 0.35 measured the same; docs/TRAINING.md).
RERANK_WEIGHT = 0.5
RERANK_FILE_WEIGHT = 0.25


def rerank_weight(query: QueryInfo) -> float:
    """The reranker's share of a reranked candidate's score for ``query`` (see ``RERANK_FILE_WEIGHT``)."""
    return RERANK_FILE_WEIGHT if saturates(query) else RERANK_WEIGHT


def rerank_score(cosine: float, first_stage_share: float, weight: float = RERANK_WEIGHT) -> float:
    """A reranked candidate's score: the transformer's cosine and its first-stage share, ``weight`` the cosine's."""
    return weight * cosine + (1.0 - weight) * first_stage_share
