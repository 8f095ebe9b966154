import { InvalidArgumentError } from 'commander';
import { describe, expect, test } from 'vitest';
import { main } from '../src/cli.js';
import type { CommandContext } from '../src/internal/context.js';
import { databaseInUrl, databaseList, databaseName, databasesToDump, loadRename, nameList, renameOnly, serverUrl, waitSeconds } from '../src/internal/server-options.js';
import { exactlyOne, existingDirectory, fullCommitSha, wholeNumber } from '../src/internal/usage.js';
import { flagHint, passwordOnCommandLine, serverSourceHint } from '../src/cli.js';
import { describeDistance } from '../src/internal/output.js';
import { InvalidInputError, StoreConfigError } from '@org/dump-versioning';
import { AccessDeniedError, ServerUnreachableError, SystemDatabaseError, TargetNotEmptyError, TlsError } from '@org/mysql-dump';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UsageError } from '../src/internal/usage.js';

function capture(): CommandContext & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (text: string) => ((out += text), true) } as unknown as CommandContext['stdout'],
    stderr: { write: (text: string) => ((err += text), true) } as unknown as CommandContext['stderr'],
    env: {},
    cwd: process.cwd(),
    out: () => out,
    err: () => err,
  };
}

describe('option parsing', () => {
  test('name lists split on commas, trim, de-duplicate and accumulate over repeats', () => {
    const parse = nameList('--mysql-db');
    expect(parse('a, b,a', undefined)).toEqual(['a', 'b']);
    expect(parse('c', ['a', 'b'])).toEqual(['a', 'b', 'c']);
    expect(() => parse('a,,b', undefined)).toThrow(InvalidArgumentError);
  });

  test.each<[string, 'mysql' | 'mongo', string, RegExp | undefined]>([
    ['a plain MySQL name', 'mysql', 'lms_dev', undefined],
    ['a MySQL name with a dash', 'mysql', 'lms-dev', undefined],
    ['a MySQL name over 64 characters', 'mysql', 'x'.repeat(65), /at most 64 characters/],
    ['a plain MongoDB name', 'mongo', 'lms_dev', undefined],
    ['a MongoDB name with a dot', 'mongo', 'a.b', /--mongo-db "a.b": MongoDB database names cannot contain "\."/],
    ['a MongoDB name with a slash', 'mongo', 'a/b', /cannot contain "\/"/],
    ['a MongoDB name over 63 bytes', 'mongo', 'x'.repeat(64), /at most 63 bytes/],
  ])('database names: %s', (_name, engine, value, error) => {
    const flag = engine === 'mysql' ? '--mysql-db' : '--mongo-db';
    for (const parse of [(v: string) => databaseList(flag, engine)(v, undefined), databaseName(flag, engine)]) {
      if (error) expect(() => parse(value)).toThrow(error);
      else expect(parse(value)).toEqual(expect.anything());
    }
  });

  test('name length limits: MySQL 64 characters, MongoDB 63 bytes (not characters)', () => {
    expect(databaseName('--mysql-db', 'mysql')('x'.repeat(64))).toBe('x'.repeat(64));
    expect(databaseName('--mongo-db', 'mongo')('x'.repeat(63))).toBe('x'.repeat(63));
    // 32 characters, 64 bytes in UTF-8
    expect(() => databaseName('--mongo-db', 'mongo')('é'.repeat(32))).toThrow(/at most 63 bytes/);
  });

  test('exactly one of a set of flags: none and several are usage errors naming the flags', () => {
    expect(exactlyOne({ version: 'abc' }, ['commit', 'version', 'branch'])).toBe('version');
    expect(() => exactlyOne({}, ['commit', 'version', 'branch'])).toThrow(new UsageError('pass one of --commit, --version, --branch'));
    expect(() => exactlyOne({ commit: 'a', maxDistance: 1 }, ['commit', 'maxDistance'])).toThrow(new UsageError('pass only one of --commit, --max-distance'));
  });

  test('whole numbers refuse negatives and fractions', () => {
    expect(wholeNumber('--max-distance')('0')).toBe(0);
    for (const bad of ['-1', '1.5', 'x']) expect(() => wholeNumber('--max-distance')(bad)).toThrow(/--max-distance must be a whole number/);
  });

  test('a single database name keeps its spaces, so a trailing one is refused', () => {
    expect(() => databaseName('--mysql-db', 'mysql')('lms ')).toThrow(/cannot end with a space/);
    expect(() => databaseName('--mysql-db', 'mysql')('  ')).toThrow(/give a database name/);
  });

  test('--repo must be an existing directory; --commit of pull a full sha', () => {
    expect(existingDirectory('--repo')(process.cwd())).toBe(process.cwd());
    expect(() => existingDirectory('--repo')('/no/such/dir')).toThrow('--repo "/no/such/dir" does not exist');
    expect(() => existingDirectory('--repo')(new URL(import.meta.url).pathname)).toThrow(/is not a directory/);
    expect(fullCommitSha('--commit')('A'.repeat(40))).toBe('a'.repeat(40));
    for (const bad of ['master~1', 'abc123', 'g'.repeat(40)]) expect(() => fullCommitSha('--commit')(bad)).toThrow(/--commit takes a full commit sha/);
  });

  test('--wait is a whole number of seconds up to 600', () => {
    expect(waitSeconds('0')).toBe(0);
    expect(waitSeconds('600')).toBe(600);
    for (const bad of ['-1', '1.5', '601', 'soon']) expect(() => waitSeconds(bad)).toThrow(/--wait must be a whole number of seconds from 0 to 600/);
  });

  test('server URLs must have the engine scheme; the error never shows the password', () => {
    expect(serverUrl('--mysql')('mariadb://root:pw@h:1')).toBe('mariadb://root:pw@h:1');
    expect(serverUrl('--mongo')('mongodb+srv://u:pw@cluster/x')).toBe('mongodb+srv://u:pw@cluster/x');
    expect(() => serverUrl('--mysql')('mongodb://root:Hidden1@h:1')).toThrow('--mysql must be a mysql:// or mariadb:// URL (got mongodb://root:***@h:1)');
  });

  test('databases to dump: the flag, else the URL path, else a usage error naming the flag', () => {
    expect(databasesToDump('--mysql-db', 'mysql://r:p@h:1/shop', ['lms'])).toEqual(['lms']);
    expect(databasesToDump('--mongo-db', 'mongodb://h:1/shop?authSource=admin', undefined)).toEqual(['shop']);
    expect(databaseInUrl('mysql://r:p@h:1')).toBeUndefined();
    expect(() => databasesToDump('--mysql-db', 'mysql://r:p@h:1/', undefined)).toThrow(new UsageError('--mysql-db is missing: name the database(s) to dump (e.g. --mysql-db lms), or put one in the URL path'));
  });

  test('--mysql-db/--mongo-db rename the only database of a one-database dump', () => {
    expect(renameOnly('--mysql-db', ['shop'], 'shop_copy')).toEqual({ shop: 'shop_copy' });
    expect(() => renameOnly('--mysql-db', [], 'x')).toThrow(/this dump has no such database; drop --mysql-db/);
    expect(renameOnly('--mysql-db', ['a', 'b'], undefined)).toBeUndefined();
    expect(() => renameOnly('--mongo-db', ['a', 'b'], 'x')).toThrow(/this dump has 2 \(a, b\); drop --mongo-db/);
  });

  // A load must not ignore the database a server URL names (dump reads it): with --replace it dropped the dump's own.
  test.each<[string, Parameters<typeof loadRename>, Record<string, string> | undefined | RegExp]>([
    ['the URL database is the target', ['--mysql-db', ['shop'], undefined, 'mysql://u:p@h:3306/shop_dev'], { shop: 'shop_dev' }],
    ['the same for MongoDB, options after it', ['--mongo-db', ['shop'], undefined, 'mongodb://u:p@h/shop_dev?authSource=admin'], { shop: 'shop_dev' }],
    ['the flag alone', ['--mysql-db', ['shop'], 'shop_dev', 'mysql://u:p@h:3306'], { shop: 'shop_dev' }],
    ['URL and flag agreeing', ['--mysql-db', ['shop'], 'shop_dev', 'mysql://u:p@h/shop_dev'], { shop: 'shop_dev' }],
    ['a system database in the path names the server only', ['--mysql-db', ['shop'], undefined, 'mysql://root:p@h/mysql'], undefined],
    ['admin in a Mongo path names the server only', ['--mongo-db', ['shop'], undefined, 'mongodb://root:p@h/admin'], undefined],
    ['no database in the URL', ['--mongo-db', ['a', 'b'], undefined, 'mongodb://h:27017/?tls=true'], undefined],
    ['a dump without that engine', ['--mongo-db', [], undefined, 'mongodb://h/shop_dev'], undefined],
    ['URL and flag disagreeing', ['--mysql-db', ['shop'], 'other', 'mysql://u:p@h/shop_dev'], /--mysql names the database `shop_dev` in its path and --mysql-db names `other`; give the target database once/],
    ['a URL database for a dump of several', ['--mysql-db', ['a', 'b'], undefined, 'mysql://u:p@h/shop_dev'], /this dump has 2 databases \(a, b\), each loaded under its own name; drop the database from the URL/],
  ])('%s', (_label, args, expected) => {
    if (expected instanceof RegExp) expect(() => loadRename(...args)).toThrow(expected);
    else expect(loadRename(...args)).toEqual(expected);
  });
});

