import { execFile } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { MIGRATE_VARIABLES, migrateEnvironment, migrateVariables, outputTail, parseMigrateLines, runMigrate, shellSyntaxIn } from '../src/migrate.js';

describe('shellSyntaxIn', () => {
  test.each<[string, string | undefined]>([
    ['python manage.py migrate --noinput', undefined],
    ['python manage.py migrate --noinput && python manage.py ensure_indexes', '`&&`'],
    ['./migrate.sh || true', '`||`'],
    ['migrate | tee log', '`|`'],
    ['migrate; seed', '`;`'],
    ['migrate > out.txt', '`>`'],
    ['migrate < input', '`<`'],
    ['echo `date`', 'backticks'],
    ['migrate --db $DATABASE', '`$DATABASE`'],
    ['migrate --db ${DATABASE}', '`${DATABASE}`'],
    ['migrate --db ${DATABASE:-lms}', '`${`'],
    ['migrate --since $(date)', '`$(`'],
    ['migrate &', '`&`'],
    ["python -c 'import x'", 'single quotes'],
    ['migrate "--label=a && b"', undefined],
    ['python -c "print(\'ok\'); print(1)"', undefined],
    ['migrate "a \\" && b"', undefined],
    ['curl http://host/run?a=1&b=2', undefined],
    ['migrate --price $5', undefined],
    ['migrate "unclosed', 'an unclosed double quote'],
    ['psql -d "$MYSQL_DATABASE"', '`$MYSQL_DATABASE`'],
    ['npx sequelize-cli db:migrate --url "$MYSQL_URL"', '`$MYSQL_URL`'],
    ['migrate-mongo up --db $MONGO_DB2/x', '`$MONGO_DB2`'],
    ['migrate --db "${DATABASE}"', '`${DATABASE}`'],
    ['migrate "price: $5"', undefined],
    ['python manage.py migrate # then indexes', 'a `#` comment'],
    ['migrate --label "a # b"', undefined],
    ['curl http://host/run#step', undefined],
  ])('%s', (line, expected) => {
    expect(shellSyntaxIn(line)).toBe(expected);
  });
});

describe('parseMigrateLines', () => {
  test('numbers the commands in order', () => {
    expect(parseMigrateLines(['python manage.py migrate --noinput', 'python manage.py ensure_indexes'])).toEqual([
      { index: 1, line: 'python manage.py migrate --noinput' },
      { index: 2, line: 'python manage.py ensure_indexes' },
    ]);
  });

  test.each<[string[], RegExp]>([
    [[], /^Input `migrate`: is required/],
    [['python manage.py migrate --noinput && python manage.py ensure_indexes'], /^Input `migrate`: line 1 .* uses `&&`; no shell runs these commands: put each command on its own line/],
    [['ok', "python -c 'x'"], /^Input `migrate`: line 2 .* uses single quotes; group arguments with double quotes instead$/],
    [['migrate --db "$MYSQL_DATABASE"'], /^Input `migrate`: line 1 .* uses `\$MYSQL_DATABASE`; no shell expands variables here \(not even in double quotes\): the commands get MYSQL_URL/],
    [['npx sequelize-cli db:migrate --url "$MYSQL_URL"'], /^Input `migrate`: line 1 \(`npx sequelize-cli db:migrate --url "\$MYSQL_URL"`\) uses `\$MYSQL_URL`; /],
    [['migrate $MONGO_DATABASES'], /: the commands get MYSQL_URL, MYSQL_DATABASE, MYSQL_DATABASES, MONGO_URL, MONGO_DB, MONGO_DATABASES and the job environment as environment variables;/],
    [['migrate # all of them'], /^Input `migrate`: line 1 .* uses a `#` comment; put comments on their own line$/],
  ])('refuses %j', (lines, message) => {
    expect(() => parseMigrateLines(lines)).toThrow(message);
  });
});

