; Lua: function declarations (`function f`, `local function f`, `function M.f` qualified by
; the table, `function M:m` a method of it), functions assigned to one name at the top
; level (`M.f = function`, `local f = function`, also in a top-level `do` block) or under a key
; (`M["f"] = function`, `handlers[types.PING] = function`), and the named functions of a table built at
; the top level (`M.log = { run = function(self) ... end }`, `return { setup = function ... }`:
; `M.log.run`, `setup`). Functions in other table constructors and those passed as arguments are
; not definitions. A block of `---` (LuaLS/EmmyLua) or `--` comments above a definition is its doc.

(function_declaration
  name: (identifier) @name
  body: (block)? @body) @definition.function

(function_declaration
  name: (dot_index_expression table: (_) @receiver field: (identifier) @name)
  body: (block)? @body) @definition.function

(function_declaration
  name: (method_index_expression table: (_) @receiver method: (identifier) @name)
  body: (block)? @body) @definition.method

; `M.f = function` and `local f = function` at the top of the file only: inside a function
; such a value is a local lambda. The definition of `local f = function` is the assignment
; inside the declaration (its line keeps `local`).
(chunk
  (assignment_statement
    (variable_list . name: [
      (identifier) @name
      (dot_index_expression table: (_) @receiver field: (identifier) @name)
    ] .)
    (expression_list . value: (function_definition body: (block)? @body) .)) @definition.function)

(chunk
  (variable_declaration
    (assignment_statement
      (variable_list . name: (identifier) @name .)
      (expression_list . value: (function_definition body: (block)? @body) .)) @definition.function))

; The same in a `do ... end` block at the top level, which keeps a module's helpers private (lua-http's
; `local huffman_decode` then `do ... huffman_decode = function(s) ... end`).
(chunk
  (do_statement body: (block
    (assignment_statement
      (variable_list . name: [
        (identifier) @name
        (dot_index_expression table: (_) @receiver field: (identifier) @name)
      ] .)
      (expression_list . value: (function_definition body: (block)? @body) .)) @definition.function)))

; A function stored under a key at the top level, named by the key: `M["run"] = function` (`M.run`), lua-http's
; `frame_handlers[frame_types.PING] = function` (`frame_handlers.PING`, its last part).
(chunk
  (assignment_statement
    (variable_list . name: (bracket_index_expression table: (_) @receiver field: [
      (string content: (string_content) @name)
      (dot_index_expression field: (identifier) @name)
    ]) .)
    (expression_list . value: (function_definition body: (block)? @body) .)) @definition.function)

; A table of functions at the top level: its fields are qualified by the name it is assigned to.
(chunk
  (assignment_statement
    (variable_list . name: [(identifier) (dot_index_expression)] @receiver .)
    (expression_list . value: (table_constructor
      (field name: (identifier) @name value: (function_definition body: (block)? @body)) @definition.function) .)))

(chunk
  (variable_declaration
    (assignment_statement
      (variable_list . name: (identifier) @receiver .)
      (expression_list . value: (table_constructor
        (field name: (identifier) @name value: (function_definition body: (block)? @body)) @definition.function) .))))

(chunk
  (return_statement
    (expression_list . (table_constructor
      (field name: (identifier) @name value: (function_definition body: (block)? @body)) @definition.function) .)))

; busted's specs: `describe("http.util module", function() ... end)` holds the tests `it("query_args works",
; function() ... end)`, each a definition named by its text, so that "the test for query_args" finds it (a spec file
; was one chunk of code, and an agent's question got "the code may not be here").
(function_call
  name: (identifier) @_call
  arguments: (arguments . (string content: (string_content) @name) . (function_definition body: (block)? @body) .)
  (#any-of? @_call "describe" "context" "insulate" "expose")) @definition.module

(function_call
  name: (identifier) @_call
  arguments: (arguments . (string content: (string_content) @name) . (function_definition body: (block)? @body) .)
  (#any-of? @_call "it" "test" "spec" "pending")) @definition.function

(comment) @comment
