;; http: the shape of http_request (url, method, headers, body) and http_status_code.
(module
  (import "extism:host/env" "http_request" (func $http_request (param i64 i64) (result i64)))
  (import "extism:host/env" "http_status_code" (func $http_status_code (result i32)))
  ;; @include pdk.wat
  (data (i32.const 256) "conformance body")

  ;; Input: the request JSON. Output: the response body. No request body.
  (func (export "request") (result i32)
    (call $output_block (call $http_request
      (call $to_kernel (i32.const 65536) (call $read_input (i32.const 65536)))
      (i64.const 0)))
    (i32.const 0))

  ;; The same with the request body `conformance body`.
  (func (export "post") (result i32)
    (call $output_block (call $http_request
      (call $to_kernel (i32.const 65536) (call $read_input (i32.const 65536)))
      (call $to_kernel (i32.const 256) (i32.const 16))))
    (i32.const 0))

  ;; The status of the last request, in decimal.
  (func (export "status") (result i32)
    (call $output_int (i64.extend_i32_u (call $http_status_code)))
    (i32.const 0))
)
