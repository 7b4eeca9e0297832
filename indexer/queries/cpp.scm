; C++: functions, methods (defined in a class, or out of line as `Foo::bar`, which is
; `Foo.bar`), classes and structs, unions, enums, C-style typedef'd structs and
; function-like macros. A named namespace is a scope: `ns.Foo.bar`. Declarations without
; a body are not definitions (a class's outline shows its member declarations), except a
; function's or a function template's outside a class with a doc comment right above it: a
; header documents its library's API there.
; A template is its `template_declaration`, so the symbol starts at `template <...>` and
; the doc block above that line is its doc: the same @name captured on the template and
; on the definition inside it is one symbol, the outer one (see indexer.parse).

; `MACRO(int f(int x)) { ... }` (C headers' export and attribute macros) defines `f`. It
; comes first: the pattern below also matches, and the first @name of a node stays.
(function_definition
  declarator: (function_declarator
    declarator: (identifier)
    parameters: (parameter_list
      .
      (parameter_declaration
        declarator: [
          (function_declarator declarator: (identifier) @name)
          (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))
        ])
      .))
  body: (compound_statement) @body) @definition.function

; A test written as a macro with its suite and its name (googletest's `TEST(Suite, Name) { ... }`, `TEST_F`,
; `TEST_P`, `TYPED_TEST`) is the test `Suite.Name`: googletest's own 320 were all named `TEST`. First, as above.
(function_definition
  declarator: (function_declarator
    declarator: (identifier) @_macro
    parameters: (parameter_list
      .
      (parameter_declaration type: (type_identifier) @receiver .)
      .
      (parameter_declaration type: (type_identifier) @name .)
      .))
  body: (compound_statement) @body
  (#match? @_macro "^([A-Z][A-Z0-9]*_)*TEST(_[A-Z0-9]+)*$")) @definition.function

; Functions, and methods defined in their class (a function nested in a class becomes a
; method). The name sits in a function declarator, under any pointer or reference
; declarator of the return type.
(function_definition
  declarator: [
    (function_declarator declarator: [(identifier) (field_identifier) (operator_name) (destructor_name)] @name)
    (_ (function_declarator declarator: [(identifier) (field_identifier) (operator_name) (destructor_name)] @name))
    (_ (_ (function_declarator declarator: [(identifier) (field_identifier) (operator_name) (destructor_name)] @name)))
  ]
  body: (compound_statement) @body) @definition.function

(template_declaration
  (function_definition
    declarator: [
      (function_declarator declarator: [(identifier) (field_identifier) (operator_name) (destructor_name)] @name)
      (_ (function_declarator declarator: [(identifier) (field_identifier) (operator_name) (destructor_name)] @name))
      (_ (_ (function_declarator declarator: [(identifier) (field_identifier) (operator_name) (destructor_name)] @name)))
    ]
    body: (compound_statement) @body)) @definition.function

; A documented declaration outside a class (boost's `/** Read part of a message ... */
; template<...> std::size_t read_some(...);`): `@documented` keeps it only with its doc. At the
; top of the file (or of its include guard) or of a namespace or `extern "C"` block only: in a
; preprocessor conditional, internal headers' section comments read as docs (libuv's search fell, measured).
(translation_unit
  (declaration
    declarator: [
      (function_declarator declarator: [(identifier) (operator_name)] @name)
      (_ (function_declarator declarator: [(identifier) (operator_name)] @name))
    ]) @definition.function @documented)

(declaration_list
  (declaration
    declarator: [
      (function_declarator declarator: [(identifier) (operator_name)] @name)
      (_ (function_declarator declarator: [(identifier) (operator_name)] @name))
    ]) @definition.function @documented)

; ... and at the top of a header's include guard (`#ifndef FMT_BASE_H_` and `#define FMT_BASE_H_`
; around the whole file: fmt's `report_error`), the one preprocessor conditional that is the file.
; The `.` keeps the `#define` the one right after the `#ifndef`: unanchored, every `#define` of a
; header was tried with every declaration (redis's server.h took 41 s).
(translation_unit
  (preproc_ifdef
    name: (identifier) @_guard
    .
    (preproc_def name: (identifier) @_defined)
    (declaration
      declarator: [
        (function_declarator declarator: [(identifier) (operator_name)] @name)
        (_ (function_declarator declarator: [(identifier) (operator_name)] @name))
      ]) @definition.function @documented)
  (#eq? @_guard @_defined))

(template_declaration
  (declaration
    declarator: [
      (function_declarator declarator: [(identifier) (operator_name)] @name)
      (_ (function_declarator declarator: [(identifier) (operator_name)] @name))
    ])) @definition.function @documented

; Out-of-line definitions: `void Foo::bar()`, `ns::Foo::bar`, `Foo<T>::bar` are `Foo.bar`.
(function_definition
  declarator: [
    (function_declarator declarator: (qualified_identifier
      scope: [(namespace_identifier) @receiver (template_type name: (type_identifier) @receiver)]
      name: [(identifier) (operator_name) (destructor_name)] @name))
    (function_declarator declarator: (qualified_identifier
      name: (qualified_identifier
        scope: [(namespace_identifier) @receiver (template_type name: (type_identifier) @receiver)]
        name: [(identifier) (operator_name) (destructor_name)] @name)))
    (_ (function_declarator declarator: (qualified_identifier
      scope: [(namespace_identifier) @receiver (template_type name: (type_identifier) @receiver)]
      name: [(identifier) (operator_name) (destructor_name)] @name)))
  ]
  body: (compound_statement) @body) @definition.method

(template_declaration
  (function_definition
    declarator: [
      (function_declarator declarator: (qualified_identifier
        scope: [(namespace_identifier) @receiver (template_type name: (type_identifier) @receiver)]
        name: [(identifier) (operator_name) (destructor_name)] @name))
      (_ (function_declarator declarator: (qualified_identifier
        scope: [(namespace_identifier) @receiver (template_type name: (type_identifier) @receiver)]
        name: [(identifier) (operator_name) (destructor_name)] @name)))
    ]
    body: (compound_statement) @body)) @definition.method

; Classes and structs alike; a specialization `formatter<T>` is named `formatter`.
(class_specifier
  name: [(type_identifier) @name (template_type name: (type_identifier) @name)]
  body: (field_declaration_list) @body) @definition.class

(struct_specifier
  name: [(type_identifier) @name (template_type name: (type_identifier) @name)]
  body: (field_declaration_list) @body) @definition.class

(template_declaration
  [(class_specifier
     name: [(type_identifier) @name (template_type name: (type_identifier) @name)]
     body: (field_declaration_list) @body)
   (struct_specifier
     name: [(type_identifier) @name (template_type name: (type_identifier) @name)]
     body: (field_declaration_list) @body)]) @definition.class

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

(preproc_function_def
  name: (identifier) @name
  value: (preproc_arg)? @body) @definition.function

(namespace_definition
  name: [(namespace_identifier) (nested_namespace_specifier)] @name) @scope

(comment) @comment
