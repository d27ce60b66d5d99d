#!/usr/bin/env node

require('../dist/server/cli/main.js')
  .main(process.argv)
  .catch((err) => {
    process.stderr.write(`grantline: ${err?.message ? err.message : String(err)}\n`);
    process.exit(1);
  });
