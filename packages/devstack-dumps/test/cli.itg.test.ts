import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cli, writeSmallDumpSet } from './support.js';


const git = (cwd: string, ...args: string[]) =>
  new Promise<string>((resolve, reject) =>
    execFile('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd }, (error, stdout) => (error ? reject(error) : resolve(stdout.trim()))),
  );

describe('devstack-dumps CLI end to end (filesystem store, real git)', () => {
  let repo: string;
  let store: string;
  const commits: string[] = [];

  beforeAll(async () => {
    repo = await mkdtemp(path.join(tmpdir(), 'dv-cli-'));
    store = path.join(repo, 'store');
    await git(repo, 'init', '-q', '-b', 'master');
    await addMigration(1);
    // As `dump` leaves it: the CLI publishes only a dump set with its checksum list.
    await writeSmallDumpSet(path.join(repo, 'dump'));
  });
  afterAll(() => rm(repo, { recursive: true, force: true }));

  async function addMigration(step: number) {
    await mkdir(path.join(repo, 'app/migrations'), { recursive: true });
    await writeFile(path.join(repo, `app/migrations/000${step}_step.py`), `# migration ${step}\n`);
    await git(repo, 'add', 'app');
    await git(repo, 'commit', '-q', '-m', `step ${step}`);
    commits.push(await git(repo, 'rev-parse', 'HEAD'));
  }

  test('publish, resolve --json, pull, list and verify succeed with exit 0', async () => {
    const published = await cli(
      ['publish', '--store', store, '--service', 'lms', '--commit', commits[0]!, '--branch', 'master', '--migrations-glob', '**/migrations/[0-9]*.py', '--json', 'dump'],
      repo,
    );
    expect(published.stderr).toBe('');
    expect(published.code).toBe(0);
    const version = JSON.parse(published.stdout).version as string;
    await addMigration(2);

    // HEAD is one commit ahead of the published one: resolve finds the nearest ancestor.
    const resolved = await cli(['resolve', '--service', 'lms', '--json'], repo, { DEVSTACK_DUMPS_STORE: store });
    expect(resolved.code).toBe(0);
    expect(JSON.parse(resolved.stdout)).toMatchObject({ commit: commits[0], version, distance: 1 });

    const out = path.join(repo, 'pulled');
    const pulled = await cli(['pull', '--store', store, '--service', 'lms', '--commit', commits[0]!, '--out', out], repo);
    expect(pulled.code).toBe(0);
    expect(await readFile(path.join(out, 'mysql/app.sql'), 'utf8')).toBe('CREATE TABLE a (id int);\n');
    // The checksum list beside the pulled directory, as `dump` writes it, so `load` can refuse later edits.
    const checksums = JSON.parse(await readFile(`${out}.checksums.json`, 'utf8'));
    expect(checksums).toMatchObject({ format: 1, version, files: [{ path: 'mysql/app.schema.json' }, { path: 'mysql/app.sql', size: 25 }] });
    await writeFile(path.join(out, 'mysql/app.sql'), 'CREATE TABLE a (id bigint);\n');
    const altered = await cli(['load', out, '--mysql', 'mysql://root:pw@127.0.0.1:1'], repo);
    expect(altered.code).toBe(1);
    expect(altered.stderr).toMatch(/mysql\/app\.sql was altered/);
    // publish refuses what load refuses: nothing altered since the dump reaches the store.
    const alteredPublish = await cli(['publish', '--store', store, '--service', 'lms', '--commit', commits[1]!, '--branch', 'master', out], repo);
    expect(alteredPublish.code).toBe(1);
    expect(alteredPublish.stderr).toMatch(/mysql\/app\.sql was altered/);
    expect((await cli(['pull', '--store', store, '--service', 'lms', '--commit', commits[1]!, '--out', path.join(repo, 'never')], repo)).code).toBe(1);

    const listed = await cli(['list', '--store', store, '--service', 'lms'], repo);
    expect(listed.stdout).toContain(version.slice(0, 12));
    expect((await cli(['verify', '--store', store], repo)).code).toBe(0);

    const pending = await cli(['fingerprint', '--store', store, '--service', 'lms', '--against-commit', 'HEAD', '--json'], repo);
    expect(pending.code).toBe(0);
    expect(JSON.parse(pending.stdout)).toMatchObject({ against: commits[0], kind: 'additions-only', added: [{ app: 'app', name: '0002_step' }] });
  });

  test('failures exit 1 with one clear message; usage errors exit 2', async () => {
    const unknown = await cli(['pull', '--store', store, '--service', 'lms', '--version', 'f'.repeat(64), '--out', path.join(repo, 'x')], repo);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: version f{64} of service lms is not in .*; run `devstack-dumps list/)]);

    const scheme = await cli(['verify', '--store', 'gs://bucket/x'], repo);
    expect(scheme.code).toBe(2);
    expect(scheme.stderr).toMatch(/unknown store scheme "gs:".* \(--store\)$/m);

    expect((await cli(['resolve', '--service', 'lms', '--commit', 'HEAD', '--branch', 'master'], repo)).code).toBe(2);
    expect((await cli(['pull', '--service', 'lms'], repo)).code).toBe(2);
    expect((await cli(['no-such-command'], repo)).code).toBe(2);
    const noMigrations = await cli(['publish', 'dump', '--store', store, '--service', 'lms', '--branch', 'master', '--migrations-glob', 'nowhere/*.py'], repo);
    expect(noMigrations.code).toBe(2);
    expect(noMigrations.stderr).toMatch(/--migrations-glob \(nowhere\/\*\.py\) matched no migration file under .*; give globs relative to --repo/);
    const missingRepo = await cli(['fingerprint', '--repo', path.join(repo, 'nope')], repo);
    expect(missingRepo.code).toBe(2);
    expect(missingRepo.stderr).toMatch(/--repo ".*nope" does not exist/);
    const revision = await cli(['pull', '--store', store, '--service', 'lms', '--commit', 'master~1', '--out', path.join(repo, 'y')], repo);
    expect(revision.code).toBe(2);
    expect(revision.stderr).toMatch(/--commit takes a full commit sha \(got "master~1"\)/);
    // A mistyped store or service holds nothing: verify and list fail rather than report a clean, empty store.
    const emptyStore = path.join(repo, 'empty-store');
    await mkdir(emptyStore, { recursive: true });
    const verifyEmpty = await cli(['verify', '--store', emptyStore], repo);
    expect(verifyEmpty.code).toBe(1);
    expect(verifyEmpty.stderr).toMatch(/^error: .*empty-store holds no dump of any service; check the store/m);
    const verifyTypo = await cli(['verify', '--store', store, '--service', 'lmss', '--json'], repo);
    expect(verifyTypo.code).toBe(1);
    expect(JSON.parse(verifyTypo.stdout)).toMatchObject({ error: { code: 'nothing-to-verify', message: expect.stringContaining('no dump of service lmss at all') } });
    const listTypo = await cli(['list', '--store', store, '--service', 'lmss'], repo);
    expect(listTypo.code).toBe(1);
    expect(listTypo.stderr).toMatch(/holds no dump of service lmss at all; check the service name and the store/);
    // A dump set without its checksum list (copied without it, or never finished) is not published.
    const bare = path.join(repo, 'bare-dump');
    await mkdir(path.join(bare, 'mysql'), { recursive: true });
    await writeFile(path.join(bare, 'mysql/app.sql'), 'CREATE TABLE a (id int);\n');
    await writeFile(path.join(bare, 'mysql/app.schema.json'), '{"format":1,"tables":[]}\n');
    const unlisted = await cli(['publish', bare, '--store', store, '--service', 'lms', '--branch', 'master'], repo);
    expect(unlisted.code).toBe(1);
    expect(unlisted.stderr).toMatch(/^error: dump set .*bare-dump has no checksum list beside it \(.*bare-dump\.checksums\.json/m);
    const help = await cli(['publish', '--help'], repo);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--branch <name>');
  });
});
