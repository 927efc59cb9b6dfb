  ;; pdk.wat: what a PDK links into every plugin, spliced in place of `;; @include pdk.wat`.
  ;; Input is read the way the Rust PDK does it (input_length, then input_load_u64 in 8-byte
  ;; chunks and input_load_u8 for the tail); output and errors are built with alloc + store_u64
  ;; (+ store_u8 for the tail) and handed over with output_set / error_set.
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_load_u64" (func $input_load_u64 (param i64) (result i64)))
  (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param i64) (result i32)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "free" (func $free (param i64)))
  (import "extism:host/env" "length" (func $length (param i64) (result i64)))
  (import "extism:host/env" "load_u64" (func $load_u64 (param i64) (result i64)))
  (import "extism:host/env" "load_u8" (func $load_u8 (param i64) (result i32)))
  (import "extism:host/env" "store_u64" (func $store_u64 (param i64 i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "extism:host/env" "error_set" (func $error_set (param i64)))

  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))  ;; bump allocator of the plugin's own memory
  (global $in_len (mut i32) (i32.const 0))   ;; length of the last $input
  (global $blk_len (mut i32) (i32.const 0))  ;; length of the last $from_kernel

  (func $malloc (param $n i32) (result i32)
    (local $p i32) (local $end i32)
    (local.set $p (global.get $heap))
    (local.set $end (i32.add (local.get $p) (i32.and (i32.add (local.get $n) (i32.const 7)) (i32.const -8))))
    (if (i32.gt_u (local.get $end) (i32.mul (memory.size) (i32.const 65536)))
      (then (if (i32.eq (memory.grow (i32.add (i32.shr_u (i32.sub (local.get $end)
                  (i32.mul (memory.size) (i32.const 65536))) (i32.const 16)) (i32.const 1))) (i32.const -1))
              (then unreachable))))
    (global.set $heap (local.get $end))
    (local.get $p))

  ;; copy the call's input into plugin memory; return its address, length in $in_len
  (func $input (result i32)
    (local $len i64) (local $i i64) (local $p i32)
    (local.set $len (call $input_length))
    (global.set $in_len (i32.wrap_i64 (local.get $len)))
    (local.set $p (call $malloc (global.get $in_len)))
    (block $d8 (loop $l8
      (br_if $d8 (i64.gt_u (i64.add (local.get $i) (i64.const 8)) (local.get $len)))
      (i64.store (i32.add (local.get $p) (i32.wrap_i64 (local.get $i))) (call $input_load_u64 (local.get $i)))
      (local.set $i (i64.add (local.get $i) (i64.const 8)))
      (br $l8)))
    (block $d1 (loop $l1
      (br_if $d1 (i64.ge_u (local.get $i) (local.get $len)))
      (i32.store8 (i32.add (local.get $p) (i32.wrap_i64 (local.get $i))) (call $input_load_u8 (local.get $i)))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $l1)))
    (local.get $p))

  ;; copy n bytes at p into a new kernel block; return its handle (0 when n is 0 or no memory)
  (func $to_kernel (param $p i32) (param $n i32) (result i64)
    (local $h i64) (local $i i32)
    (if (i32.eqz (local.get $n)) (then (return (i64.const 0))))
    (local.set $h (call $alloc (i64.extend_i32_u (local.get $n))))
    (if (i64.eqz (local.get $h)) (then (return (i64.const 0))))
    (block $d8 (loop $l8
      (br_if $d8 (i32.gt_u (i32.add (local.get $i) (i32.const 8)) (local.get $n)))
      (call $store_u64 (i64.add (local.get $h) (i64.extend_i32_u (local.get $i)))
                       (i64.load (i32.add (local.get $p) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 8)))
      (br $l8)))
    (block $d1 (loop $l1
      (br_if $d1 (i32.ge_u (local.get $i) (local.get $n)))
      (call $store_u8 (i64.add (local.get $h) (i64.extend_i32_u (local.get $i)))
                      (i32.load8_u (i32.add (local.get $p) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l1)))
    (local.get $h))

  ;; copy kernel block h into plugin memory; return the address, length in $blk_len
  (func $from_kernel (param $h i64) (result i32)
    (local $n i64) (local $i i64) (local $p i32)
    (local.set $n (call $length (local.get $h)))
    (global.set $blk_len (i32.wrap_i64 (local.get $n)))
    (local.set $p (call $malloc (global.get $blk_len)))
    (block $d8 (loop $l8
      (br_if $d8 (i64.gt_u (i64.add (local.get $i) (i64.const 8)) (local.get $n)))
      (i64.store (i32.add (local.get $p) (i32.wrap_i64 (local.get $i)))
                 (call $load_u64 (i64.add (local.get $h) (local.get $i))))
      (local.set $i (i64.add (local.get $i) (i64.const 8)))
      (br $l8)))
    (block $d1 (loop $l1
      (br_if $d1 (i64.ge_u (local.get $i) (local.get $n)))
      (i32.store8 (i32.add (local.get $p) (i32.wrap_i64 (local.get $i)))
                  (call $load_u8 (i64.add (local.get $h) (local.get $i))))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $l1)))
    (local.get $p))

  (func $output (param $p i32) (param $n i32)
    (call $output_set (call $to_kernel (local.get $p) (local.get $n)) (i64.extend_i32_u (local.get $n))))

  (func $error (param $p i32) (param $n i32)
    (call $error_set (call $to_kernel (local.get $p) (local.get $n))))

  ;; write the decimal digits of v at dst; return how many
  (func $itoa_at (param $dst i32) (param $v i64) (result i32)
    (local $n i32) (local $t i64) (local $i i32)
    (local.set $t (local.get $v))
    (loop $c
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (local.set $t (i64.div_u (local.get $t) (i64.const 10)))
      (br_if $c (i64.ne (local.get $t) (i64.const 0))))
    (local.set $i (local.get $n))
    (local.set $t (local.get $v))
    (loop $w
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (i32.store8 (i32.add (local.get $dst) (local.get $i))
                  (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $t) (i64.const 10)))))
      (local.set $t (i64.div_u (local.get $t) (i64.const 10)))
      (br_if $w (i32.gt_u (local.get $i) (i32.const 0))))
    (local.get $n))

  ;; output the decimal digits of v
  (func $output_int (param $v i64)
    (local $p i32)
    (local.set $p (call $malloc (i32.const 24)))
    (call $output (local.get $p) (call $itoa_at (local.get $p) (local.get $v))))
