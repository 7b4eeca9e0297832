"""Elixir, Haskell, Lua and Bash: their queries, sample repositories and doc comments."""

from __future__ import annotations

from indexer.docs import clean_doc
from indexer.parse import extract_symbols
from indexer.types import SourceFile, SymbolKind
from tests.conftest import symbols_of

NAMES = ["elixir", "haskell", "lua", "bash"]
_CAPTURES = {"name", "doc", "body", "receiver", "scope", "comment", "clause"}




def test_elixir_modules_functions_and_doc_attributes() -> None:
    """Nested modules qualify; @doc before a def (past @spec) and @moduledoc are docs; clauses join."""
    code = (
        'defmodule A.B do\n  @moduledoc """\n  Module doc.\n  """\n\n'
        '  @doc """\n  Counts.\n  """\n  @spec count(list) :: integer\n  def count([]), do: 0\n'
        '  def count([_ | t]), do: 1 + count(t)\n\n'
        '  @doc false\n  defp hidden(x) do\n    x\n  end\n\n'
        '  @typedoc "A thing."\n  @type t :: map\n\n'
        '  defmodule Inner do\n    # Built.\n    defmacro build(a), do: a\n  end\nend\n'
    )
    syms = symbols_of("elixir", code)
    assert list(syms) == ["A.B", "A.B.count", "A.B.hidden", "A.B.t", "A.B.Inner", "A.B.Inner.build"]
    assert syms["A.B"].kind is SymbolKind.MODULE and syms["A.B"].doc == "Module doc."
    count = syms["A.B.count"]
    assert count.kind is SymbolKind.FUNCTION and count.doc == "Counts."
    assert (count.start_line, count.end_line, count.doc_line) == (10, 11, 6)
    assert syms["A.B.hidden"].doc == "" and syms["A.B.hidden"].signature == "defp hidden(x)"
    assert syms["A.B.t"].kind is SymbolKind.TYPE and syms["A.B.t"].doc == "A thing."
    assert syms["A.B.Inner.build"].doc == "Built."


def test_elixir_doc_is_the_nearest_documenting_attribute_and_a_callbacks_doc_is_not_the_next_functions() -> None:
    """A behaviour's `@doc` and `@callback` pairs, then a function with its own `@doc` (past `@doc since:` and
    `@spec`): the function's doc is its own; one without a `@doc` takes none of the callbacks'. Every
    attribute joined all the `@doc` strings above it (the pattern's `(unary_operator)*`), which also cost a
    file of n attributes n*n/2 query steps (tests/test_hostile_tree.py)."""
    code = (
        'defmodule Shelf do\n'
        '  @doc "Fetches a book."\n  @callback fetch(term) :: term\n\n'
        '  @doc "Stores a book."\n  @callback store(term) :: :ok\n\n'
        '  @doc """\n  Lists the shelves.\n  """\n  @doc since: "1.2.0"\n  @spec all() :: list\n  def all, do: []\n\n'
        '  @doc "Weighs a book."\n  @macrocallback weigh(term) :: term\n  defmacro __using__(_), do: nil\nend\n'
    )
    syms = symbols_of("elixir", code)
    assert syms["Shelf.all"].doc == "Lists the shelves."
    assert syms["Shelf.__using__"].doc == ""


def test_elixir_protocols_and_implementations() -> None:
    """A protocol is an interface; `defimpl P, for: T` is the module P.T wherever it is written."""
    code = ('defprotocol Size do\n  @doc "The size."\n  def size(data)\nend\n\n'
            'defmodule Shapes do\n  defimpl Size, for: Map do\n    def size(m), do: map_size(m)\n  end\nend\n')
    syms = symbols_of("elixir", code)
    assert syms["Size"].kind is SymbolKind.INTERFACE and syms["Size.size"].doc == "The size."
    assert syms["Size.Map"].kind is SymbolKind.MODULE
    assert syms["Size.Map.size"].kind is SymbolKind.FUNCTION  # a module's, as every Elixir def


