; Go: definitions and calls for the code index (captures as in python.scm).
; Struct and interface types are class-like definitions. A method's @scope is its receiver's type,
; so `func (s *Store) Get()` is `Store.Get`.

(type_spec
  name: (type_identifier) @name
  type: [(struct_type) (interface_type)]) @definition.class

(function_declaration
  name: (identifier) @name
  parameters: (parameter_list) @parameters) @definition.function

(method_declaration
  receiver: (parameter_list
    (parameter_declaration
      type: [
        (type_identifier) @scope
        (pointer_type (type_identifier) @scope)
        (generic_type type: (type_identifier) @scope)
        (pointer_type (generic_type type: (type_identifier) @scope))
      ]))
  name: (field_identifier) @name
  parameters: (parameter_list) @parameters) @definition.function

(call_expression
  function: [
    (identifier) @name
    (selector_expression field: (field_identifier) @name)
    (generic_type type: (type_identifier) @name)
  ]) @reference.call
