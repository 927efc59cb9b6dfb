;; uses_lib: the main module of a two-module manifest; `twice21` outputs lib::twice(21).
(module
  (import "lib" "twice" (func $twice (param i64) (result i64)))
  ;; @include pdk.wat
  (func (export "twice21") (result i32)
    (call $output_int (call $twice (i64.const 21)))
    (i32.const 0)))
