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

/** For code that runs outside vitest's hooks (a process-wide fixture): removed at process exit. */
export function removeAtExit(dir: string): void {
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
}
