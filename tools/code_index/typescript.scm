; TypeScript and TSX: definitions and calls for the code index (captures as in python.scm).
; Interfaces and enums are class-like definitions; method signatures in interfaces and abstract
; classes are methods without a body.

[
  (class_declaration name: (type_identifier) @name)
  (abstract_class_declaration name: (type_identifier) @name)
  (interface_declaration name: (type_identifier) @name)
  (enum_declaration name: (identifier) @name)
] @definition.class

[
  (function_declaration
    name: (identifier) @name
    parameters: (formal_parameters) @parameters)
  (generator_function_declaration
    name: (identifier) @name
    parameters: (formal_parameters) @parameters)
] @definition.function

[
  (method_definition
    name: [(property_identifier) (private_property_identifier)] @name
    parameters: (formal_parameters) @parameters)
  (method_signature
    name: (property_identifier) @name
    parameters: (formal_parameters) @parameters)
  (abstract_method_signature
    name: (property_identifier) @name
    parameters: (formal_parameters) @parameters)
] @definition.function

([(lexical_declaration) (variable_declaration)]
  (variable_declarator
    name: (identifier) @name
    value: [
      (arrow_function parameters: (formal_parameters) @parameters)
      (arrow_function parameter: (identifier) @parameters)
      (function_expression parameters: (formal_parameters) @parameters)
    ])) @definition.function

(call_expression
  function: [
    (identifier) @name
    (member_expression property: [(property_identifier) (private_property_identifier)] @name)
  ]) @reference.call

(new_expression
  constructor: [
    (identifier) @name
    (member_expression property: (property_identifier) @name)
  ]) @reference.call
