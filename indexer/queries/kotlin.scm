; Kotlin: classes (data, sealed, value, annotation), objects (classes with one instance),
; interfaces, enum classes, type aliases, functions and secondary constructors, and
; properties whose getter or setter holds code.
; An extension function or property (`fun Foo.bar()`) is qualified by its receiver type,
; `Foo.bar`, as it is called. A companion object is neither a symbol nor a scope: its
; members are the class's (`Outer.create`), as callers write them.
; KDoc is the comment block right above a declaration.

(class_declaration
  "class"
  name: (identifier) @name
  (class_body) @body) @definition.class

; A class without a body ends with its name, type parameters, constructor, supertypes
; or constraints; an enum class ends with its enum_class_body, so it is not matched here.
(class_declaration
  "class"
  name: (identifier) @name .) @definition.class

(class_declaration
  "class"
  name: (identifier) @name
  [(type_parameters) (primary_constructor) (delegation_specifiers) (type_constraints)] .) @definition.class

(class_declaration
  name: (identifier) @name
  (enum_class_body) @body) @definition.enum

(class_declaration
  "interface"
  name: (identifier) @name
  (class_body)? @body) @definition.interface

(object_declaration
  name: (identifier) @name
  (class_body)? @body) @definition.class

(type_alias
  type: (identifier) @name) @definition.type

(function_declaration
  name: (identifier) @name
  (function_body)? @body) @definition.function

; The receiver is the type's last name without type arguments: `Map.Entry<K, V>.x` is `Entry.x`.
(function_declaration
  [
    (user_type (identifier) @receiver .)
    (user_type (identifier) @receiver . (type_arguments))
    (nullable_type (user_type (identifier) @receiver .))
    (nullable_type (user_type (identifier) @receiver . (type_arguments)))
  ]
  .
  name: (identifier) @name) @definition.function

(secondary_constructor
  "constructor" @name
  (block)? @body) @definition.function

(property_declaration
  (variable_declaration
    (identifier) @name)
  [(getter (function_body)) (setter (function_body))] @body) @definition.function

(property_declaration
  [
    (user_type (identifier) @receiver .)
    (user_type (identifier) @receiver . (type_arguments))
    (nullable_type (user_type (identifier) @receiver .))
    (nullable_type (user_type (identifier) @receiver . (type_arguments)))
  ]
  .
  (variable_declaration
    (identifier) @name)
  [(getter (function_body)) (setter (function_body))]) @definition.function

; An annotation on its own line above a top-level declaration that the grammar read as an expression of its own
; (`@SinceKotlin("1.2")` above `public fun <T> Stream<T>.asSequence()`: 1,600 in Kotlin's standard library) joins
; the comment block above it, as a decorator does in TypeScript: the KDoc is the declaration's again, not a code
; chunk of its own.
(source_file (annotated_expression) @comment)

[(line_comment) (block_comment)] @comment
