;; Smoke plugin for `python -m tooling publish_check`: `echo` copies the call's input into a new
;; block and makes it the output. The kernel imports are generated from the installed package's
;; ABI spec in place of the `@imports` marker line.
(module
  ;; @imports

  (func (export "echo") (result i32)
    (local $len i64) (local $h i64) (local $off i64)
    (local.set $len (call $input_length))
    (local.set $h (call $alloc (local.get $len)))
    (if (i32.and (i64.eqz (local.get $h)) (i64.ne (local.get $len) (i64.const 0)))
      (then (return (i32.const 1))))
    (block $done
      (loop $bytes
        (br_if $done (i64.ge_u (local.get $off) (local.get $len)))
        (call $store_u8 (i64.add (local.get $h) (local.get $off))
                        (call $input_load_u8 (local.get $off)))
        (local.set $off (i64.add (local.get $off) (i64.const 1)))
        (br $bytes)))
    (call $output_set (local.get $h) (local.get $len))
    (i32.const 0))
)
