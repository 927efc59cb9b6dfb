;; command_vars: a WASI-style command (it exports `_start`) that keeps a counter in the var
;; "count"; after a call to `_start` the host rebuilds the instance and forgets the vars.
(module
  (import "extism:host/env" "var_get" (func $var_get (param i64) (result i64)))
  (import "extism:host/env" "var_set" (func $var_set (param i64 i64)))
  ;; @include pdk.wat
  (data (i32.const 16) "count")
  (func (export "_start"))
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
    (i32.const 0)))
