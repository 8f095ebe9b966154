import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

// The committed bundle (pnpm check-dist keeps it current), run the way a developer runs it.
const bundle = fileURLToPath(new URL('../dist/devstack-dumps.mjs', import.meta.url));
const runAs = (nodeVersion: string) =>
  promisify(execFile)(process.execPath, ['--input-type=module', '-e', `Object.defineProperty(process.versions, 'node', { value: '${nodeVersion}' }); process.argv = [process.execPath, ${JSON.stringify(bundle)}, '--version']; await import(${JSON.stringify(bundle)});`]).then(
    (done) => ({ code: 0, stdout: done.stdout, stderr: done.stderr }),
    (failed: { code: number; stdout: string; stderr: string }) => ({ code: failed.code, stdout: failed.stdout, stderr: failed.stderr }),
  );

test.each<[string, number, RegExp]>([
  ['18.20.4', 1, /^error: devstack-dumps needs Node\.js 20\.19 or later; this is v/],
  ['20.18.1', 1, /needs Node\.js 20\.19 or later/],
  ['20.19.0', 0, /^$/],
  ['22.11.0', 0, /^$/],
])('on Node %s the CLI exits %i', async (version, code, stderr) => {
  const result = await runAs(version);
  expect(result.code).toBe(code);
  expect(result.stderr).toMatch(stderr);
  // The check runs before the CLI loads: an old Node gets only that line.
  if (code !== 0) expect(result.stdout).toBe('');
});
