; Python: definitions and calls for the code index.
; @definition.class / @definition.function capture the whole definition; @name is its name and
; @parameters its parameter list. The indexer widens a decorated definition to its decorators,
; names a function inside a class a method, and builds qualified names from the nesting.
; @reference.call captures a call; @name is the called name (the last part of a dotted call).

(class_definition
  name: (identifier) @name) @definition.class

(function_definition
  name: (identifier) @name
  parameters: (parameters) @parameters) @definition.function

(call
  function: [
    (identifier) @name
    (attribute attribute: (identifier) @name)
  ]) @reference.call
