import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, test } from 'vitest';
import { actionNode } from '../../../test/support/action-node.js';

// The committed bundle (pnpm check-dist keeps it current), run the way a developer runs it.
const bundle = fileURLToPath(new URL('../dist/devstack-dumps.mjs', import.meta.url));
const homes: string[] = [];
afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

/** Runs `devstack-dumps --version` on `node` with a fresh XDG cache home; the compiled-code files it left. */
function cacheFilesAfterRun(node: string, env: NodeJS.ProcessEnv = {}): string[] {
  const cacheHome = mkdtempSync(join(tmpdir(), 'compile-cache-'));
  homes.push(cacheHome);
  const { NODE_COMPILE_CACHE: _ignored, ...inherited } = process.env;
  execFileSync(node, [bundle, '--version'], { env: { ...inherited, XDG_CACHE_HOME: cacheHome, ...env } });
  const dir = join(cacheHome, 'devstack-dumps', 'compile-cache');
  return existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => entry.name) : [];
}

const node24 = actionNode();
const hasCompileCache = (node: string) => Number(execFileSync(node, ['-p', "typeof require('node:module').enableCompileCache === 'function' ? 1 : 0"], { encoding: 'utf8' }).trim()) === 1;

test.runIf(hasCompileCache(node24))('on a Node with a compile cache, the CLI keeps its compiled code under the user cache directory', () => {
  expect(cacheFilesAfterRun(node24).length).toBeGreaterThan(0);
});

test.runIf(hasCompileCache(node24))('NODE_DISABLE_COMPILE_CACHE=1 keeps it off', () => {
  expect(cacheFilesAfterRun(node24, { NODE_DISABLE_COMPILE_CACHE: '1' })).toEqual([]);
});

test.runIf(!hasCompileCache(process.execPath))(`on Node ${process.version} (no compile cache) the CLI runs and writes none`, () => {
  expect(cacheFilesAfterRun(process.execPath)).toEqual([]);
});
