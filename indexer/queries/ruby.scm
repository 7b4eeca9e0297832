; Ruby: classes, modules, methods and singleton methods (`def self.name`), and top-level DSL
; blocks named by a symbol.
; A `def` inside a class or module becomes a method through nesting.

(class
  name: [(constant) (scope_resolution)] @name) @definition.class

(module
  name: [(constant) (scope_resolution)] @name) @definition.module

(method
  name: (_) @name) @definition.function

(method
  body: (_) @body) @definition.function

(singleton_method
  name: (_) @name) @definition.method

(singleton_method
  body: (_) @body) @definition.method

(comment) @comment

; A top-level DSL call on a receiver, named by a symbol, with a block: Puppet's
; `Puppet::Functions.create_function(:epp) do ... end` and `Puppet::Type.newtype(:exec) do`
; define `epp` and `exec`, and the methods inside are theirs (`epp.epp`).
(program
  (call
    receiver: (_)
    arguments: (argument_list . (simple_symbol) @name)
    block: (do_block) @body) @definition.module)

; RSpec's and minitest's specs: `describe Faraday::Request do` and `context "with a block" do` hold the tests
; `it "sets the method" do ... end` (`specify`, `example`, `scenario`, minitest's `test "..." do`), each a definition
; named by its text, so that "the test for X" finds it (a spec file was code between definitions); `@test` keeps a
; test a function inside its `describe` (a `def` there is a method).
(call
  method: (identifier) @_call
  arguments: (argument_list . [(string . (string_content) @name .) (constant) @name (scope_resolution) @name])
  block: [(do_block) (block)] @body
  (#any-of? @_call "describe" "context" "feature" "shared_examples" "shared_examples_for" "shared_context")
  ) @definition.module

(call
  method: (identifier) @_call @test
  arguments: (argument_list . (string . (string_content) @name .))
  block: [(do_block) (block)] @body
  (#any-of? @_call "it" "specify" "example" "scenario" "test")) @definition.function
