; Bash: function definitions, `name() { ... }` and `function name { ... }` (any compound
; body: braces, a subshell, a test). A function defined inside another is qualified by it.
; A block of `#` comments above a function is its doc; a shebang line is not a comment.

(function_definition
  name: (word) @name
  body: (_) @body) @definition.function

((comment) @comment
  (#not-match? @comment "^#!"))
