; C#: classes, structs and records (all classes), interfaces, enums, delegates (types),
; methods, constructors, local functions, and properties whose accessors hold code
; (auto-properties `{ get; set; }` are fields: they stay in their class's outline).
; Namespaces, block or file-scoped, are scopes: they qualify the types inside them.
; The `///` XML doc comment is the comment block right above a declaration.

(namespace_declaration
  name: (_) @name) @scope

; A file-scoped `namespace A.B;` ends before the types it names: the whole file is its scope.
(compilation_unit
  (file_scoped_namespace_declaration
    name: (_) @name)) @scope

(class_declaration
  name: (identifier) @name
  body: (declaration_list) @body) @definition.class

(struct_declaration
  name: (identifier) @name
  body: (declaration_list) @body) @definition.class

; `record R(int A);` has no body.
(record_declaration
  name: (identifier) @name
  body: (declaration_list)? @body) @definition.class

(interface_declaration
  name: (identifier) @name
  body: (declaration_list) @body) @definition.interface

(enum_declaration
  name: (identifier) @name
  body: (enum_member_declaration_list) @body) @definition.enum

(delegate_declaration
  name: (identifier) @name) @definition.type

; Abstract and interface methods have no body.
(method_declaration
  name: (identifier) @name
  body: (_)? @body) @definition.method

(constructor_declaration
  name: (identifier) @name
  body: (_) @body) @definition.method

; Operators, conversions included (`public static implicit operator PredicateBuilder(...)`), are methods
; named `operator`: Polly's conversions were only lines of their class's outline.
(operator_declaration
  "operator" @name
  body: (_) @body) @definition.method

(conversion_operator_declaration
  "operator" @name
  body: (_) @body) @definition.method

(local_function_statement
  name: (identifier) @name
  body: (_) @body) @definition.function

(property_declaration
  name: (identifier) @name
  accessors: (accessor_list
    (accessor_declaration
      body: (_))) @body) @definition.method

; An indexer (`public JToken this[object key] { get { ... } set { ... } }`, or `=> ...`) is a method named
; `this`: Json.NET's JObject and JArray indexers were only lines of their class's outline.
(indexer_declaration
  "this" @name
  accessors: (accessor_list
    (accessor_declaration
      body: (_))) @body) @definition.method

(indexer_declaration
  "this" @name
  value: (arrow_expression_clause) @body) @definition.method

(comment) @comment
