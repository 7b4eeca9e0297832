; Elixir: modules (`defmodule A.B` is named A.B, a nested one is qualified by its parent),
; protocols (interfaces), implementations (`defimpl P, for: T` is the module P.T), functions
; and macros (`def`, `defp`, `defmacro`, `defguard`, `defdelegate`, ...; inside a module
; they are methods by nesting) and types (`@type`, `@opaque`).
; Everything is a macro call, so the keyword is matched by its text (`_`-captures are only
; for the predicates).
; Docs are attributes, not comments: `@moduledoc` inside the module, and `@doc` (or
; `@typedoc`) before the definition, with other attributes (`@spec`, `@impl`) between.

(call
  target: (identifier) @_keyword
  (arguments . (alias) @name)
  (#eq? @_keyword "defmodule")) @definition.module

(call
  target: (identifier) @_keyword
  (arguments . (alias) @name)
  (#eq? @_keyword "defprotocol")) @definition.interface

(call
  target: (identifier) @_keyword
  (arguments
    . (alias) @receiver
    (keywords (pair key: (keyword) @_for value: (alias) @name)))
  (#eq? @_keyword "defimpl")
  (#eq? @_for "for: ")) @definition.module

; `defimpl P do` inside the module it implements P for: named P, qualified by nesting.
(call
  target: (identifier) @_keyword
  (arguments . (alias) @name .)
  (#eq? @_keyword "defimpl")) @definition.module

; @moduledoc: a string (heredoc) or a sigil (~S""" ... """), the whole attribute captured, so that the module's
; outline leaves it out whole (`indexer.docs.clean_doc` reads the text inside).
(call
  target: (identifier) @_keyword
  (do_block
    (unary_operator
      operand: (call
        target: (identifier) @_attribute
        (arguments [(string) (sigil (quoted_content))]))) @doc)
  (#any-of? @_keyword "defmodule" "defprotocol" "defimpl")
  (#eq? @_attribute "moduledoc")) @definition.module

; Functions: `def f(x)`, `def f(x) when guard`, `def f` (no arguments), `def a + b` is skipped.
; The block holding them is the @clause node: adjacent clauses of one name are one symbol.
(_
  (call
    target: (identifier) @_keyword
    (arguments
      . [
        (identifier) @name
        (call target: (identifier) @name)
        (binary_operator left: (call target: (identifier) @name) operator: "when")
        (binary_operator left: (identifier) @name operator: "when")
      ])
    (#any-of? @_keyword "def" "defp" "defmacro" "defmacrop" "defguard" "defguardp" "defdelegate")) @definition.function) @clause

(call
  target: (identifier) @_keyword
  (do_block) @body
  (#any-of? @_keyword "def" "defp" "defmacro" "defmacrop")) @definition.function

; @doc "..." (or a heredoc, or a sigil) before a function, maybe with @spec, @impl, `@doc since: ...`
; and one more attribute between, none of them a documenting @doc or a @callback (a behaviour's
; `@doc` and `@callback` pairs are not the next function's doc). At most four: every attribute with a
; string starts this pattern (the predicates only filter its matches), and `(unary_operator)*` made a
; file of n attributes cost n*n/2 steps (3,000 lines of `@alphabet ~c"..."` took 40 s).
(_
  (unary_operator
    operand: (call
      target: (identifier) @_attribute
      (arguments [(string) @doc (sigil (quoted_content) @doc)])))
  .
  (unary_operator operand: (call) @_between)?
  .
  (unary_operator operand: (call) @_between)?
  .
  (unary_operator operand: (call) @_between)?
  .
  (unary_operator operand: (call) @_between)?
  .
  (call target: (identifier) @_keyword) @definition.function
  (#eq? @_attribute "doc")
  (#not-match? @_between "^(doc\\s+(\"|~[a-zA-Z])|(macro)?callback\\b)")
  (#any-of? @_keyword "def" "defp" "defmacro" "defmacrop" "defguard" "defguardp" "defdelegate"))

; Types: @type t :: ..., @type t(a) :: ..., @opaque t :: ...
(unary_operator
  operand: (call
    target: (identifier) @_keyword
    (arguments
      (binary_operator
        left: [(identifier) @name (call target: (identifier) @name)]
        operator: "::")))
  (#any-of? @_keyword "type" "typep" "opaque")) @definition.type

(_
  (unary_operator
    operand: (call
      target: (identifier) @_attribute
      (arguments [(string) @doc (sigil (quoted_content) @doc)])))
  .
  (unary_operator
    operand: (call target: (identifier) @_keyword)) @definition.type
  (#eq? @_attribute "typedoc")
  (#any-of? @_keyword "type" "typep" "opaque"))

(comment) @comment

; ExUnit's tests: `describe "call/2" do` holds `test "halts the conn", %{conn: conn} do`, each a definition named
; by its text, so that "the test for X" finds it.
(call
  target: (identifier) @_keyword
  (arguments . (string . (quoted_content) @name .))
  (do_block) @body
  (#eq? @_keyword "describe")) @definition.module

(call
  target: (identifier) @_keyword
  (arguments . (string . (quoted_content) @name .))
  (do_block) @body
  (#eq? @_keyword "test")) @definition.function
