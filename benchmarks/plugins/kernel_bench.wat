;; Benchmark plugin: the loops run inside wasm, so Python's per-call overhead is not what is
;; measured. Each export is one Python -> wasm crossing; everything inside is wasm -> wasm calls
;; into the kernel instance linked as `extism:host/env`.
;;
;; The kernel imports are not written here: `benchmarks/kernel.py` generates them from the ABI
;; spec (abi.json) and substitutes them for the `@imports` marker line below.
;;
;; Plugin memory (its own, not the kernel's):
;;   [0, 1 MiB)        u64 handles, slot i at 8*i (up to 131072 blocks)
;;   [1 MiB, 1.5 MiB)  u32 permutation of slot indices written by the host (random order)
;;   [1.5 MiB, 2 MiB)  u64 requested sizes of the churn slots
;;   [2 MiB, 3 MiB)    u64 handles in the host's random order (`permute`), read sequentially by
;;                     `length_n` / `free_n` so that the plugin's own memory traffic stays linear
;;                     and the random accesses measured are the kernel's
;; Random sizes come from a 64-bit LCG (Knuth's MMIX constants), `size = 1 + (x >> 33) % max`,
;; which the host mirrors to check the results.
(module
  ;; @imports

  (memory (export "memory") 48)

  (global $rng (mut i64) (i64.const 0))
  (global $live (mut i64) (i64.const 0))
  (global $peak (mut i64) (i64.const 0))
  (global $failed (mut i64) (i64.const 0))

  (func $next_size (param $max i64) (result i64)
    (global.set $rng
      (i64.add (i64.mul (global.get $rng) (i64.const 6364136223846793005))
               (i64.const 1442695040888963407)))
    (i64.add (i64.const 1)
             (i64.rem_u (i64.shr_u (global.get $rng) (i64.const 33)) (local.get $max))))

  ;; handle address of slot i
  (func $slot (param $i i32) (result i32) (i32.shl (local.get $i) (i32.const 3)))
  ;; slot index at position i of the host's permutation
  (func $order (param $i i32) (result i32)
    (i32.load (i32.add (i32.const 1048576) (i32.shl (local.get $i) (i32.const 2)))))
  ;; address of position i of the permuted handles
  (func $perm (param $i i32) (result i32)
    (i32.add (i32.const 2097152) (i32.shl (local.get $i) (i32.const 3))))

  (func (export "nop"))

  (func (export "seed") (param $seed i64)
    (global.set $rng (local.get $seed))
    (global.set $live (i64.const 0))
    (global.set $peak (i64.const 0))
    (global.set $failed (i64.const 0)))

  (func (export "failed") (result i64) (global.get $failed))
  (func (export "live_bytes") (result i64) (global.get $live))
  (func (export "peak_live_bytes") (result i64) (global.get $peak))

  ;; alloc n blocks of 1..max bytes into slots 0..n-1; the sum of the sizes that were allocated
  (func (export "alloc_n") (param $n i32) (param $max i64) (result i64)
    (local $i i32) (local $size i64) (local $h i64) (local $sum i64)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $size (call $next_size (local.get $max)))
        (local.set $h (call $alloc (local.get $size)))
        (i64.store (call $slot (local.get $i)) (local.get $h))
        (if (i64.eqz (local.get $h))
          (then (global.set $failed (i64.add (global.get $failed) (i64.const 1))))
          (else (local.set $sum (i64.add (local.get $sum) (local.get $size)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $sum))

  ;; untimed set-up: permuted handle i = handle of slot order[i]
  (func (export "permute") (param $n i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i64.store (call $perm (local.get $i))
                   (i64.load (call $slot (call $order (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; `reps` times: the sum of `length` over slots 0..n-1 in the host's random order (`permute` first)
  (func (export "length_n") (param $n i32) (param $reps i32) (result i64)
    (local $i i32) (local $sum i64)
    (block $all
      (loop $rep
        (br_if $all (i32.eqz (local.get $reps)))
        (local.set $i (i32.const 0))
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $sum
              (i64.add (local.get $sum)
                (call $length (i64.load (call $perm (local.get $i))))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))
        (local.set $reps (i32.sub (local.get $reps) (i32.const 1)))
        (br $rep)))
    (local.get $sum))

  ;; free slots 0..n-1 in the host's random order (`permute` first)
  (func (export "free_n") (param $n i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (call $free (i64.load (call $perm (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; churn, set-up: fill `slots` slots with blocks of 1..max bytes
  (func (export "churn_fill") (param $slots i32) (param $max i64)
    (local $i i32) (local $size i64) (local $h i64)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $slots)))
        (local.set $size (call $next_size (local.get $max)))
        (local.set $h (call $alloc (local.get $size)))
        (call $churn_put (local.get $i) (local.get $h) (local.get $size))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  (func $churn_put (param $i i32) (param $h i64) (param $size i64)
    (i64.store (call $slot (local.get $i)) (local.get $h))
    (if (i64.eqz (local.get $h))
      (then
        (global.set $failed (i64.add (global.get $failed) (i64.const 1)))
        (local.set $size (i64.const 0))))
    (i64.store (i32.add (i32.const 1572864) (call $slot (local.get $i))) (local.get $size))
    (global.set $live (i64.add (global.get $live) (local.get $size)))
    (if (i64.gt_u (global.get $live) (global.get $peak))
      (then (global.set $peak (global.get $live)))))

  ;; churn, `steps` steps: pick a random slot, free its block, alloc a new one of 1..max bytes
  (func (export "churn") (param $steps i32) (param $slots i32) (param $max i64)
    (local $j i32) (local $size i64) (local $h i64)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $steps)))
        (local.set $j
          (i32.wrap_i64 (i64.sub (call $next_size (i64.extend_i32_u (local.get $slots)))
                                 (i64.const 1))))
        (call $free (i64.load (call $slot (local.get $j))))
        (global.set $live
          (i64.sub (global.get $live)
                   (i64.load (i32.add (i32.const 1572864) (call $slot (local.get $j))))))
        (local.set $size (call $next_size (local.get $max)))
        (local.set $h (call $alloc (local.get $size)))
        (call $churn_put (local.get $j) (local.get $h) (local.get $size))
        (local.set $steps (i32.sub (local.get $steps) (i32.const 1)))
        (br $next))))

  ;; the sum of `length` over the churn slots (must equal live_bytes)
  (func (export "slots_length") (param $slots i32) (result i64)
    (local $i i32) (local $sum i64)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $slots)))
        (local.set $sum
          (i64.add (local.get $sum) (call $length (i64.load (call $slot (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $sum))

  ;; read the whole input with input_load_u64; the wrapping sum of the words
  (func (export "read_input") (result i64)
    (local $off i64) (local $len i64) (local $sum i64)
    (local.set $len (call $input_length))
    (block $done
      (loop $next
        (br_if $done (i64.gt_u (i64.add (local.get $off) (i64.const 8)) (local.get $len)))
        (local.set $sum (i64.add (local.get $sum) (call $input_load_u64 (local.get $off))))
        (local.set $off (i64.add (local.get $off) (i64.const 8)))
        (br $next)))
    (local.get $sum))

  ;; write word k = k at [h + 8k] for the `len` bytes at h with store_u64
  (func $write_store (export "write_store") (param $h i64) (param $len i64)
    (local $off i64)
    (block $done
      (loop $next
        (br_if $done (i64.gt_u (i64.add (local.get $off) (i64.const 8)) (local.get $len)))
        (call $store_u64 (i64.add (local.get $h) (local.get $off))
                         (i64.shr_u (local.get $off) (i64.const 3)))
        (local.set $off (i64.add (local.get $off) (i64.const 8)))
        (br $next))))

  ;; write the `len` bytes at h with store_u64, `passes` times over: with a small block the
  ;; memory stays in L1, so what is timed is the call and the kernel's bounds check alone
  (func (export "write_store_hot") (param $h i64) (param $len i64) (param $passes i64)
    (local $pass i64)
    (block $done
      (loop $next
        (br_if $done (i64.ge_u (local.get $pass) (local.get $passes)))
        (call $write_store (local.get $h) (local.get $len))
        (local.set $pass (i64.add (local.get $pass) (i64.const 1)))
        (br $next))))

  ;; read the `len` bytes at h with load_u64; the wrapping sum of the words
  (func (export "read_load") (param $h i64) (param $len i64) (result i64)
    (local $off i64) (local $sum i64)
    (block $done
      (loop $next
        (br_if $done (i64.gt_u (i64.add (local.get $off) (i64.const 8)) (local.get $len)))
        (local.set $sum
          (i64.add (local.get $sum) (call $load_u64 (i64.add (local.get $h) (local.get $off)))))
        (local.set $off (i64.add (local.get $off) (i64.const 8)))
        (br $next)))
    (local.get $sum))
)
