; Go: what the code index captures (see python.scm).
; Struct and interface types are class-like. A method is qualified by its receiver's type, so
; `func (s *Store) Get()` is `Store.Get`.

(type_spec
  name: (type_identifier)
  type: [(struct_type) (interface_type)]) @definition.class

[
  (function_declaration name: (identifier))
  (method_declaration name: (field_identifier))
] @definition.function

(call_expression
  function: [
    (identifier) @reference.call
    (selector_expression field: (field_identifier) @reference.call)
  ])