describe('migrateEnvironment', () => {
  test('keeps the job environment, drops what only the action holds, adds the service variables', () => {
    const job = { PATH: '/usr/bin', HOME: '/home/runner', GITHUB_SHA: 'abc', RUNNER_TEMP: '/tmp/r', AWS_REGION: 'eu-west-1', DJANGO_SETTINGS_MODULE: 'lms.settings', ACTIONS_STEP_DEBUG: 'true' };
    const actionOnly = {
      ACTIONS_RUNTIME_TOKEN: 'runtime-token',
      ACTIONS_RUNTIME_URL: 'https://pipelines.example/',
      ACTIONS_CACHE_URL: 'https://cache.example/',
      ACTIONS_RESULTS_URL: 'https://results.example/',
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc-token',
      ACTIONS_ID_TOKEN_REQUEST_URL: 'https://oidc.example/',
      'INPUT_MYSQL-URL': 'mysql://root:pw@db:3306',
      INPUT_SERVICE: 'lms',
    };
    const service = { MYSQL_URL: 'mysql://root:pw@db:3306/lms', MYSQL_DATABASE: 'lms' };
    expect(migrateEnvironment({ ...job, ...actionOnly, UNSET: undefined, MYSQL_URL: 'from-the-job' }, service)).toEqual({ ...job, ...service });
  });
});

describe('migrateVariables', () => {
  test.each<[string, Parameters<typeof migrateVariables>[0], Record<string, string>]>([
    [
      'both engines, the first database of each',
      { mysqlUrl: 'mysql://root:p%40ss@db:3306', mysqlDatabases: ['lms', 'lms_audit'], mongoUrl: 'mongodb://mongo:27017', mongoDatabases: ['lms'] },
      {
        MYSQL_URL: 'mysql://root:p%40ss@db:3306/lms',
        MYSQL_DATABASE: 'lms',
        MYSQL_DATABASES: 'lms,lms_audit',
        MONGO_URL: 'mongodb://mongo:27017',
        MONGO_DB: 'lms',
        MONGO_DATABASES: 'lms',
      },
    ],
    [
      'a path and query on the server URL',
      { mysqlUrl: 'mysql://u:p@db/ignored?ssl-mode=REQUIRED', mysqlDatabases: ['shop'], mongoUrl: '', mongoDatabases: [] },
      { MYSQL_URL: 'mysql://u:p@db/shop?ssl-mode=REQUIRED', MYSQL_DATABASE: 'shop', MYSQL_DATABASES: 'shop' },
    ],
    [
      'Mongo only',
      { mysqlUrl: '', mysqlDatabases: [], mongoUrl: 'mongodb://u:p@m:27017/?authSource=admin', mongoDatabases: ['events', 'audit'] },
      { MONGO_URL: 'mongodb://u:p@m:27017/?authSource=admin', MONGO_DB: 'events', MONGO_DATABASES: 'events,audit' },
    ],
  ])('%s', (_name, inputs, expected) => {
    expect(migrateVariables(inputs)).toEqual(expected);
  });

  test('MIGRATE_VARIABLES (which messages list) names exactly what the commands can get', () => {
    const both = migrateVariables({ mysqlUrl: 'mysql://db', mysqlDatabases: ['lms'], mongoUrl: 'mongodb://m', mongoDatabases: ['lms'] });
    expect(Object.keys(both).sort()).toEqual([...MIGRATE_VARIABLES].sort());
  });
});

