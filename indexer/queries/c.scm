; C: function definitions, function-like macros, and structs, unions and enums with a
; body (named, or named by the typedef around an anonymous one). A prototype is a
; definition when a doc comment is right above it: a header documents its library's API
; there (`/* Constructs a new parser ... */ XML_ParserCreate(...)`); other prototypes and
; forward declarations are not. The doc is the comment block right above.

; The name sits in a function declarator, under any pointer declarators of the return type.
(function_definition
  declarator: [
    (function_declarator declarator: (identifier) @name)
    (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))
    (pointer_declarator declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @name)))
  ]
  body: (compound_statement) @body) @definition.function

; A documented prototype (export macros such as `UV_EXTERN int uv_run(...)` parse around it):
; `@documented` keeps it only when a doc comment is right above it.
(declaration
  declarator: [
    (function_declarator declarator: (identifier) @name)
    (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))
    (pointer_declarator declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @name)))
  ]) @definition.function @documented

(preproc_function_def
  name: (identifier) @name
  value: (preproc_arg)? @body) @definition.function

(struct_specifier
  name: (type_identifier) @name
  body: (field_declaration_list) @body) @definition.type

(union_specifier
  name: (type_identifier) @name
  body: (field_declaration_list) @body) @definition.type

(enum_specifier
  name: (type_identifier) @name
  body: (enumerator_list) @body) @definition.enum

; `typedef struct { ... } name_t;`: a named struct inside a typedef is matched above instead.
(type_definition
  type: [
    (struct_specifier !name body: (field_declaration_list))
    (union_specifier !name body: (field_declaration_list))
  ]
  declarator: (type_identifier) @name) @definition.type

(type_definition
  type: (enum_specifier !name body: (enumerator_list))
  declarator: (type_identifier) @name) @definition.enum

(comment) @comment
