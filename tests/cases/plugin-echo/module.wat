;; a well-formed 1.x plugin: copies its input to its output through the kernel
(module
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_offset" (func $input_offset (result i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "extism:host/env" "log_info" (func $log_info (param i64)))
  (memory (export "memory") 1)
  (func (export "echo") (result i32)
    (call $output_set (call $input_offset) (call $input_length))
    i32.const 0)
)
