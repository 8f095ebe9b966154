import { afterEach, describe, expect, test, vi } from 'vitest';
import { openActionStore, workspacePath } from '../src/store.js';

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
