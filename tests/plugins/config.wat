;; config: the output is the value of the config key named by the input (empty when missing).
(module
  (import "extism:host/env" "config_get" (func $config_get (param i64) (result i64)))
  ;; @include pdk.wat
  (func (export "get_config") (result i32)
    (local $v i64) (local $p i32)
    (local.set $v (call $config_get (call $to_kernel (call $input) (global.get $in_len))))
    (if (i64.eqz (local.get $v)) (then (return (i32.const 0))))
    (local.set $p (call $from_kernel (local.get $v)))
    (call $free (local.get $v))
    (call $output (local.get $p) (global.get $blk_len))
    (i32.const 0)))
