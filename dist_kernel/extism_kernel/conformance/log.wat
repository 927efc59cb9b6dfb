;; log: one message at each level, and get_log_level.
(module
  (import "extism:host/env" "log_trace" (func $log_trace (param i64)))
  (import "extism:host/env" "log_debug" (func $log_debug (param i64)))
  (import "extism:host/env" "log_info" (func $log_info (param i64)))
  (import "extism:host/env" "log_warn" (func $log_warn (param i64)))
  (import "extism:host/env" "log_error" (func $log_error (param i64)))
  (import "extism:host/env" "get_log_level" (func $get_log_level (result i32)))
  ;; @include pdk.wat
  (data (i32.const 256) "trace message")
  (data (i32.const 272) "debug message")
  (data (i32.const 288) "info message")
  (data (i32.const 304) "warn message")
  (data (i32.const 320) "error message")

  ;; Log `<level> message` at each level, then output get_log_level in decimal.
  (func (export "log_all") (result i32)
    (call $log_trace (call $to_kernel (i32.const 256) (i32.const 13)))
    (call $log_debug (call $to_kernel (i32.const 272) (i32.const 13)))
    (call $log_info (call $to_kernel (i32.const 288) (i32.const 12)))
    (call $log_warn (call $to_kernel (i32.const 304) (i32.const 12)))
    (call $log_error (call $to_kernel (i32.const 320) (i32.const 13)))
    (call $output_int (i64.extend_i32_u (call $get_log_level)))
    (i32.const 0))
)
