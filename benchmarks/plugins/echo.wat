;; Echo plugin for the host benchmarks: `echo` copies the input to a new block and makes it the
;; output, 8 bytes at a time (input_load_u64 / store_u64), then the tail byte by byte.
;; The kernel imports are generated from the ABI spec in place of the `@imports` marker line.
(module
  ;; @imports

  (func (export "echo") (result i32)
    (local $len i64) (local $h i64) (local $off i64)
    (local.set $len (call $input_length))
    (if (i64.eqz (local.get $len))
      (then (call $output_set (i64.const 0) (i64.const 0)) (return (i32.const 0))))
    (local.set $h (call $alloc (local.get $len)))
    (if (i64.eqz (local.get $h)) (then (return (i32.const 1))))
    (block $done
      (loop $words
        (br_if $done (i64.gt_u (i64.add (local.get $off) (i64.const 8)) (local.get $len)))
        (call $store_u64 (i64.add (local.get $h) (local.get $off))
                         (call $input_load_u64 (local.get $off)))
        (local.set $off (i64.add (local.get $off) (i64.const 8)))
        (br $words)))
    (block $tail_done
      (loop $bytes
        (br_if $tail_done (i64.ge_u (local.get $off) (local.get $len)))
        (call $store_u8 (i64.add (local.get $h) (local.get $off))
                        (call $input_load_u8 (local.get $off)))
        (local.set $off (i64.add (local.get $off) (i64.const 1)))
        (br $bytes)))
    (call $output_set (local.get $h) (local.get $len))
    (i32.const 0))
)
