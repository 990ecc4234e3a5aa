; Java: definitions and calls for the code index (captures as in python.scm).
; Interfaces, enums and records are class-like definitions; constructors are methods named after
; their class. `new Foo()` is a call of Foo.

[
  (class_declaration name: (identifier) @name)
  (interface_declaration name: (identifier) @name)
  (enum_declaration name: (identifier) @name)
  (record_declaration name: (identifier) @name)
] @definition.class

[
  (method_declaration
    name: (identifier) @name
    parameters: (formal_parameters) @parameters)
  (constructor_declaration
    name: (identifier) @name
    parameters: (formal_parameters) @parameters)
] @definition.function

(method_invocation
  name: (identifier) @name) @reference.call

(object_creation_expression
  type: [
    (type_identifier) @name
    (generic_type (type_identifier) @name)
  ]) @reference.call
