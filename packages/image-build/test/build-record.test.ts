import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  BuildRecordError,
  buildArgFingerprints,
  buildRecordKeys,
  buildRecordOf,
  buildReport,
  cacheScopes,
  describeCause,
  instructionFingerprint,
  parseBuildRecord,
  parseDockerfile,
  parseRawJson,
  previousFromRecord,
  sameBuildRecord,
  scopeOfRecordKey,
  serializeBuildRecord,
} from '../src/index.js';
import type { BuildRecordKeyOptions, GitContext, ReportOptions } from '../src/index.js';

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const git = (over: Partial<GitContext>): GitContext => ({
  eventName: 'push',
  ref: 'refs/heads/main',
  sha: 'a'.repeat(40),
  defaultBranch: 'main',
  commitTime: '2024-05-01T12:00:00Z',
  repoUrl: 'https://github.com/org/app',
  ...over,
});
const flavours = [
  { name: 'production', stage: 'production', image: 'ghcr.io/org/app' },
  { name: 'devstack', stage: 'dev', image: 'ghcr.io/org/app-dev' },
];
const keyOptions = (over: Partial<BuildRecordKeyOptions> = {}): BuildRecordKeyOptions => ({
  dockerfile: 'Dockerfile',
  flavours,
  scopes: cacheScopes(git({})),
  sha: 'a'.repeat(40),
  runId: '123',
  runAttempt: '1',
  now: 1_700_000_000_000,
  ...over,
});

describe('buildRecordKeys', () => {
  test.each([
    ['push to the default branch', git({}), 'main', ['main']],
    ['push to a feature branch', git({ ref: 'refs/heads/feature/x' }), 'feature-x-217d2bf5', ['feature-x-217d2bf5', 'main']],
    ['pull request onto a release branch', git({ eventName: 'pull_request', ref: 'refs/pull/7/merge', prNumber: 7, prBaseRef: 'release/1.2' }), 'pr-7', ['pr-7', 'release-1.2-bacdc8a6', 'main']],
  ])('%s: saved under its own scope, restored along the cache read chain', (_, context, own, chain) => {
    const keys = buildRecordKeys(keyOptions({ scopes: cacheScopes(context), sha: context.sha }));
    const id = /^build-image-record-v1-([0-9a-f]{12})\//.exec(keys.key ?? '')?.[1];
    expect(id).toBeDefined();
    expect(keys.key).toBe(`build-image-record-v1-${id}/${own}/${context.sha}/123-1-${(1_700_000_000_000).toString(36)}`);
    expect(keys.restoreKeys).toEqual(chain.map((scope) => `build-image-record-v1-${id}/${scope}/`));
    expect(scopeOfRecordKey(keys.key as string)).toBe(own);
    // A restore key is a prefix of the key saved by an earlier run of the same scope only.
    expect(keys.key?.startsWith(keys.restoreKeys[0] as string)).toBe(true);
  });

  test('a tag build reads the default branch\'s records and saves none (it writes no cache scope)', () => {
    const keys = buildRecordKeys(keyOptions({ scopes: cacheScopes(git({ ref: 'refs/tags/v1.2.3' })) }));
    expect(keys.key).toBeUndefined();
    expect(keys.restoreKeys).toEqual([expect.stringMatching(/^build-image-record-v1-[0-9a-f]{12}\/main\/$/)]);
  });

  test('the prefix of scope `main` does not match records of scope `main-2`', () => {
    const main = buildRecordKeys(keyOptions({ scopes: { own: 'main', read: ['main'] } }));
    const other = buildRecordKeys(keyOptions({ scopes: { own: 'main-2', read: ['main-2', 'main'] } }));
    expect(other.key?.startsWith(main.restoreKeys[0] as string)).toBe(false);
    expect(other.restoreKeys[1]).toBe(main.restoreKeys[0]);
  });

  test.each([
    ['flavour order', { flavours: [...flavours].reverse() }, true],
    ['another commit', { sha: 'b'.repeat(40) }, true],
    ['another Dockerfile', { dockerfile: 'services/api/Dockerfile' }, false],
    ['another image', { flavours: [flavours[0]!, { ...flavours[1]!, image: 'ghcr.io/org/other' }] }, false],
    ['another flavour set', { flavours: [flavours[0]!] }, false],
  ] as const)('%s keeps the record family: %s', (_, over, same) => {
    const a = buildRecordKeys(keyOptions());
    const b = buildRecordKeys(keyOptions(over));
    expect(a.restoreKeys[0] === b.restoreKeys[0]).toBe(same);
  });

  test('every run attempt, and every build within one, saves under a key of its own (cache entries are immutable)', () => {
    const runs: Array<[string, string, number]> = [['1', '1', 1], ['1', '2', 1], ['2', '1', 1], ['1', '1', 2]];
    const keys = new Set(runs.map(([runId, runAttempt, now]) => buildRecordKeys(keyOptions({ runId, runAttempt, now })).key));
    expect(keys.size).toBe(runs.length);
  });

  test.each([['build-image-mounts-linux-x64-abc'], ['something/else/entirely']])('%s is not a record key', (key) => {
    expect(scopeOfRecordKey(key)).toBeUndefined();
  });
});

