;; misspelled kernel and host function names: errors with a "did you mean" hint
(module
  (import "extism:host/env" "alloc" (func (param i64) (result i64)))
  (import "extism:host/env" "output_sett" (func (param i64 i64)))
  (import "extism:host/env" "config_gte" (func (param i64) (result i64)))
  (import "extism:host/env" "frobnicate" (func))
  (func (export "run") (result i32) i32.const 0)
)
