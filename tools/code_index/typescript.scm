; TypeScript and TSX: what the code index captures (see python.scm and javascript.scm).
; Interfaces and enums are class-like; method signatures (interfaces, abstract classes) are
; methods without a body.

[
  (class_declaration name: (type_identifier))
  (abstract_class_declaration name: (type_identifier))
  (interface_declaration name: (type_identifier))
  (enum_declaration name: (identifier))
] @definition.class

[
  (function_declaration name: (identifier))
  (generator_function_declaration name: (identifier))
  (method_definition name: [(property_identifier) (private_property_identifier)])
  (method_signature name: (property_identifier))
  (abstract_method_signature name: (property_identifier))
  (variable_declarator
    name: (identifier)
    value: [(arrow_function) (function_expression) (generator_function)])
] @definition.function

(call_expression
  function: [
    (identifier) @reference.call
    (member_expression
      property: [(property_identifier) (private_property_identifier)] @reference.call)
  ])

(new_expression
  constructor: [
    (identifier) @reference.call
    (member_expression property: (property_identifier) @reference.call)
  ])
