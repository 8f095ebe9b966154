// Checked before the CLI loads: the bundled MongoDB driver needs Node 20.19+, and older versions fail
// somewhere inside it with an error that does not say so.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  process.stderr.write(`error: devstack-dumps needs Node.js 20.19 or later; this is ${process.version}\n`);
  process.exitCode = 1;
} else {
  const { main } = await import('./cli.js');
  process.exitCode = await main(process.argv.slice(2));
}
export {};
