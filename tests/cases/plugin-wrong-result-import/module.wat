;; the right names and parameters with a wrong result type: a link error too
(module
  (import "extism:host/env" "alloc" (func (param i64) (result i32)))
  (import "extism:host/env" "var_get" (func (param i64)))
  (func (export "run") (result i32) i32.const 0)
)
