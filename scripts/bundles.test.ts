import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const actionsDir = new URL('../actions', import.meta.url).pathname;

// A bundle that loads but meets no inputs must fail with one workflow error, not a module crash
// (esbuild bundles CJS, and some dependencies only work from their ESM builds).
describe.each(['build-image', 'refresh-dumps'])('the %s bundle', (action) => {
  it('loads and reports missing inputs as one ::error:: line', () => {
    const bundle = join(actionsDir, action, 'dist', 'main.cjs');
    expect(existsSync(bundle)).toBe(true);
    const cwd = mkdtempSync(join(tmpdir(), 'bundle-'));
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !key.startsWith('INPUT_') && !key.startsWith('GITHUB_') && !key.startsWith('RUNNER_')),
    );
    const result = spawnSync(process.execPath, [bundle], { cwd, env: { ...env, GITHUB_WORKSPACE: cwd }, encoding: 'utf8', timeout: 60_000 });
    expect(result.stderr).not.toMatch(/Cannot find module|ReferenceError|is not a function|SyntaxError/);
    expect(result.stdout.match(/^::error::/gm)).toHaveLength(1);
    expect(result.status).toBe(1);
  });
});
