; Java: what the code index captures (see python.scm).
; Interfaces, enums and records are class-like; constructors are methods named after their
; class. `new Foo()` is a call of Foo.

[
  (class_declaration name: (identifier))
  (interface_declaration name: (identifier))
  (enum_declaration name: (identifier))
  (record_declaration name: (identifier))
] @definition.class

[
  (method_declaration name: (identifier))
  (constructor_declaration name: (identifier))
] @definition.function

(method_invocation
  name: (identifier) @reference.call)

(object_creation_expression
  type: [
    (type_identifier) @reference.call
    (generic_type (type_identifier) @reference.call)
  ])