def test_haskell_signature_and_equations_are_one_function() -> None:
    """The signature starts the symbol, its equations join it; Haddock above is the doc."""
    code = ("module M where\n\n-- | Factorial.\n--   Slow.\nfact :: Int -> Int\nfact 0 = 1\nfact n = n * fact (n - 1)\n\n"
            "helper x = x\n  where inner = 2\nother = 3\n\n(<+>) :: Int -> Int -> Int\na <+> b = a + b\n")
    syms = symbols_of("haskell", code)
    assert list(syms) == ["fact", "helper", "other", "<+>"]
    fact = syms["fact"]
    assert fact.kind is SymbolKind.FUNCTION and fact.doc == "Factorial.\nSlow."
    assert (fact.start_line, fact.end_line) == (5, 7) and fact.signature == "fact :: Int -> Int"
    assert (syms["helper"].start_line, syms["helper"].end_line) == (9, 10)
    assert (syms["<+>"].start_line, syms["<+>"].end_line) == (13, 14)
    # An operator's equation written prefix joins its signature too (aeson's `(.:)`: two symbols, and a code chunk).
    prefix = symbols_of("haskell", "(.:) :: Object -> Key -> Parser a\n(.:) = explicitParseField parseJSON\n\n"
                                   "(<+>) :: Int -> Int -> Int\n(<+>) a b = a + b\n")
    assert [(n, s.start_line, s.end_line) for n, s in prefix.items()] == [(".:", 1, 2), ("<+>", 4, 5)]


def test_haskell_clauses_join_across_comments_but_not_across_names() -> None:
    """Equations with comments between stay one function; `go` and `go'` are two, primes kept."""
    code = ("go :: Int -> Int\n-- zero\ngo 0 = 0\n-- | others\ngo n = n\ngo' :: Int\ngo' = 1\n"
            "go = 2\n\nclass C a where\n  m :: a\nm = 3\n")
    syms = extract_symbols(SourceFile("x.hs", "haskell", code.encode()))
    assert [(s.qualname, s.start_line, s.end_line) for s in syms] == [
        ("go", 1, 5), ("go'", 6, 7), ("go", 8, 8), ("C", 10, 11), ("C.m", 11, 11), ("m", 12, 12)]


def test_haskell_classes_instances_and_types() -> None:
    """Classes hold methods; an instance qualifies its methods by its type; data, newtype, type are types."""
    code = ("{- | Shapes. -}\nclass Shape a where\n  -- | Area.\n  area :: a -> Double\n  area _ = 0\n\n"
            "data Sq = Sq Double\nnewtype Name = Name String\ntype Names = [Name]\n\n"
            "instance Shape Sq where\n  area (Sq s) = s * s\n\ninstance Show a => Show (Box a) where\n  show _ = \"box\"\n")
    syms = symbols_of("haskell", code)
    assert syms["Shape"].kind is SymbolKind.INTERFACE and syms["Shape"].doc == "Shapes."
    assert syms["Shape.area"].kind is SymbolKind.METHOD and syms["Shape.area"].doc == "Area."
    assert (syms["Shape.area"].start_line, syms["Shape.area"].end_line) == (4, 5)
    assert {syms[n].kind for n in ("Sq", "Name", "Names")} == {SymbolKind.TYPE}
    assert syms["Sq.area"].kind is SymbolKind.METHOD and syms["Box.show"].kind is SymbolKind.METHOD


def test_lua_tables_methods_and_assigned_functions() -> None:
    """`M.f` and `M:m` are qualified by the table; top-level assigned functions count, and so do the
    named functions of a table built at the top level (`t.run`, a returned module's `setup`); local
    lambdas, and a table's functions inside a function, do not."""
    code = ("local M = {}\n\n--- Does foo.\n---@param x number\nfunction M.foo(x)\n  local cb = function() end\n"
            "  return x\nend\n\n-- Bar.\nfunction M:bar() end\n\nlocal function helper() end\n\n"
            "M.qux = function(a) return a end\nlocal anon = function() end\n\n--[[ Old style. ]]\n"
            "function M.sub.baz() end\nlocal t = { run = function() end }\n"
            "M.log = {\n  -- Whether to skip.\n  skip = function(p) return false end,\n  name = 'log',\n}\n"
            "return { setup = function(opts)\n  local inner = { go = function() end }\nend }\n")
    syms = symbols_of("lua", code)
    assert list(syms) == ["M.foo", "M.bar", "helper", "M.qux", "anon", "M.sub.baz", "t.run", "M.log.skip", "setup"]
    assert syms["M.log.skip"].doc == "Whether to skip." and (syms["M.log.skip"].start_line, syms["M.log.skip"].end_line) == (23, 23)
    assert syms["M.foo"].kind is SymbolKind.FUNCTION and syms["M.foo"].doc == "Does foo.\n@param x number"
    assert syms["M.bar"].kind is SymbolKind.METHOD and syms["M.bar"].doc == "Bar."
    assert syms["M.sub.baz"].doc == "Old style."
    assert syms["anon"].signature == "local anon = function() end"


