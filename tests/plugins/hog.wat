;; hog: memory hogs. `grow` grows its own memory a page at a time until memory.grow fails and
;; then reports the pages it got as an error; `kernel` allocates 64 KiB kernel blocks until alloc
;; returns 0, frees the last one and reports an error; `crash` allocates the same way but traps
;; when alloc returns 0, as a PDK that panics on a failed allocation does; `trap` just traps;
;; `ok` echoes.
(module
  ;; @include pdk.wat
  (data (i32.const 16) "out of memory after ")
  (func $fail_with_count (param $n i64) (result i32)
    (local $len i32)
    (local.set $len (call $itoa_at (i32.const 36) (local.get $n)))
    (call $error (i32.const 16) (i32.add (i32.const 20) (local.get $len)))
    (i32.const 1))
  (func (export "grow") (result i32)
    (local $pages i64)
    (block $full (loop $l
      (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
      (local.set $pages (i64.add (local.get $pages) (i64.const 1)))
      (br $l)))
    (call $fail_with_count (local.get $pages)))
  (func (export "kernel") (result i32)
    (local $h i64) (local $last i64) (local $n i64)
    (block $full (loop $l
      (local.set $h (call $alloc (i64.const 65536)))
      (br_if $full (i64.eqz (local.get $h)))
      (local.set $last (local.get $h))
      (local.set $n (i64.add (local.get $n) (i64.const 1)))
      (br $l)))
    (call $free (local.get $last))
    (call $fail_with_count (local.get $n)))
  (func (export "crash") (result i32)
    (block $full (loop $l
      (br_if $full (i64.eqz (call $alloc (i64.const 65536))))
      (br $l)))
    unreachable)
  (func (export "trap") (result i32)
    unreachable)
  (func (export "ok") (result i32)
    (call $output (call $input) (global.get $in_len))
    (i32.const 0)))