// Real processes (node itself), no shell: what @actions/exec does with each line.
describe('runMigrate', () => {
  const env = { PATH: process.env.PATH ?? '', MARKER: 'from-env' };
  const node = JSON.stringify(process.execPath);

  test('runs every command in order and times each', async () => {
    const runs = await runMigrate(parseMigrateLines([`${node} -e "process.exit(0)"`, `${node} -e "process.exit(process.env.MARKER === 'from-env' ? 0 : 1)"`]), { cwd: process.cwd(), env });
    expect(runs.map((run) => run.command.index)).toEqual([1, 2]);
    for (const run of runs) expect(run.durationMs).toBeGreaterThan(0);
  });

  test('commands that exit before their stdin is ended do not crash the action (EPIPE on the pipe)', async () => {
    // `true` exits at once; @actions/exec's end of its stdin then fails now and then (1 in 8 here). A
    // process of its own, as the action is: an uncaught error there ends it.
    const source = JSON.stringify(new URL('../src/migrate.ts', import.meta.url).href);
    const script = `const { parseMigrateLines, runMigrate } = await import(${source});
      const runs = await runMigrate(parseMigrateLines(Array.from({ length: 150 }, () => 'true')), { cwd: process.cwd(), env: { PATH: process.env.PATH } });
      await new Promise((resolve) => setTimeout(resolve, 50));
      console.log('ran', runs.length);`;
    const child = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, ...env } }, (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(child.stderr).not.toContain('EPIPE');
    expect(child.stdout).toContain('ran 150');
    expect(child.code).toBe(0);
  }, 60_000);

  test('a command that reads stdin gets end-of-file at once (a prompt does not hang the job)', async () => {
    // Without the end-of-file, this command waits on an open pipe forever: the test's timeout ends it.
    const line = `${node} -e "let n=0; process.stdin.on('data', (d) => (n += d.length)); process.stdin.on('end', () => process.exit(n === 0 ? 0 : 1))"`;
    const runs = await runMigrate(parseMigrateLines([line]), { cwd: process.cwd(), env });
    expect(runs).toHaveLength(1);
  }, 10_000);

  test('stops at the first failing command and quotes its last output', async () => {
    const lines = [`${node} -e "console.log('step one'); console.error('no such table: x'); process.exit(3)"`, `${node} -e "require('fs').writeFileSync('never', '')"`];
    await expect(runMigrate(parseMigrateLines(lines), { cwd: process.cwd(), env })).rejects.toThrow(
      /^migrate command 1 of 2 \(`.*`\) failed \(check input `migrate`\): exited with code 3; its last output:\nstep one\nno such table: x$/,
    );
  });

  test('masks secrets in the quoted output', async () => {
    const line = `${node} -e "console.error('cannot connect to mysql://root:hunter2@db'); process.exit(1)"`;
    await expect(runMigrate(parseMigrateLines([line]), { cwd: process.cwd(), env, mask: (text) => text.replaceAll('hunter2', '***') })).rejects.toThrow(
      expect.objectContaining({ message: expect.stringContaining('mysql://root:***@db') }),
    );
  });

  test('names a program that does not exist', async () => {
    await expect(runMigrate(parseMigrateLines(['no-such-program-xyz migrate']), { cwd: process.cwd(), env })).rejects.toThrow(
      /^migrate command 1 of 1 \(`no-such-program-xyz migrate`\) failed \(check input `migrate`\): could not start: .*no-such-program-xyz/,
    );
  });
});

describe('outputTail', () => {
  test.each<[string, string[], string[]]>([
    ['a short output, as it is', ['collecting\n', 'Error: boom\n'], ['collecting', 'Error: boom']],
    [
      'an error line above a long stack trace comes first',
      ["migration file \"20260101_a.cjs\" failed\n", "Error: Table 'orders' already exists\n", ...Array.from({ length: 10 }, (_, i) => `    at frame${i} (node_modules/knex/lib/x.js:${i}:1)\n`)],
      ["Error: Table 'orders' already exists", '...', ...Array.from({ length: 8 }, (_, i) => `    at frame${i + 2} (node_modules/knex/lib/x.js:${i + 2}:1)`)],
    ],
    ['a line split across chunks is read whole', ['Err', 'or: split\n', ...Array.from({ length: 9 }, (_, i) => `line ${i}\n`)], ['Error: split', '...', ...Array.from({ length: 8 }, (_, i) => `line ${i + 1}`)]],
    [
      'a Python chained traceback: the exception, not the "above exception" line',
      ['django.db.utils.ProgrammingError: (1146, "Table \'lms.shop_customer\' doesn\'t exist")\n', '\n', 'The above exception was the direct cause of the following exception:\n', ...Array.from({ length: 9 }, (_, i) => `  File "x.py", line ${i}\n`)],
      ['django.db.utils.ProgrammingError: (1146, "Table \'lms.shop_customer\' doesn\'t exist")', '...', ...Array.from({ length: 8 }, (_, i) => `  File "x.py", line ${i + 1}`)],
    ],
    [
      'a TypeError after a long SQL log that mentions error: the exception, cut to 300 characters at most',
      [`select * from t where status = 'error' ${'x'.repeat(70_000)}\n`, `TypeError: ${'y'.repeat(400)}\n`, ...Array.from({ length: 9 }, (_, i) => `    at f${i}\n`)],
      [`TypeError: ${'y'.repeat(289)}...`, '...', ...Array.from({ length: 8 }, (_, i) => `    at f${i + 1}`)],
    ],
  ])('%s', (_case, chunks, expected) => {
    const tail = outputTail();
    for (const chunk of chunks) tail.add(Buffer.from(chunk));
    expect(tail.lines()).toEqual(expected);
  });
});
