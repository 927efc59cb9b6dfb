;; vowels: the shape of Extism's count-vowels demo. The vowels come from config key "vowels"
;; (default aeiouAEIOU), a running total is kept in var "total" (8 bytes, little endian), and
;; the output is JSON {"count":N,"total":M}.
(module
  (import "extism:host/env" "config_get" (func $config_get (param i64) (result i64)))
  (import "extism:host/env" "var_get" (func $var_get (param i64) (result i64)))
  (import "extism:host/env" "var_set" (func $var_set (param i64 i64)))
  ;; @include pdk.wat
  (data (i32.const 16) "vowels")
  (data (i32.const 24) "total")
  (data (i32.const 32) "aeiouAEIOU")
  (data (i32.const 48) "{\"count\":")
  (data (i32.const 64) ",\"total\":")

  (func $copy (param $dst i32) (param $src i32) (param $n i32) (result i32)
    (local $i i32)
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
      (i32.store8 (i32.add (local.get $dst) (local.get $i))
                  (i32.load8_u (i32.add (local.get $src) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (i32.add (local.get $dst) (local.get $n)))

  ;; how many bytes of the input are one of the n bytes at vowels
  (func $count (param $vowels i32) (param $n i32) (result i64)
    (local $p i32) (local $len i32) (local $i i32) (local $j i32) (local $c i32) (local $count i64)
    (local.set $p (call $input))
    (local.set $len (global.get $in_len))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $len)))
      (local.set $c (i32.load8_u (i32.add (local.get $p) (local.get $i))))
      (local.set $j (i32.const 0))
      (block $found (loop $v
        (br_if $found (i32.ge_u (local.get $j) (local.get $n)))
        (if (i32.eq (local.get $c) (i32.load8_u (i32.add (local.get $vowels) (local.get $j))))
          (then (local.set $count (i64.add (local.get $count) (i64.const 1))) (br $found)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $v)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.get $count))

  (func (export "count_vowels") (result i32)
    (local $h i64) (local $vowels i32) (local $n i32) (local $count i64) (local $total i64)
    (local $out i32) (local $end i32)
    (local.set $h (call $config_get (call $to_kernel (i32.const 16) (i32.const 6))))
    (local.set $vowels (i32.const 32))
    (local.set $n (i32.const 10))
    (if (i64.ne (local.get $h) (i64.const 0))
      (then (local.set $vowels (call $from_kernel (local.get $h)))
            (local.set $n (global.get $blk_len))
            (call $free (local.get $h))))
    (local.set $count (call $count (local.get $vowels) (local.get $n)))
    (local.set $h (call $var_get (call $to_kernel (i32.const 24) (i32.const 5))))
    (if (i64.ne (local.get $h) (i64.const 0))
      (then (local.set $total (call $load_u64 (local.get $h))) (call $free (local.get $h))))
    (local.set $total (i64.add (local.get $total) (local.get $count)))
    (local.set $h (call $alloc (i64.const 8)))
    (call $store_u64 (local.get $h) (local.get $total))
    (call $var_set (call $to_kernel (i32.const 24) (i32.const 5)) (local.get $h))
    (local.set $out (call $malloc (i32.const 64)))
    (local.set $end (call $copy (local.get $out) (i32.const 48) (i32.const 9)))
    (local.set $end (i32.add (local.get $end) (call $itoa_at (local.get $end) (local.get $count))))
    (local.set $end (call $copy (local.get $end) (i32.const 64) (i32.const 9)))
    (local.set $end (i32.add (local.get $end) (call $itoa_at (local.get $end) (local.get $total))))
    (i32.store8 (local.get $end) (i32.const 125))  ;; }
    (call $output (local.get $out) (i32.add (i32.sub (local.get $end) (local.get $out)) (i32.const 1)))
    (i32.const 0)))
