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

; A decorated definition starts at its first decorator (`@property`, `@pytest.fixture`, `@attr.s(...)` above a
; class): the decorators were code chunks of their own (231 one-line chunks in aiohttp, `@pytest.fixture` ranked
; above the fixture it decorates) and no part of what they decorate. The inner definition's name makes one symbol
; of both (``indexer.parse``: the outer node of one name).
(decorated_definition
  definition: (class_definition
    name: (identifier) @name
    body: (block) @body)) @definition.class

(decorated_definition
  definition: (function_definition
    name: (identifier) @name
    body: (block) @body)) @definition.function

(comment) @comment
