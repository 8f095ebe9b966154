import nodeModule from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';

// Checked before the CLI loads: the bundled MongoDB driver needs Node 20.19+, and older versions fail
// somewhere inside it with an error that does not say so.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  process.stderr.write(`error: devstack-dumps needs Node.js 20.19 or later; this is ${process.version}\n`);
  process.exitCode = 1;
} else {
  enableCompileCache();
  const { main, defaultContext, Interrupted } = await import('./cli.js');
  // A command that can stop cleanly (load, provision, pull, publish, prune) asks for a signal: the first
  // Ctrl-C (or SIGTERM) then aborts it, so it drops what it half-loaded, removes its partial download or
  // releases its store lease before exiting 130; a second one, or one during any other command (which
  // holds nothing that outlives it), ends the process at once, as without a handler.
  let controller: AbortController | undefined;
  const interrupt = (signal: NodeJS.Signals) => {
    if (controller === undefined || controller.signal.aborted) process.exit(130);
    process.stderr.write(`\n${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping and undoing what was started (again to quit at once, which can leave it half done)\n`);
    controller.abort(new Interrupted(signal));
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  process.exitCode = await main(process.argv.slice(2), { ...defaultContext(), interruptible: () => (controller ??= new AbortController()).signal });
  process.off('SIGINT', interrupt);
  process.off('SIGTERM', interrupt);
}

/**
 * Node 22.8+ (module.enableCompileCache) keeps the compiled code of the bundle between runs (a command starts ~15 ms sooner on Node 24);
 * Node 20 has no such cache. Per user, under the user's cache directory, not Node's default in the shared
 * temp directory, whose files another user could have placed. NODE_COMPILE_CACHE chooses another directory,
 * NODE_DISABLE_COMPILE_CACHE=1 turns it off (both Node's own variables).
 */
function enableCompileCache(): void {
  const enable = (nodeModule as { enableCompileCache?: (dir?: string) => unknown }).enableCompileCache;
  if (enable === undefined || process.env.NODE_DISABLE_COMPILE_CACHE) return;
  try {
    enable(process.env.NODE_COMPILE_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'devstack-dumps', 'compile-cache'));
  } catch {
    // A cache that cannot be written only costs the start-up time it would have saved.
  }
}
