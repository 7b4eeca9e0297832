; Python: functions, methods (functions nested in a class) and classes.
; Docstrings are the first statement of the body; a preceding comment block is used otherwise.

(class_definition
  name: (identifier) @name
  body: (block) @body) @definition.class

(class_definition
  body: (block . (expression_statement (string) @doc))) @definition.class

(function_definition
  name: (identifier) @name
  body: (block) @body) @definition.function

(function_definition
  body: (block . (expression_statement (string) @doc))) @definition.function

(comment) @comment
