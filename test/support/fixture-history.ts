/**
 * The fixture Django app (test/fixtures/django-app) as tests use it: a temporary git repository with a
 * linear history of schema changes, the app's venv, and its migrate command run against given servers.
 *
 *   const history = await buildFixtureHistory();          // 5 commits on master, deterministic SHAs
 *   const tree = await checkoutFixtureCommit(history, history.commit('add-migration').sha);
 *   await runFixtureMigrate({ appDir: tree, mysqlUrl, mongoUrl, mongoDb });
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const fixtureAppDir = fileURLToPath(new URL('../fixtures/django-app', import.meta.url));
/**
 * The action's `migrate` input for the fixture app (run in the app's directory with the venv on PATH): the
 * app's `migrate` brings the Mongo collections and indexes up to date (`ensure_indexes`), then MySQL.
 */
export const fixtureMigrateCommand = 'python manage.py migrate --noinput';
/**
 * Tables whose rows a provisioned database needs: Django's bookkeeping (which migrations ran, content
 * types, permissions, the site) and the app's reference data. django_migrations' `id` and `applied`
 * differ between an incremental and a full run (application order and time), so a dump that must be
 * byte-identical across both has to normalise those two columns.
 */
export const fixtureDataTables = ['django_migrations', 'django_content_type', 'auth_permission', 'django_site', 'catalog_currency'] as const;
/** Collections whose documents are reference data (seeded by ensure_indexes). */
export const fixtureDataCollections = ['feature_flags'] as const;

/** How a commit changes the migration files relative to its parent. */
export type MigrationChange = 'initial' | 'additions' | 'none' | 'rewritten';

export type FixtureCommitLabel =
  | 'base'
  | 'add-migration'
  | 'code-only'
  | 'add-second-migration'
  | 'edit-migration'
  | 'feature-migration'
  | `bulk-${number}`;

export interface FixtureCommit {
  label: FixtureCommitLabel;
  sha: string;
  subject: string;
  change: MigrationChange;
  /** Migrations this commit adds or edits, as `app.name` (Django's own notation); all of them for `base`. */
  migrations: string[];
}

export interface FixtureHistory {
  /** The repository's working tree (HEAD: master, or the feature branch once one is added). */
  dir: string;
  branch: 'master';
  /** master's commits, oldest first, plus any added later (feature or bulk commits) in creation order. */
  commits: FixtureCommit[];
  commit(label: FixtureCommitLabel): FixtureCommit;
  /** Deletes the repository and every checkout made from it. */
  remove(): Promise<void>;
}

/** Building or reading the fixture history failed (git, the venv, the generator). Always fatal to the test. */
export class FixtureHistoryError extends Error {
  override name = 'FixtureHistoryError';
}

/** The fixture's migrate command exited non-zero; `output` holds everything it printed. Always fatal. */
export class FixtureMigrateError extends Error {
  override name = 'FixtureMigrateError';
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
  }
}

const historyDir = join(fixtureAppDir, 'history');
const GIT_IDENTITY = { name: 'Fixture Bot', email: 'fixture-bot@example.invalid' };
const FIRST_COMMIT_EPOCH = Date.UTC(2024, 0, 1) / 1000;
const BRANCH = 'master';
const FEATURE_BRANCH = 'feature/profile-timezone';
const REPO_GITIGNORE = '__pycache__/\n*.pyc\n';

interface Step {
  label: FixtureCommitLabel;
  /** The patch under history/ this commit applies. */
  patch: string;
  change: MigrationChange;
  migrations: string[];
  subject: string;
}

