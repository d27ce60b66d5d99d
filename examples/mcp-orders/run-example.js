#!/usr/bin/env node
// `npm run example:mcp`: a broker on embedded defaults, the orders MCP server, an orchestrator and an agent.
require('./dist/run-example.js')
  .runExample()
  .then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`example failed: ${err?.stack ?? err}\n`);
      process.exit(1);
    },
  );
