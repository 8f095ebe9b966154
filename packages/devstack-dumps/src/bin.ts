// Checked before the CLI loads: the bundled MongoDB driver needs Node 20.19+, and older versions fail
// somewhere inside it with an error that does not say so.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  process.stderr.write(`error: devstack-dumps needs Node.js 20.19 or later; this is ${process.version}\n`);
  process.exitCode = 1;
} else {
  const { main, defaultContext, Interrupted } = await import('./cli.js');
  // A command that can stop cleanly (load, provision, pull) asks for a signal: the first Ctrl-C then aborts
  // it, so it drops what it half-loaded and removes its partial download before exiting 130; a second one,
  // or one during any other command, ends the process at once, as without a handler.
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
export {};
