; Every `resource "TYPE" "NAME" {` block, wherever it sits in the tree.
; Placement (top level, inside an ERROR, inside an unclosed block) is decided in
; code (src/analysis/terraform.rs): queries cannot express "parent is broken".
; Labels may be quoted (`string_lit`) or bare identifiers (`resource aws_x y {`).
(block
  .
  (identifier) @keyword
  .
  [(string_lit) (identifier)] @type
  .
  [(string_lit) (identifier)] @name
  .
  (block_start)
  (#eq? @keyword "resource")) @block
