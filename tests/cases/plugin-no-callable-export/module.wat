;; nothing a host can call: exports with parameters or other results are not Extism functions
(module
  (import "extism:host/env" "alloc" (func (param i64) (result i64)))
  (memory (export "memory") 1)
  (func (export "add") (param i32 i32) (result i32) local.get 0)
  (func (export "big") (result i64) i64.const 0)
)