describe('records', () => {
  const report = { baseImages: { 'docker.io/library/python:3.12-slim': digest('1'), 'localhost/tools:1': digest('2') } };
  const record = buildRecordOf(report, { devstack: { TOKEN_LIKE: 's3cret-value', DEV: '1' }, production: {} });

  test('build args are kept as fingerprints: equal values compare equal, values are never stored', () => {
    expect(record.buildArgs.devstack).toEqual(buildArgFingerprints({ DEV: '1', TOKEN_LIKE: 's3cret-value' }));
    expect(buildArgFingerprints({ A: 'x' }).A).not.toBe(buildArgFingerprints({ A: 'y' }).A);
    expect(serializeBuildRecord(record)).not.toContain('s3cret-value');
  });

  test('serializing is stable and parses back to the same record', () => {
    const shuffled = buildRecordOf({ baseImages: { 'localhost/tools:1': digest('2'), 'docker.io/library/python:3.12-slim': digest('1') } }, { production: {}, devstack: { DEV: '1', TOKEN_LIKE: 's3cret-value' } });
    expect(serializeBuildRecord(shuffled)).toBe(serializeBuildRecord(record));
    expect(parseBuildRecord(serializeBuildRecord(record))).toEqual(record);
    expect(sameBuildRecord(record, shuffled)).toBe(true);
    expect(sameBuildRecord(record, buildRecordOf({ baseImages: { ...report.baseImages, 'localhost/tools:1': digest('3') } }, { devstack: { TOKEN_LIKE: 's3cret-value', DEV: '1' }, production: {} }))).toBe(false);
  });

  test('instruction fingerprints round-trip; records of older versions (without them) still parse', () => {
    const withSteps = buildRecordOf({ ...report, steps: [
      { stage: 'base', index: 2, total: 2, instruction: 'RUN make', status: 'cached', durationMs: 0 },
      { platform: 'linux/arm64', stage: 'base', index: 2, total: 2, instruction: 'RUN make', status: 'run', durationMs: 0 },
      { stage: 'base', index: 1, total: 2, instruction: `FROM x@${digest('1')}`, status: 'cached', durationMs: 0 },
    ] }, {});
    expect(withSteps.instructions).toEqual({ base: [instructionFingerprint('RUN make')] });
    expect(parseBuildRecord(serializeBuildRecord(withSteps))).toEqual(withSteps);
    expect(parseBuildRecord(JSON.stringify({ version: 1, baseImages: {}, buildArgs: {} })).instructions).toBeUndefined();
  });

  test('per root stage and platform, the base its FROM step resolved to (FROM steps without a digest are left out)', () => {
    const from = (stage: string, ref: string, platform?: string) => ({ ...(platform ? { platform } : {}), stage, index: 1, total: 2, instruction: `FROM ${ref}`, status: 'cached' as const, durationMs: 0 });
    const bases = buildRecordOf({ ...report, steps: [
      from('base', `x/base:2@${digest('1')}`),
      from('Tools', `x/tools:1@${digest('2')}`, 'linux/arm64'),
      from('scratchy', 'x/unpinned:1'),
      { stage: 'base', index: 2, total: 2, instruction: 'RUN make', status: 'run', durationMs: 0 },
    ] }, {}).stageBases;
    expect(bases).toEqual({ '|base': `x/base:2@${digest('1')}`, 'linux/arm64|tools': `x/tools:1@${digest('2')}` });
  });

  test('with the Dockerfile, every stage\'s instructions in order, config-only ones left out', () => {
    const model = parseDockerfile('ARG V=1\nFROM x:1 AS base\nWORKDIR /app\nLABEL a=b\nENV A=1\nARG V\nRUN make\nCMD ["x"]\nFROM base AS app\nCOPY . .\n');
    const record = buildRecordOf(report, {}, model);
    expect(Object.fromEntries(Object.entries(record.stageInstructions ?? {}).map(([stage, list]) => [stage, list.map((e) => e.split(' ')[0])]))).toEqual({
      app: ['FROM', 'COPY'],
      base: ['FROM', 'WORKDIR', 'ENV', 'ARG', 'RUN'],
    });
    expect(parseBuildRecord(serializeBuildRecord(record))).toEqual(record);
    // Another default of the global ARG the stage's `ARG V` takes is another entry.
    const other = buildRecordOf(report, {}, parseDockerfile('ARG V=2\nFROM x:1 AS base\nWORKDIR /app\nLABEL a=b\nENV A=1\nARG V\nRUN make\nCMD ["x"]\nFROM base AS app\nCOPY . .\n'));
    expect(other.stageInstructions?.base?.[3]).not.toBe(record.stageInstructions?.base?.[3]);
    expect(other.stageInstructions?.base?.[4]).toBe(record.stageInstructions?.base?.[4]);
    expect(buildRecordOf(report, {}).stageInstructions).toBeUndefined();
  });

  test('a record written before per-stage fields existed reads as before, and so does one with fields unknown here', () => {
    const before = '{"version":1,"baseImages":{"x/base:1":"' + digest('1') + '"},"buildArgs":{"production":{}},"instructions":{"base":["' + digest('2') + '"]}}\n';
    const parsed = parseBuildRecord(before);
    expect(parsed).toEqual({ version: 1, baseImages: { 'x/base:1': digest('1') }, buildArgs: { production: {} }, instructions: { base: [digest('2')] } });
    expect(previousFromRecord(parsed)).toEqual({ baseImages: { 'x/base:1': digest('1') }, buildArgs: { production: {} }, instructions: { base: [digest('2')] } });
    expect(serializeBuildRecord(parsed)).toBe(before);
    expect(parseBuildRecord(JSON.stringify({ version: 1, baseImages: {}, buildArgs: {}, laterField: { x: 1 } })).baseImages).toEqual({});
  });

  test.each([
    ['not JSON', '{', /not JSON/],
    ['not an object', '"x"', /not an object/],
    ['another version', JSON.stringify({ version: 2, baseImages: {}, buildArgs: {} }), /version 2, this action reads version 1/],
    ['a base image without a digest', JSON.stringify({ version: 1, baseImages: { 'python:3.12': 'latest' }, buildArgs: {} }), /baseImages\.python:3\.12 is not a sha256 digest/],
    ['build args as a list', JSON.stringify({ version: 1, baseImages: {}, buildArgs: [] }), /buildArgs is not an object/],
    ['a raw build arg value', JSON.stringify({ version: 1, baseImages: {}, buildArgs: { dev: { A: 'x' } } }), /buildArgs\.dev\.A is not a sha256 digest/],
    ['instructions as text', JSON.stringify({ version: 1, baseImages: {}, buildArgs: {}, instructions: { base: ['RUN make'] } }), /instructions\.base is not a list of sha256 digests/],
    ['a stage base without a digest', JSON.stringify({ version: 1, baseImages: {}, buildArgs: {}, stageBases: { '|base': 'x/base:1' } }), /stageBases\.\|base is not an image reference with a sha256 digest/],
    ['stage instructions without keywords', JSON.stringify({ version: 1, baseImages: {}, buildArgs: {}, stageInstructions: { base: [digest('1')] } }), /stageInstructions\.base is not a list of `<KEYWORD> sha256:<hex>` entries/],
  ])('a record with %s is refused with a non-fatal error', (_, text, message) => {
    const error = (() => {
      try {
        parseBuildRecord(text);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(BuildRecordError);
    expect((error as BuildRecordError).fatal).toBe(false);
    expect((error as Error).message).toMatch(message);
  });
});

// The recorded streams of report.test.ts: the record of `cold`, read back, explains `base` and `arg`.
describe('a record carries what the next report compares', () => {
  const dir = path.join(import.meta.dirname, 'fixtures/rawjson');
  const model = parseDockerfile(readFileSync(path.join(dir, 'Dockerfile'), 'utf8'));
  const reportFlavours = [{ name: 'devstack', stage: 'dev' }, { name: 'production', stage: 'production' }];
  const report = (name: string, options: Partial<ReportOptions> = {}) =>
    buildReport(parseRawJson(readFileSync(path.join(dir, `${name}.rawjson`), 'utf8')).statuses, { flavours: reportFlavours, model, ...options });
  const args = (value: string) => ({ devstack: { DEV_TOOLS: value }, production: {} });
  const fingerprinted = (value: string) => ({ devstack: buildArgFingerprints({ DEV_TOOLS: value }), production: {} });
  const saved = parseBuildRecord(serializeBuildRecord(buildRecordOf(report('cold'), args('1'))));

  test.each([
    ['base', '1', 'base-image', /^base image \S+ moved \(sha256:[0-9a-f]{12} -> sha256:[0-9a-f]{12}\)$/],
    ['arg', '2', 'build-arg', /^changed build arg: DEV_TOOLS$/],
    ['warm', '1', undefined, undefined],
  ] as const)('%s', (name, value, kind, reason) => {
    const r = report(name, { buildArgs: fingerprinted(value), previous: previousFromRecord(saved) });
    const miss = r.flavours[0]?.firstMiss;
    expect(miss?.cause.kind).toBe(kind);
    if (reason) expect(describeCause(miss!.cause)).toMatch(reason);
    if (miss?.cause.kind === 'base-image') {
      expect(miss.cause.previous).toBe(Object.values(saved.baseImages)[0]);
      expect(miss.cause.current).toBe(r.baseImages[miss.cause.image]);
    }
  });

  test('without the record the moved base is not named', () => {
    expect(report('base', { buildArgs: fingerprinted('1') }).flavours[0]?.firstMiss?.cause.kind).not.toBe('base-image');
  });

  test('the recorded cold build resolved a base image to a digest', () => {
    expect(Object.keys(saved.baseImages).length).toBeGreaterThan(0);
  });
});
