import { describe, expect, it, test } from 'vitest';
import { type ActRun, buildActArgs, defaultWorkflow, onlyLists, parseCommandLine } from '../../scripts/act/args.js';
import { formatDotenv, splitSettings } from '../../scripts/act/env-files.js';
import { UsageError } from '../../scripts/act/errors.js';

describe('parseCommandLine', () => {
  test.each([
    { argv: [], workflow: defaultWorkflow, job: undefined, actArgs: [] },
    { argv: ['--job', 'e2e-build-image'], workflow: defaultWorkflow, job: 'e2e-build-image', actArgs: [] },
    { argv: ['-j', 'smoke', '-W', 'w.yml'], workflow: 'w.yml', job: 'smoke', actArgs: [] },
    { argv: ['--workflow=a.yml', '--job=b'], workflow: 'a.yml', job: 'b', actArgs: [] },
    { argv: ['--workflows', 'x.yml', '--list'], workflow: 'x.yml', job: undefined, actArgs: ['--list'] },
    { argv: ['--', '--job', 'j', '-v', 'push'], workflow: defaultWorkflow, job: 'j', actArgs: ['-v', 'push'] },
    { argv: ['--var', 'A=1', '--job', 'j', '--secret', 'B'], workflow: defaultWorkflow, job: 'j', actArgs: ['--var', 'A=1', '--secret', 'B'] },
  ])('$argv', ({ argv, workflow, job, actArgs }) => {
    expect(parseCommandLine(argv)).toEqual({ workflow, job, actArgs, help: false });
  });

  test.each([[['--job']], [['--workflow', '--job', 'x']], [['--job=']]])('%j is a usage error naming the flag', (argv) => {
    expect(() => parseCommandLine(argv)).toThrow(UsageError);
    expect(() => parseCommandLine(argv)).toThrow(/^--(job|workflow) needs a value; usage: pnpm act/);
  });

  it('recognises --help', () => {
    expect(parseCommandLine(['--help']).help).toBe(true);
  });
});

const base: ActRun = {
  workflow: '.github/workflows/e2e.yml',
  job: undefined,
  image: 'localhost/org-actions/act-runner:abc123',
  imageIsLocal: true,
  artifactServerPort: 41000,
  cacheServerPath: '/cache/act/cache',
  mounts: [],
  runId: '1733400000123',
  actArgs: [],
};

/** What every run with `base` starts with. */
const baseArgs = [
  '--workflows', '.github/workflows/e2e.yml',
  '--platform', 'ubuntu-latest=localhost/org-actions/act-runner:abc123',
  '--pull=false',
  '--artifact-server-port', '41000',
  '--cache-server-path', '/cache/act/cache',
  '--env', 'GITHUB_RUN_ID=1733400000123',
];

describe('buildActArgs', () => {
  test.each([
    { name: 'local image, all jobs', run: base, want: baseArgs },
    {
      name: 'one job, an image act must pull, a mount and extra act args last',
      run: { ...base, job: 'e2e-build-image', image: 'catthehacker/ubuntu:act-22.04', imageIsLocal: false, mounts: [{ path: '/tc/wheels', readOnly: true }], actArgs: ['-v', '--rm'] },
      want: [
        '--workflows', '.github/workflows/e2e.yml',
        '--job', 'e2e-build-image',
        '--platform', 'ubuntu-latest=catthehacker/ubuntu:act-22.04',
        '--pull=true',
        '--artifact-server-port', '41000',
        '--cache-server-path', '/cache/act/cache',
        '--container-options', '--volume=/tc/wheels:/tc/wheels:ro',
        '--env', 'GITHUB_RUN_ID=1733400000123',
        '-v', '--rm',
      ],
    },
    {
      name: 'several mounts share one --container-options',
      run: { ...base, mounts: [{ path: '/a', readOnly: false }, { path: '/b/c', readOnly: true }] },
      want: [...baseArgs.slice(0, -2), '--container-options', '--volume=/a:/a --volume=/b/c:/b/c:ro', ...baseArgs.slice(-2)],
    },
    {
      name: 'a run id given with --env is the one act gets',
      run: { ...base, actArgs: ['--env', 'GITHUB_RUN_ID=77'] },
      want: [...baseArgs.slice(0, -2), '--env', 'GITHUB_RUN_ID=77'],
    },
    {
      name: 'also as --env=',
      run: { ...base, actArgs: ['--env=GITHUB_RUN_ID=78'] },
      want: [...baseArgs.slice(0, -2), '--env=GITHUB_RUN_ID=78'],
    },
  ])('$name', ({ run, want }) => {
    expect(buildActArgs(run)).toEqual(want);
  });

  test.each(['/with space', '/with:colon', '/a,b'])('refuses to mount %s', (mount) => {
    expect(() => buildActArgs({ ...base, mounts: [{ path: mount, readOnly: true }] })).toThrow(UsageError);
  });
});

describe('onlyLists', () => {
  test.each<[string[], boolean]>([
    [['--list'], true],
    [['-l'], true],
    [['--graph'], true],
    [['-g'], true],
    [['--job', 'e2e', '-v'], false],
    [[], false],
    [['--list-options'], false],
  ])('%j -> %s', (args, expected) => {
    expect(onlyLists(args)).toBe(expected);
  });
});

describe('splitSettings', () => {
  test.each([
    { name: 'TEST_MYSQL_URL', value: 'mysql://root:pw@127.0.0.1:13306', kind: 'secrets' },
    { name: 'TEST_MONGO_URL', value: 'mongodb://127.0.0.1:17017', kind: 'vars' },
    { name: 'TEST_MONGO_URL', value: 'mongodb://u:p@127.0.0.1:17017', kind: 'secrets' },
    { name: 'TEST_S3_ACCESS_KEY_ID', value: 'oa123', kind: 'secrets' },
    { name: 'TEST_S3_SECRET_ACCESS_KEY', value: 'xyz', kind: 'secrets' },
    { name: 'TEST_S3_ENDPOINT', value: 'http://127.0.0.1:19000', kind: 'vars' },
    { name: 'TEST_REGISTRY', value: '127.0.0.1:15000', kind: 'vars' },
    { name: 'DOCKER_HOST', value: 'unix:///tmp/docker.sock', kind: 'neither' },
    { name: 'HOME', value: '/root', kind: 'neither' },
    { name: 'TEST_EMPTY', value: '', kind: 'neither' },
  ])('$name=$value goes to $kind', ({ name, value, kind }) => {
    const { secrets, vars } = splitSettings({ [name]: value });
    expect(name in secrets).toBe(kind === 'secrets');
    expect(name in vars).toBe(kind === 'vars');
  });

  it('always switches the service containers off', () => {
    expect(splitSettings({}).vars).toEqual({ USE_SERVICE_CONTAINERS: 'false' });
  });
});

describe('formatDotenv', () => {
  it('single-quotes values so $ and # stay literal', () => {
    expect(formatDotenv({ A: 'x$y#z', B: 'mysql://u:p@h:1' })).toBe("A='x$y#z'\nB='mysql://u:p@h:1'\n");
  });

  test.each(["it's", 'two\nlines'])('refuses %j', (value) => {
    expect(() => formatDotenv({ A: value })).toThrow(/^A: a value with a single quote or a line break/);
  });
});
