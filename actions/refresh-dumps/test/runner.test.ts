import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { checkRunOnBranch, forcedPushOf, readEventPayload, readRunnerContext, resolveBranch } from '../src/runner.js';
import { secretsToMask } from '../src/secrets.js';

// Trimmed copies of the payload shapes GitHub sends for each event.
const payloads = {
  push: { ref: 'refs/heads/master', repository: { full_name: 'org/lms', default_branch: 'master' } },
  pushToMain: { ref: 'refs/heads/main', repository: { full_name: 'org/lms', default_branch: 'main' } },
  workflowDispatch: { ref: 'refs/heads/release/2024', inputs: {}, repository: { default_branch: 'master' } },
  schedule: { schedule: '0 3 * * *', repository: { default_branch: 'trunk' } },
  noRepository: { ref: 'refs/heads/master' },
  blankDefault: { repository: { default_branch: '  ' } },
  notAnObject: 42,
};

describe('resolveBranch', () => {
  test.each<[string, string, unknown, string | undefined, { branch: string; source: string }]>([
    ['the input wins', 'develop', payloads.push, 'master', { branch: 'develop', source: 'input' }],
    ['push: the default branch', '', payloads.push, 'master', { branch: 'master', source: 'event' }],
    ['push to main', '', payloads.pushToMain, 'main', { branch: 'main', source: 'event' }],
    ['dispatch on another branch still advances the default branch', '', payloads.workflowDispatch, 'release/2024', { branch: 'master', source: 'event' }],
    ['schedule', '', payloads.schedule, 'trunk', { branch: 'trunk', source: 'event' }],
    ['payload without repository: GITHUB_REF_NAME', '', payloads.noRepository, 'feature/x', { branch: 'feature/x', source: 'ref-name' }],
    ['blank default branch: GITHUB_REF_NAME', '', payloads.blankDefault, 'master', { branch: 'master', source: 'ref-name' }],
    ['no payload at all', '', undefined, 'master', { branch: 'master', source: 'ref-name' }],
    ['a payload that is not an object', '', payloads.notAnObject, 'master', { branch: 'master', source: 'ref-name' }],
  ])('%s', (_name, input, payload, refName, expected) => {
    expect(resolveBranch(input, payload, refName)).toEqual(expected);
  });

  test('says what to set when nothing names a branch', () => {
    expect(() => resolveBranch('', payloads.noRepository, undefined)).toThrow(/cannot tell which branch to advance.*set `branch`/);
  });
});

describe('checkRunOnBranch', () => {
  test.each<[string, { branch: string; source: 'input' | 'event' | 'ref-name' }, string | undefined]>([
    ['a push to the default branch', { branch: 'master', source: 'event' }, 'refs/heads/master'],
    ['an explicit branch input on that branch', { branch: 'release', source: 'input' }, 'refs/heads/release'],
    ['an explicit branch input run by hand', { branch: 'release', source: 'input' }, undefined],
    ['the branch taken from GITHUB_REF_NAME', { branch: 'feature/x', source: 'ref-name' }, 'refs/heads/feature/x'],
    ['a branch from GITHUB_REF_NAME run by hand', { branch: 'main', source: 'ref-name' }, undefined],
    ['a run by hand without GITHUB_REF', { branch: 'master', source: 'event' }, undefined],
  ])('allows %s', (_name, choice, ref) => {
    expect(() => checkRunOnBranch(choice, ref)).not.toThrow();
  });
  test.each([
    ['a dispatch on a feature branch', 'refs/heads/feature/tz'],
    ['a tag', 'refs/tags/v1.2.0'],
    ['a pull request merge ref', 'refs/pull/7/merge'],
    ['a branch whose name ends in the default branch', 'refs/heads/feature/master'],
    ['a tag named like the default branch', 'refs/tags/master'],
    ['a remote-tracking ref of the default branch', 'refs/remotes/origin/master'],
  ])('refuses %s advancing the default branch', (_name, ref) => {
    expect(() => checkRunOnBranch({ branch: 'master', source: 'event' }, ref)).toThrow(
      new RegExp(`this run is for ${ref} \\(GITHUB_REF\\), but it would advance the dumps of the default branch master; run it on master `),
    );
  });
});

