import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { freePort } from '../../../test/support/loopback.js';
import { useTempDirs } from '../../../test/support/temp-dirs.js';
import { bin, cli, interruptWhen, writeSmallDumpSet } from './support.js';

const git = (cwd: string, ...args: string[]) => promisify(execFile)('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd });


const temp = useTempDirs();

test('Ctrl-C while `load --wait` waits for a server that is not up stops at once and exits 130', async () => {
  const work = await temp.make('devstack-dumps-wait-');
  const dir = path.join(work, 'set');
  await writeSmallDumpSet(dir);
  const started = Date.now();
  // Sent once the CLI (from source: about a second to start) is well into its 60 s wait.
  const run = await interruptWhen(bin, ['load', dir, '--mysql', `mysql://root:pw@127.0.0.1:${await freePort()}`, '--mysql-db', 'never_loaded', '--wait', '60'], work, () => Date.now() - started > 3000);
  expect(run.sent).toBe(true);
  expect(run.stderr).toContain('Ctrl-C');
  expect(run.code).toBe(130);
}, 90_000);

test('Ctrl-C while `provision --wait` waits for a server that is not up stops at once and exits 130', async () => {
  const work = await temp.make('devstack-dumps-wait-');
  const repo = path.join(work, 'repo');
  await mkdir(repo);
  await git(repo, 'init', '-q', '-b', 'master');
  await git(repo, 'commit', '-q', '--allow-empty', '-m', 'first');
  const set = path.join(work, 'set');
  await writeSmallDumpSet(set);
  const store = path.join(work, 'store');
  const published = await cli(['publish', set, '--service', 'lms', '--branch', 'master', '--commit', 'HEAD', '--store', store, '--repo', repo], repo);
  expect(published.code, published.stderr).toBe(0);
  const started = Date.now();
  const run = await interruptWhen(bin, ['provision', '--store', store, '--service', 'lms', '--repo', repo, '--mysql', `mysql://root:pw@127.0.0.1:${await freePort()}/app`, '--wait', '60'], repo, () => Date.now() - started > 3000);
  expect(run.sent).toBe(true);
  expect(run.code).toBe(130);
}, 90_000);
