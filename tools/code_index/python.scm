; Python definitions for the code index.
; @definition.<kind> captures the whole definition node; its `name` field is the symbol's name.
; A decorated definition's decorators are added by the indexer (they wrap this node).

(class_definition
  name: (identifier) @name) @definition.class

(function_definition
  name: (identifier) @name
  parameters: (parameters) @parameters) @definition.function
