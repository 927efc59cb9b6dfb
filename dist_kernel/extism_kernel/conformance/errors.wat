;; errors: the error slot (error_set, error_get through the host) and return codes.
(module
  ;; @include pdk.wat
  (data (i32.const 256) "this call failed")
  (data (i32.const 288) "cleared")

  ;; error_set then return 1: the call fails with the message.
  (func (export "fail") (result i32)
    (call $fail (i32.const 256) (i32.const 16)))

  ;; error_set then return 0: the call still fails with the message (the error slot wins).
  (func (export "fail_rc0") (result i32)
    (drop (call $fail (i32.const 256) (i32.const 16)))
    (i32.const 0))

  ;; error_set then error_set(0): the error is cleared, the call succeeds.
  (func (export "clear") (result i32)
    (drop (call $fail (i32.const 256) (i32.const 16)))
    (call $error_set (i64.const 0))
    (call $output (i32.const 288) (i32.const 7))
    (i32.const 0))

  ;; A non-zero return code without a message: the call fails.
  (func (export "code") (result i32)
    (i32.const 7))

  ;; A trap: the call fails.
  (func (export "trap") (result i32)
    unreachable)

  ;; Succeeds with `ok` (after a failed call: no error survives the next call's reset).
  (func (export "ok") (result i32)
    (call $output (i32.const 0) (i32.const 2))
    (i32.const 0))
)
