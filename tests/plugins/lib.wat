;; lib: a helper module for multi-module manifests, linked under the name "lib".
;; `twice(x)` returns 2x; it imports nothing.
(module
  (func (export "twice") (param i64) (result i64)
    (i64.mul (local.get 0) (i64.const 2))))
