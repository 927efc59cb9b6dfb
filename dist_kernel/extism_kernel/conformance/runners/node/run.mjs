// The conformance suite on a host written in JavaScript: a worked example for SDK authors.
//
//   extism-kernel conformance --export out/
//   node run.mjs out/ [--kernel KERNEL.wasm] [-k TEXT]
//   node run.mjs out/ --echo-rate SECONDS      (calls/s of a 10-byte echo through the suite's
//                                              io plugin, each output checked; no cases run)
//
// Runs every case of out/cases.json (see docs/conformance.md) on Node's own WebAssembly: one
// fresh kernel instance and plugin instance per case, the kernel's exports linked under the ABI's
// import modules (`extism:host/env`, and `env` with the `extism_` prefix for 0.x plugins), the
// builtin host functions (config, vars, logging, HTTP refusals) written here. It prints the same
// table as `extism-kernel conformance`. A case that needs what this runner leaves out (a request
// to an allowed host, WASI) is skipped with the reason. The kernel defaults to the one shipped
// beside this file in the extism_kernel package. No dependencies beyond Node (>= 18).
// Exit: 0 every case passed, 1 a case failed (or the kernel lacks an ABI export), 2 unreadable
// input (no cases.json, a file that is not wasm); errors are one `error:` line on stderr.

import fs from "node:fs";
import path from "node:path";
import process from "node:process";

const HERE = path.dirname(decodeURIComponent(new URL(import.meta.url).pathname));
const PACKAGE = path.resolve(HERE, "../../.."); // extism_kernel/, when the runner is in it
const LEVELS = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, off: 2147483647 };
const VAR_ENTRY_OVERHEAD = 48; // what the Rust runtime counts per var, as the reference host
const MAX_VAR_BYTES = 1024 * 1024;
const utf8 = new TextDecoder("utf-8");
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

class Unreadable extends Error {} // exit 2
class NotAKernel extends Error {} // exit 1
class Skip extends Error {} // the case needs what this runner does not do

// --- input ------------------------------------------------------------------------------------

function readFile(file, what) {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new Unreadable(`cannot read ${what} \`${file}\`: ${e.code ?? e.message}`);
  }
}

function compile(file, what) {
  try {
    return new WebAssembly.Module(readFile(file, what));
  } catch (e) {
    if (e instanceof Unreadable) throw e;
    throw new Unreadable(`${what} \`${file}\` is not wasm: ${e.message}`);
  }
}

// The ABI's module names and the kernel's exports, from abi.json beside the package if present.
function loadAbi() {
  const file = path.join(PACKAGE, "abi.json");
  const abi = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : null;
  return {
    module: abi?.kernel_module ?? "extism:host/env",
    legacy: abi?.legacy ?? { module: "env", prefix: "extism_" },
    exports: abi?.exports.map((e) => e.name) ?? ["memory", "alloc", "free", "length", "reset"],
    shipped: (abi?.variants ?? []).map((v) => path.join(PACKAGE, v.file)).filter(fs.existsSync),
  };
}

function decodeData(value, where) {
  const [[kind, data] = []] = Object.entries(value ?? {});
  if (kind === "text") return Buffer.from(data, "utf8");
  if (kind === "hex" && /^([0-9a-fA-F]{2})*$/.test(data)) return Buffer.from(data, "hex");
  if (kind === "base64") return Buffer.from(data, "base64");
  if (kind === "pattern") return Buffer.from(Array.from({ length: data }, (_, i) => i % 251));
  throw new Unreadable(`${where}: expected one of text, hex, base64, pattern`);
}

// --- one plugin instance: the kernel, the builtins, the call protocol ------------------------

