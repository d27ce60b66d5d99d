import v8 from 'node:v8';

/**
 * Imported first by the bench, before any server module (and so before cedar-wasm) is loaded.
 *
 * On Node 20.20 (V8 11.3), TurboFan inlines JS→Wasm calls; when the optimised caller of cedar-wasm's
 * `statefulIsAuthorized` (the policy engine's `evaluate`) is lazily deoptimised while inside the Wasm
 * call, V8 aborts the process in `Deoptimizer::DoComputeBuiltinContinuation` ("unreachable code")
 * while translating the "JS to Wasm builtin continuation frame". Under sustained load (tens of seconds
 * of grants) it crashed 5 runs out of 6; with JS→Wasm inlining off, none did.
 */
v8.setFlagsFromString('--no-turbo-inline-js-wasm-calls');
