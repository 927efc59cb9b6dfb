;; count_vowels: like the Extism demo plugin, counts a, e, i, o, u (either case) in the input
;; and outputs JSON {"count":N}.
(module
  ;; @include pdk.wat
  (data (i32.const 16) "{\"count\":")
  (func $is_vowel (param $c i32) (result i32)
    (local.set $c (i32.or (local.get $c) (i32.const 32)))  ;; lower case
    (i32.or (i32.or (i32.or (i32.eq (local.get $c) (i32.const 97)) (i32.eq (local.get $c) (i32.const 101)))
                    (i32.or (i32.eq (local.get $c) (i32.const 105)) (i32.eq (local.get $c) (i32.const 111))))
            (i32.eq (local.get $c) (i32.const 117))))
  (func (export "count_vowels") (result i32)
    (local $p i32) (local $n i32) (local $i i32) (local $count i64) (local $len i32)
    (local.set $p (call $input))
    (local.set $n (global.get $in_len))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
      (if (call $is_vowel (i32.load8_u (i32.add (local.get $p) (local.get $i))))
        (then (local.set $count (i64.add (local.get $count) (i64.const 1)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.set $len (call $itoa_at (i32.const 25) (local.get $count)))
    (i32.store8 (i32.add (i32.const 25) (local.get $len)) (i32.const 125))  ;; }
    (call $output (i32.const 16) (i32.add (local.get $len) (i32.const 10)))
    (i32.const 0)))