function newInstance(ctx, c) {
  const k = new WebAssembly.Instance(ctx.kernel, {}).exports;
  const mem = () => new Uint8Array(k.memory.buffer);
  const read = (at, n) => Buffer.from(mem().subarray(Number(at), Number(at) + Number(n)));
  const readBlock = (h) => (h ? read(h, k.length(h)) : Buffer.alloc(0));
  const newBlock = (bytes) => {
    if (!bytes.length) return 0n;
    const h = k.alloc(BigInt(bytes.length));
    if (!h) throw new Error("oom");
    mem().set(bytes, Number(h));
    return h;
  };
  const config = new Map(Object.entries(c.config ?? {}));
  const vars = new Map();
  const state = { logs: [], status: 0, varBytes: 0 };
  const level = LEVELS[c.log_level ?? "info"];

  const key = (h, what) => {
    if (!h) return "";
    const data = readBlock(h);
    if (!data.length) throw new Error(`invalid handle offset for ${what}: ${h}`);
    try {
      return strictUtf8.decode(data);
    } catch {
      throw new Error(`${what} at handle ${h} is not UTF-8`);
    }
  };
  const log = (name) => (msg) => {
    if (LEVELS[name] >= level) {
      const text = readBlock(msg);
      if (msg && !text.length) throw new Error(`invalid handle offset for log message: ${msg}`);
      state.logs.push([name, utf8.decode(text)]);
    }
    k.free(msg);
  };
  const builtins = {
    config_get(h) {
      const name = key(h, "config key");
      k.free(h);
      return newBlock(Buffer.from(config.get(name) ?? "", "utf8"));
    },
    var_get(h) {
      const name = key(h, "var key");
      k.free(h);
      return newBlock(vars.get(name) ?? Buffer.alloc(0));
    },
    var_set(h, v) {
      const name = key(h, "var key");
      const size = (data) => VAR_ENTRY_OVERHEAD + Buffer.byteLength(name) + data.length;
      const old = vars.get(name);
      if (!v) {
        if (old) state.varBytes -= size(old);
        vars.delete(name);
      } else {
        const data = readBlock(v);
        if (!data.length) throw new Error(`invalid handle offset for var value: ${v}`);
        const total = state.varBytes + size(data); // the replaced entry counts, as in Rust
        if (total > MAX_VAR_BYTES) throw new Error(`variable store is full: ${total} bytes`);
        state.varBytes = total - (old ? size(old) : 0);
        vars.set(name, data);
        k.free(v);
      }
      k.free(h);
    },
    http_request(req, body) {
      state.status = 0;
      const url = requestUrl(readBlock(req), req);
      if (!hostAllowed(url.hostname, c.allowed_hosts)) {
        throw new Error(`http request to \`${url.href}\` is not allowed`);
      }
      throw new Skip("needs an HTTP client and echo server (http_request to an allowed host)");
    },
    http_status_code: () => state.status,
    http_headers: () => 0n, // the reference host exposes no headers by default
    get_log_level: () => level,
  };
  for (const name of ["trace", "debug", "info", "warn", "error"]) builtins[`log_${name}`] = log(name);

  const plugin = linkPlugin(ctx, ctx.plugins.get(c.plugin), k, builtins);
  return { k, read, readBlock, state, plugin };
}

function requestUrl(text, handle) {
  if (!text.length) throw new Error(`invalid handle offset for http request: ${handle}`);
  const req = JSON.parse(utf8.decode(text));
  if (typeof req?.url !== "string") throw new Error("http request: expected a string `url`");
  const url = new URL(req.url);
  if (!["http:", "https:"].includes(url.protocol)) throw new Error(`invalid url \`${req.url}\``);
  return url;
}

// `*` matches any run of characters (dots too) and `?` one, as the reference host's globs do.
function hostAllowed(host, allowed) {
  const escaped = (p) => p.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  const glob = (p) => new RegExp(`^${escaped(p).replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
  return (allowed ?? []).some((p) => p === host || glob(p).test(host));
}

// Resolve each import of the plugin: a kernel export, a builtin, or the case cannot run here.
function linkPlugin(ctx, module, k, builtins) {
  const imports = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    let name = null;
    if (imp.module === ctx.abi.module) name = imp.name;
    else if (imp.module === ctx.abi.legacy.module && imp.name.startsWith(ctx.abi.legacy.prefix)) {
      name = imp.name.slice(ctx.abi.legacy.prefix.length);
    } else if (imp.module.startsWith("wasi")) {
      throw new Skip("needs WASI, which this runner leaves out");
    }
    const value = name === null ? undefined : typeof k[name] === "function" ? k[name] : builtins[name];
    if (value === undefined) {
      throw new Error(`import \`${imp.module}::${imp.name}\` is not provided`);
    }
    (imports[imp.module] ??= {})[imp.name] = value;
  }
  const instance = new WebAssembly.Instance(module, imports);
  const init = instance.exports.__wasm_call_ctors ?? instance.exports._initialize;
  if (typeof init === "function") init();
  return instance.exports;
}

