;; a plugin built for WASI (as TinyGo, .NET or the JS PDK build them): the host must enable wasi
(module
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
  (import "extism:host/env" "output_set" (func (param i64 i64)))
  (memory (export "memory") 1)
  (func (export "_initialize"))
  (func (export "greet") (result i32) i32.const 0)
)
