;; an Extism 0.x plugin: module `env`, `extism_`-prefixed names
(module
  (import "env" "extism_input_length" (func $input_length (result i64)))
  (import "env" "extism_input_offset" (func $input_offset (result i64)))
  (import "env" "extism_output_set" (func $output_set (param i64 i64)))
  (import "env" "extism_config_get" (func $config_get (param i64) (result i64)))
  (func (export "echo") (result i32)
    (call $output_set (call $input_offset) (call $input_length))
    i32.const 0)
)
