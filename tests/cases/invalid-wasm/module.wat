;; parses but does not validate: the function returns an i64 where its type says i32
(module
  (func (export "run") (result i32) i64.const 0)
)
