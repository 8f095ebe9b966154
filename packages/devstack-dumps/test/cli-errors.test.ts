import path from 'node:path';
import { describe, expect, test, vi } from 'vitest';
import { DumpSetInputError } from '@org/dump-set';
import { main } from '../src/cli.js';
import { useTempDirs } from '../../../test/support/temp-dirs.js';
import { writeSmallDumpSet } from './support.js';
import type { CommandContext } from '../src/internal/context.js';

// A library error that echoes the password outside any URL (as a driver's failed-auth message may).
vi.mock('@org/dump-set', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@org/dump-set')>()),
  loadSet: vi.fn(async (_dir: string, targets: { mysql?: { url: string } }) => {
    const password = decodeURIComponent(new URL(targets.mysql!.url).password);
    throw new DumpSetInputError('nothing-to-load', `server said: bad password ${password} for root`);
  }),
}));

function capture(): CommandContext & { all: () => string } {
  let all = '';
  const sink = { write: (text: string) => ((all += text), true) } as unknown as CommandContext['stdout'];
  return { stdout: sink, stderr: sink, env: {}, cwd: process.cwd(), all: () => all };
}

// loadSet is stubbed: a small dump set stands in (the CLI reads its database names before loading).
const temp = useTempDirs();

describe('library errors in main', () => {
  test('are printed once with the bare password of the command line URLs masked, and exit 1', async () => {
    const context = capture();
    // Inside the temporary directory, so the checksum list beside the set goes with it.
    const dumpSet = path.join(await temp.make('cli-errors-'), 'set');
    await writeSmallDumpSet(dumpSet);
    expect(await main(['load', dumpSet, '--mysql', 'mysql://root:Sup3r%2Fsecret@127.0.0.1:1'], context)).toBe(1);
    expect(context.all()).toBe('error: server said: bad password *** for root\n');
  });
});
