;; wasi: a WASI reactor. `_initialize` runs once at instantiation (it sets a flag);
;; `initialized` outputs "1" when it ran; `random` outputs 16 bytes from random_get;
;; `hello` writes "hello\n" to stdout with fd_write and outputs the errno; `exit3` calls
;; proc_exit(3); `exit0` sets an output then calls proc_exit(0) (a success).
(module
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  ;; @include pdk.wat
  (global $ready (mut i64) (i64.const 0))
  (data (i32.const 16) "hello\n")
  (data (i32.const 32) "\10\00\00\00\06\00\00\00")  ;; iovec {buf = 16, len = 6}
  (func (export "_initialize")
    (global.set $ready (i64.const 1)))
  (func (export "initialized") (result i32)
    (call $output_int (global.get $ready))
    (i32.const 0))
  (func (export "random") (result i32)
    (local $p i32)
    (local.set $p (call $malloc (i32.const 16)))
    (drop (call $random_get (local.get $p) (i32.const 16)))
    (call $output (local.get $p) (i32.const 16))
    (i32.const 0))
  (func (export "hello") (result i32)
    (call $output_int (i64.extend_i32_u (call $fd_write (i32.const 1) (i32.const 32) (i32.const 1) (i32.const 48))))
    (i32.const 0))
  (func (export "exit3") (result i32)
    (call $proc_exit (i32.const 3))
    (i32.const 0))
  (func (export "exit0") (result i32)
    (call $output (call $input) (global.get $in_len))
    (call $proc_exit (i32.const 0))
    (i32.const 0)))