describe('describeDistance', () => {
  const requested = 'a'.repeat(40);
  test('names the commit, the distance and how the dump was found', () => {
    expect(describeDistance({ distance: 0, requested })).toBe('(exactly this commit)');
    expect(describeDistance({ distance: 3, requested, via: 'history' })).toBe(`(3 first-parent commit(s) behind ${'a'.repeat(12)})`);
    expect(describeDistance({ distance: 3, requested })).toBe(`(3 first-parent commit(s) behind ${'a'.repeat(12)})`);
    expect(describeDistance({ distance: 3, requested, via: 'history', ancestors: 'all' })).toBe(`(3 commit(s) behind ${'a'.repeat(12)})`);
    expect(describeDistance({ distance: 250, requested, via: 'branch-ref', branch: 'master' })).toBe(
      `(250 first-parent commit(s) behind ${'a'.repeat(12)}; found through branch ref master, beyond the history searched)`,
    );
  });
});

describe('flagHint', () => {
  test('names the flag that acts on each library problem', () => {
    expect(flagHint(new TargetNotEmptyError('shop', 2))).toBe(' (--replace)');
    expect(flagHint(new SystemDatabaseError('mysql'))).toBe(' (--mysql-db)');
    expect(flagHint(new ServerUnreachableError('h:1', 'refused'))).toBe(' (--wait <seconds>)');
    expect(flagHint(new ServerUnreachableError('h:1', 'refused', { waitedSeconds: 5 }))).toBe(' (raise --wait)');
    expect(flagHint(new InvalidInputError('out-not-empty', 'x'))).toBe(' (--replace)');
    expect(flagHint(new StoreConfigError('s3-region-invalid', 'x'))).toBe(' (--s3-region)');
    expect(flagHint(new StoreConfigError('region-mismatch', 'x'))).toBe(' (--s3-region)');
    expect(flagHint(new StoreConfigError('endpoint-unreachable', 'x'))).toBe(' (--s3-endpoint)');
    expect(flagHint(new StoreConfigError('bucket-missing', 'x'))).toBe(' (--store)');
    expect(flagHint(new InvalidInputError('bad-keep', 'x'))).toBe('');
  });
});

