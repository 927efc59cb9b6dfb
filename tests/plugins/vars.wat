;; vars: a counter kept in the var "count" (8 bytes, little endian) across calls.
;; `count` adds one and outputs the new value; `forget` removes the var; `big` stores the
;; input under the var "big" (to hit max_var_bytes).
(module
  (import "extism:host/env" "var_get" (func $var_get (param i64) (result i64)))
  (import "extism:host/env" "var_set" (func $var_set (param i64 i64)))
  ;; @include pdk.wat
  (data (i32.const 16) "count")
  (data (i32.const 32) "big")
  (func (export "count") (result i32)
    (local $h i64) (local $n i64) (local $v i64)
    (local.set $h (call $var_get (call $to_kernel (i32.const 16) (i32.const 5))))
    (if (i64.ne (local.get $h) (i64.const 0))
      (then (local.set $n (call $load_u64 (local.get $h))) (call $free (local.get $h))))
    (local.set $n (i64.add (local.get $n) (i64.const 1)))
    (local.set $v (call $alloc (i64.const 8)))
    (call $store_u64 (local.get $v) (local.get $n))
    (call $var_set (call $to_kernel (i32.const 16) (i32.const 5)) (local.get $v))
    (call $output_int (local.get $n))
    (i32.const 0))
  (func (export "forget") (result i32)
    (call $var_set (call $to_kernel (i32.const 16) (i32.const 5)) (i64.const 0))
    (i32.const 0))
  (func (export "big") (result i32)
    (call $var_set (call $to_kernel (i32.const 32) (i32.const 3))
                   (call $to_kernel (call $input) (global.get $in_len)))
    (i32.const 0)))
