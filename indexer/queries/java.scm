; Java: classes, records, interfaces, annotation types, enums, methods and constructors.
; Javadoc is the comment block right above a declaration.

(class_declaration
  name: (identifier) @name
  body: (class_body) @body) @definition.class

(record_declaration
  name: (identifier) @name
  body: (class_body) @body) @definition.class

(interface_declaration
  name: (identifier) @name
  body: (interface_body) @body) @definition.interface

(annotation_type_declaration
  name: (identifier) @name
  body: (annotation_type_body) @body) @definition.interface

(annotation_type_element_declaration
  name: (identifier) @name) @definition.method

(enum_declaration
  name: (identifier) @name
  body: (enum_body) @body) @definition.enum

; An enum constant with a body names the methods it overrides (`Kind.IS_SUBTYPE.apply`): three `apply`s of javac's
; `IncorporationBinaryOpKind` read as one name, none telling which constant it was.
(enum_constant
  name: (identifier) @name
  body: (class_body)) @scope

(method_declaration
  name: (identifier) @name) @definition.method

(method_declaration
  body: (block) @body) @definition.method

(constructor_declaration
  name: (identifier) @name
  body: (constructor_body) @body) @definition.method

(compact_constructor_declaration
  name: (identifier) @name
  body: (block) @body) @definition.method

[(line_comment) (block_comment)] @comment