describe('passwordOnCommandLine', () => {
  const tty = { stderr: { isTTY: true } as CommandContext['stderr'] };
  test.each<[string, string[], number]>([
    ['a password in --mysql', ['load', 'd', '--mysql', 'mysql://root:pw@h'], 1],
    ['in --mongo= form', ['load', 'd', '--mongo=mongodb://u:pw@h'], 1],
    ['both', ['load', 'd', '--mysql', 'mysql://root:pw@h', '--mongo', 'mongodb://u:pw@h'], 2],
    ['no password', ['load', 'd', '--mysql', 'mysql://root@h', '--mongo', 'mongodb://h'], 0],
  ])('%s', (_label, argv, count) => {
    const warnings = passwordOnCommandLine(argv, tty);
    expect(warnings).toHaveLength(count);
    for (const warning of warnings) expect(warning).toMatch(/holds a password, which other users see in `ps` and your shell history keeps; set DEVSTACK_DUMPS_(MYSQL|MONGO) instead/);
    for (const warning of warnings) expect(warning).not.toContain('pw');
  });
  test('said only to a terminal: scripts and CI are left alone', () => {
    expect(passwordOnCommandLine(['load', 'd', '--mysql', 'mysql://root:pw@h'], { stderr: { isTTY: false } as CommandContext['stderr'] })).toEqual([]);
  });
});

