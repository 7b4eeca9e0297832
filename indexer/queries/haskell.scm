; Haskell: top-level functions and values, type classes (interfaces: their method
; signatures and default equations are methods by nesting), instances (scopes named by the
; instance's type: `instance Show T` qualifies its methods as T.show, `instance Anon T.Text` as
; Text.anon, as the type's own methods are named), and types (`data`,
; `newtype`, `type` synonyms and families).
; A function's type signature and its equations are one symbol: the declarations holding
; them are the @clause node, so an equation joins the signature or equation right before it
; with the same name (comments between them too); an operator's too (`(.:) :: ...` and `(.:) = ...`).
; Equations in `where` and `let` are not definitions. Haddock (`-- |`, `{- | -}`) and
; plain comments above a definition are its doc.

(declarations
  (signature name: [(variable) @name (prefix_id (operator) @name)]) @definition.function) @clause

(declarations
  [
    (function name: (variable) @name)
    (function name: (prefix_id (operator) @name))
    (function (infix operator: [(operator) (constructor_operator)] @name))
    (bind name: (variable) @name)
    (bind name: (prefix_id (operator) @name))
  ] @definition.function) @clause

(class_declarations
  (signature name: [(variable) @name (prefix_id (operator) @name)]) @definition.function) @clause

(class_declarations
  [
    (function name: (variable) @name)
    (function name: (prefix_id (operator) @name))
    (function (infix operator: [(operator) (constructor_operator)] @name))
    (bind name: (variable) @name)
    (bind name: (prefix_id (operator) @name))
  ] @definition.function) @clause

(instance_declarations
  [
    (function name: (variable) @name)
    (function name: (prefix_id (operator) @name))
    (function (infix operator: [(operator) (constructor_operator)] @name))
    (bind name: (variable) @name)
    (bind name: (prefix_id (operator) @name))
  ] @definition.method) @clause

(class name: (name) @name) @definition.interface

(instance
  patterns: (type_patterns . [
    (name) @name
    (qualified id: (name) @name)
    (parens (apply constructor: (name) @name))
    (parens (apply constructor: (qualified id: (name) @name)))
    (parens (apply constructor: (apply constructor: (name) @name)))
    (parens (apply constructor: (apply constructor: (qualified id: (name) @name))))
  ])) @scope

(data_type name: (name) @name) @definition.type

(newtype name: (name) @name) @definition.type

(type_synonym name: (name) @name) @definition.type

(data_family name: (name) @name) @definition.type

(type_family name: (name) @name) @definition.type

(haddock) @comment

(comment) @comment
