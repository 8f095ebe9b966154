import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

export interface TempDirs {
  /** A fresh directory `<tmpdir>/<prefix>XXXXXX`, removed after the test file. */
  make(prefix: string): Promise<string>;
  makeSync(prefix: string): string;
}

/**
 * Temporary directories that are removed once the calling test file has run (one afterAll, registered
 * here: call this at the top level of the file or of a describe), so test runs leave nothing in /tmp.
 */
export function useTempDirs(): TempDirs {
  const made: string[] = [];
  afterAll(async () => {
    await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return {
    async make(prefix) {
      const dir = await mkdtemp(join(tmpdir(), prefix));
      made.push(dir);
      return dir;
    },
    makeSync(prefix) {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      made.push(dir);
      return dir;
    },
  };
}

// Directories made where no hook can be registered (inside a beforeAll: a workspace, a fixture dump),
// removed after the test file: this module is evaluated while the file is collected, so its afterAll
// belongs to the file. Outside vitest (a benchmark using a test helper) they go when the process exits.
const madeInHooks: string[] = [];
if (process.env.VITEST) {
  afterAll(async () => {
    await Promise.all(madeInHooks.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
}

/** Removes `dir` after the current test file has run (see above); for helpers called from beforeAll hooks. */
export function removeAfterTestFile(dir: string): void {
  if (process.env.VITEST) madeInHooks.push(dir);
  else process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
}