// One call, as Extism hosts make it: reset, input, call, then the error slot wins over a failure.
function call(inst, name, input) {
  const { k } = inst;
  const fn = inst.plugin[name];
  if (typeof fn !== "function") return { error: `function \`${name}\` not found in the plugin` };
  let rc = 0;
  let failure = null;
  try {
    k.reset();
    if (input.length) {
      const h = k.alloc(BigInt(input.length));
      if (!h) return { error: "oom" };
      new Uint8Array(k.memory.buffer).set(input, Number(h));
      k.input_set(h, BigInt(input.length));
    }
    rc = fn() ?? 0;
  } catch (e) {
    if (e instanceof Skip) throw e;
    failure = e;
  }
  let message;
  try {
    message = inst.readBlock(k.error_get());
  } catch (e) {
    return { error: `the kernel trapped: ${e.message}` };
  }
  if (message.length) return { error: utf8.decode(message) };
  if (failure) return { error: failure.message || String(failure) };
  if (rc) return { error: `function \`${name}\` returned non-zero exit code ${rc}` };
  const n = k.output_length();
  return { output: n ? inst.read(k.output_offset(), n) : Buffer.alloc(0) };
}

// --- cases ------------------------------------------------------------------------------------

function show(data) {
  const text = JSON.stringify(utf8.decode(data.subarray(0, 24)));
  return text + (data.length > 24 ? `… (${data.length} bytes)` : "");
}

// What differed between a call's outcome and the step's expectation; "" when nothing did.
function checkStep(expect, got) {
  if ("output" in expect) {
    const want = decodeData(expect.output, "expect.output");
    if ("error" in got) return `expected output ${show(want)} but the call failed: ${got.error}`;
    if (!want.equals(got.output)) return `expected output ${show(want)} but found ${show(got.output)}`;
  } else if (!("error" in got)) {
    return `expected the call to fail but it returned ${show(got.output)}`;
  } else if (typeof expect.error === "string" && got.error !== expect.error) {
    return `expected error ${JSON.stringify(expect.error)} but found ${JSON.stringify(got.error)}`;
  }
  return "";
}

function runCase(ctx, c) {
  const result = (passed, detail = "", skipped = false) => ({ name: c.name, passed, detail, skipped });
  if (c.beyond_reference && !ctx.ours) {
    return result(false, "a rule of this kernel beyond the reference, skipped on another kernel", true);
  }
  if (c.wasi) return result(false, "needs WASI, which this runner leaves out", true);
  let inst;
  try {
    inst = newInstance(ctx, c);
  } catch (e) {
    if (e instanceof Skip) return result(false, e.message, true);
    return result(false, `plugin did not load: ${e.message}`);
  }
  for (const [i, step] of c.steps.entries()) {
    const input = step.input ? decodeData(step.input, `case \`${c.name}\``) : Buffer.alloc(0);
    const data = Buffer.from(input.toString("latin1").replaceAll("$HTTP", ctx.httpBase), "latin1");
    inst.state.logs = [];
    let got;
    try {
      got = call(inst, step.function, data);
    } catch (e) {
      if (e instanceof Skip) return result(false, e.message, true);
      throw e;
    }
    let problem = checkStep(step.expect, got);
    const logs = step.expect.logs;
    if (!problem && logs && JSON.stringify(logs) !== JSON.stringify(inst.state.logs)) {
      problem = `expected logs ${JSON.stringify(logs)} but found ${JSON.stringify(inst.state.logs)}`;
    }
    if (problem) return result(false, `step ${i + 1} \`${step.function}\`: ${problem}`);
  }
  return result(true);
}

function render(kernelName, results) {
  const width = Math.max(4, ...results.map((r) => r.name.length));
  const lines = [`${"case".padEnd(width)}  result`, `${"-".repeat(width)}  ------`];
  for (const r of results) {
    const verdict = r.skipped ? `skip  ${r.detail}` : r.passed ? "pass" : `FAIL  ${r.detail}`;
    lines.push(`${r.name.padEnd(width)}  ${verdict}`);
  }
  const failed = results.filter((r) => !r.passed && !r.skipped).length;
  const skipped = results.filter((r) => r.skipped).length;
  const passed = results.length - failed - skipped;
  const summary = `kernel \`${kernelName}\`: ${passed} passed, ${failed} failed`;
  lines.push(summary + (skipped ? `, ${skipped} skipped` : ""));
  return { text: lines.join("\n") + "\n", failed };
}

