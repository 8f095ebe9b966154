import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  ManifestError,
  SCHEMA_VERSION,
  computeVersion,
  decodeBranchRef,
  decodeCommitEntry,
  decodeManifest,
  encodeBranchRef,
  encodeCommitEntry,
  encodeManifest,
  type DumpFile,
  type VersionManifest,
} from '../src/index.js';

const hex = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });
const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/);
const dumpFile: fc.Arbitrary<DumpFile> = fc.oneof(
  fc.record({ database: name, suffix: fc.constantFrom('.sql', '.schema.json') }).map(({ database, suffix }) => ({ path: `mysql/${database}${suffix}`, kind: 'mysql' as const, database })),
  fc.record({ database: name, collection: name, suffix: fc.constantFrom('.bson', '.metadata.json') }).map(({ database, collection, suffix }) => ({
    path: `mongo/${database}/${collection}${suffix}`,
    kind: 'mongo' as const,
    database,
  })),
).chain((base) =>
  fc.record({ sha256: hex(64), size: fc.nat(), compression: fc.constantFrom('none' as const, 'gzip' as const, 'brotli' as const) }).map((rest) => ({ ...base, ...rest })),
);
const files = fc.uniqueArray(dumpFile, { minLength: 1, maxLength: 12, selector: (file) => file.path });
const fingerprint = fc
  .dictionary(name, fc.record({ chain: hex(64), migrations: fc.array(fc.record({ name, sha256: hex(64) }), { maxLength: 4 }) }), { maxKeys: 3 })
  .chain((apps) => hex(64).map((overall) => ({ overall, apps })));
const manifest: fc.Arbitrary<VersionManifest> = fc
  .record({
    service: name,
    files,
    commit: hex(40),
    branch: fc.option(fc.constantFrom('master', 'release/2024', 'feature/x'), { nil: undefined }),
    createdAt: fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((date) => date.toISOString()),
    migrations: fc.option(
      fc.oneof(
        fingerprint.map((fp) => ({ migrations: { fingerprint: fp, applied: ['app.0001_initial'] } })),
        fc.record({ sha256: hex(64), overall: hex(64) }).map((migrationsRecord) => ({ migrationsRecord })),
      ),
      { nil: undefined },
    ),
  })
  .map(({ service, files, commit, branch, createdAt, migrations }) => ({
    schemaVersion: SCHEMA_VERSION,
    service,
    version: computeVersion(files),
    files,
    source: { commit, ...(branch ? { branch } : {}) },
    ...migrations,
    tool: { name: 'test', version: '1' },
    createdAt,
  }));

