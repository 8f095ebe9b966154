import { describe, expect, test } from 'vitest';
import { computeTags, defaultPush, ociLabels, sanitizeTag, sourceDateEpoch } from '../src/index.js';
import type { GitContext } from '../src/index.js';

const sha = '0123456789abcdef0123456789abcdef01234567';
const base: GitContext = {
  eventName: 'push',
  ref: 'refs/heads/master',
  sha,
  defaultBranch: 'master',
  commitTime: '2024-05-01T12:00:00+02:00',
  repoUrl: 'https://github.com/org/app',
};
const ctx = (over: Partial<GitContext>): GitContext => ({ ...base, ...over });

describe('computeTags', () => {
  test.each<[string, Partial<GitContext>, string[], boolean]>([
    ['default branch', {}, ['sha-0123456', 'master', 'latest'], true],
    ['feature branch', { ref: 'refs/heads/feature/Login_v2' }, ['sha-0123456', 'feature-Login_v2'], true],
    ['release tag', { ref: 'refs/tags/v1.2.3' }, ['sha-0123456', '1.2.3', '1.2', '1'], true],
    ['0.x tag has no major tag', { ref: 'refs/tags/v0.4.1' }, ['sha-0123456', '0.4.1', '0.4'], true],
    ['pre-release', { ref: 'refs/tags/v2.0.0-rc.1' }, ['sha-0123456', '2.0.0-rc.1'], true],
    ['other tag', { ref: 'refs/tags/deploy/2024' }, ['sha-0123456', 'deploy-2024'], true],
    ['pull request', { eventName: 'pull_request', ref: 'refs/pull/42/merge', prNumber: 42, prBaseRef: 'master' }, ['sha-0123456', 'pr-42'], false],
  ])('%s', (_, over, names, push) => {
    const tags = computeTags(ctx(over));
    expect(tags.map((t) => t.name)).toEqual(names);
    expect(tags.every((t) => t.push === push)).toBe(true);
  });

  test('extra tags are appended once and validated', () => {
    expect(computeTags(base, ['stable', 'latest', ' ']).map((t) => t.name)).toEqual(['sha-0123456', 'master', 'latest', 'stable']);
    expect(() => computeTags(base, ['-bad'])).toThrow(/Input `tags`: `-bad` is not a valid tag/);
  });

  test('a bad sha or missing PR number names the input', () => {
    expect(() => computeTags(ctx({ sha: 'HEAD' }))).toThrow(/Input `sha`/);
    expect(() => computeTags(ctx({ eventName: 'pull_request', ref: 'refs/pull/1/merge' }))).toThrow(/Input `pr-number`/);
  });
});

test.each([
  ['feature/x', 'feature-x'],
  ['..hidden', 'hidden'],
  ['a'.repeat(200), 'a'.repeat(128)],
  ['ünïcode/branch', 'n-code-branch'],
])('sanitizeTag(%j)', (input, expected) => {
  expect(sanitizeTag(input)).toBe(expected);
});

test.each<[Partial<GitContext>, boolean]>([
  [{}, true],
  [{ ref: 'refs/heads/feature' }, false],
  [{ ref: 'refs/tags/v1.0.0' }, true],
  [{ eventName: 'pull_request', ref: 'refs/pull/3/merge', prNumber: 3 }, false],
])('defaultPush %j', (over, expected) => {
  expect(defaultPush(ctx(over))).toBe(expected);
});

describe('labels and SOURCE_DATE_EPOCH', () => {
  const flavour = { name: 'devstack', stage: 'dev', image: 'ghcr.io/org/app-dev' };
  test('created is the commit time, in UTC, so rebuilding a commit keeps the digest', () => {
    expect(sourceDateEpoch(base)).toBe('1714557600');
    expect(ociLabels(base, flavour)).toEqual({
      'org.opencontainers.image.created': '2024-05-01T10:00:00Z',
      'org.opencontainers.image.revision': sha,
      'org.opencontainers.image.source': 'https://github.com/org/app',
      'org.opencontainers.image.title': 'app-dev',
      'org.opencontainers.image.version': 'master',
    });
  });
  test.each<[Partial<GitContext>, string]>([
    [{ ref: 'refs/tags/v3.1.0' }, '3.1.0'],
    [{ eventName: 'pull_request', ref: 'refs/pull/9/merge', prNumber: 9 }, 'pr-9'],
    [{ ref: 'refs/tags/nightly' }, 'nightly'],
  ])('version label for %j', (over, version) => {
    expect(ociLabels(ctx(over), flavour)['org.opencontainers.image.version']).toBe(version);
  });
  test('an unreadable commit time names the input', () => {
    expect(() => sourceDateEpoch(ctx({ commitTime: 'yesterday' }))).toThrow(/Input `commit-time`/);
  });
});
