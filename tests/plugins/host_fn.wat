;; host_fn: calls user host functions. `upper` passes the input to extism:host/user::to_upper
;; and outputs what it returns; `add` outputs the sum that host::add(40, 2) returns.
(module
  (import "extism:host/user" "to_upper" (func $to_upper (param i64) (result i64)))
  (import "host" "add" (func $add (param i64 i64) (result i64)))
  ;; @include pdk.wat
  (func (export "upper") (result i32)
    (local $h i64)
    (local.set $h (call $to_upper (call $to_kernel (call $input) (global.get $in_len))))
    (call $output_set (local.get $h) (call $length (local.get $h)))
    (i32.const 0))
  (func (export "add") (result i32)
    (call $output_int (call $add (i64.const 40) (i64.const 2)))
    (i32.const 0)))
