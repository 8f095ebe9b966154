#!/usr/bin/env node
import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);

// packages/devstack-dumps/src/bin.ts
import nodeModule from "node:module";
import { homedir } from "node:os";
import { join } from "node:path";
var [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
if (major < 20 || major === 20 && minor < 19) {
  process.stderr.write(`error: devstack-dumps needs Node.js 20.19 or later; this is ${process.version}
`);
  process.exitCode = 1;
} else {
  enableCompileCache();
  const { main, defaultContext, Interrupted } = await import("./chunks/cli-BGUWZCB7.mjs");
  let controller;
  const interrupt = (signal) => {
    if (controller === void 0 || controller.signal.aborted) process.exit(130);
    process.stderr.write(`
${signal === "SIGINT" ? "Ctrl-C" : signal}: stopping and undoing what was started (again to quit at once, which can leave it half done)
`);
    controller.abort(new Interrupted(signal));
  };
  process.on("SIGINT", interrupt);
  process.on("SIGTERM", interrupt);
  process.exitCode = await main(process.argv.slice(2), { ...defaultContext(), interruptible: () => (controller ??= new AbortController()).signal });
  process.off("SIGINT", interrupt);
  process.off("SIGTERM", interrupt);
}
function enableCompileCache() {
  const enable = nodeModule.enableCompileCache;
  if (enable === void 0 || process.env.NODE_DISABLE_COMPILE_CACHE) return;
  try {
    enable(process.env.NODE_COMPILE_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "devstack-dumps", "compile-cache"));
  } catch {
  }
}
//# sourceMappingURL=devstack-dumps.mjs.map
