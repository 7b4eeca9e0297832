; Ruby: classes, modules, methods and singleton methods (`def self.name`).
; A `def` inside a class or module becomes a method through nesting.

(class
  name: [(constant) (scope_resolution)] @name) @definition.class

(module
  name: [(constant) (scope_resolution)] @name) @definition.module

(method
  name: (_) @name) @definition.function

(method
  body: (_) @body) @definition.function

(singleton_method
  name: (_) @name) @definition.method

(singleton_method
  body: (_) @body) @definition.method

(comment) @comment
