;; command: a WASI-style command (it exports `_start`). `bump` adds one to a global and outputs
;; it; after a call to `_start` the host rebuilds the instance, so the count starts again.
(module
  ;; @include pdk.wat
  (global $count (mut i64) (i64.const 0))
  (func (export "_start"))
  (func (export "bump") (result i32)
    (global.set $count (i64.add (global.get $count) (i64.const 1)))
    (call $output_int (global.get $count))
    (i32.const 0)))
