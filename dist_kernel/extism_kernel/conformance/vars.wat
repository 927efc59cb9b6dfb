;; vars: var_set, var_get, overwrite and remove; vars live as long as the plugin.
(module
  (import "extism:host/env" "var_get" (func $var_get (param i64) (result i64)))
  (import "extism:host/env" "var_set" (func $var_set (param i64 i64)))
  ;; @include pdk.wat
  (data (i32.const 256) "expected key=value")

  ;; Input `key=value`: set var key to value (an empty value removes it). Output `ok`.
  (func (export "set") (result i32)
    (local $n i32) (local $eq i32)
    (local.set $n (call $read_input (i32.const 65536)))
    (block $found
      (loop $scan
        (br_if $found (i32.eq (i32.load8_u (i32.add (i32.const 65536) (local.get $eq)))
                              (i32.const 61)))
        (local.set $eq (i32.add (local.get $eq) (i32.const 1)))
        (br_if $scan (i32.lt_u (local.get $eq) (local.get $n)))
        (return (call $fail (i32.const 256) (i32.const 18)))))
    (call $var_set
      (call $to_kernel (i32.const 65536) (local.get $eq))
      (call $to_kernel (i32.add (i32.const 65537) (local.get $eq))
                       (i32.sub (i32.sub (local.get $n) (local.get $eq)) (i32.const 1))))
    (call $output (i32.const 0) (i32.const 2))
    (i32.const 0))

  ;; Input `key`: the var's value, or `<absent>`.
  (func (export "get") (result i32)
    (local $h i64)
    (local.set $h (call $var_get
      (call $to_kernel (i32.const 65536) (call $read_input (i32.const 65536)))))
    (if (i64.eqz (local.get $h))
      (then (call $output (i32.const 8) (i32.const 8)))
      (else (call $output_block (local.get $h))))
    (i32.const 0))

  ;; Input `key`: remove the var (var_set with value 0). Output `ok`.
  (func (export "remove") (result i32)
    (call $var_set (call $to_kernel (i32.const 65536) (call $read_input (i32.const 65536)))
                   (i64.const 0))
    (call $output (i32.const 0) (i32.const 2))
    (i32.const 0))
)