/** master after `base`, oldest first: each commit applies one patch of history/. */
const MASTER_STEPS: Step[] = [
  {
    label: 'add-migration',
    patch: '02-product-weight.patch',
    change: 'additions',
    migrations: ['catalog.0004_product_weight'],
    subject: 'catalog: product weight',
  },
  { label: 'code-only', patch: '03-order-totals.patch', change: 'none', migrations: [], subject: 'orders: order totals helper' },
  {
    label: 'add-second-migration',
    patch: '04-shipments.patch',
    change: 'additions',
    migrations: ['orders.0003_shipment'],
    subject: 'orders: shipments, events indexed by tracking number',
  },
  {
    label: 'edit-migration',
    patch: '05-edit-product-weight.patch',
    change: 'rewritten',
    migrations: ['catalog.0004_product_weight'],
    subject: 'catalog: product weight defaults to 0 and is indexed (edits 0004)',
  },
];
const FEATURE_STEP: Step = {
  label: 'feature-migration',
  patch: 'feature-profile-timezone.patch',
  change: 'additions',
  migrations: ['accounts.0003_profile_timezone'],
  subject: 'accounts: profile timezone',
};

interface Run {
  stdout: string;
  stderr: string;
}

interface RunOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

function run(file: string, args: readonly string[], options: RunOptions): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      [...args],
      { cwd: options.cwd, env: options.env ?? process.env, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => (error ? reject(Object.assign(error, { stdout, stderr })) : resolve({ stdout, stderr })),
    );
  });
}

function failureText(error: unknown): string {
  const { stdout = '', stderr = '', message = String(error) } = error as { stdout?: string; stderr?: string; message?: string };
  return `${stderr}${stdout}`.trim() || message;
}

class FixtureRepo {
  private commitCount = 0;

  constructor(readonly dir: string) {}

  /** git with a fixed identity and clock, and no user/system config, so SHAs depend on content alone. */
  async git(...args: string[]): Promise<string> {
    const date = `${FIRST_COMMIT_EPOCH + this.commitCount * 3600} +0000`;
    const env = {
      ...process.env,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_TERMINAL_PROMPT: '0',
      GIT_AUTHOR_NAME: GIT_IDENTITY.name,
      GIT_AUTHOR_EMAIL: GIT_IDENTITY.email,
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_NAME: GIT_IDENTITY.name,
      GIT_COMMITTER_EMAIL: GIT_IDENTITY.email,
      GIT_COMMITTER_DATE: date,
    };
    try {
      return (await run('git', args, { cwd: this.dir, env })).stdout.trim();
    } catch (error) {
      throw new FixtureHistoryError(`git ${args.join(' ')} failed in ${this.dir}: ${failureText(error)}`);
    }
  }

  /** Applies history/<patch> to the tree and the index; a patch that no longer fits fails loudly. */
  async applyStep(patch: string): Promise<void> {
    try {
      await this.git('apply', '--index', join(historyDir, patch));
    } catch (error) {
      throw new FixtureHistoryError(
        `test/fixtures/django-app/history/${patch} no longer applies to the fixture app; ` +
          `regenerate it as test/fixtures/django-app/README.md explains (${(error as Error).message})`,
      );
    }
  }

  async commitAll(subject: string): Promise<string> {
    await this.git('add', '--all');
    await this.git('commit', '--quiet', '--no-verify', '-m', subject);
    this.commitCount += 1;
    return this.git('rev-parse', 'HEAD');
  }
}

/** Copies the fixture app into the repository, leaving out bytecode and the history patches. */
async function copyFixtureApp(to: string): Promise<void> {
  await cp(fixtureAppDir, to, {
    recursive: true,
    filter: (source) => source !== historyDir && basename(source) !== '__pycache__' && !source.endsWith('.pyc'),
  });
}

/** `app.name` for every migration file under `dir` (the `<app>/migrations/<NNNN>_*.py` layout). */
export async function listMigrations(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const app of await readdir(dir, { withFileTypes: true })) {
    if (!app.isDirectory() || app.name.startsWith('.')) continue;
    const files = await readdir(join(dir, app.name, 'migrations')).catch(() => [] as string[]);
    for (const file of files) if (/^\d{4}_\w+\.py$/.test(file)) found.push(`${app.name}.${file.slice(0, -3)}`);
  }
  return found.sort();
}

