import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { useTempDirs } from '../../../test/support/temp-dirs.js';
import { MongoDumpDirectoryError, MongoUnsupportedError } from '../src/index.js';
import { readDumpDirectory } from '../src/internal/dump-directory.js';
import { caseCollision, collectionFileStem, collectionFromFileStem, refuseCaseCollisions } from '../src/internal/names.js';
import { metadataJson } from '../src/internal/normalise.js';

describe('collection file names are escaped as mongodump escapes them (Go url.QueryEscape)', () => {
  test.each([
    ['orders', 'orders'],
    ['a.b~c-d_e9', 'a.b~c-d_e9'],
    ['Case', 'Case'],
    ['pct%zz', 'pct%25zz'],
    ['pct%41x', 'pct%2541x'],
    ['plus+sign', 'plus%2Bsign'],
    ['sp ace', 'sp+ace'],
    ['slash/name', 'slash%2Fname'],
    ['back\\slash', 'back%5Cslash'],
    ['colon:q?*"<>|', 'colon%3Aq%3F%2A%22%3C%3E%7C'],
    ['tab\tx', 'tab%09x'],
    ['caf\u00e9', 'caf%C3%A9'],
    ['cafe\u0301', 'cafe%CC%81'],
    ['🙂', '%F0%9F%99%82'],
  ])('%j is written as %s and read back', (name, stem) => {
    expect(collectionFileStem(name)).toBe(stem);
    expect(collectionFromFileStem(stem)).toBe(name);
  });

  test.each([
    ['a lone %', 'pct%zz'],
    ['a cut escape', 'x%4'],
    ['bytes that are no UTF-8', 'x%FF'],
  ])('%s is no valid file name stem', (_case, stem) => {
    expect(collectionFromFileStem(stem)).toBeUndefined();
  });

  test('every name round-trips, and escaped names are portable ASCII', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }), (name) => {
        const stem = collectionFileStem(name);
        expect(stem).toMatch(/^[A-Za-z0-9._~%+-]+$/);
        expect(collectionFromFileStem(stem)).toBe(name);
      }),
    );
  });

  test.each<[string[], [string, string] | undefined]>([
    [['Case', 'case'], ['Case', 'case']],
    [['a', 'B', 'b'], ['B', 'b']],
    [['caf\u00e9', 'cafe\u0301'], undefined],
    [['sp ace', 'sp+ace'], undefined],
  ])('case collisions among %j', (names, collision) => {
    expect(caseCollision(names)).toEqual(collision);
  });

  test('a dump of collections differing only in case is refused, naming both', () => {
    expect(() => refuseCaseCollisions('shop', ['Orders', 'items', 'orders'])).toThrow(MongoUnsupportedError);
    expect(() => refuseCaseCollisions('shop', ['Orders', 'items', 'orders'])).toThrow(
      'collections "Orders" and "orders" of database "shop" differ only in case, so their dump files would be one file on macOS and Windows; rename one of them',
    );
  });
});

describe('reading escaped file names of a dump', () => {
  const temp = useTempDirs();
  const writeCollection = async (dir: string, stem: string, name: string) => {
    await writeFile(join(dir, `${stem}.metadata.json`), metadataJson({ name, type: 'collection', options: new Map(), indexes: [] }));
    await writeFile(join(dir, `${stem}.bson`), new Uint8Array(0));
  };

  test('escaped names are read back as the collection names', async () => {
    const root = await temp.make('mdump-names-');
    const dir = join(root, 'mongo', 'shop');
    await mkdir(dir, { recursive: true });
    for (const name of ['pct%zz', 'plus+sign', 'sp ace', 'caf\u00e9', 'cafe\u0301']) await writeCollection(dir, collectionFileStem(name), name);
    const [database] = await readDumpDirectory(root);
    expect(database?.collections.map((c) => c.name).sort()).toEqual(['caf\u00e9', 'cafe\u0301', 'pct%zz', 'plus+sign', 'sp ace'].sort());
  });

  test.each([
    ['an unescaped non-ASCII name', 'caf\u00e9', 'caf\u00e9', 'the file of collection "caf\u00e9" must be named "caf%C3%A9.metadata.json" (escaped as mongodump escapes collection names); rename its files or dump again'],
    ['an invalid escape', 'pct%zz', 'pct%zz', '"pct%zz" is no valid escaped collection name'],
    ['an unescaped +', 'plus+sign', 'plus+sign', 'collectionName "plus+sign" does not match the collection "plus sign" the file name stands for'],
  ])('%s is refused, naming the file', async (_case, stem, name, message) => {
    const root = await temp.make('mdump-names-');
    const dir = join(root, 'mongo', 'shop');
    await mkdir(dir, { recursive: true });
    await writeCollection(dir, stem, name);
    const error = await readDumpDirectory(root).then(() => undefined, (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(MongoDumpDirectoryError);
    expect(error?.message).toContain(join(dir, `${stem}.metadata.json`));
    expect(error?.message).toContain(message);
  });

  test('a dump holding files that differ only in case is refused, naming both collections', async () => {
    const root = await temp.make('mdump-names-');
    const dir = join(root, 'mongo', 'shop');
    await mkdir(dir, { recursive: true });
    await writeCollection(dir, 'Case', 'Case');
    await writeCollection(dir, 'case', 'case');
    await expect(readDumpDirectory(root)).rejects.toThrow('the files of collections "Case" and "case" differ only in case');
  });
});
