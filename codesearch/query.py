"""What a query asks for: its kind, the identifiers it names and its words.

People and agents type three kinds of queries: an identifier (``HTTPAdapter``,
``Sinatra::Base``, ``parse_config``), a path (``middleware/compress.go``), or plain
English (``how are routes registered``), often with an identifier inside
(``how does Flask select an error handler``). Retrieval weights its stages by kind,
and the ranking signals read the identifiers, the words and their stems.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from codesearch.embed.text import split_identifiers

IDENTIFIER, PATH, NATURAL = "identifier", "path", "natural"

STOPWORDS = frozenset(
    "a an and are as at be by can do does for from get gets given how i if in into is it its me my of on or our "
    "should so that the their then there these this to use used uses using was we what when where which while "
    "who why will with you your".split()
)
# Words that say the person is looking for tests or examples (which are otherwise demoted).
TEST_WORDS = frozenset({"test", "tests", "testing", "spec", "specs", "mock", "mocks", "fixture", "fixtures",
                        "bench", "benches", "benchmark", "benchmarks"})
# A query that starts with one of these (or ends with ``?``) is a question about how the code works.
QUESTION_WORDS = frozenset({"how", "what", "where", "why", "which", "when", "who"})
# Left out of a spelled name (``sync with the master`` spells ``syncWithMaster``), and the words it may keep
# between two others.
ARTICLES = frozenset({"a", "an", "the"})
JOINING_WORDS = frozenset({"and", "as", "at", "by", "for", "from", "in", "into", "of", "on", "or", "to", "with"})
EXAMPLE_WORDS = frozenset({"example", "examples", "demo", "sample", "samples", "tutorial"})
# Words that ask about a project's machinery (``ranking.project_file``: CI pipelines, package manifests).
PROJECT_WORDS = frozenset({"ci", "workflow", "workflows", "pipeline", "pipelines", "manifest", "dependency",
                           "dependencies", "packaging", "funding", "sponsor", "sponsors"})
# A query that starts with a verb asks for a task to be done ("send a request with a timeout",
# "parse a date in several formats"): one function answers it. A query that names a thing or a
# topic ("cookie jar implementation", "streaming JSON reader and token parsing") is answered by
# files, as a question is. These verbs start a task...
TASK_VERBS = frozenset("""
    accept add allow answer apply ask assign attach avoid build calculate call cancel change check choose clean clear
    close collect combine compare compile compress compute configure connect convert copy count create decide
    declare decode decompress decrypt define delete deny describe detect determine disable dispatch display
    download drop dump emit enable encode encrypt ensure escape evaluate execute expand expire export expose
    extract fail fetch figure fill filter find finish fix flatten flush follow force format generate get give guess
    handle hash hide highlight ignore import include increment initialize inject insert inspect install
    invoke join keep kill launch let limit list load lock log look make map mark match measure merge migrate
    mount move normalize notify open order pad page parse pass pause pick pipe poll post prefer prepare prevent
    print process produce prompt protect provide publish pull push put quote raise read rebuild receive
    reconnect record redirect reduce refresh register reject release reload remember remove rename render
    repeat replace reply report request require reset resize resolve restart restore restrict resume retry
    return reuse rewrite roll rotate round run sanitize save scan schedule search select send serialize
    serve set shorten show shrink shut sign skip sleep sort split start stop store stream strip submit
    subscribe suggest support suppress switch sync take tell test throw time toggle track transform
    translate trim truncate try turn unlock unpack unwrap update upgrade upload use validate verify visit
    wait walk warn watch work wrap write yield
""".split())
# ...except these, which name things as often ("request body parsing", "retry logic", "update and delete
# statement builders"): they start a task only before a word that begins its object or its manner
# ("match against the path", "log every request", "redirect the client").
NOUN_VERBS = frozenset("""
    answer call cache change check count display dump error export filter format hash import insert limit list
    lock log map order page pipe post process record redirect report request reset retry return route search
    stream support switch test time update use work
""".split())
OBJECT_WORDS = frozenset("""
    a an the this that these those every each all any some several one two its their our my your it them me us
    whether if how what when where which who why up out down off back over into onto to from for with without
    against on in by at as only just also always never
