;; reverse: the output is the input's bytes in reverse order.
(module
  ;; @include pdk.wat
  (func (export "reverse") (result i32)
    (local $p i32) (local $n i32) (local $q i32) (local $i i32)
    (local.set $p (call $input))
    (local.set $n (global.get $in_len))
    (local.set $q (call $malloc (local.get $n)))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
      (i32.store8 (i32.add (local.get $q) (local.get $i))
                  (i32.load8_u (i32.add (local.get $p) (i32.sub (i32.sub (local.get $n) (local.get $i)) (i32.const 1)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (call $output (local.get $q) (local.get $n))
    (i32.const 0)))