/**
 * Builds a repository whose master is, oldest first: `base` (the fixture app, plus `bulkMigrations`
 * generated migrations when asked), `add-migration` (additions only), `code-only` (no migration change),
 * `add-second-migration` (additions only, plus a new Mongo index), `edit-migration` (rewrites the
 * migration `add-migration` added). Same fixture files and options give the same SHAs on any machine.
 */
export async function buildFixtureHistory(options: { bulkMigrations?: number } = {}): Promise<FixtureHistory> {
  const root = await mkdtemp(join(tmpdir(), 'fixture-history-'));
  const repo = new FixtureRepo(join(root, 'repo'));
  try {
    await mkdir(repo.dir);
    await repo.git('init', '--quiet', `--initial-branch=${BRANCH}`);
    await repo.git('config', 'core.autocrlf', 'false');
    await copyFixtureApp(repo.dir);
    await writeFile(join(repo.dir, '.gitignore'), REPO_GITIGNORE);
    if (options.bulkMigrations) await generateBulkMigrations(repo.dir, options.bulkMigrations);
    const migrations = await listMigrations(repo.dir);
    const subject = 'fixture app';
    const commits: FixtureCommit[] = [{ label: 'base', subject, change: 'initial', migrations, sha: await repo.commitAll(subject) }];
    for (const { patch, ...step } of MASTER_STEPS) {
      await repo.applyStep(patch);
      commits.push({ ...step, migrations: [...step.migrations], sha: await repo.commitAll(step.subject) });
    }
    return historyHandle(root, repo, commits);
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
}

const repos = new WeakMap<FixtureHistory, FixtureRepo>();

function historyHandle(root: string, repo: FixtureRepo, commits: FixtureCommit[]): FixtureHistory {
  const history: FixtureHistory = {
    dir: repo.dir,
    branch: BRANCH,
    commits,
    commit(label) {
      const found = commits.find((commit) => commit.label === label);
      if (!found) {
        const labels = commits.map((commit) => commit.label).join(', ');
        throw new FixtureHistoryError(`the fixture history has no commit labelled '${label}' (it has: ${labels})`);
      }
      return found;
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
  repos.set(history, repo);
  return history;
}

function repoOf(history: FixtureHistory): FixtureRepo {
  const repo = repos.get(history);
  if (!repo) throw new FixtureHistoryError('not a history made by buildFixtureHistory');
  return repo;
}

/**
 * Creates `feature/profile-timezone` at master's tip with one commit adding one migration
 * (`accounts.0003_profile_timezone`) and leaves the working tree on it, as a developer's checkout.
 */
export async function addFeatureBranchCommit(history: FixtureHistory): Promise<FixtureCommit & { branch: string }> {
  const repo = repoOf(history);
  await repo.git('switch', '--quiet', '--create', FEATURE_BRANCH, BRANCH);
  const { patch, ...step } = FEATURE_STEP;
  await repo.applyStep(patch);
  const commit: FixtureCommit = { ...step, migrations: [...step.migrations], sha: await repo.commitAll(step.subject) };
  history.commits.push(commit);
  return { ...commit, branch: FEATURE_BRANCH };
}

/** Commits on the current branch with the bulk app regenerated to `count` migrations (label `bulk-<count>`). */
export async function commitBulkMigrations(history: FixtureHistory, count: number): Promise<FixtureCommit> {
  const repo = repoOf(history);
  const before = new Set(await listMigrations(repo.dir));
  await generateBulkMigrations(repo.dir, count);
  const after = await listMigrations(repo.dir);
  const added = after.filter((name) => !before.has(name));
  const subject = `bulk: ${count} generated migrations`;
  const commit: FixtureCommit = {
    label: `bulk-${count}`,
    subject,
    change: after.length < before.size ? 'rewritten' : added.length > 0 ? 'additions' : 'none',
    migrations: added,
    sha: await repo.commitAll(subject),
  };
  history.commits.push(commit);
  return commit;
}

/** A detached worktree of `sha` (default directory: beside the repository); returns its path. */
export async function checkoutFixtureCommit(history: FixtureHistory, sha: string, dir?: string): Promise<string> {
  const target = dir ?? join(dirname(history.dir), 'checkouts', sha.slice(0, 12));
  await repoOf(history).git('worktree', 'add', '--quiet', '--detach', target, sha);
  return target;
}

/** Runs generate_migrations.py: `appDir`'s bulk app ends with exactly `count` generated migrations. */
export async function generateBulkMigrations(appDir: string, count: number, python?: string): Promise<void> {
  const interpreter = python ?? (await ensureFixtureVenv());
  try {
    await run(interpreter, [join(appDir, 'generate_migrations.py'), String(count), '--app-dir', appDir], { cwd: appDir });
  } catch (error) {
    throw new FixtureHistoryError(`generate_migrations.py ${count} failed in ${appDir}: ${failureText(error)}`);
  }
}

let venvPython: Promise<string> | undefined;

/** The fixture app venv's python (created on first use by test/fixtures/django-app/setup, then cached). */
export function ensureFixtureVenv(): Promise<string> {
  venvPython ??= run('bash', [join(fixtureAppDir, 'setup')], { cwd: fixtureAppDir, timeoutMs: 15 * 60_000 }).then(
    ({ stdout }) => stdout.trim().split('\n').at(-1) ?? '',
    (error: unknown) => {
      venvPython = undefined;
      throw new FixtureHistoryError(`test/fixtures/django-app/setup failed: ${failureText(error)}`);
    },
  );
  return venvPython;
}

export interface FixtureServers {
  /** mysql://user:pass@host:port/database - the database must exist. */
  mysqlUrl: string;
  mongoUrl: string;
  mongoDb: string;
}

/**
 * Environment for running the fixture's migrate command in a shell (as the action does): the venv's
 * `python` first on PATH, plus the app's connection variables.
 */
export function fixtureEnv(python: string, servers: FixtureServers): NodeJS.ProcessEnv {
  const bin = dirname(python);
  return {
    ...process.env,
    PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`,
    VIRTUAL_ENV: dirname(bin),
    PYTHONDONTWRITEBYTECODE: '1',
    MYSQL_URL: servers.mysqlUrl,
    MONGO_URL: servers.mongoUrl,
    MONGO_DB: servers.mongoDb,
  };
}

export interface FixtureMigrateResult {
  durationMs: number;
  /** Migrations the run applied, as `app.name`, in order (empty when the database was up to date). */
  applied: string[];
  output: string;
}

/**
 * Runs the fixture's migrate command (`manage.py migrate --noinput`: Mongo's `ensure_indexes`, then the
 * MySQL migrations) in `appDir`, a checkout of some fixture commit, against the given servers.
 */
export async function runFixtureMigrate(
  options: FixtureServers & { appDir: string; python?: string },
): Promise<FixtureMigrateResult> {
  const python = options.python ?? (await ensureFixtureVenv());
  const env = fixtureEnv(python, options);
  const started = performance.now();
  const args = ['manage.py', 'migrate', '--noinput'];
  let output: string;
  try {
    const { stdout, stderr } = await run(python, args, { cwd: options.appDir, env, timeoutMs: 30 * 60_000 });
    output = stdout + stderr;
  } catch (error) {
    const text = failureText(error);
    const tail = text.split('\n').slice(-5).join('\n');
    throw new FixtureMigrateError(`${args.join(' ')} failed in ${options.appDir}: ${tail}`, text);
  }
  const applied = [...output.matchAll(/^\s*Applying (\S+)\.\.\. OK$/gm)].map((match) => match[1]!);
  return { durationMs: performance.now() - started, applied, output };
}
