;; length_unsafe did not exist in Extism 0.x, and `extism_alocc` is a typo of a legacy name
(module
  (import "env" "extism_length_unsafe" (func (param i64) (result i64)))
  (import "env" "extism_alocc" (func (param i64) (result i64)))
  (func (export "run") (result i32) i32.const 0)
)
