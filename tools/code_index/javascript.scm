; JavaScript: what the code index captures (see python.scm).
; A function or arrow function assigned to a variable is a function named by the variable: the
; capture is the declarator, whose `value` holds the parameters. `new Foo()` is a call of Foo.

(class_declaration
  name: (identifier)) @definition.class

[
  (function_declaration name: (identifier))
  (generator_function_declaration name: (identifier))
  (method_definition name: [(property_identifier) (private_property_identifier)])
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
