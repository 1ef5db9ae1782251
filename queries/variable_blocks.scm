; Every `variable "NAME" {` block: the module index reads their type and default.
(block
  .
  (identifier) @keyword
  .
  [(string_lit) (identifier)] @name
  .
  (block_start)
  (#eq? @keyword "variable")) @block
