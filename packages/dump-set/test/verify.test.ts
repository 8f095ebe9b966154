import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { checksumsPathOf, DumpSetFileError, DumpSetInputError, verifyDumpSet } from '../src/index.js';
import { describeFiles, readDumpSetContents, writeChecksumsFile } from '../src/internal/layout.js';
import { planTargets } from '../src/internal/load.js';

const schema = (tables: string[]) => `${JSON.stringify({ format: 1, charset: 'utf8mb4', collation: null, tables: tables.map((name) => ({ name, columns: [], indexes: [], foreignKeys: [] })), views: [], routines: [], triggers: [], events: [] })}\n`;
const metadata = (collection: string) => `{"options":{},"indexes":[{"key":{"_id":{"$numberInt":"1"}},"name":"_id_"}],"collectionName":"${collection}","type":"collection"}`;

describe('verifyDumpSet', () => {
  let root: string;
  let dir: string;

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'dump-set-verify-'));
    dir = path.join(root, 'set');
    const files: Record<string, string> = {
      'mysql/shop.sql': 'CREATE TABLE `a` (`id` int NOT NULL);\n',
      'mysql/shop.schema.json': schema(['a']),
      'mongo/shop/users.bson': '',
      'mongo/shop/users.metadata.json': metadata('users'),
    };
    for (const [relative, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, relative)), { recursive: true });
      await writeFile(path.join(dir, relative), content);
    }
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const seal = async () => {
    const { files } = await readDumpSetContents(dir);
    return writeChecksumsFile(dir, await describeFiles(dir, files));
  };

  test('a complete set with its checksum list verifies by checksums and reports its version', async () => {
    const checksums = await seal();
    const verified = await verifyDumpSet(dir);
    expect(verified.verifiedBy).toBe('checksums');
    expect(verified.version).toBe(checksums.version);
    expect(verified.files).toEqual(['mongo/shop/users.bson', 'mongo/shop/users.metadata.json', 'mysql/shop.schema.json', 'mysql/shop.sql']);
    expect([...verified.mysql.keys()]).toEqual(['shop']);
    expect([...verified.mongo.keys()]).toEqual(['shop']);
  });

  test('an altered .sql file is named (only a checksum can tell)', async () => {
    await seal();
    await writeFile(path.join(dir, 'mysql/shop.sql'), 'DROP TABLE everything;\n');
    await expect(verifyDumpSet(dir)).rejects.toThrow(new RegExp(`${dir}: mysql/shop.sql was altered`));
  });

  test('a missing file is named, with and without a checksum list', async () => {
    await unlink(path.join(dir, 'mysql/shop.sql'));
    await expect(verifyDumpSet(dir)).rejects.toThrow(/mysql\/shop.sql is missing \(every MySQL database has a .sql and a .schema.json\)/);
    await writeFile(path.join(dir, 'mysql/shop.sql'), 'CREATE TABLE `a` (`id` int NOT NULL);\n');
    await seal();
    await unlink(path.join(dir, 'mongo/shop/users.bson'));
    await expect(verifyDumpSet(dir)).rejects.toThrow(/mongo\/shop\/users.bson is missing \(listed in .*set.checksums.json\)/);
  });

  test('an extra file is refused', async () => {
    await seal();
    await writeFile(path.join(dir, 'mysql/other.sql'), 'SELECT 1;\n');
    await writeFile(path.join(dir, 'mysql/other.schema.json'), schema([]));
    await expect(verifyDumpSet(dir)).rejects.toThrow(/mysql\/other.schema.json is not part of this dump set/);
  });

  test('files outside the layout and malformed contents are refused', async () => {
    await writeFile(path.join(dir, 'notes.txt'), 'hi');
    await expect(verifyDumpSet(dir)).rejects.toThrow(/notes.txt is not part of the dump set layout/);
    await unlink(path.join(dir, 'notes.txt'));
    await writeFile(path.join(dir, 'mysql/shop.schema.json'), '{"tables":');
    await expect(verifyDumpSet(dir)).rejects.toThrow(/shop.schema.json is not valid JSON/);
  });

  test('a tampered checksum list is refused', async () => {
    await seal();
    const file = checksumsPathOf(dir);
    const { readFile } = await import('node:fs/promises');
    const list = JSON.parse(await readFile(file, 'utf8'));
    list.files[0].size += 1;
    await writeFile(file, JSON.stringify(list));
    await expect(verifyDumpSet(dir)).rejects.toBeInstanceOf(DumpSetFileError);
    await expect(verifyDumpSet(dir)).rejects.toThrow(/was altered \(its version does not match its files\)/);
  });

  test('without a checksum list only the layout is verified, and no version is claimed', async () => {
    const verified = await verifyDumpSet(dir);
    expect(verified.verifiedBy).toBe('layout');
    expect(verified.version).toBeUndefined();
  });

  test('a MySQL database without its .schema.json is named as missing', async () => {
    await unlink(path.join(dir, 'mysql/shop.schema.json'));
    await expect(verifyDumpSet(dir)).rejects.toThrow(/mysql\/shop.schema.json is missing \(every MySQL database has a .sql and a .schema.json\)/);
  });

  test('a schema.json of another format is refused', async () => {
    await writeFile(path.join(dir, 'mysql/shop.schema.json'), JSON.stringify({ format: 2, tables: [] }));
    await expect(verifyDumpSet(dir)).rejects.toThrow(/shop.schema.json is not a semantic schema \(format 1 with tables\)/);
  });

  test('a missing directory is named', async () => {
    await expect(verifyDumpSet(path.join(root, 'nope'))).rejects.toThrow(/nope does not exist or is not a directory/);
  });
});

describe('planTargets', () => {
  test('keeps names unless renamed', () => {
    expect(planTargets('MySQL', ['a', 'b'], { b: 'b2' })).toEqual(['a', 'b2']);
    expect(planTargets('MySQL', ['a'])).toEqual(['a']);
  });

  test('refuses a rename of a database the dump lacks, and two databases into one', () => {
    expect(() => planTargets('MongoDB', ['a'], { x: 'y' })).toThrow(new DumpSetInputError('rename-unknown-database', 'cannot rename MongoDB database x: the dump set has a'));
    expect(() => planTargets('MySQL', ['a', 'b'], { a: 'b' })).toThrow(/two MySQL databases of the dump would be loaded into b/);
  });
});