""".split())

# A name may end with Ruby's `?` or `!` (``regenerate?``, ``cleanup!``), not with ``!=`` or ``?.``.
_HYPHENATED = re.compile(r"(?<![\w-])[A-Za-z]+(?:-[A-Za-z]+)+(?![\w-])")  # words joined by hyphens
# Scopes: `a.b`, Ruby's and Rust's `A::B`, PHP's `a->b` and `A\\B`, Lua's method call `Picker:find`.
_TOKEN = re.compile(r"[A-Za-z_$][\w$]*(?:(?:\.|::|->|\\|:)[A-Za-z_$][\w$]*)*(?:[?!](?![\w=?!.]))?")
_SCOPE = re.compile(r"\.|::|->|\\|:")
RUBY_MARKS = "?!"
_WORD = re.compile(r"[a-z0-9]+")
# Every pattern here runs in linear time on any text: no repeated group that can fail after a
# long run and be retried from the next position (``[A-Z]{2,}[a-z]`` on "AAAA..." was quadratic,
# and so was ``[\w.-]*/`` on a long word without a slash).
_CAMEL = re.compile(r"[a-z0-9][A-Z]|[A-Z]{2}[a-z]")  # {2}, not {2,}: the same texts match
# A file name with a source extension; the look-behind starts a try only where a word starts.
_FILENAME = re.compile(r"(?<![\w-])[\w-]+\.(?:py|js|jsx|mjs|cjs|ts|tsx|java|php|rb|go)\b")
STEM_LENGTH = 6
# Longer queries are refused (``codesearch.search.validate_query``): a query is a sentence or a
# name, and an agent pasting a file is a mistake, not a query.
MAX_QUERY_CHARS = 2_000
_VOWEL = re.compile(r"[aeiouy]")


@dataclass(frozen=True, slots=True)
class QueryInfo:
    """A parsed query.

    :param kind: ``identifier`` (the whole query names a symbol), ``path`` or ``natural``.
    :param identifiers: tokens written like code (CamelCase, snake_case, dotted, or the lone
        word of a one-word query), with their last component for qualified names.
    :param words: lowercase words, identifiers split, stopwords dropped, in order.
    :param stems: light stems of ``words`` (see ``stem``).
    :param question: the query asks how something works (``how are routes registered``, ``where is
        the session saved?``), rather than naming a thing or a task (``send a request with a timeout``).
    :param task: the query asks for something to be done, starting with a verb (``send a request with a
        timeout``), rather than naming a thing or a topic (``cookie jar implementation``).
    :param compounds: identifiers of the query written as the lexical index keeps them whole
        (``set_cookie`` -> ``setcookie``, ``HTTPAdapter`` -> ``httpadapter``).
    :param spelled: for a topic or a question (``json array operations``), two or three adjacent words written
        together as a name would be, lower case (``jsonarray``, ``arrayoperations``, ...): the names
        of definitions the topic may spell in words (``JsonArray``).
    :param spelled_lookup: the names of ``spelled`` as a definition may be called, any case (``jsonarray``,
        ``json_array``): looked up as the names written like code are, so that a definition the first
        stage missed joins the pool (``sync with the master`` -> redis's ``syncWithMaster``).
    """

    text: str
    kind: str
    identifiers: tuple[str, ...]
    words: tuple[str, ...]
    stems: frozenset[str]
    wants_tests: bool
    wants_examples: bool
    wants_project: bool = False
    compounds: tuple[str, ...] = ()
    question: bool = False
    task: bool = False
    spelled: tuple[str, ...] = ()
    spelled_lookup: tuple[str, ...] = ()
    usages: bool = False  # asked where the name is used (``usage_target``: "what calls X")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light stem: plural and -ing/-ed endings dropped, then cut to ``STEM_LENGTH`` characters.

    ``registered``, ``registration`` and ``register`` share ``regist``; ``sessions`` and
    ``session`` share ``sessio``. Crude, but robust for the short words of code and queries.
    """
    w = word.lower()
    for suffix, replacement in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", "e"), ("s", "")):
        rest = w[: len(w) - len(suffix)]
        if w.endswith(suffix) and len(rest) >= 3 and not w.endswith("ss"):
            if suffix in ("ing", "ed") and not _VOWEL.search(rest):
                break  # "string", "shed": the ending is part of the word
            w = rest + replacement
            break
    return w[:STEM_LENGTH]


def is_utf8(text: str) -> bool:
    """Whether ``text`` encodes as UTF-8: an argument of bytes that are not UTF-8 arrives with lone surrogates
    (Python's ``surrogateescape``), which the tokenizer and SQLite refuse with a traceback."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def words_of(text: str) -> list[str]:
    """Lowercase words of any text, identifiers split (``parseJSON`` → ``parse``, ``json``)."""
    return _WORD.findall(split_identifiers(text).lower())


# Words that say what kind of definition the word before them names.
KIND_WORDS = frozenset({"class", "classes", "interface", "struct", "module", "function", "method", "type", "trait",
                        "enum", "object", "protocol", "component", "decorator", "constant", "macro"})


def _looks_like_path(text: str) -> bool:
    """Whether ``text`` names a path: it has a slash, or a file name with a source extension."""
    return "/" in text or _FILENAME.search(text) is not None


def _looks_like_code(token: str, first: bool, alone: bool) -> bool:
    if len(token) > 1 and token[-1] in RUBY_MARKS:
        # ``regenerate?`` alone names a Ruby method; in a sentence the mark is punctuation
        # unless the rest is written like code (``valid_path?``).
        return alone or _looks_like_code(token[:-1], first, alone)
    if any(sep in token for sep in (".", ":", "->", "\\")) or "_" in token.strip("_$") or "$" in token:
        return True
    if _CAMEL.search(token):
        return True
    # A capitalised word names a class unless it merely starts the sentence.
    return token[:1].isupper() and any(c.islower() for c in token) and (alone or not first)


def _starts_with_verb(text: str) -> bool:
    """Whether a query of several words starts with a verb (see ``TASK_VERBS`` and ``NOUN_VERBS``)."""
    first, _, rest = text.lower().partition(" ")
    second = rest.split(maxsplit=1)[0] if rest.strip() else ""
    if not second or first not in TASK_VERBS:
        return False
    return first not in NOUN_VERBS or second.strip(",.:;") in OBJECT_WORDS


_NAME = r"([A-Za-z_$][\w$]*(?:(?:\.|::|->|#)[A-Za-z_$][\w$]*)*[?!]?)(?:\(\))?"
# A question about where a name is used is a search for the name: its definition first, then the code that names
# it, each with the line it stands on (an agent's "what calls execFinalizer" matched "calls" in bindCallback and
# callOrApply above Subscription.unsubscribe, which calls it; "execFinalizer" alone had it third).
_USAGES = re.compile(
    rf"(?:(?:what|who|which\s+\w+)\s+(?:calls|uses|invokes|references|is\s+calling|is\s+using)\s+{_NAME}"
    rf"|(?:(?:find|show|list|get)\s+)?(?:all\s+)?(?:the\s+)?(?:callers|call\s+sites|usages|uses|references)"
    rf"\s+(?:of|to)\s+{_NAME}"
    rf"|where\s+(?:is|are)\s+{_NAME}\s+(?:called|used|invoked|referenced)(?:\s+from)?)\s*\??",
    re.IGNORECASE)


def usage_target(text: str) -> str | None:
    """The name a question about its uses asks for (``what calls execFinalizer``, ``callers of Session.send``,
    ``where is parse_args used?``), or None."""
    found = _USAGES.fullmatch(text.strip())
    return next((name for name in found.groups() if name), None) if found else None


def analyse(text: str) -> QueryInfo:
    """Parse a (validated, non-empty) query; a question about a name's uses is the name (``usage_target``)."""
    target = usage_target(text)
    stripped = target or text.strip()
    tokens = _TOKEN.findall(stripped)
    alone = len(stripped.split()) == 1
    identifiers: list[str] = []
    for i, token in enumerate(tokens):
        if token[-1] in RUBY_MARKS and not _looks_like_code(token, i == 0, alone):
            token = tokens[i] = token[:-1]  # punctuation: "how are errors handled?"
        # A capitalised first word before a kind names one ("Query class", "Session object": an agent's
        # `Query class` with kind class had sqlalchemy's `class Query` 32nd; it started the sentence).
        named = i == 0 and len(tokens) > 1 and tokens[1].lower() in KIND_WORDS
        if _looks_like_code(token, i == 0 and not named, alone):
            identifiers.append(token)
            last = _SCOPE.split(token)[-1]
            if last and last != token:
                identifiers.append(last)
    if alone and not identifiers and tokens:
        identifiers.append(tokens[0])  # a one-word query may name a symbol in any case ("session")
    if (len(tokens) == 2 and len(stripped.split()) == 2 and tokens[0] in identifiers and tokens[1].isalpha()
            and tokens[1].lower() not in KIND_WORDS and tokens[1].lower() not in STOPWORDS
            and not _looks_like_path(tokens[0])):
        # A name and a word, as one writes a method of a type (`keyIndex compact`, `HTTPAdapter send`): that method
        # too, scoped (etcd's `keyIndex.compact` was not in the first ten; `keyIndex.compact` found it first).
        identifiers += [f"{tokens[0]}.{tokens[1]}", tokens[1]]
    if alone and _looks_like_path(stripped):
        kind = PATH
    elif alone and tokens and len(tokens) == 1 and tokens[0] == stripped and _looks_like_code(tokens[0], True, True):
        kind = IDENTIFIER
    else:
        kind = NATURAL
    all_words = words_of(stripped)
    # A hyphenated word is also the word its parts make, as code spells it: "re-raised" -> reraise, "read-only",
    # "built-in", "sub-command", "time-out", "non-blocking" (rg would need the joined form too).
    joined = [w.replace("-", "").lower() for w in _HYPHENATED.findall(stripped)]
    words = list(dict.fromkeys(w for w in [*all_words, *joined] if len(w) > 1 and w not in STOPWORDS))
    if not words:
        words = list(dict.fromkeys(all_words))
    lowered = set(all_words)
    question = kind == NATURAL and len(all_words) > 1 and (stripped.endswith("?") or all_words[0] in QUESTION_WORDS)
    task = kind == NATURAL and _starts_with_verb(stripped)
    spells = kind == NATURAL and len(words) > 1 and not task  # a topic or a question
    spelled = spelled_names(stripped) if spells else []
    return QueryInfo(
        text=stripped,
        kind=kind,
        identifiers=tuple(dict.fromkeys(identifiers)),
        words=tuple(words),
        stems=frozenset(stem(w) for w in words),
        wants_tests=bool(lowered & TEST_WORDS),
        wants_examples=bool(lowered & EXAMPLE_WORDS),
        wants_project=bool(lowered & PROJECT_WORDS),
        question=question,
        task=task,
        usages=target is not None,
        spelled=tuple(dict.fromkeys("".join(name) for name in spelled)),
        spelled_lookup=tuple(dict.fromkeys(form for name in spelled for form in ("".join(name), "_".join(name)))),
        compounds=tuple(dict.fromkeys(
            joined for identifier in identifiers for part in _SCOPE.split(identifier.rstrip(RUBY_MARKS))
            if len(words_of(part)) > 1 and (joined := part.lower().replace("_", "").replace("$", "")))),
    )


def spelled_names(text: str) -> list[tuple[str, ...]]:
    """Two or three adjacent plain words of a sentence, lower case, none a stopword: the names a topic may
    spell in words (``json array operations`` -> ``json array``, ``array operations``, ``json array
    operations``: ``JsonArray``...); a word joined by ``and`` or ``or`` to another before a noun, with that
    noun (``update and delete statement builders`` also spells ``update statement``, as it spells ``delete
    statement``); and two words around a preposition, articles left out (``sync with the master`` spells
    ``sync with master``: ``syncWithMaster``)."""
    def naming(*words: str) -> bool:  # words a name is made of: no stopword, no single letter
        return all(w not in STOPWORDS and len(w) > 1 for w in words)

    plain = [w.lower() for w in re.findall(r"[A-Za-z]+", text)]
    names = [tuple(plain[i:i + n]) for n in (2, 3) for i in range(len(plain) - n + 1) if naming(*plain[i:i + n])]
    for i in range(len(plain) - 3):
        first, joint, other, noun = plain[i:i + 4]
        if joint in ("and", "or") and naming(first, other, noun):
            names.append((first, noun))
    bare = [w for w in plain if w not in ARTICLES]
    for i in range(len(bare) - 2):
        first, joint, last = bare[i:i + 3]
        if joint in JOINING_WORDS and naming(first, last):
            names.append((first, joint, last))
    return names
