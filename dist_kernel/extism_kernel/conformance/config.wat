;; config: config_get for a key present, absent, or with an empty value.
(module
  (import "extism:host/env" "config_get" (func $config_get (param i64) (result i64)))
  ;; @include pdk.wat

  ;; The value of the config key given as input, or `<absent>` when config_get returns 0.
  (func (export "get") (result i32)
    (local $h i64)
    (local.set $h (call $config_get
      (call $to_kernel (i32.const 65536) (call $read_input (i32.const 65536)))))
    (if (i64.eqz (local.get $h))
      (then (call $output (i32.const 8) (i32.const 8)))
      (else (call $output_block (local.get $h))))
    (i32.const 0))
)
