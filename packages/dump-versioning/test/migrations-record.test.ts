import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { IntegrityError, InvalidInputError, SCHEMA_VERSION, encodeCommitEntry, fingerprintMigrations, type MigrationsInfo, type MigrationRecord } from '../src/index.js';
import { decodeMigrationsRecord, encodeMigrationsRecord } from '../src/internal/migrations-record.js';

const hex = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });
const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/);
const records: fc.Arbitrary<MigrationRecord[]> = fc.uniqueArray(fc.record({ app: name, name, sha256: hex(64) }), {
  maxLength: 30,
  selector: (record) => `${record.app}.${record.name}`,
});
const info: fc.Arbitrary<MigrationsInfo> = records.chain((list) =>
  fc.option(fc.shuffledSubarray(list.map((record) => `${record.app}.${record.name}`)), { nil: undefined }).map((applied) => ({
    fingerprint: fingerprintMigrations(list),
    ...(applied ? { applied } : {}),
  })),
);

/** The same value built with keys and apps in reverse insertion order. */
function rebuiltBackwards(value: MigrationsInfo): MigrationsInfo {
  const apps = Object.fromEntries(
    Object.entries(value.fingerprint.apps)
      .reverse()
      .map(([app, fp]) => [app, { migrations: fp.migrations.map(({ name, sha256 }) => ({ sha256, name })), chain: fp.chain }]),
  );
  return { ...(value.applied ? { applied: value.applied } : {}), fingerprint: { apps, overall: value.fingerprint.overall } };
}

/** `count` migrations over ten apps, named like Django's. */
const djangoLike = (count: number): MigrationRecord[] =>
  Array.from({ length: count }, (_, i) => ({ app: `app_${i % 10}`, name: `${String(i).padStart(4, '0')}_auto_change_field_${i}`, sha256: i.toString(16).padStart(64, '0') }));

describe('migrations record codec', () => {
  test('round trip, and the bytes (so the digest) do not depend on how the value was built', () => {
    fc.assert(fc.property(info, (value) => {
      const { body, ref } = encodeMigrationsRecord(value);
      expect(ref.overall).toBe(value.fingerprint.overall);
      expect(decodeMigrationsRecord(body, ref, 'r.json')).toEqual(value);
      expect(encodeMigrationsRecord(rebuiltBackwards(value)).body.equals(body)).toBe(true);
    }));
  });

  test('any change to a migration or to the applied list gives another digest', () => {
    fc.assert(fc.property(records.filter((list) => list.length > 0), fc.nat(), (list, pick) => {
      const base = encodeMigrationsRecord({ fingerprint: fingerprintMigrations(list) }).ref.sha256;
      const index = pick % list.length;
      const edited = list.map((record, i) => (i === index ? { ...record, sha256: record.sha256 === '0'.repeat(64) ? '1'.repeat(64) : '0'.repeat(64) } : record));
      expect(encodeMigrationsRecord({ fingerprint: fingerprintMigrations(edited) }).ref.sha256).not.toBe(base);
      expect(encodeMigrationsRecord({ fingerprint: fingerprintMigrations(list), applied: [`${list[index]!.app}.${list[index]!.name}`] }).ref.sha256).not.toBe(base);
    }));
  });

  test('a flipped byte, a truncated body or a reference with another fingerprint is rejected naming the record', () => {
    fc.assert(fc.property(info, fc.nat(), (value, pick) => {
      const { body, ref } = encodeMigrationsRecord(value);
      const flipped = Buffer.from(body);
      flipped[pick % flipped.length]! ^= 0x20;
      expect(() => decodeMigrationsRecord(flipped, ref, 'r.json')).toThrow(IntegrityError);
      expect(() => decodeMigrationsRecord(body.subarray(0, body.length - 2), ref, 'r.json')).toThrow(/migrations record r\.json hashes to/);
      expect(() => decodeMigrationsRecord(body, { ...ref, overall: ref.overall === 'a'.repeat(64) ? 'b'.repeat(64) : 'a'.repeat(64) }, 'r.json')).toThrow(/holds fingerprint/);
    }));
  });

  test('invalid migrations are refused at publish time with InvalidInputError', () => {
    const fingerprint = fingerprintMigrations(djangoLike(2));
    expect(() => encodeMigrationsRecord({ fingerprint: { ...fingerprint, overall: 'not-a-digest' } })).toThrow(InvalidInputError);
    expect(() => encodeMigrationsRecord({ fingerprint, applied: [''] })).toThrow(/migrations to publish are invalid: \/applied\/0/);
  });

  test('a commit entry naming the record stays the same size however many migrations there are', () => {
    const entryFor = (count: number, inline: boolean) => {
      const migrations: MigrationsInfo = { fingerprint: fingerprintMigrations(djangoLike(count)), applied: djangoLike(count).map((m) => `${m.app}.${m.name}`) };
      const { ref } = encodeMigrationsRecord(migrations);
      return encodeCommitEntry({
        schemaVersion: SCHEMA_VERSION,
        service: 'lms',
        version: 'a'.repeat(64),
        source: { repository: 'org/lms', commit: 'b'.repeat(40), branch: 'master', commitTime: '2026-01-01T00:00:00Z' },
        ...(inline ? { migrations } : { migrationsRecord: ref }),
        engines: { mysql: { flavor: 'mariadb', version: '10.11.8' }, mongo: { flavor: 'ferretdb', version: '1.24.2' } },
        tool: { name: '@org/dump-versioning', version: '0.1.0' },
        createdAt: '2026-01-01T00:00:00.000Z',
      }).length;
    };
    expect(entryFor(200, false)).toBe(entryFor(5, false));
    expect(entryFor(200, false)).toBeLessThan(1024);
    // The inline (schemaVersion 1) form grows by over 100 bytes per migration: the reason for the record.
    expect(entryFor(200, true) - entryFor(5, true)).toBeGreaterThan(195 * 100);
  });
});
