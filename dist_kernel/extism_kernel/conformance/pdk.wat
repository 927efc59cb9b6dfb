  ;; pdk.wat: the helpers every conformance plugin links in, spliced in place of
  ;; `;; @include pdk.wat` (after the plugin's own imports). It moves bytes between the plugin's
  ;; memory and the kernel the way PDKs do: input_load_u64 in 8-byte words then input_load_u8
  ;; for the tail; alloc + store_u64/store_u8 to build a block; output_set / error_set.
  ;; Plugin memory: 0..1024 constant strings, 1024..4096 scratch, 4096..65536 tables,
  ;; 65536.. a buffer for one input (up to 1 MiB + 192 KiB).
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

  (memory (export "memory") 20)
  (data (i32.const 0) "ok")
  (data (i32.const 8) "<absent>")
  (data (i32.const 2048) "check failed: ")
  (global $failed (mut i32) (i32.const 0))  ;; id of the first failed $check of this call

  ;; Copy the call's input into plugin memory at $dst; return its length.
  (func $read_input (param $dst i32) (result i32)
    (local $len i64) (local $i i64)
    (local.set $len (call $input_length))
    (block $done
      (loop $words
        (br_if $done (i64.gt_u (i64.add (local.get $i) (i64.const 8)) (local.get $len)))
        (i64.store (i32.add (local.get $dst) (i32.wrap_i64 (local.get $i)))
                   (call $input_load_u64 (local.get $i)))
        (local.set $i (i64.add (local.get $i) (i64.const 8)))
        (br $words)))
    (block $done
      (loop $bytes
        (br_if $done (i64.ge_u (local.get $i) (local.get $len)))
        (i32.store8 (i32.add (local.get $dst) (i32.wrap_i64 (local.get $i)))
                    (call $input_load_u8 (local.get $i)))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $bytes)))
    (i32.wrap_i64 (local.get $len)))

  ;; A new kernel block holding plugin memory [$src, $src + $len); 0 when $len is 0.
  (func $to_kernel (param $src i32) (param $len i32) (result i64)
    (local $h i64) (local $i i32)
    (if (i32.eqz (local.get $len)) (then (return (i64.const 0))))
    (local.set $h (call $alloc (i64.extend_i32_u (local.get $len))))
    (block $done
      (loop $words
        (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 8)) (local.get $len)))
        (call $store_u64 (i64.add (local.get $h) (i64.extend_i32_u (local.get $i)))
                         (i64.load (i32.add (local.get $src) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $words)))
    (block $done
      (loop $bytes
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (call $store_u8 (i64.add (local.get $h) (i64.extend_i32_u (local.get $i)))
                        (i32.load8_u (i32.add (local.get $src) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $bytes)))
    (local.get $h))

  ;; Copy kernel block $h into plugin memory at $dst; return its length.
  (func $from_kernel (param $h i64) (param $dst i32) (result i32)
    (local $len i64) (local $i i64)
    (local.set $len (call $length (local.get $h)))
    (block $done
      (loop $words
        (br_if $done (i64.gt_u (i64.add (local.get $i) (i64.const 8)) (local.get $len)))
        (i64.store (i32.add (local.get $dst) (i32.wrap_i64 (local.get $i)))
                   (call $load_u64 (i64.add (local.get $h) (local.get $i))))
        (local.set $i (i64.add (local.get $i) (i64.const 8)))
        (br $words)))
    (block $done
      (loop $bytes
        (br_if $done (i64.ge_u (local.get $i) (local.get $len)))
        (i32.store8 (i32.add (local.get $dst) (i32.wrap_i64 (local.get $i)))
                    (call $load_u8 (i64.add (local.get $h) (local.get $i))))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $bytes)))
    (i32.wrap_i64 (local.get $len)))

  ;; Make plugin memory [$src, $src + $len) the call's output.
  (func $output (param $src i32) (param $len i32)
    (call $output_set (call $to_kernel (local.get $src) (local.get $len))
                      (i64.extend_i32_u (local.get $len))))

  ;; Make kernel block $h (a handle a host function returned, or 0) the call's output.
  (func $output_block (param $h i64)
    (call $output_set (local.get $h) (call $length (local.get $h))))

  ;; Set the error message to plugin memory [$src, $src + $len); return 1 (the return code).
  (func $fail (param $src i32) (param $len i32) (result i32)
    (call $error_set (call $to_kernel (local.get $src) (local.get $len)))
    (i32.const 1))

  ;; Write $n in decimal at $dst; return the number of digits.
  (func $itoa (param $n i64) (param $dst i32) (result i32)
    (local $len i32) (local $rest i64) (local $i i32)
    (local.set $rest (local.get $n))
    (loop $count
      (local.set $len (i32.add (local.get $len) (i32.const 1)))
      (local.set $rest (i64.div_u (local.get $rest) (i64.const 10)))
      (br_if $count (i64.ne (local.get $rest) (i64.const 0))))
    (local.set $i (local.get $len))
    (local.set $rest (local.get $n))
    (loop $digits
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (i32.store8 (i32.add (local.get $dst) (local.get $i))
                  (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $rest) (i64.const 10)))))
      (local.set $rest (i64.div_u (local.get $rest) (i64.const 10)))
      (br_if $digits (i32.ne (local.get $i) (i32.const 0))))
    (local.get $len))

  ;; Output $n in decimal.
  (func $output_int (param $n i64)
    (call $output (i32.const 1024) (call $itoa (local.get $n) (i32.const 1024))))

  ;; Record check $id as failed unless $ok (only the first failure of a call is kept).
  (func $check (param $ok i32) (param $id i32)
    (if (i32.and (i32.eqz (local.get $ok)) (i32.eqz (global.get $failed)))
      (then (global.set $failed (local.get $id)))))

  ;; End a call of checks: output `ok`, or fail with `check failed: <id>`.
  (func $verdict (result i32)
    (local $id i32)
    (local.set $id (global.get $failed))
    (global.set $failed (i32.const 0))
    (if (local.get $id)
      (then (return (call $fail (i32.const 2048)
                          (i32.add (i32.const 14) (call $itoa (i64.extend_i32_u (local.get $id))
                                                              (i32.const 2062)))))))
    (call $output (i32.const 0) (i32.const 2))
    (i32.const 0))
