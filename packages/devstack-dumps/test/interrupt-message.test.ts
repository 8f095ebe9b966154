import path from 'node:path';
import { DumpFileError } from '@org/mysql-dump';
import { beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import { loadSet, targetsLeftBy, type TargetLeft } from '@org/dump-set';
import { Interrupted, main } from '../src/cli.js';
import type { CommandContext } from '../src/internal/context.js';
import { useTempDirs } from '../../../test/support/temp-dirs.js';
import { writeSmallDumpSet } from './support.js';

// loadSet is stubbed to fail with a given error, and targetsLeftBy to tell what that load left: the subject is
// how the CLI words it. Ctrl-C during `load --replace` used to say the databases "are as they were" while
// MongoDB's old content had already been dropped.
vi.mock('@org/dump-set', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@org/dump-set')>()),
  loadSet: vi.fn(),
  targetsLeftBy: vi.fn(),
}));

function capture(): CommandContext & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const stdout = { write: (text: string) => ((out += text), true) } as unknown as CommandContext['stdout'];
  const stderr = { write: (text: string) => ((err += text), true) } as unknown as CommandContext['stderr'];
  return { stdout, stderr, env: {}, cwd: process.cwd(), out: () => out, err: () => err };
}

const mixed: TargetLeft[] = [
  { engine: 'mysql', database: 'crashrev_l', state: 'unchanged', objectsBefore: 12 },
  { engine: 'mongo', database: 'crashrev_lm', state: 'emptied', objectsBefore: 15 },
];
// A small dump set stands in (loadSet is stubbed; the CLI reads the set's database names before it).
// Inside the temporary directory, so the checksum list beside the set goes with it.
const dumpSet = path.join(useTempDirs().makeSync('interrupt-message-'), 'set');
beforeAll(() => writeSmallDumpSet(dumpSet));
const load = (...extra: string[]) => ['load', dumpSet, '--mysql', 'mysql://root:pw@127.0.0.1:1', '--mongo', 'mongodb://127.0.0.1:2', ...extra];

async function failing(error: unknown, targets: TargetLeft[] | undefined, argv: string[]) {
  vi.mocked(loadSet).mockRejectedValueOnce(error);
  vi.mocked(targetsLeftBy).mockImplementation((thrown) => (thrown === error ? targets : undefined));
  const context = capture();
  return { code: await main(argv, context), stderr: context.err(), stdout: context.out() };
}

beforeEach(() => {
  vi.clearAllMocks();
});

describe('Ctrl-C during a load', () => {
  test('with --replace, names what was dropped and what kept its content, never "as they were"', async () => {
    const run = await failing(new Interrupted('SIGINT'), mixed, load('--replace'));
    expect(run.code).toBe(130);
    expect(run.stderr).toBe(
      'error: interrupted: stopped before finishing; MongoDB crashrev_lm was dropped (--replace) and is now empty; MySQL crashrev_l is unchanged (it keeps its old content); run the same command again to finish\n',
    );
    expect(run.stderr).not.toContain('as they were');
  });

  test('--json: the same message, and the list of what each database was left in', async () => {
    const run = await failing(new Interrupted('SIGINT'), mixed, load('--replace', '--json'));
    expect(JSON.parse(run.stdout)).toEqual({
      error: {
        code: 'interrupted',
        message: 'interrupted: stopped before finishing; MongoDB crashrev_lm was dropped (--replace) and is now empty; MySQL crashrev_l is unchanged (it keeps its old content); run the same command again to finish',
        exitCode: 130,
        targets: mixed,
      },
    });
  });

  test('every database as it was (no --replace, or interrupted before dropping): still said so', async () => {
    const asTheyWere: TargetLeft[] = [
      { engine: 'mysql', database: 'shop', state: 'restored', objectsBefore: 0 },
      { engine: 'mongo', database: 'crm', state: 'unchanged', objectsBefore: 0 },
    ];
    for (const targets of [asTheyWere, undefined]) {
      const run = await failing(new Interrupted('SIGINT'), targets, load());
      expect(run.code).toBe(130);
      expect(run.stderr).toBe('error: interrupted: stopped before finishing; what the command had started was undone (databases it loaded into are as they were, no partial download is kept)\n');
    }
  });

  test('a database --replace could not drop: nothing loaded into it, its old content maybe partly gone', async () => {
    const run = await failing(new Interrupted('SIGINT'), [{ engine: 'mongo', database: 'crm', state: 'drop-failed', objectsBefore: 15 }], load('--replace'));
    expect(run.stderr).toContain('MongoDB crm could not be dropped (--replace): nothing was loaded into it, but part of its old content may be gone');
    expect(run.stderr).not.toContain('as they were');
  });

  test('an undo that failed is not told as undone', async () => {
    const run = await failing(new Interrupted('SIGTERM'), [{ engine: 'mysql', database: 'shop', state: 'unknown', objectsBefore: 4 }], load('--replace'));
    expect(run.stderr).toContain('MySQL shop could not be cleaned up: its old content may be gone (--replace) and it may hold part of the load');
    expect(run.stderr).not.toContain('as they were');
  });
});

describe('a load with --replace that fails', () => {
  test('says what its databases were left in after its own message', async () => {
    const failure = new DumpFileError('shop.sql: the statement at line 7 failed: disk full; nothing of the load was kept in `shop`');
    const left: TargetLeft[] = [
      { engine: 'mysql', database: 'shop', state: 'emptied', objectsBefore: 4 },
      { engine: 'mongo', database: 'crm', state: 'emptied', objectsBefore: 2 },
    ];
    const run = await failing(failure, left, load('--replace', '--json'));
    expect(run.code).toBe(1);
    const message = 'shop.sql: the statement at line 7 failed: disk full; nothing of the load was kept in `shop`; MySQL shop was dropped (--replace) and is now empty; MongoDB crm was dropped (--replace) and is now empty';
    expect(run.stderr).toBe(`error: ${message}\n`);
    expect(JSON.parse(run.stdout)).toEqual({ error: { code: failure.code, message, exitCode: 1, targets: left } });
  });

  test('adds nothing when every database is as it was', async () => {
    const failure = new DumpFileError('shop.sql: the statement at line 7 failed: disk full; nothing of the load was kept in `shop`');
    const run = await failing(failure, [{ engine: 'mysql', database: 'shop', state: 'restored', objectsBefore: 0 }], load());
    expect(run.stderr).toBe(`error: ${failure.message}\n`);
  });
});
