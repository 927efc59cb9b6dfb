;; http: the input is Extism's request JSON ({"url", "method", "headers"}).
;; `fetch` outputs the response body; `status` outputs the status code after the request;
;; `post` sends the body "ping" and outputs the response body; `headers` outputs http_headers.
(module
  (import "extism:host/env" "http_request" (func $http_request (param i64 i64) (result i64)))
  (import "extism:host/env" "http_status_code" (func $http_status_code (result i32)))
  (import "extism:host/env" "http_headers" (func $http_headers (result i64)))
  ;; @include pdk.wat
  (data (i32.const 16) "ping")
  (func $request (param $body i64) (result i64)
    (call $http_request (call $to_kernel (call $input) (global.get $in_len)) (local.get $body)))
  (func $output_block (param $h i64)
    (if (i64.eqz (local.get $h)) (then (return)))
    (call $output (call $from_kernel (local.get $h)) (global.get $blk_len))
    (call $free (local.get $h)))
  (func (export "fetch") (result i32)
    (call $output_block (call $request (i64.const 0)))
    (i32.const 0))
  (func (export "status") (result i32)
    (call $free (call $request (i64.const 0)))
    (call $output_int (i64.extend_i32_u (call $http_status_code)))
    (i32.const 0))
  (func (export "post") (result i32)
    (call $output_block (call $request (call $to_kernel (i32.const 16) (i32.const 4))))
    (i32.const 0))
  (func (export "headers") (result i32)
    (call $free (call $request (i64.const 0)))
    (call $output_block (call $http_headers))
    (i32.const 0)))
