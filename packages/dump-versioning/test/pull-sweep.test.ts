import { mkdir, mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { sweepInterruptedPulls } from '../src/internal/pull.js';

const roots: string[] = [];
afterEach(async () => {
  for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
});

test('removes what interrupted pulls left (an hour old), never a pulled directory or a pull still running', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'dv-pull-sweep-'));
  roots.push(dir);
  const version = 'a'.repeat(64);
  const uuid = '0f8fad5b-d9cb-469f-a165-70867728950e';
  const names = {
    cached: version,
    oldPartial: `.${version}.partial-${uuid}`,
    oldAside: `.${version}.old-${uuid.replace('0f', '1f')}`,
    runningPartial: `.${version}.partial-${uuid.replace('0f', '2f')}`,
    lookalike: `.${version}.partial-keep-me`,
    otherOut: `.${'b'.repeat(64)}.partial-${uuid}`,
  };
  for (const name of Object.values(names)) await mkdir(path.join(dir, name, 'mysql'), { recursive: true });
  const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60_000);
  for (const name of [names.cached, names.oldPartial, names.oldAside, names.lookalike, names.otherOut]) await utimes(path.join(dir, name), twoHoursAgo, twoHoursAgo);

  expect((await sweepInterruptedPulls(dir, version)).sort()).toEqual([names.oldAside, names.oldPartial].sort());
  // Another output's leftovers are that pull's to sweep.
  expect((await readdir(dir)).sort()).toEqual([names.cached, names.runningPartial, names.lookalike, names.otherOut].sort());
  expect(await sweepInterruptedPulls(path.join(dir, 'missing'), version)).toEqual([]);
});
