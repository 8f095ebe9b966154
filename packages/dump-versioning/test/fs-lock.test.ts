import { fork, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FileSystemStore } from '../src/internal/fs-store.js';

const worker = fileURLToPath(new URL('fixtures/fs-lock-worker.ts', import.meta.url));
const PROCESSES = 12;
const ROUNDS = 15;

describe('filesystem store lock across processes', () => {
  let root: string;
  let children: ChildProcess[] = [];

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'dv-fs-lock-'));
    const { NODE_EXTRA_CA_CERTS: _slowStart, ...env } = process.env;
    children = Array.from({ length: PROCESSES }, () => fork(worker, [], { execArgv: ['--import', 'tsx'], env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
    await Promise.all(children.map((child) => new Promise((resolve) => child.once('message', resolve))));
  }, 60_000);
  afterAll(async () => {
    for (const child of children) child.kill();
    await rm(root, { recursive: true, force: true });
  });

  const ask = (child: ChildProcess, message: object) =>
    new Promise<{ outcome: string; message?: string }>((resolve) => {
      child.once('message', (reply) => resolve(reply as { outcome: string }));
      child.send(message);
    });

  test('with a stale lock in place, exactly one of many processes wins a compare-and-swap, and no lock is left', async () => {
    const store = new FileSystemStore(root);
    for (let round = 0; round < ROUNDS; round++) {
      const key = `svc/refs/r${round}.json`;
      expect(await store.putIfMatch(key, Buffer.from('initial\n'), undefined)).toBe('written');
      const etag = (await store.get(key))!.etag;
      // A lock left by a crashed writer a minute ago.
      const lockFile = path.join(root, 'svc', 'refs', `r${round}.json.lock`);
      await mkdir(path.dirname(lockFile), { recursive: true });
      await writeFile(lockFile, 'crashed-writer\n');
      const minuteAgo = new Date(Date.now() - 60_000);
      await utimes(lockFile, minuteAgo, minuteAgo);
      const startAt = Date.now() + 100;
      const replies = await Promise.all(children.map((child) => ask(child, { root, key, etag, round, startAt })));
      expect(replies.filter((reply) => reply.outcome === 'error')).toEqual([]);
      expect(replies.filter((reply) => reply.outcome === 'written')).toHaveLength(1);
      expect(await store.exists(`svc/refs/r${round}.json.lock`)).toBe(false);
    }
  }, 120_000);

  test('release leaves a lock that is not its own (taken over after this holder was judged crashed)', async () => {
    const store = new FileSystemStore(root);
    const target = path.join(root, 'svc', 'refs', 'own.json');
    await mkdir(path.dirname(target), { recursive: true });
    const release = await (store as unknown as { lock(target: string): Promise<() => Promise<void>> }).lock(target);
    // Another writer broke this lock as stale and holds its own now.
    await rm(`${target}.lock`);
    await writeFile(`${target}.lock`, 'other-writer\n');
    await release();
    expect(await readFile(`${target}.lock`, 'utf8')).toBe('other-writer\n');
  });
});
