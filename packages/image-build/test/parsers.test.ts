import { describe, expect, test } from 'vitest';
import {
  cacheScopes,
  changedFilesInContext,
  parseBuildSecrets,
  parseExtraTags,
  parseFlavourSuffixes,
  parseProvenance,
  planCache,
  resolveFlavours,
} from '../src/index.js';
import type { GitContext } from '../src/index.js';

describe('parseBuildSecrets', () => {
  test('one id=value per line; values may hold = and are reported as sensitive', () => {
    expect(parseBuildSecrets('npm_token=abc=\n\nsentry.dsn=https://k@s/1\n')).toEqual({
      secrets: [
        { id: 'npm_token', content: 'abc=', mountTarget: '/run/secrets/npm_token' },
        { id: 'sentry.dsn', content: 'https://k@s/1', mountTarget: '/run/secrets/sentry.dsn' },
      ],
      sensitiveValues: ['abc=', 'https://k@s/1'],
    });
  });

  test.each([
    ['token-without-id', /line 1 is not `id=value`/],
    ['a=1\na=2', /`a` is given twice/],
    ['npmrc=x', /used by the `mirrors` input/],
    ['bad id=x', /line 1 is not/],
  ])('%j is refused', (value, message) => {
    expect(() => parseBuildSecrets(value)).toThrow(message);
  });
});

test.each([
  ['', 'false'],
  ['true', 'true'],
  ['mode=max', 'mode=max'],
])('parseProvenance(%j) = %j', (value, expected) => {
  expect(parseProvenance(value)).toBe(expected);
});

test.each([
  ['stable', ['stable']],
  ['stable, edge\nstable', ['stable', 'edge']],
  ['', []],
])('parseExtraTags(%j)', (value, expected) => {
  expect(parseExtraTags(value)).toEqual(expected);
});

test('parsed suffixes and targets give the same flavours as the raw strings', () => {
  const raw = resolveFlavours({ targets: 'devstack=dev,production=production', image: 'ghcr.io/org/app', suffixes: 'devstack=-devstack' });
  const parsed = resolveFlavours({
    targets: [{ name: 'devstack', stage: 'dev' }, { name: 'production', stage: 'production' }],
    image: 'ghcr.io/org/app',
    suffixes: parseFlavourSuffixes('devstack=-devstack', ['devstack', 'production']),
  });
  expect(parsed).toEqual(raw);
  expect(raw.map((f) => f.image)).toEqual(['ghcr.io/org/app-devstack', 'ghcr.io/org/app']);
});

describe('planCache without an image', () => {
  const git: GitContext = { eventName: 'pull_request', ref: 'refs/pull/7/merge', sha: 'a'.repeat(40), defaultBranch: 'master', prNumber: 7, prBaseRef: 'develop', commitTime: '2024-01-01T00:00:00Z', repoUrl: '' };
  const flavour = { name: 'devstack', stage: 'dev', image: 'localhost/app-dev' };

  test('auto without an image reads no registry (there is none to read)', () => {
    const plan = planCache({ mode: 'auto', flavour, image: '', git, push: false, ghaAvailable: false, localDir: '/c' });
    expect(plan.backends).toEqual(['local']);
    expect(plan.from.every((f) => f.startsWith('type=local'))).toBe(true);
    expect(cacheScopes(git).read).toEqual(['pr-7', 'develop', 'master']);
  });

  test('registry without an image is an input error', () => {
    expect(() => planCache({ mode: 'registry', flavour, image: '', git, push: true, ghaAvailable: false })).toThrow(/Input `image`: is empty/);
  });
});

test.each<[string[], string, string[]]>([
  [['svc/src/a.py', 'README.md', 'svc/requirements.txt'], 'svc', ['src/a.py', 'requirements.txt']],
  [['svc/src/a.py'], './svc/', ['src/a.py']],
  [['src/a.py', 'README.md'], '.', ['src/a.py', 'README.md']],
  [['svc2/x'], 'svc', []],
])('changedFilesInContext(%j, %j)', (files, context, expected) => {
  expect(changedFilesInContext(files, context)).toEqual(expected);
});
