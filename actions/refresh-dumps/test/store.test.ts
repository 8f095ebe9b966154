import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { NotFoundError, StoreConfigError, openStore, publish } from '@org/dump-versioning';
import { makeDumpDir, makeLinearRepo, sampleDump } from '../../../packages/dump-versioning/test/support.js';
import { findAncestor, openActionStore, storeInput, workspacePath } from '../src/store.js';

describe('workspacePath', () => {
  test.each<[string, string]>([
    ['.', '/w/repo'],
    ['services/lms', '/w/repo/services/lms'],
    ['./a/../b', '/w/repo/b'],
    ['/w/repo/abs', '/w/repo/abs'],
  ])('%s -> %s', (value, expected) => {
    expect(workspacePath('/w/repo', 'working-directory', value)).toBe(expected);
  });

  test.each(['..', '../other', '/etc'])('refuses %s, outside the workspace', (value) => {
    expect(() => workspacePath('/w/repo', 'working-directory', value)).toThrow(/^Input `working-directory`: ".*" points outside the workspace \/w\/repo/);
  });
});

describe('openActionStore', () => {
  const inputs = { s3Endpoint: '', awsRegion: 'us-east-1' };
  test('resolves a relative directory against the workspace', async () => {
    const store = openActionStore({ ...inputs, store: '.devstack/dumps' }, '/w/repo');
    expect(store.location).toBe('/w/repo/.devstack/dumps');
    await store.close();
  });
  test.each<[string, RegExp]>([
    ['ftp://host/dumps', /^Input `store`: unknown store scheme "ftp:"/],
    ['s3://key:secret@bucket/x', /^Input `store`: .*contains credentials/],
    ['s3://Bad_Bucket/x', /^Input `store`: .*is not a valid bucket name/],
  ])('names the input for %s', (store, message) => {
    expect(() => openActionStore({ ...inputs, store }, '/w/repo')).toThrow(message);
  });
  test('an empty aws-region leaves the region to AWS_REGION (as configure-aws-credentials sets it), not us-east-1', () => {
    vi.stubEnv('AWS_REGION', 'not a region');
    expect(() => openActionStore({ ...inputs, awsRegion: '', store: 's3://bucket/x' }, '/w/repo')).toThrow(/AWS_REGION "not a region"/);
    expect(() => openActionStore({ ...inputs, awsRegion: 'eu-west-1', store: 's3://bucket/x' }, '/w/repo')).not.toThrow();
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });
  test('a bad region names `aws-region`, a bad endpoint `s3-endpoint`', () => {
    expect(() => openActionStore({ ...inputs, awsRegion: 'not a region', store: 's3://bucket/x' }, '/w/repo')).toThrow(/^Input `aws-region`: /);
    expect(() => openActionStore({ ...inputs, s3Endpoint: 'not a url', store: 's3://bucket/x' }, '/w/repo')).toThrow(/^Input `s3-endpoint`: /);
  });
  test('never repeats credentials from the store URL', () => {
    expect(() => openActionStore({ ...inputs, store: 's3://key:hunter2@bucket/x' }, '/w/repo')).toThrow(expect.objectContaining({ message: expect.not.stringContaining('hunter2') }));
  });
});

describe('findAncestor (filesystem store, temporary git repository)', () => {
  const service = 'lms';
  let repo: { dir: string; commits: string[] };
  let work: string;
  beforeAll(async () => {
    repo = await makeLinearRepo(3);
    work = await mkdtemp(path.join(tmpdir(), 'refresh-ancestor-'));
  });
  afterAll(async () => {
    await Promise.all([repo.dir, work].map((dir) => rm(dir, { recursive: true, force: true })));
  });

  test('the nearest published first-parent ancestor; none published, or no store yet, says why', async () => {
    const root = path.join(work, 'store');
    expect(await findAncestor(openStore(root), service, repo.commits[2]!, repo.dir)).toEqual({ none: `the store ${root} does not exist yet (this is its first publish)` });
    const store = openStore(root);
    const dump = await makeDumpDir(sampleDump('ancestor'));
    try {
      // An existing store without any dump of the service: no-published-ancestor.
      await publish({ store, service: 'other', dir: dump, source: { commit: repo.commits[0]!, branch: 'master' }, ancestry: async () => true });
      expect(await findAncestor(store, service, repo.commits[2]!, repo.dir)).toEqual({ none: 'no dump is published for this commit or its first-parent ancestors' });
      const published = await publish({ store, service, dir: dump, source: { commit: repo.commits[0]!, branch: 'master' }, ancestry: async () => true });
      expect(await findAncestor(store, service, repo.commits[2]!, repo.dir)).toMatchObject({ commit: repo.commits[0], version: published.version, distance: 2 });
    } finally {
      await store.close();
      await rm(dump, { recursive: true, force: true });
    }
  });

  test('a NotFoundError other than no-published-ancestor is not taken for "no ancestor": it propagates', async () => {
    const store = openStore(path.join(work, 'store'));
    // A store read failing with another not-found code (here: a version the store lost) while the history is walked.
    const failing = Object.create(store) as typeof store;
    failing.get = async (key) => {
      if (key.startsWith(`${service}/commits/`)) throw new NotFoundError('unknown-version', `version named by ${key} is not in ${store.location}`);
      return store.get(key);
    };
    try {
      await expect(findAncestor(failing, service, repo.commits[2]!, repo.dir)).rejects.toMatchObject({ name: 'NotFoundError', code: 'unknown-version' });
    } finally {
      await store.close();
    }
  });
});

describe('storeInput', () => {
  test.each<[string, unknown, string, string]>([
    ['a region the server refuses names aws-region', new StoreConfigError('region-mismatch', 'wrong region'), '', 'aws-region'],
    ['also with an endpoint set', new StoreConfigError('region-mismatch', 'wrong region'), 'http://minio:9000', 'aws-region'],
    ['another store problem names the store', new StoreConfigError('bucket-missing', 'no bucket'), '', 'store'],
    ['with an endpoint, the store or the endpoint', new StoreConfigError('endpoint-unreachable', 'down'), 'http://minio:9000', 'store` / `s3-endpoint'],
  ])('%s', (_, error, s3Endpoint, input) => {
    expect(storeInput({ s3Endpoint })(error)).toBe(input);
  });
});
