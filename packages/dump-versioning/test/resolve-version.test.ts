import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { InvalidInputError, NotFoundError, diff, openStore, publish, pull, resolveVersion, type PublishResult, type Store } from '../src/index.js';
import { makeDumpDir, sampleDump } from './support.js';

const service = 'lms';
// Two ids sharing their first 9 characters, plus one that only shares "abc".
const twinA = `abcdef012${'0'.repeat(55)}`;
const twinB = `abcdef012${'1'.repeat(55)}`;
const other = `abc999999${'2'.repeat(55)}`;

describe('resolveVersion on a filesystem store', () => {
  let root: string;
  let store: Store;
  let dumpA: string;
  let dumpB: string;
  let a: PublishResult;
  let b: PublishResult;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'dv-versions-'));
    store = openStore(root);
    dumpA = await makeDumpDir(sampleDump('a'));
    dumpB = await makeDumpDir(sampleDump('b'));
    const ancestry = async () => true;
    a = await publish({ store, service, dir: dumpA, source: { commit: '1'.repeat(40), branch: 'master' }, ancestry });
    b = await publish({ store, service, dir: dumpB, source: { commit: '2'.repeat(40), branch: 'master' }, ancestry });
    // Prefix lookups only look at the keys: placeholder manifests make crafted collisions possible.
    await mkdir(path.join(root, service, 'versions'), { recursive: true });
    for (const id of [twinA, twinB, other]) await writeFile(path.join(root, service, 'versions', `${id}.json`), '{}');
  });
  afterAll(async () => {
    await Promise.all([root, dumpA, dumpB].map((dir) => rm(dir, { recursive: true, force: true })));
  });

  test.each([
    ['the full id', (id: string) => id],
    ['the 12-character prefix list shows', (id: string) => id.slice(0, 12)],
    ['a 7-character prefix', (id: string) => id.slice(0, 7)],
    ['upper case', (id: string) => id.slice(0, 12).toUpperCase()],
  ])('%s resolves to the full id', async (_name, given) => {
    expect(await resolveVersion(store, service, given(a.version))).toBe(a.version);
    expect(await resolveVersion(store, service, given(b.version))).toBe(b.version);
  });

  test.each([
    ['abcdef', 'bad-version', /shorter than 7 characters/],
    ['', 'bad-version', /not a hex version id/],
    ['abcdefg', 'bad-version', /not a hex version id/],
    ['abc def0', 'bad-version', /not a hex version id/],
    [`${'a'.repeat(65)}`, 'bad-version', /longer than 64 characters/],
  ])('%j is refused with InvalidInputError %s', async (given, code, message) => {
    const failure = resolveVersion(store, service, given);
    await expect(failure).rejects.toThrow(InvalidInputError);
    await expect(failure).rejects.toMatchObject({ code });
    await expect(failure).rejects.toThrow(message);
  });

  test('an ambiguous prefix lists the candidates', async () => {
    const failure = resolveVersion(store, service, 'abcdef0');
    await expect(failure).rejects.toThrow(InvalidInputError);
    await expect(failure).rejects.toMatchObject({ code: 'ambiguous-version' });
    await expect(failure).rejects.toThrow(`matches 2 versions (${twinA}, ${twinB}); give more characters`);
    expect(await resolveVersion(store, service, 'abcdef0120')).toBe(twinA);
  });

  test.each([
    ['a prefix nothing starts with', 'fedcba9876', /no version of service lms in .* starts with fedcba9876; run `devstack-dumps list --service lms`/],
    ['an unknown full id', 'f'.repeat(64), /version f{64} of service lms is not in .*; run `devstack-dumps list --service lms`/],
  ])('%s is NotFoundError unknown-version saying run list', async (_name, given, message) => {
    const failure = resolveVersion(store, service, given);
    await expect(failure).rejects.toThrow(NotFoundError);
    await expect(failure).rejects.toMatchObject({ code: 'unknown-version' });
    await expect(failure).rejects.toThrow(message);
  });

  test('pull and diff take prefixes', async () => {
    const out = path.join(root, '..', `${path.basename(root)}-out`);
    try {
      const pulled = await pull({ store, service, version: a.version.slice(0, 12), out });
      expect(pulled.version).toBe(a.version);
      expect(await readFile(path.join(out, 'mysql/app.sql'), 'utf8')).toBe(sampleDump('a')['mysql/app.sql']);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
    const changed = await diff({ store, service, from: a.version.slice(0, 7), to: b.version.slice(0, 10) });
    expect(changed).toMatchObject({ from: a.version, to: b.version, unchanged: 0 });
    expect(changed.changed.map((file) => file.path)).toEqual(['mongo/app/things.bson', 'mongo/app/things.metadata.json', 'mysql/app.schema.json', 'mysql/app.sql']);
    await expect(diff({ store, service, from: 'abcdef0', to: b.version })).rejects.toMatchObject({ code: 'ambiguous-version' });
  });
});
