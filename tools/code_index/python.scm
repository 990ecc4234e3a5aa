; Python: what the code index captures.
; @definition.class and @definition.function capture a whole definition; the indexer reads its
; `name` and `parameters` fields, widens a decorated definition to its decorators, calls a
; function directly inside a class a method, and builds qualified names from the nesting.
; @reference.call captures the called name of a call (the last part of a dotted name).

(class_definition
  name: (identifier)) @definition.class

(function_definition
  name: (identifier)) @definition.function

(call
  function: [
    (identifier) @reference.call
    (attribute attribute: (identifier) @reference.call)
  ])
