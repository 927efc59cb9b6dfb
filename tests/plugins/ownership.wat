;; ownership: do the builtins free the handles the ABI says they take? Each export makes its
;; key (and value) blocks, calls the builtin, and outputs `length` of each handle afterwards
;; ("0" for a freed handle): `var_set` and `var_remove` (var_set with value 0) for the key and
;; the value, `config_get` for the key.
(module
  (import "extism:host/env" "var_set" (func $var_set (param i64 i64)))
  (import "extism:host/env" "config_get" (func $config_get (param i64) (result i64)))
  ;; @include pdk.wat
  (data (i32.const 16) "key")
  (data (i32.const 24) "value")
  (func $lengths (param $a i64) (param $b i64)
    (local $p i32) (local $n i32)
    (local.set $p (call $malloc (i32.const 64)))
    (local.set $n (call $itoa_at (local.get $p) (call $length (local.get $a))))
    (i32.store8 (i32.add (local.get $p) (local.get $n)) (i32.const 44))  ;; ,
    (local.set $n (i32.add (local.get $n) (i32.const 1)))
    (local.set $n (i32.add (local.get $n)
      (call $itoa_at (i32.add (local.get $p) (local.get $n)) (call $length (local.get $b)))))
    (call $output (local.get $p) (local.get $n)))
  (func (export "var_set") (result i32)
    (local $k i64) (local $v i64)
    (local.set $k (call $to_kernel (i32.const 16) (i32.const 3)))
    (local.set $v (call $to_kernel (i32.const 24) (i32.const 5)))
    (call $var_set (local.get $k) (local.get $v))
    (call $lengths (local.get $k) (local.get $v))
    (i32.const 0))
  (func (export "var_remove") (result i32)
    (local $k i64)
    (local.set $k (call $to_kernel (i32.const 16) (i32.const 3)))
    (call $var_set (local.get $k) (i64.const 0))
    (call $lengths (local.get $k) (i64.const 0))
    (i32.const 0))
  (func (export "config_get") (result i32)
    (local $k i64) (local $v i64)
    (local.set $k (call $to_kernel (i32.const 16) (i32.const 3)))
    (drop (call $alloc (i64.const 8)))  ;; keeps the freed key's memory from being the value's
    (local.set $v (call $config_get (local.get $k)))
    (call $lengths (local.get $k) (local.get $v))
    (i32.const 0)))