def test_bash_function_forms_and_comment_docs() -> None:
    """Both function syntaxes; the `#` block above is the doc, the shebang line is not."""
    code = ("#!/usr/bin/env bash\n# Does foo.\nfoo() {\n  inner() { :; }\n}\n\n# Bar.\n# More.\n"
            "function bar {\n  echo\n}\n\nfunction baz() ( echo )\n")
    syms = symbols_of("bash", code)
    assert list(syms) == ["foo", "foo.inner", "bar", "baz"]
    assert all(s.kind is SymbolKind.FUNCTION for s in syms.values())
    assert syms["foo"].doc == "Does foo." and syms["bar"].doc == "Bar.\nMore."
    assert syms["bar"].signature == "function bar"


def test_haskell_and_lua_comment_markers_are_stripped() -> None:
    """`-- |`, `-- ^`, `---`, `{- | -}` and `--[[ ]]` go; `--flag` at the start of a line stays."""
    assert clean_doc("-- | Doc of f.\n--   More.") == "Doc of f.\nMore."
    assert clean_doc("-- ^ The field.") == "The field."
    assert clean_doc("{- | Block doc. -}") == "Block doc."
    assert clean_doc("{-|\n  Multi\n  line\n-}") == "Multi\nline"
    assert clean_doc("--- Doc.\n---@return string") == "Doc.\n@return string"
    assert clean_doc("--[==[\n  Long\n  doc\n--]==]") == "Long\ndoc"
    assert clean_doc("/*\n  --verbose prints more\n*/") == "--verbose prints more"
    assert clean_doc("# x = a[b[i]]") == "x = a[b[i]]"


def test_a_byte_that_is_not_utf8_does_not_fail_a_query_with_text_predicates() -> None:
    """Bash's query matches comment text (`#match?`); a Latin-1 byte in a comment once made the
    whole file fail with UnicodeDecodeError (found by the fuzz test)."""
    code = "#!/bin/sh\n# caf\xe9 \x80\n\n# Says hi.\nhello() {\n  echo hi\n}\n".encode("latin-1")
    symbols = extract_symbols(SourceFile("x.sh", "bash", code))
    assert [(s.qualname, s.start_line, s.doc) for s in symbols] == [("hello", 5, "Says hi.")]


def test_haskell_instances_of_qualified_types_scope_their_methods() -> None:
    """A new user on hledger: `instance Anon T.Text where anon = ...` left its method unscoped (`anon`), `(M.Map k v)`
    too. (A signature over several lines keeps its first line as the signature: the whole type was tried and lost on
    the real-query sets; see docs/BENCHMARKS.md.)"""
    code = ("module M where\n\nimport qualified Data.Text as T\n\n-- | Balance.\nbalanceTransaction ::\n"
            "     BalancingOpts  -- ^ the options\n  -> Transaction\n  -> Either String Transaction\n"
            "balanceTransaction opts t = Right t\n\nf :: Int -> Int\nf = id\n\n"
            "instance Anon T.Text where anon = T.reverse\ninstance Anon (M.Map k v) where\n  anon = id\n")
    syms = symbols_of("haskell", code)
    assert (syms["balanceTransaction"].start_line, syms["balanceTransaction"].end_line) == (6, 10)
    assert syms["Text.anon"].start_line == 15 and syms["Map.anon"].start_line == 17


def test_elixir_module_outline_leaves_its_moduledoc_out_whole() -> None:
    """A new user on elixir-lang: Logger's outline showed `@moduledoc ~S""""""` (the sigil's text cut out, its
    quotes left) and OptionParser's `@moduledoc   def parse(...)`, the attribute joined to the next line's code. The
    attribute is left out whole now, and its text is the doc, string or sigil."""
    code = ('defmodule Logger do\n  @moduledoc ~S"""\n  Logs things.\n\n  Discards when too many.\n  """\n\n'
            '  def flush, do: :ok\nend\n\ndefmodule OptionParser do\n  @moduledoc """\n  Parses options.\n  """\n'
            '  def parse(x), do: x\nend\n\ndefmodule Quiet do\n  @moduledoc false\n  def q, do: 1\nend\n')
    syms = symbols_of("elixir", code)
    assert syms["Logger"].doc == "Logs things.\n\nDiscards when too many."
    assert syms["Logger"].code_without_doc == "defmodule Logger do\n\n  def flush, do: :ok\nend"
    assert syms["OptionParser"].doc == "Parses options."
    assert syms["OptionParser"].code_without_doc == "defmodule OptionParser do\n  def parse(x), do: x\nend"
    assert "@moduledoc false" in syms["Quiet"].code_without_doc and syms["Quiet"].doc == ""
    assert syms["Logger"].code.count("\n") == code.split("\n\ndefmodule OptionParser")[0].count("\n")
