import v8 from 'node:v8';

// The same guard as bin/grantline.js: no JS→Wasm inlining (cedar-wasm), which can crash V8 11.3 on Node 20.
v8.setFlagsFromString('--no-turbo-inline-js-wasm-calls');
