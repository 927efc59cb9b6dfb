;; fail: the ways a call fails.
;; `fail` sets an error and returns 1; `fail_rc0` sets an error but returns 0; `code` returns 7
;; without an error; `trap` hits unreachable; `trap_with_error` sets an error, then traps;
;; `ok` echoes (to show the plugin is still usable after a failure).
(module
  ;; @include pdk.wat
  (data (i32.const 16) "something went wrong")
  (func (export "fail") (result i32)
    (call $error (i32.const 16) (i32.const 20))
    (i32.const 1))
  (func (export "fail_rc0") (result i32)
    (call $error (i32.const 16) (i32.const 20))
    (i32.const 0))
  (func (export "code") (result i32)
    (i32.const 7))
  (func (export "trap") (result i32)
    unreachable)
  (func (export "trap_with_error") (result i32)
    (call $error (i32.const 16) (i32.const 20))
    unreachable)
  (func (export "ok") (result i32)
    (call $output (call $input) (global.get $in_len))
    (i32.const 0)))
