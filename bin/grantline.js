#!/usr/bin/env node

// Node 20 (V8 11.3) can abort the process when TurboFan-inlined calls into cedar-wasm (the policy engine)
// are deoptimised mid-call under sustained load ("unreachable code" in the deoptimizer). Turning off
// JS→Wasm inlining before any code is compiled avoids it; see scripts/bench-v8-flags.ts.
require('node:v8').setFlagsFromString('--no-turbo-inline-js-wasm-calls');
require('../dist/server/cli/main.js')
  .main(process.argv)
  .catch((err) => {
    process.stderr.write(`grantline: ${err?.message ? err.message : String(err)}\n`);
    process.exit(1);
  });
