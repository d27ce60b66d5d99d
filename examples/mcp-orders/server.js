#!/usr/bin/env node
// The orders MCP server: GRANTLINE_URL=… PORT=… node examples/mcp-orders/server.js (after `npm run build`).
let built;
try {
  built = require('./dist/main-server.js');
} catch {
  process.stderr.write('examples/mcp-orders is not built: run `npm run build` at the repository root\n');
  process.exit(1);
}
built.main(process.env).catch((err) => {
  process.stderr.write(`orders MCP server: ${err?.message ?? err}\n`);
  process.exit(1);
});