describe('serverSourceHint', () => {
  // A stale DEVSTACK_DUMPS_MYSQL in an .envrc is hard to spot when the message says "check the URL".
  const denied = new AccessDeniedError('MySQL server at h:1 rejected user \'root\'');
  test.each<[string, string[], NodeJS.ProcessEnv, string]>([
    ['from the variable', ['dump'], { DEVSTACK_DUMPS_MYSQL: 'mysql://root:x@h:1' }, '; the --mysql URL came from DEVSTACK_DUMPS_MYSQL'],
    ['on the command line', ['dump', '--mysql', 'mysql://root:x@h:1'], { DEVSTACK_DUMPS_MYSQL: 'mysql://root:y@h:2' }, ''],
    ['on the command line with =', ['dump', '--mysql=mysql://root:x@h:1'], { DEVSTACK_DUMPS_MYSQL: 'mysql://root:y@h:2' }, ''],
    ['no variable', ['dump'], {}, ''],
  ])('%s', (_label, argv, env, hint) => {
    expect(serverSourceHint(denied, argv, env)).toBe(hint);
  });
  test('only for connection problems', () => {
    expect(serverSourceHint(new TargetNotEmptyError('shop', 2), ['load'], { DEVSTACK_DUMPS_MYSQL: 'mysql://h' })).toBe('');
  });
});