describe('manifest codec', () => {
  test('round trip: decode(encode(m)) equals m', () => {
    fc.assert(fc.property(manifest, (value) => {
      expect(decodeManifest(encodeManifest(value))).toEqual(value);
    }));
  });

  test('the version depends on content only, not on listing order', () => {
    fc.assert(fc.property(files, fc.nat(), (list, seed) => {
      const shuffled = [...list].sort((a, b) => ((a.sha256.charCodeAt(seed % 64) ^ seed) - (b.sha256.charCodeAt(seed % 64) ^ seed)));
      expect(computeVersion(shuffled)).toBe(computeVersion(list));
    }));
  });

  test('any change to a path, digest or size changes the version', () => {
    // A renamed path ends in `.moved`, which no generated path does, so it never collides with another file.
    const change = {
      path: (file: DumpFile) => ({ ...file, path: `${file.path}.moved` }),
      sha256: (file: DumpFile) => ({ ...file, sha256: `${file.sha256[0] === 'a' ? 'b' : 'a'}${file.sha256.slice(1)}` }),
      size: (file: DumpFile) => ({ ...file, size: file.size + 1 }),
    };
    fc.assert(fc.property(files, fc.nat(), fc.constantFrom('path' as const, 'sha256' as const, 'size' as const), (list, pick, field) => {
      const index = pick % list.length;
      const changed = list.map((file, i) => (i === index ? change[field](file) : file));
      expect(changed[index]![field]).not.toBe(list[index]![field]);
      expect(computeVersion(changed)).not.toBe(computeVersion(list));
    }));
  });

  test('renaming a file with the same digest and size changes the version', () => {
    const file = { sha256: 'a'.repeat(64), size: 5 };
    expect(computeVersion([{ ...file, path: 'mysql/app.sql' }])).not.toBe(computeVersion([{ ...file, path: 'mysql/shop.sql' }]));
    expect(computeVersion([{ ...file, path: 'mongo/app/users.bson' }])).not.toBe(computeVersion([{ ...file, path: 'mongo/app/orders.bson' }]));
  });

  test('swapping the digests of two same-size files between their paths changes the version', () => {
    const before = [
      { path: 'mysql/app.sql', sha256: '1'.repeat(64), size: 5 },
      { path: 'mysql/shop.sql', sha256: '2'.repeat(64), size: 5 },
    ];
    const swapped = [
      { path: 'mysql/app.sql', sha256: '2'.repeat(64), size: 5 },
      { path: 'mysql/shop.sql', sha256: '1'.repeat(64), size: 5 },
    ];
    expect(computeVersion(swapped)).not.toBe(computeVersion(before));
  });

  test('rejects unsafe paths with an UnsafePath-coded ManifestError naming the file', () => {
    const bad = ['../etc/passwd', '/abs/mysql/x.sql', 'mysql/../../x.sql', 'mysql\\x.sql', 'mongo/db/./x.bson', 'C:/x.sql', 'mongo//x.bson'];
    fc.assert(fc.property(manifest, fc.constantFrom(...bad), (value, path) => {
      const files = [{ ...value.files[0]!, path }];
      const tampered = { ...value, files, version: computeVersion(files) };
      expect(() => decodeManifest(JSON.stringify(tampered))).toThrow(ManifestError);
      expect(() => decodeManifest(JSON.stringify(tampered))).toThrow(JSON.stringify(path));
    }));
  });

  test('rejects a wrong schemaVersion, naming both versions', () => {
    fc.assert(fc.property(manifest, fc.integer().filter((n) => n !== 1 && n !== SCHEMA_VERSION), (value, schemaVersion) => {
      const text = JSON.stringify({ ...value, schemaVersion });
      expect(() => decodeManifest(text, 'm.json')).toThrow(/schemaVersion .* this tool reads schemaVersion 1 or 2/);
    }));
  });

  test('rejects a version that does not match the files, extra fields and broken JSON', () => {
    fc.assert(fc.property(manifest, (value) => {
      const altered = { ...value, files: value.files.map((file, i) => (i === 0 ? { ...file, size: file.size + 1 } : file)) };
      expect(() => decodeManifest(JSON.stringify(altered))).toThrow(/claims version/);
      expect(() => decodeManifest(JSON.stringify({ ...value, secret: 'x' }))).toThrow(ManifestError);
    }));
    expect(() => decodeManifest('{"schemaVersion":1,')).toThrow(/not valid JSON/);
    expect(() => decodeManifest('null')).toThrow(ManifestError);
  });

  test('rejects a manifest that lists the same path twice (duplicate-path), even with a matching version', () => {
    const file: DumpFile = { path: 'mysql/app.sql', sha256: 'a'.repeat(64), size: 1, kind: 'mysql', database: 'app', compression: 'none' };
    for (const files of [[file, file], [file, { ...file, sha256: 'b'.repeat(64), size: 2 }]]) {
      const value = { schemaVersion: SCHEMA_VERSION, service: 's', version: computeVersion(files), files, source: { commit: 'b'.repeat(40) }, tool: { name: 't', version: '1' }, createdAt: 'now' };
      expect(() => decodeManifest(JSON.stringify(value), 'm.json')).toThrow(ManifestError);
      expect(() => decodeManifest(JSON.stringify(value), 'm.json')).toThrow(expect.objectContaining({ code: 'duplicate-path', message: expect.stringContaining('"mysql/app.sql" twice') }));
    }
  });

  test('rejects a file whose kind or database does not match its path', () => {
    const files: DumpFile[] = [{ path: 'mysql/app.sql', sha256: 'a'.repeat(64), size: 1, kind: 'mongo', database: 'app', compression: 'none' }];
    const value = { schemaVersion: 1, service: 's', version: computeVersion(files), files, source: { commit: 'b'.repeat(40) }, tool: { name: 't', version: '1' }, createdAt: 'now' };
    expect(() => decodeManifest(JSON.stringify(value))).toThrow(/does not match its kind\/database/);
  });

  test('commit entries and refs round trip and reject bad shas', () => {
    fc.assert(fc.property(manifest, (value) => {
      const entry = { schemaVersion: SCHEMA_VERSION, service: value.service, version: value.version, source: value.source, tool: value.tool, createdAt: value.createdAt };
      expect(decodeCommitEntry(encodeCommitEntry(entry))).toEqual(entry);
      const ref = { schemaVersion: SCHEMA_VERSION, service: value.service, branch: 'master', commit: value.source.commit, version: value.version, updatedAt: value.createdAt };
      expect(decodeBranchRef(encodeBranchRef(ref))).toEqual(ref);
      expect(() => decodeBranchRef(JSON.stringify({ ...ref, commit: 'HEAD' }))).toThrow(ManifestError);
    }));
  });
});

