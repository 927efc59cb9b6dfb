;; `() -> ()` exports are callable (they return 0); `_initialize` is the WASI reactor initialiser
(module
  (import "extism:host/env" "error_set" (func (param i64)))
  (func (export "_initialize"))
  (func (export "setup"))
  (func (export "count") (result i32) i32.const 0)
  (global (export "counter") (mut i32) (i32.const 0))
)
