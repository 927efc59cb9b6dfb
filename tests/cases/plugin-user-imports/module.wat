;; host functions the host author must provide: the default user module and a custom namespace
(module
  (import "extism:host/env" "input_length" (func (result i64)))
  (import "extism:host/user" "hello_world" (func (param i64) (result i64)))
  (import "extism:host/user" "count_vowels" (func (param i64 i64) (result i64)))
  (import "host" "to_upper" (func (param i64) (result i64)))
  (import "host" "shared_table" (table 1 funcref))
  (func (export "run") (result i32) i32.const 0)
)
