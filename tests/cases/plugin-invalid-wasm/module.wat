;; parses but does not validate: a call with too few arguments
(module
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (func (export "run") (result i32)
    (call $output_set (i64.const 0))
    i32.const 0)
)
