; Rust: functions, methods, structs, unions, type aliases, enums, traits, inline modules
; and `macro_rules!` macros. An `impl` block is a scope named by its type, so
; `impl Foo` and `impl Trait for Foo` both make `Foo.method`.
; Docs: the `///` (or `/** */`) block right above an item; `//!` at the top of an inline
; module is that module's doc. Attributes (`#[derive(...)]`, `#[inline]`) are captured as
; comments so the doc block above them reaches the item (indexer.docs drops their lines).

; A function is a method in an impl or trait body, else a function (nested in a function,
; it is qualified by it). Each context is its own pattern so no item is matched twice.
(source_file
  (function_item
    name: (identifier) @name
    body: (block) @body) @definition.function)

(block
  (function_item
    name: (identifier) @name
    body: (block) @body) @definition.function)

(mod_item
  body: (declaration_list
    (function_item
      name: (identifier) @name
      body: (block) @body) @definition.function))

(impl_item
  body: (declaration_list
    (function_item
      name: (identifier) @name
      body: (block) @body) @definition.method))

(trait_item
  body: (declaration_list
    (function_item
      name: (identifier) @name
      body: (block) @body) @definition.method))

; A required trait method has no body.
(trait_item
  body: (declaration_list
    (function_signature_item
      name: (identifier) @name) @definition.method))

; The impl's type names it without generics or reference, with its path (`impl<T> Trait for &a::Foo<T>`
; is `a::Foo`: walkdir's `impl From<Error> for io::Error` makes `io::Error.from`, not its own `Error.from`);
; a tuple, array or unit type is named as written.
(impl_item
  type: [
    (type_identifier) @name
    (primitive_type) @name
    (generic_type type: [(type_identifier) @name (scoped_type_identifier) @name])
    (scoped_type_identifier) @name
    (reference_type type: [
      (type_identifier) @name
      (primitive_type) @name
      (generic_type type: [(type_identifier) @name (scoped_type_identifier) @name])
      (scoped_type_identifier) @name
      (array_type) @name])
    (array_type) @name
    (tuple_type) @name
    (unit_type) @name
    (never_type) @name
  ]) @scope

(struct_item
  name: (type_identifier) @name
  body: (_)? @body) @definition.type

(union_item
  name: (type_identifier) @name
  body: (field_declaration_list) @body) @definition.type

; A type alias at module level; in an impl it is an associated type (`type Error = E;`).
(source_file
  (type_item
    name: (type_identifier) @name) @definition.type)

(mod_item
  body: (declaration_list
    (type_item
      name: (type_identifier) @name) @definition.type))

(enum_item
  name: (type_identifier) @name
  body: (enum_variant_list) @body) @definition.enum

(trait_item
  name: (type_identifier) @name
  body: (declaration_list) @body) @definition.trait

; `mod name;` only points at a file: not a definition.
(mod_item
  name: (identifier) @name
  body: (declaration_list) @body) @definition.module

(mod_item
  body: (declaration_list
    .
    (line_comment inner: (inner_doc_comment_marker)) @doc_lines)) @definition.module

(macro_definition
  name: (identifier) @name) @definition.function

; `//!` documents what encloses it, never the item below it.
(line_comment !inner) @comment
(block_comment !inner) @comment
(attribute_item) @comment

; Items wrapped by a macro (tokio's `cfg_io_util! { pub trait AsyncWriteExt ... }`, `pin_project!
; { struct ... }`, `thread_local! { static ... }`): the braces are read as items where their
; contents parse as items on their own (indexer.parse).
(source_file (macro_invocation (token_tree) @items))
(declaration_list (macro_invocation (token_tree) @items))
