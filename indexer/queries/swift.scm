; Swift: classes, structs and actors (all classes), enums, protocols (interfaces), type
; aliases, functions (operators too: `static func == (a: T, b: T)`, `func ?? (...)`; the grammar also labels
; the return type `name`, which no alternative matches), initializers, and computed properties (`var x: T { ... }`).
; An extension is a scope, not a symbol: `extension Foo { func bar() }` gives `Foo.bar`.
; So that a function in an extension is a method, a function's kind comes from where
; it is declared: in a type's or extension's body a method, elsewhere a function.
; The `///` doc comment is the comment block right above a declaration.

(class_declaration
  ["class" "struct" "actor"]
  name: (type_identifier) @name
  body: (_) @body) @definition.class

(class_declaration
  "enum"
  name: (type_identifier) @name
  body: (_) @body) @definition.enum

(class_declaration
  "extension"
  name: (user_type) @name) @scope

(protocol_declaration
  name: (type_identifier) @name
  body: (_) @body) @definition.interface

(typealias_declaration
  name: (type_identifier) @name) @definition.type

(source_file
  (function_declaration
    name: [(simple_identifier) (custom_operator) "==" "!=" "===" "!==" "<" ">" "<=" ">=" "+" "-" "*" "/" "%"
          "&" "|" "^" "~" "!" "&&" "||" "++" "--" "+=" "-=" "*=" "/=" "%=" "..<" "..." "<<" ">>"] @name
    body: (_) @body) @definition.function)

(statements
  (function_declaration
    name: [(simple_identifier) (custom_operator) "==" "!=" "===" "!==" "<" ">" "<=" ">=" "+" "-" "*" "/" "%"
          "&" "|" "^" "~" "!" "&&" "||" "++" "--" "+=" "-=" "*=" "/=" "%=" "..<" "..." "<<" ">>"] @name
    body: (_) @body) @definition.function)

(class_body
  (function_declaration
    name: [(simple_identifier) (custom_operator) "==" "!=" "===" "!==" "<" ">" "<=" ">=" "+" "-" "*" "/" "%"
          "&" "|" "^" "~" "!" "&&" "||" "++" "--" "+=" "-=" "*=" "/=" "%=" "..<" "..." "<<" ">>"] @name
    body: (_) @body) @definition.method)

(enum_class_body
  (function_declaration
    name: [(simple_identifier) (custom_operator) "==" "!=" "===" "!==" "<" ">" "<=" ">=" "+" "-" "*" "/" "%"
          "&" "|" "^" "~" "!" "&&" "||" "++" "--" "+=" "-=" "*=" "/=" "%=" "..<" "..." "<<" ">>"] @name
    body: (_) @body) @definition.method)

(protocol_function_declaration
  name: [(simple_identifier) (custom_operator) "==" "!=" "===" "!==" "<" ">" "<=" ">=" "+" "-" "*" "/" "%"
        "&" "|" "^" "~" "!" "&&" "||" "++" "--" "+=" "-=" "*=" "/=" "%=" "..<" "..." "<<" ">>"] @name) @definition.method

(init_declaration
  "init" @name
  body: (_)? @body) @definition.method

(property_declaration
  name: (pattern
    bound_identifier: (simple_identifier) @name)
  computed_value: (computed_property) @body) @definition.method

[(comment) (multiline_comment)] @comment
