// One BuildKit serves every test on the harness engine (the docker driver has no per-test builder).
// Tests that prune it, or that rely on what it keeps between two builds (cache mounts, build cache),
// take this lock, so vitest's parallel files cannot prune under each other.
import { rmSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const LOCK = path.join(tmpdir(), 'org-actions-buildkit.lock');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits until this process holds the engine lock (a lock left by a dead process is taken over).
 * The release is synchronous, so it also works in a process `exit` handler.
 */
export async function lockEngine(timeoutMs = 15 * 60_000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await open(LOCK, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rmSync(LOCK, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(await readFile(LOCK, 'utf8').catch(() => ''));
      if (owner && !alive(owner)) await rm(LOCK, { force: true });
      else if (Date.now() > deadline) throw new Error(`${LOCK} is held by pid ${owner} for too long`);
      else await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
