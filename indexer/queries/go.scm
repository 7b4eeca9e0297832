; Go: functions, methods (qualified by their receiver type), struct types and interfaces.

(function_declaration
  name: (identifier) @name
  body: (block) @body) @definition.function

(method_declaration
  receiver: (parameter_list
    (parameter_declaration
      type: [
        (type_identifier) @receiver
        (pointer_type (type_identifier) @receiver)
        (generic_type type: (type_identifier) @receiver)
        (pointer_type (generic_type type: (type_identifier) @receiver))
      ]))
  name: (field_identifier) @name
  body: (block) @body) @definition.method

(type_spec
  name: (type_identifier) @name
  type: (struct_type)) @definition.type

(type_spec
  name: (type_identifier) @name
  type: (interface_type)) @definition.interface

; Every other named type: `type Header map[string][]string`, `type HandlerFunc func(ResponseWriter, *Request)`,
; `type Duration int64`, generics, and aliases (`type Byte = uint8`): the API of net/http and time.
(type_spec
  name: (type_identifier) @name
  type: [(type_identifier) (qualified_type) (generic_type) (pointer_type) (array_type) (slice_type) (map_type)
         (channel_type) (function_type) (parenthesized_type)]) @definition.type

(type_alias
  name: (type_identifier) @name) @definition.type

(comment) @comment