// --- main -------------------------------------------------------------------------------------

function parseArgs(argv) {
  const args = { dir: null, kernel: null, select: null, echoRate: null };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--kernel") args.kernel = argv[++i];
    else if (argv[i] === "--echo-rate") args.echoRate = Number(argv[++i]);
    else if (argv[i] === "-k") args.select = argv[++i];
    else if (args.dir === null && !argv[i].startsWith("-")) args.dir = argv[i];
    else throw new Unreadable(`unexpected argument \`${argv[i]}\``);
  }
  if (!args.dir) throw new Unreadable("usage: node run.mjs EXPORT_DIR [--kernel KERNEL.wasm] [-k TEXT]");
  if (args.echoRate !== null && !(args.echoRate > 0)) {
    throw new Unreadable("--echo-rate takes a positive number of seconds");
  }
  return args;
}

// The engine's speed on the smallest real call: reset, input, the plugin's echo, output.
function echoRate(ctx, suite, seconds) {
  const echo = suite.cases.find((c) => c.name.startsWith("io/echo"));
  if (!echo) throw new Unreadable("the suite has no io/echo case");
  const inst = newInstance(ctx, echo);
  const input = Buffer.from("0123456789");
  let calls = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < end) {
    for (let i = 0; i < 100; i++) {
      const got = call(inst, "echo", input);
      if (!got.output || !got.output.equals(input)) throw new Error(`echo returned ${show(got)}`);
    }
    calls += 100;
    now = process.hrtime.bigint();
  }
  const rate = Math.round(calls / (Number(now - start) / 1e9));
  return `echo 10 B: ${rate} calls/s (V8 ${process.versions.v8}, Node ${process.version})\n`;
}

function main(argv) {
  const args = parseArgs(argv);
  const abi = loadAbi();
  const kernelFile = args.kernel ?? abi.shipped[0];
  if (!kernelFile) throw new Unreadable("no kernel beside this runner: pass --kernel KERNEL.wasm");
  const kernel = compile(kernelFile, "kernel");
  const have = new Set(WebAssembly.Module.exports(kernel).map((e) => e.name));
  const missing = abi.exports.filter((name) => !have.has(name));
  if (missing.length) {
    const what = `\`${kernelFile}\` is not a kernel of the ABI spec`;
    throw new NotAKernel(`${what}: no export \`${missing[0]}\``);
  }
  const suiteFile = path.join(args.dir, "cases.json");
  let suite;
  try {
    suite = JSON.parse(readFile(suiteFile, "cases file"));
  } catch (e) {
    throw e instanceof Unreadable ? e : new Unreadable(`\`${suiteFile}\` is not JSON: ${e.message}`);
  }
  if (suite.format !== 1) throw new Unreadable(`\`${suiteFile}\`: expected format 1`);
  const kernelBytes = readFile(kernelFile, "kernel");
  const ctx = {
    abi,
    kernel,
    ours: abi.shipped.some((f) => fs.readFileSync(f).equals(kernelBytes)),
    plugins: new Map(
      Object.entries(suite.plugins).map(([n, f]) => [n, compile(path.join(args.dir, f), "plugin")]),
    ),
    httpBase: "http://127.0.0.1:1", // no echo server: requests to allowed hosts are skipped
  };
  if (args.echoRate !== null) {
    process.stdout.write(echoRate(ctx, suite, args.echoRate));
    return 0;
  }
  const cases = suite.cases.filter((c) => !args.select || c.name.includes(args.select));
  const results = cases.map((c) => runCase(ctx, c));
  const { text, failed } = render(args.kernel ?? "extism-kernel", results);
  process.stdout.write(text);
  return failed ? 1 : 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  if (!(e instanceof Unreadable || e instanceof NotAKernel)) throw e;
  process.stderr.write(`error: ${e.message}\n`);
  process.exitCode = e instanceof Unreadable ? 2 : 1;
}
