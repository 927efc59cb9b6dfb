;; wasi: a WASI reactor. `_initialize` runs once at instantiation (it sets a flag);
;; `initialized` outputs "1" when it ran; `random` outputs 16 bytes from random_get;
;; `hello` writes "hello\n" to stdout with fd_write and outputs the errno; `exit3` calls
;; proc_exit(3); `exit0` sets an output then calls proc_exit(0) (a success); `read` outputs the
;; file named by the input from the first preopened directory (or "errno N"); `write` creates
;; the file named by the input there, writes "written" and outputs the errno.
(module
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open
    (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  ;; @include pdk.wat
  (global $ready (mut i64) (i64.const 0))
  (data (i32.const 16) "hello\n")
  (data (i32.const 32) "\10\00\00\00\06\00\00\00")  ;; iovec {buf = 16, len = 6}
  (data (i32.const 64) "errno ")
  (data (i32.const 80) "written")
  (data (i32.const 96) "\50\00\00\00\07\00\00\00")  ;; iovec {buf = 80, len = 7}
  ;; open the file named by the input in preopen fd 3; return the errno, the fd at address 8
  (func $open (param $oflags i32) (param $rights i64) (result i32)
    (call $path_open (i32.const 3) (i32.const 0) (call $input) (global.get $in_len)
      (local.get $oflags) (local.get $rights) (i64.const 0) (i32.const 0) (i32.const 8)))
  (func $output_errno (param $errno i32)
    (call $output (i32.const 64) (i32.add (i32.const 6)
      (call $itoa_at (i32.const 70) (i64.extend_i32_u (local.get $errno))))))
  (func (export "read") (result i32)
    (local $errno i32) (local $buf i32)
    (local.set $errno (call $open (i32.const 0) (i64.const 2)))  ;; fd_read
    (if (local.get $errno) (then (call $output_errno (local.get $errno)) (return (i32.const 0))))
    (local.set $buf (call $malloc (i32.const 1024)))
    (i32.store (i32.const 200) (local.get $buf))       ;; iovec at 200 {buf, 1024}
    (i32.store (i32.const 204) (i32.const 1024))
    (drop (call $fd_read (i32.load (i32.const 8)) (i32.const 200) (i32.const 1) (i32.const 208)))
    (drop (call $fd_close (i32.load (i32.const 8))))
    (call $output (local.get $buf) (i32.load (i32.const 208)))
    (i32.const 0))
  (func (export "write") (result i32)
    (local $errno i32)
    (local.set $errno (call $open (i32.const 9) (i64.const 64)))  ;; O_CREAT|O_TRUNC, fd_write
    (if (i32.eqz (local.get $errno))
      (then
        (local.set $errno (call $fd_write (i32.load (i32.const 8)) (i32.const 96) (i32.const 1) (i32.const 208)))
        (drop (call $fd_close (i32.load (i32.const 8))))))
    (call $output_errno (local.get $errno))
    (i32.const 0))
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
