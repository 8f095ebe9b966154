import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { describeWithServices, serviceVar } from '../../../test/support/services.js';
import { ScratchDatabases } from '../../dump-set/test/support.js';
import { cli } from './support.js';

/** The shipped bundle (what `devstack-dumps` runs), so the signal handling of bin.ts is what is tested. */
const bundle = fileURLToPath(new URL('../dist/devstack-dumps.mjs', import.meta.url));

/**
 * Runs the CLI and sends it SIGINT (what Ctrl-C sends) the first time its stderr matches `when`; resolves
 * with its exit code and output. Fails the test if the command ends before `when` was seen.
 */
function interruptWhen(args: string[], cwd: string, when: RegExp): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; sent: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bundle, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!sent && when.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    child.stdout.resume();
    child.on('close', (code, signal) => resolve({ code, signal, stderr, sent }));
  });
}

describeWithServices(['mysql'], 'Ctrl-C during a load (real CLI bundle, MariaDB)', () => {
  let scratch: ScratchDatabases;
  let work: string;
  let dumpDir: string;
  beforeAll(async () => {
    if (!existsSync(bundle)) throw new Error(`${bundle} is not built; run pnpm build`);
    scratch = new ScratchDatabases(serviceVar('TEST_MYSQL_URL'), serviceVar('TEST_MONGO_URL'));
    work = await mkdtemp(path.join(tmpdir(), 'devstack-dumps-interrupt-'));
    const source = scratch.name('isrc');
    const admin = await scratch.mysqlConnection();
    // ~64 MB of rows: bigger than the loader keeps in memory (32 Mi characters), so it streams the file and
    // reports progress while it loads, which is when the interrupt is sent.
    await admin.query(`CREATE DATABASE \`${source}\``);
    await admin.query(`CREATE TABLE \`${source}\`.payload (id INT NOT NULL PRIMARY KEY, body LONGTEXT NOT NULL)`);
    await admin.query(`INSERT INTO \`${source}\`.payload SELECT seq, REPEAT(MD5(seq), 32) FROM \`${source}\`.seq_1_to_64000`);
    dumpDir = path.join(work, 'dump');
    const dumped = await cli(['dump', '--mysql', serviceVar('TEST_MYSQL_URL'), '--mysql-db', source, '--data-tables', 'payload', '--out', dumpDir], work);
    expect(dumped.code, dumped.stderr).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await scratch?.dropAll();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('the first Ctrl-C stops the load, drops the half-loaded database and exits 130 saying so', async () => {
    const target = scratch.name('itarget');
    const run = await interruptWhen(['load', dumpDir, '--mysql', serviceVar('TEST_MYSQL_URL'), '--mysql-db', target], work, /mysql \S+: [0-9]{1,2}% loaded/);
    expect(run.sent, `the load ended before it reported progress: ${run.stderr}`).toBe(true);
    expect(run.stderr).toContain('Ctrl-C: stopping and undoing what was started');
    expect(run.stderr).toContain('error: interrupted: stopped before finishing; what the command had started was undone');
    expect({ code: run.code, signal: run.signal }).toEqual({ code: 130, signal: null });
    // Before: the process died mid-load and left the target with part of the rows.
    expect(await scratch.mysqlDatabaseExists(target)).toBe(false);
    // Nothing of the load is left running on the server either.
    const [rows] = await (await scratch.mysqlConnection()).query('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ?', [target]);
    expect(Number((rows as { n: number }[])[0]!.n)).toBe(0);
  });
});
