;; io: the call's input and output, at every size (issue 4: 0, 1, 7, 8, 9 bytes, 64 KiB, 1 MiB).
(module
  (import "extism:host/env" "input_offset" (func $input_offset (result i64)))
  ;; @include pdk.wat

  ;; The output is the input, copied through plugin memory.
  (func (export "echo") (result i32)
    (call $output (i32.const 65536) (call $read_input (i32.const 65536)))
    (i32.const 0))

  ;; The output is the input block itself: output_set on the input's handle, no copy.
  (func (export "passthrough") (result i32)
    (call $output_set (call $input_offset) (call $input_length))
    (i32.const 0))

  ;; The input's length in decimal.
  (func (export "length") (result i32)
    (call $output_int (call $input_length))
    (i32.const 0))

  ;; No output at all: the output is empty.
  (func (export "noop") (result i32)
    (i32.const 0))

  ;; The `() -> ()` call signature: no return code means 0.
  (func (export "void")
    (call $output (i32.const 0) (i32.const 2)))
)
