; PHP: functions, classes, interfaces, traits, enums and methods.

(function_definition
  name: (name) @name
  body: (compound_statement) @body) @definition.function

(class_declaration
  name: (name) @name
  body: (declaration_list) @body) @definition.class

(interface_declaration
  name: (name) @name
  body: (declaration_list) @body) @definition.interface

(trait_declaration
  name: (name) @name
  body: (declaration_list) @body) @definition.trait

(enum_declaration
  name: (name) @name
  body: (enum_declaration_list) @body) @definition.enum

(method_declaration
  name: (name) @name) @definition.method

(method_declaration
  body: (compound_statement) @body) @definition.method

(comment) @comment