describe('exit codes and masking in main', () => {
  test('a bad branch name is a usage error (2), a missing version a failure (1)', async () => {
    const store = await mkdtemp(path.join(tmpdir(), 'dd-exit-'));
    try {
      const usage = capture();
      expect(await main(['resolve', '--store', store, '--service', 'lms', '--branch', 'bad..name'], usage)).toBe(2);
      expect(usage.err()).toMatch(/^error: branch name "bad\.\.name" is invalid/);
      const failure = capture();
      expect(await main(['pull', '--store', store, '--service', 'lms', '--version', 'f'.repeat(64), '--out', path.join(store, 'out')], failure)).toBe(1);
    } finally {
      await rm(store, { recursive: true, force: true });
    }
  });

  test('a MySQL URL option the dumper does not read is a usage error (2) naming --mysql, before any connection', async () => {
    const context = capture();
    // Port 1: nothing listens; the refusal comes from reading the URL, not from connecting.
    expect(await main(['dump', '--mysql', 'mysql://root:Hidden1@127.0.0.1:1/db?sslmode=require', '--out', '/tmp/never'], context)).toBe(2);
    expect(context.err()).toContain("--mysql: unknown option `sslmode` in mysql://root:***@127.0.0.1:1/db?sslmode=require (another client's TLS option");
    expect(context.err()).not.toContain('Hidden1');
    expect(serverUrl('--mysql')('mysql://root:pw@db.internal?ssl-mode=VERIFY_IDENTITY&ssl-ca=%2Fca.pem')).toBe('mysql://root:pw@db.internal?ssl-mode=VERIFY_IDENTITY&ssl-ca=%2Fca.pem');
    expect(flagHint(new TlsError('h:1', 'x'))).toBe(' (--mysql)');
  });

  test('with --json a failure is also one JSON object on stdout, password masked', async () => {
    const store = await mkdtemp(path.join(tmpdir(), 'dd-json-'));
    try {
      const failed = capture();
      expect(await main(['pull', '--store', store, '--service', 'lms', '--version', 'f'.repeat(64), '--out', path.join(store, 'out'), '--json'], failed)).toBe(1);
      const error = JSON.parse(failed.out()).error;
      expect(error).toMatchObject({ exitCode: 1, code: expect.any(String) });
      expect(failed.err()).toBe(`error: ${error.message}\n`);
      const usage = capture();
      expect(await main(['dump', '--mysql', 'mysql://root:Hidden1@h:1/db?ssl=true', '--out', '/tmp/never', '--json'], usage)).toBe(2);
      expect(JSON.parse(usage.out()).error).toMatchObject({ exitCode: 2, code: 'commander.invalidArgument' });
      expect(usage.out()).not.toContain('Hidden1');
    } finally {
      await rm(store, { recursive: true, force: true });
    }
  });

  test.each(['--data-tables', '--volatile-column'])('%s without --mysql is a usage error (2), not dropped without a word', async (flag) => {
    const context = capture();
    expect(await main(['dump', '--mongo', 'mongodb://127.0.0.1:1', flag, flag === '--data-tables' ? 'a' : 'a.b=1', '--out', '/tmp/never'], context)).toBe(2);
    expect(context.err()).toBe(`error: ${flag} applies to MySQL tables; give --mysql (MongoDB collections: --data-collections)\n`);
  });

  test('a mistyped flag is named (with a suggestion) rather than reported as a missing required one', async () => {
    const typo = capture();
    expect(await main(['list', '--servce', 'shop'], typo)).toBe(2);
    expect(typo.err()).toContain("error: unknown option '--servce'");
    expect(typo.err()).toContain('Did you mean --service?');
    const missing = capture();
    expect(await main(['list'], missing)).toBe(2);
    expect(missing.err()).toBe("error: required option '--service <name>' not specified\n");
  });

  test.each([
    [['load', 'dir', '--mysql-url', 'mysql://root:pw@127.0.0.1:3306/app'], '--mysql-url', '--mysql <url> (or DEVSTACK_DUMPS_MYSQL)'],
    [['provision', '--service', 'shop', '--mongo-url=mongodb://127.0.0.1:27017'], '--mongo-url', '--mongo <url> (or DEVSTACK_DUMPS_MONGO)'],
    [['dump', '--mongodb', 'mongodb://127.0.0.1:27017', '--out', 'x'], '--mongodb', '--mongo <url> (or DEVSTACK_DUMPS_MONGO)'],
  ])('the action\'s input names as flags (%j) point to the server flag, not to a look-alike such as --mysql-db', async (argv, flag, meant) => {
    const typo = capture();
    expect(await main(argv, typo)).toBe(2);
    expect(typo.err()).toBe(`error: unknown option '${flag}': the server URL is given with ${meant}\n`);
  });

  test('outside a git working tree, commands that read a checkout say so (2) instead of blaming a missing commit', async () => {
    const outside = await mkdtemp(path.join(tmpdir(), 'dd-no-git-'));
    try {
      for (const args of [['status', '--service', 'shop'], ['resolve', '--service', 'shop']]) {
        const context = { ...capture(), cwd: outside };
        expect(await main(args, context)).toBe(2);
        expect(context.err()).toBe(`error: ${outside} is not inside a git working tree; run this in the service's checkout, or name it with --repo <dir>\n`);
      }
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  test('a bad URL is a usage error (2) whose message masks the password', async () => {
    const context = capture();
    expect(await main(['dump', '--mysql', 'postgres://root:Hidden1@h:1/db', '--out', '/tmp/never'], context)).toBe(2);
    expect(context.err()).toContain('--mysql must be a mysql:// or mariadb:// URL');
    expect(context.err()).not.toContain('Hidden1');
  });

  test.each([
    ['a password with a space in a mistyped scheme', ['dump', '--mysql', 'postgres://root:Hid den1@h:1/db', '--out', '/tmp/never'], 'Hid den1'],
    ['a URL without a scheme', ['dump', '--mysql', 'root:Hidden1@h:1/db', '--out', '/tmp/never'], 'Hidden1'],
    ['a URL as a stray argument', ['dump', 'mysql://root:Hid%2Fden1@h:1/db', '--out', '/tmp/never'], 'Hid/den1'],
    ['a password with an unescaped "/"', ['dump', '--mongo', 'mongodb://u:ab/Hidden1@h/db', '--out', '/tmp/never'], 'Hidden1'],
  ])('never echoes %s', async (_name, argv, secret) => {
    const context = capture();
    expect(await main(argv, context)).toBeGreaterThan(0);
    expect(context.err()).not.toBe('');
    expect(context.err() + context.out()).not.toContain(secret);
  });

  describe('server URLs from DEVSTACK_DUMPS_MYSQL / DEVSTACK_DUMPS_MONGO (kept out of ps and shell history)', () => {
    const withEnv = async (env: Record<string, string>, body: (context: ReturnType<typeof capture>) => Promise<void>) => {
      const saved = { ...process.env };
      Object.assign(process.env, env);
      try {
        await body({ ...capture(), env });
      } finally {
        for (const name of Object.keys(env)) if (saved[name] === undefined) delete process.env[name];
      }
    };

    test('a URL from the environment is used, its password never printed', async () => {
      await withEnv({ DEVSTACK_DUMPS_MYSQL: 'mysql://root:Hidden3%21@127.0.0.1:1/shop' }, async (context) => {
        expect(await main(['dump', '--out', path.join(tmpdir(), 'dd-never')], context)).toBe(1);
        expect(context.err()).toMatch(/127\.0\.0\.1:1/);
        expect(context.err()).not.toMatch(/needs --mysql/);
        expect(context.err()).not.toMatch(/Hidden3/);
      });
    });

    test('a bad URL from the environment is a usage error naming the variable, password masked', async () => {
      await withEnv({ DEVSTACK_DUMPS_MONGO: 'postgres://u:Hidden4@h:1/db' }, async (context) => {
        expect(await main(['dump', '--out', '/tmp/never'], context)).toBe(2);
        expect(context.err()).toContain('DEVSTACK_DUMPS_MONGO');
        expect(context.err()).toContain('--mongo must be a mongodb:// or mongodb+srv:// URL');
        expect(context.err()).not.toContain('Hidden4');
      });
    });

    test('the command line wins over the environment', async () => {
      await withEnv({ DEVSTACK_DUMPS_MYSQL: 'postgres://u:Hidden5@h:1/db' }, async (context) => {
        expect(await main(['dump', '--mysql', 'mysql://root@127.0.0.1:1/shop', '--out', '/tmp/never'], context)).toBe(1);
        expect(context.err()).toMatch(/127\.0\.0\.1:1/);
      });
    });
  });

  test('dump and load need a server; provision needs one too', async () => {
    for (const argv of [['dump', '--out', '/tmp/never'], ['load', '/tmp/never'], ['provision', '--service', 'lms']]) {
      const context = capture();
      expect(await main(argv, context), argv.join(' ')).toBe(2);
      expect(context.err()).toMatch(/needs --mysql and\/or --mongo/);
    }
  });
});
