; JavaScript: definitions and calls for the code index (captures as in python.scm).
; A function or arrow function assigned to a const, let or var is a function named by the variable.

(class_declaration
  name: (identifier) @name) @definition.class

[
  (function_declaration
    name: (identifier) @name
    parameters: (formal_parameters) @parameters)
  (generator_function_declaration
    name: (identifier) @name
    parameters: (formal_parameters) @parameters)
] @definition.function

(method_definition
  name: [(property_identifier) (private_property_identifier)] @name
  parameters: (formal_parameters) @parameters) @definition.function

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