describe('schemaVersion 1 documents and migrations records', () => {
  const fingerprint = { overall: 'f'.repeat(64), apps: { shop: { chain: 'c'.repeat(64), migrations: [{ name: '0001_initial', sha256: 'd'.repeat(64) }] } } };
  const v1Entry = {
    schemaVersion: 1,
    service: 'lms',
    version: 'a'.repeat(64),
    source: { commit: 'b'.repeat(40), branch: 'master' },
    migrations: { fingerprint, applied: ['shop.0001_initial'] },
    tool: { name: '@org/dump-versioning', version: '0.1.0' },
    createdAt: '2026-01-01T00:00:00.000Z',
  };
  const record = { sha256: 'e'.repeat(64), overall: fingerprint.overall };

  test('a schemaVersion 1 commit entry with inline migrations still decodes unchanged', () => {
    expect(decodeCommitEntry(JSON.stringify(v1Entry, null, 2))).toEqual(v1Entry);
  });

  test('migrationsRecord exists only in schemaVersion 2, and never next to inline migrations', () => {
    const { migrations: _inline, ...bare } = v1Entry;
    expect(() => decodeCommitEntry(JSON.stringify({ ...bare, migrationsRecord: record }), 'c.json')).toThrow(/c\.json does not match schemaVersion 1: .*additional properties/);
    expect(decodeCommitEntry(JSON.stringify({ ...bare, schemaVersion: 2, migrationsRecord: record }))).toEqual({ ...bare, schemaVersion: 2, migrationsRecord: record });
    expect(() => decodeCommitEntry(JSON.stringify({ ...v1Entry, schemaVersion: 2, migrationsRecord: record }), 'c.json')).toThrow(/c\.json has both inline migrations and a migrationsRecord/);
    expect(() => decodeCommitEntry(JSON.stringify({ ...bare, schemaVersion: 2, migrationsRecord: { ...record, sha256: 'short' } }))).toThrow(ManifestError);
  });

  test('brotli blobs exist only in schemaVersion 2 manifests', () => {
    const files: DumpFile[] = [{ path: 'mysql/app.sql', sha256: 'a'.repeat(64), size: 1, kind: 'mysql', database: 'app', compression: 'brotli' }];
    const value = { schemaVersion: 2, service: 's', version: computeVersion(files), files, source: { commit: 'b'.repeat(40) }, tool: { name: 't', version: '1' }, createdAt: 'now' };
    expect(decodeManifest(JSON.stringify(value)).files[0]?.compression).toBe('brotli');
    expect(() => decodeManifest(JSON.stringify({ ...value, schemaVersion: 1 }), 'm.json')).toThrow(/m\.json does not match schemaVersion 1: \/files\/0\/compression/);
  });

  test('encoding an entry whose migrations were loaded from its record writes only the reference', () => {
    const { migrations, ...bare } = v1Entry;
    const loaded = { ...bare, schemaVersion: SCHEMA_VERSION, migrationsRecord: record, migrations };
    const text = encodeCommitEntry(loaded);
    expect(JSON.parse(text)).not.toHaveProperty('migrations');
    expect(decodeCommitEntry(text)).toEqual({ ...bare, schemaVersion: SCHEMA_VERSION, migrationsRecord: record });
  });
});
