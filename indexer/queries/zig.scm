; Zig: functions (methods inside a container), containers bound to a constant
; (`const Point = struct { ... }`, unions, opaque types, enums and error sets), and test
; blocks (named by their string). Extern prototypes have no body and are not definitions.
; The doc is the `///` block right above; `//!` documents the file.
; (The anchors between name and value keep the query cheap: unanchored, it tried every child.)

(function_declaration
  name: (identifier) @name
  body: (block) @body) @definition.function

(variable_declaration
  (identifier) @name
  .
  [(struct_declaration) (union_declaration) (opaque_declaration)]) @definition.type

(variable_declaration
  (identifier) @name
  .
  [(enum_declaration) (error_set_declaration)]) @definition.enum

(test_declaration
  [(string (string_content) @name) (identifier) @name]
  (block) @body) @definition.function

(comment) @comment
