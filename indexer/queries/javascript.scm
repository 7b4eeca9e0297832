; JavaScript: function declarations, classes and their methods, functions and arrow
; functions bound to variables or properties (also by a helper call: `defineGetter(obj, 'name',
; function)`), and methods in object literals.
; A variable holding an object literal is a naming scope: `api.get` for `const api = { get() {} }`.

(function_declaration
  name: (identifier) @name
  body: (statement_block) @body) @definition.function

(generator_function_declaration
  name: (identifier) @name
  body: (statement_block) @body) @definition.function

(class_declaration
  name: (identifier) @name
  body: (class_body) @body) @definition.class

(method_definition
  name: (_) @name
  body: (statement_block) @body) @definition.method

(variable_declarator
  name: (identifier) @name
  value: [
    (arrow_function body: (_) @body)
    (function_expression body: (statement_block) @body)
    (generator_function body: (statement_block) @body)
  ]) @definition.function

; A documented constant made by a call: effect's API (`/** ... */ export const map = dual(2, (self, f) => ...)`,
; `export const isNull = makeGuard("Null")`), a schema (`export const User = Schema.Struct({...})`). Kept only with
; its doc and outside a function (`@documented`): an undocumented one is code between definitions.
(variable_declarator
  name: (identifier) @name
  value: [(call_expression) (new_expression)]) @definition.function @documented

(variable_declarator
  name: (identifier) @name
  value: (class body: (class_body) @body)) @definition.class

(assignment_expression
  left: (member_expression
    object: (_) @receiver
    property: (property_identifier) @name)
  right: [
    (arrow_function body: (_) @body)
    (function_expression body: (statement_block) @body)
  ]
  (#not-eq? @receiver "this")) @definition.function

; `this.x = function` in a method or a constructor function: a member of what it builds (`ImageRequest.x`,
; `Legacy.start`), not `this.x`.
(assignment_expression
  left: (member_expression
    object: (this) @self
    property: (property_identifier) @name)
  right: [
    (arrow_function body: (_) @body)
    (function_expression body: (statement_block) @body)
  ]) @definition.function

; A property defined by a helper call with its object, its name and its function:
; `defineGetter(req, 'hostname', function hostname() {...})` is `req.hostname`.
(call_expression
  arguments: (arguments
    .
    (identifier) @receiver
    .
    (string (string_fragment) @name)
    .
    [
      (arrow_function body: (_) @body)
      (function_expression body: (statement_block) @body)
    ]
    .)
  (#match? @name "^[A-Za-z_$][A-Za-z0-9_$]*$")) @definition.function

; Not a getter that returns the binding of its own name (`HTTPException: () => HTTPException`, or a
; re-export's `Hono: () => import_hono.Hono`): esbuild's CommonJS export map lists every export so, a
; one-line "method" per export named like the definition itself. A getter of another member stays one.
(pair
  key: [(property_identifier) (string) (number)] @name
  value: [
    (arrow_function body: (_) @body)
    (function_expression body: (statement_block) @body)
  ]
  (#not-eq? @name @body)
  (#not-match? @body "^[A-Za-z_$][A-Za-z0-9_$]*([.][A-Za-z_$][A-Za-z0-9_$]*)+$")) @definition.method

(pair
  key: (property_identifier) @name
  value: (arrow_function body: (member_expression property: (property_identifier) @_property) @body)
  (#not-eq? @name @_property)) @definition.method

(variable_declarator
  name: (identifier) @name
  value: (object)) @scope

; Test suites and tests (Mocha, Jest, Vitest, node:test): `describe("query args", () => { ... })` holds the tests
; `it("encodes spaces", () => { ... })` (`test.only(...)`, `it.skip(...)`, `test.each(table)(...)` too), each a
; definition named by its text, so that "the test for X" finds it (a spec file was code between definitions, cut
; by its length).
(call_expression
  function: [
    (identifier) @_call
    (member_expression object: (identifier) @_call property: (property_identifier) @_mode)
    (call_expression function: (member_expression object: (identifier) @_call property: (property_identifier) @_mode))
  ]
  arguments: (arguments
    .
    [(string (string_fragment) @name) (template_string . (string_fragment) @name .)]
    .
    [
      (arrow_function body: (statement_block) @body)
      (function_expression body: (statement_block) @body)
    ])
  (#any-of? @_call "describe" "context" "suite")) @definition.module

(call_expression
  function: [
    (identifier) @_call
    (member_expression object: (identifier) @_call property: (property_identifier) @_mode)
    (call_expression function: (member_expression object: (identifier) @_call property: (property_identifier) @_mode))
  ]
  arguments: (arguments
    .
    [(string (string_fragment) @name) (template_string . (string_fragment) @name .)]
    .
    [
      (arrow_function body: (statement_block) @body)
      (function_expression body: (statement_block) @body)
    ])
  (#any-of? @_call "it" "test" "specify")) @definition.function

(comment) @comment

; A decorator between a doc comment and what it decorates (`/** ... */ @Injectable() export class UserService`,
; `@Get() findOne()`) joins the comment block, so the doc reaches the definition (its text is left out of the doc).
(decorator) @comment
