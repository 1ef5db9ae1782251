; Every `resource …` block, wherever it sits in the tree. Its labels are read
; in code (src/terraform.rs via syntax::BlockParts): comments may sit between
; them (`resource /* note */ "TYPE" "NAME" {`), which anchored label patterns
; would miss. Placement (top level, inside an ERROR, inside an unclosed block)
; is decided in code too: queries cannot express "parent is broken".
(block
  .
  (identifier) @keyword
  (#eq? @keyword "resource")) @block
