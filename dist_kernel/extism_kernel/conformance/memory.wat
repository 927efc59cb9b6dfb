;; memory: alloc, free and length under churn, as a plugin drives them.
(module
  (import "extism:host/env" "memory_bytes" (func $memory_bytes (result i64)))
  ;; @include pdk.wat

  ;; The size of block $i of the churn: 2 to 1001 bytes (first and last byte differ).
  (func $size (param $i i32) (result i64)
    (i64.extend_i32_u (i32.add (i32.rem_u (i32.mul (local.get $i) (i32.const 37)) (i32.const 1000))
                               (i32.const 2))))

  ;; Where the handle of block $i is kept in plugin memory.
  (func $slot (param $i i32) (result i32)
    (i32.add (i32.const 4096) (i32.shl (local.get $i) (i32.const 3))))

  ;; 2000 blocks of 2..1001 bytes, every third one freed right away; then every live block
  ;; keeps its length and its first and last bytes, frees to length 0, and 1 MiB still fits.
  (func (export "churn") (result i32)
    (local $i i32) (local $h i64) (local $n i64)
    (loop $allocs
      (local.set $n (call $size (local.get $i)))
      (local.set $h (call $alloc (local.get $n)))
      (call $check (i64.ne (local.get $h) (i64.const 0)) (i32.const 1))
      (call $check (i64.eq (call $length (local.get $h)) (local.get $n)) (i32.const 2))
      (call $store_u8 (local.get $h) (local.get $i))
      (call $store_u8 (i64.sub (i64.add (local.get $h) (local.get $n)) (i64.const 1))
                      (i32.xor (local.get $i) (i32.const 255)))
      (i64.store (call $slot (local.get $i)) (local.get $h))
      (if (i32.eq (i32.rem_u (local.get $i) (i32.const 3)) (i32.const 2))
        (then
          (local.set $h (i64.load (call $slot (i32.sub (local.get $i) (i32.const 1)))))
          (call $free (local.get $h))
          (call $check (i64.eqz (call $length (local.get $h))) (i32.const 3))
          (i64.store (call $slot (i32.sub (local.get $i) (i32.const 1))) (i64.const 0))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $allocs (i32.lt_u (local.get $i) (i32.const 2000))))
    (local.set $i (i32.const 0))
    (loop $verify
      (local.set $h (i64.load (call $slot (local.get $i))))
      (if (i64.ne (local.get $h) (i64.const 0))
        (then
          (local.set $n (call $size (local.get $i)))
          (call $check (i64.eq (call $length (local.get $h)) (local.get $n)) (i32.const 4))
          (call $check (i32.eq (call $load_u8 (local.get $h)) (i32.and (local.get $i) (i32.const 255)))
                       (i32.const 5))
          (call $check (i32.eq (call $load_u8 (i64.sub (i64.add (local.get $h) (local.get $n)) (i64.const 1)))
                               (i32.and (i32.xor (local.get $i) (i32.const 255)) (i32.const 255)))
                       (i32.const 6))
          (call $free (local.get $h))
          (call $check (i64.eqz (call $length (local.get $h))) (i32.const 7))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $verify (i32.lt_u (local.get $i) (i32.const 2000))))
    (local.set $h (call $alloc (i64.const 1048576)))
    (call $check (i64.eq (call $length (local.get $h)) (i64.const 1048576)) (i32.const 8))
    (call $free (local.get $h))
    (call $check (i64.gt_u (call $memory_bytes) (i64.const 0)) (i32.const 9))
    (call $verdict))

  ;; alloc(0) is 0, and length(0) is 0.
  (func (export "zero") (result i32)
    (call $check (i64.eqz (call $alloc (i64.const 0))) (i32.const 1))
    (call $check (i64.eqz (call $length (i64.const 0))) (i32.const 2))
    (call $verdict))

  ;; A block written with store_u64 reads back with load_u64 and, byte by byte, load_u8.
  (func (export "words") (result i32)
    (local $h i64)
    (local.set $h (call $alloc (i64.const 16)))
    (call $store_u64 (local.get $h) (i64.const 0x0807060504030201))
    (call $store_u64 (i64.add (local.get $h) (i64.const 8)) (i64.const -1))
    (call $check (i64.eq (call $load_u64 (local.get $h)) (i64.const 0x0807060504030201)) (i32.const 1))
    (call $check (i32.eq (call $load_u8 (local.get $h)) (i32.const 1)) (i32.const 2))
    (call $check (i32.eq (call $load_u8 (i64.add (local.get $h) (i64.const 7))) (i32.const 8)) (i32.const 3))
    (call $check (i32.eq (call $load_u8 (i64.add (local.get $h) (i64.const 15))) (i32.const 255)) (i32.const 4))
    (call $store_u8 (i64.add (local.get $h) (i64.const 1)) (i32.const 0x1ff))  ;; the low byte only
    (call $check (i64.eq (call $load_u64 (local.get $h)) (i64.const 0x080706050403ff01)) (i32.const 5))
    (call $verdict))
)