test.each([
  ['a pull request merge ref', 'refs/pull/7/merge'],
  ['a tag', 'refs/tags/v1.0'],
])('allows a `branch` input on %s (not a branch: the workflow names its dumps), unless it names the default branch', (_name, ref) => {
  expect(() => checkRunOnBranch({ branch: 'pr-7', source: 'input' }, ref, 'main')).not.toThrow();
  expect(() => checkRunOnBranch({ branch: 'main', source: 'input' }, ref, 'main')).toThrow(
    new RegExp(`^Input \`branch\`: is main, the default branch, but this run is for ${ref} \\(GITHUB_REF\\), not a branch: its commit is not on main`),
  );
});

test.each([
  ['a dispatch on a feature branch', 'refs/heads/feat'],
  ['a schedule on the default branch', 'refs/heads/master'],
])('refuses a `branch` input advanced from another branch: %s', (_name, ref) => {
  expect(() => checkRunOnBranch({ branch: 'release', source: 'input' }, ref)).toThrow(
    new RegExp(`^Input \`branch\`: is release, but this run is for ${ref} \\(GITHUB_REF\\): only runs on release may advance its dumps .*; run it on release`),
  );
});

test.each([['refs/tags/v1.0'], ['refs/pull/7/merge']])('refuses a branch taken from the name of %s', (ref) => {
  expect(() => checkRunOnBranch({ branch: ref.replace(/^refs\/(tags|pull)\//, ''), source: 'ref-name' }, ref)).toThrow(
    new RegExp(`this run is for ${ref} \\(GITHUB_REF\\), not a branch, and the event names no default branch; set \`branch\``),
  );
});

describe('readEventPayload', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rd-event-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('reads the JSON payload', async () => {
    const file = path.join(dir, 'event.json');
    await writeFile(file, JSON.stringify(payloads.push));
    expect(await readEventPayload(file)).toEqual(payloads.push);
  });
  test.each([['missing', 'nope.json'], ['not JSON', 'bad.json']])('gives undefined for a %s file', async (_name, name) => {
    if (name === 'bad.json') await writeFile(path.join(dir, name), '{not json');
    expect(await readEventPayload(path.join(dir, name))).toBeUndefined();
  });
});

describe('readRunnerContext', () => {
  const sha = 'a'.repeat(40);
  test('reads the job variables', () => {
    const context = readRunnerContext({ GITHUB_SHA: sha, GITHUB_WORKSPACE: '/w/repo', RUNNER_TEMP: '/w/_temp', GITHUB_REPOSITORY: 'org/lms', GITHUB_REF: 'refs/heads/master', GITHUB_REF_NAME: 'master', GITHUB_EVENT_PATH: '/w/event.json' });
    expect(context).toEqual({ sha, workspace: '/w/repo', temp: '/w/_temp', repository: 'org/lms', ref: 'refs/heads/master', refName: 'master', eventPath: '/w/event.json' });
  });
  test.each<[NodeJS.ProcessEnv, RegExp]>([
    [{ GITHUB_WORKSPACE: '/w' }, /GITHUB_SHA is not set/],
    [{ GITHUB_SHA: 'abc123', GITHUB_WORKSPACE: '/w' }, /GITHUB_SHA is "abc123", not a full commit sha/],
    [{ GITHUB_SHA: sha }, /GITHUB_WORKSPACE is not set/],
  ])('refuses %j', (env, message) => {
    expect(() => readRunnerContext(env)).toThrow(message);
  });
});

describe('secretsToMask', () => {
  const none = { mysqlUrl: '', mongoUrl: '', s3Endpoint: '', store: 's3://dumps/x' };
  test.each<[string, Partial<Parameters<typeof secretsToMask>[0]>, NodeJS.ProcessEnv, string[], string[]]>([
    ['URL passwords as written, decoded and in both escape cases', { mysqlUrl: 'mysql://root:p%40ss%2fw@db:3306', mongoUrl: 'mongodb://app:s3cret@m:27017' }, {}, ['p%40ss%2fw', 'p%40ss%2Fw', 'p@ss/w', 's3cret'], ['root', 'app', 'db']],
    [
      'a partly escaped password with raw characters URL parsers re-encode',
      { mongoUrl: "mongodb://u:Mg%40x%3Ay%2Fz w'q\"p@127.0.0.1:17017/?authMechanism=PLAIN" },
      {},
      ["Mg%40x%3Ay%2Fz w'q\"p", "Mg@x:y/z w'q\"p"],
      ['127.0.0.1', 'authMechanism'],
    ],
    ['a password with an unescaped "/" runs to the last "@"', { mysqlUrl: 'mysql://u:ab/cd@db:3306/lms' }, {}, ['ab/cd'], ['lms']],
    [
      'secrets in MongoDB URL options',
      { mongoUrl: 'mongodb://m:27017/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:FwoGtoken&tlsCertificateKeyFilePassword=kfp' },
      {},
      ['FwoGtoken', 'kfp'],
      ['MONGODB-AWS', 'm:27017'],
    ],
    ['AWS keys from the environment', { mysqlUrl: 'mysql://root@db', s3Endpoint: 'http://minio:9000' }, { AWS_ACCESS_KEY_ID: 'AKIAX', AWS_SECRET_ACCESS_KEY: 'wJalr', AWS_SESSION_TOKEN: 'FwoG', AWS_REGION: 'eu-west-1' }, ['AKIAX', 'wJalr', 'FwoG'], ['eu-west-1']],
    ['an endpoint with credentials', { s3Endpoint: 'https://key:endpointpw@s3.example' }, {}, ['endpointpw', 'key:endpointpw'], ['s3.example']],
    ['keys pasted into the store URL (a secret key may contain "/")', { store: 's3://AKIAY:se/cr+et@bucket/p' }, {}, ['AKIAY:se/cr+et', 'se/cr+et'], ['bucket']],
    ['keys in the endpoint variables', {}, { AWS_ENDPOINT_URL_S3: 'http://AKIAZ:k3y@minio:9000' }, ['AKIAZ:k3y'], ['minio']],
    ['nothing secret', { mysqlUrl: 'mysql://root@db', mongoUrl: 'mongodb://m' }, {}, [], []],
  ])('%s', (_name, inputs, env, expected, notSecret) => {
    const secrets = secretsToMask({ ...none, ...inputs }, env);
    for (const secret of expected) expect(secrets).toContain(secret);
    for (const value of notSecret) expect(secrets.some((secret) => secret.includes(value))).toBe(false);
    if (expected.length === 0) expect(secrets).toEqual([]);
    expect(new Set(secrets).size).toBe(secrets.length);
  });
});

describe('forcedPushOf', () => {
  const sha = 'a'.repeat(40);
  const before = 'c'.repeat(40);
  const repository = { pushed_at: 1767261600 };
  const at = '2026-01-01T10:00:00.000Z';
  test.each<[string, unknown, { at?: string; replacedHead?: string } | undefined]>([
    ['a forced push of this commit to the branch: the push time and the head it replaced', { forced: true, ref: 'refs/heads/master', before, after: sha, repository }, { at, replacedHead: before }],
    ['the same with pushed_at as an ISO time', { forced: true, ref: 'refs/heads/master', before, after: sha, repository: { pushed_at: '2026-01-01T10:00:00Z' } }, { at, replacedHead: before }],
    ['a forced push without a push time', { forced: true, ref: 'refs/heads/master', before, after: sha }, { replacedHead: before }],
    ['a forced push without a replaced head', { forced: true, ref: 'refs/heads/master', after: sha, repository }, { at }],
    ['a forced push that created the branch (before is zeros)', { forced: true, ref: 'refs/heads/master', before: '0'.repeat(40), after: sha, repository }, { at }],
    ['a forced push whose before is not a sha', { forced: true, ref: 'refs/heads/master', before: 'HEAD~1', after: sha }, undefined],
    ['an ordinary push', { forced: false, ref: 'refs/heads/master', before, after: sha, repository }, undefined],
    ['a forced push of another commit (this run is late)', { forced: true, ref: 'refs/heads/master', before, after: 'b'.repeat(40), repository }, undefined],
    ['a forced push to another branch', { forced: true, ref: 'refs/heads/feature', before, after: sha, repository }, undefined],
    ['a dispatch (no forced field)', { ref: 'refs/heads/master', inputs: {}, repository }, undefined],
    ['no payload', undefined, undefined],
  ])('%s', (_case, payload, expected) => {
    const push = forcedPushOf(payload, 'master', sha);
    expect(push && { ...push, ...(push.at ? { at: push.at.toISOString() } : {}) }).toEqual(expected);
  });
});
