; Scala 2 and 3: classes (case, abstract, implicit), objects (classes with one instance;
; a package object is a module), traits, enums, type members and aliases, and defs
; (concrete or abstract; `def this` is an auxiliary constructor). A named given is a
; class when it has a `with` body, else a function (an alias that builds the instance).
; Two scopes qualify what they hold without being symbols: a val or var bound to an
; anonymous class (`implicit val d: Decoder[A] = new Decoder[A] { def apply ... }`
; gives `d.apply`, also when the `new` starts the next line), and an extension (`extension (s: String) def shout` gives `String.shout`).
; Scaladoc is the comment block right above a definition. A symbolic name is a name (`def +=`, `def ->`,
; `case class ::`, `object +:`): Scala's collections define much of their API so.

(class_definition
  name: [(identifier) (operator_identifier)] @name
  body: (_)? @body) @definition.class

(object_definition
  name: [(identifier) (operator_identifier)] @name
  body: (_)? @body) @definition.class

(package_object
  name: (identifier) @name
  body: (_)? @body) @definition.module

(trait_definition
  name: (identifier) @name
  body: (_)? @body) @definition.trait

(enum_definition
  name: (identifier) @name
  body: (_) @body) @definition.enum

(type_definition
  name: (type_identifier) @name) @definition.type

(function_definition
  name: [(identifier) (operator_identifier)] @name
  body: (_) @body) @definition.function

(function_declaration
  name: [(identifier) (operator_identifier)] @name) @definition.function

(given_definition
  name: (identifier) @name
  body: (with_template_body) @body) @definition.class

(given_definition
  name: (identifier) @name
  "="
  body: (_) @body) @definition.function

(val_definition
  pattern: (identifier) @name
  value: [
    (instance_expression (template_body))
    (indented_block . (instance_expression (template_body)))
  ]) @scope

(var_definition
  pattern: (identifier) @name
  value: [
    (instance_expression (template_body))
    (indented_block . (instance_expression (template_body)))
  ]) @scope

(extension_definition
  parameters: (parameters
    (parameter
      type: [
        (type_identifier) @name
        (generic_type type: (type_identifier) @name)
      ]))) @scope

[(comment) (block_comment)] @comment
