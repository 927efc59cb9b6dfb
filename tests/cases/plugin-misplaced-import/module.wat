;; ABI names imported from the wrong module: a 1.x plugin that kept `env`, and a typo'd module
(module
  (import "env" "alloc" (func (param i64) (result i64)))
  (import "extism:host/envv" "output_set" (func (param i64 i64)))
  (import "extism:host/user" "config_get" (func (param i64) (result i64)))
  (func (export "run") (result i32) i32.const 0)
)
