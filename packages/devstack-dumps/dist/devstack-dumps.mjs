#!/usr/bin/env node
import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);

// packages/devstack-dumps/src/bin.ts
var [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
if (major < 20 || major === 20 && minor < 19) {
  process.stderr.write(`error: devstack-dumps needs Node.js 20.19 or later; this is ${process.version}
`);
  process.exitCode = 1;
} else {
  const { main } = await import("./chunks/cli-LOZSXPKQ.mjs");
  process.exitCode = await main(process.argv.slice(2));
}
//# sourceMappingURL=devstack-dumps.mjs.map
