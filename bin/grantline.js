#!/usr/bin/env node

// Node 20 (V8 11.3) can abort the process when TurboFan-inlined calls into cedar-wasm (the policy engine)
// are deoptimised mid-call under sustained load ("unreachable code" in the deoptimizer). Turning off
// JS→Wasm inlining before any code is compiled avoids it; see scripts/bench-v8-flags.ts.
require('node:v8').setFlagsFromString('--no-turbo-inline-js-wasm-calls');
// V8 compiles cedar-wasm's 4 MB module with up to 128 parallel background tasks; each platform thread
// that joins in keeps its own malloc arena (~20 MB) afterwards, about 58 MB of RSS per broker process that
// is never returned. One task compiles the same code (same speed at run time) in one arena.
require('node:v8').setFlagsFromString('--wasm-num-compilation-tasks=1');
require('../dist/server/cli/main.js')
  .main(process.argv)
  .catch((err) => {
    process.stderr.write(`grantline: ${err?.message ? err.message : String(err)}\n`);
    process.exit(1);
  });
