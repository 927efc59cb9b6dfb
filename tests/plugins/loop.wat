;; loop: `loop_forever` never returns (stopped by timeout_ms or a cancel handle); `ok` echoes.
(module
  ;; @include pdk.wat
  (func (export "loop_forever") (result i32)
    (loop $forever (br $forever))
    (i32.const 0))
  (func (export "ok") (result i32)
    (call $output (call $input) (global.get $in_len))
    (i32.const 0)))
