import path from 'node:path';
import { expect, test } from 'vitest';
import { freePort } from '../../../test/support/loopback.js';
import { useTempDirs } from '../../../test/support/temp-dirs.js';
import { bin, interruptWhen, writeSmallDumpSet } from './support.js';


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
