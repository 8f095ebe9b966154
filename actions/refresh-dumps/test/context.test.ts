import { describe, expect, it } from 'vitest';
import { getInputs } from '../src/context.js';
import { dumpSources } from '../src/targets.js';

const base = {
  service: 'lms',
  migrate: 'python manage.py migrate --noinput\npython manage.py ensure_indexes',
  'mysql-url': 'mysql://root:secret@127.0.0.1:3306',
  'mongo-url': 'mongodb://127.0.0.1:27017',
  store: 's3://dumps/devstack',
};
const read = (values: Record<string, string>) => (name: string) => values[name] ?? '';

describe('getInputs', () => {
  it('fills defaults from the service name', () => {
    const inputs = getInputs(read(base));
    expect(inputs).toMatchObject({
      service: 'lms',
      migrate: ['python manage.py migrate --noinput', 'python manage.py ensure_indexes'],
      workingDirectory: '.',
      mysqlDatabases: ['lms'],
      mongoDatabases: ['lms'],
      dataTables: [],
      dataCollections: [],
      mode: 'auto',
      migrationsGlob: ['**/migrations/[0-9]*.py'],
      keep: undefined,
      waitTimeout: 60,
      dryRun: false,
      awsRegion: '',
    });
  });

  it('leaves the data tables to the dumper unless listed (its default takes the Django tables that exist)', () => {
    expect(dumpSources(getInputs(read(base))).mysql).toEqual({ url: base['mysql-url'], databases: ['lms'] });
    expect(dumpSources(getInputs(read({ ...base, 'data-tables': 'django_migrations, catalog_currency' }))).mysql?.dataTables).toEqual(['django_migrations', 'catalog_currency']);
  });

  it('reads volatile columns as table.column=value (=NULL for NULL), one per line or comma', () => {
    const inputs = getInputs(read({ ...base, 'volatile-columns': 'knex_migrations.batch=1\nphinxlog.end_time=NULL, app_event.note=a=b' }));
    expect(inputs.volatileColumns).toEqual({ 'knex_migrations.batch': '1', 'phinxlog.end_time': null, 'app_event.note': 'a=b' });
    expect(getInputs(read(base)).volatileColumns).toEqual({});
  });

  it('leaves out the engine whose URL is empty', () => {
    const inputs = getInputs(read({ ...base, 'mongo-url': '' }));
    expect(inputs.mongoDatabases).toEqual([]);
    expect(inputs.mysqlDatabases).toEqual(['lms']);
  });

  it.each([
    [{ service: '' }, 'Input `service`: is required'],
    [{ service: 'LMS app' }, 'Input `service`: "LMS app" may only hold'],
    [{ migrate: '' }, 'Input `migrate`: is required'],
    [{ store: '' }, 'Input `store`: is required'],
    [{ 'mysql-url': '', 'mongo-url': '' }, 'neither `mysql-url` nor `mongo-url` is set'],
    [{ 'mysql-url': 'postgres://x@h/db' }, 'Input `mysql-url`: expected a mysql: or mariadb: URL'],
    [{ 'mongo-url': 'not a url' }, 'Input `mongo-url`: is not a MongoDB URL'],
    [{ 'mongo-url': 'mongodb://db:27017/shop', 'mongo-databases': 'lms' }, 'Input `mongo-url`: names the database `shop`, but `mongo-databases` lists `lms`; remove the path from the URL or list that database'],
    // Ignoring another client's TLS option would connect unencrypted while the workflow says otherwise.
    [{ 'mysql-url': 'mysql://root:secret@db:3306?ssl=true' }, 'Input `mysql-url`: unknown option `ssl` in mysql://root:***@db:3306?ssl=true (another client'],
    [{ 'mysql-url': 'mysql://root:secret@10.1.2.3?ssl-mode=VERIFY_IDENTITY' }, 'Input `mysql-url`: mysql://root:***@10.1.2.3?ssl-mode=VERIFY_IDENTITY asks to check'],
    [{ mode: 'fast' }, 'Input `mode`: expected one of auto, full, incremental'],
    [{ keep: '0' }, 'Input `keep`: expected a whole number'],
    [{ 'dry-run': 'maybe' }, 'Input `dry-run`: expected true or false'],
    [{ 'wait-timeout': '601' }, 'Input `wait-timeout`: is 601; give at most 600 seconds'],
    [{ 'volatile-columns': 'knex_migrations.migration_time' }, 'Input `volatile-columns`: volatile column entry "knex_migrations.migration_time" is not `table.column=value`'],
    [{ 'volatile-columns': 'batch=1' }, 'Input `volatile-columns`: volatile column entry "batch=1" is not `table.column=value`'],
    [{ 'mysql-url': '', 'volatile-columns': 'a.b=1' }, 'Input `mysql-url`: is empty but `volatile-columns` is set'],
    // An unset secret reads as empty: the engine's other inputs show it was meant to be there.
    [{ 'mysql-url': '', 'data-tables': 'django_migrations' }, 'Input `mysql-url`: is empty but `data-tables` is set; give the server\'s URL (a secret that is not set reads as empty), or remove it'],
    [{ 'mongo-url': '', 'mongo-databases': 'a', 'data-collections': 'b' }, 'Input `mongo-url`: is empty but `mongo-databases` and `data-collections` are set'],
  ])('rejects %j', (override, message) => {
    expect(() => getInputs(read({ ...base, ...override }))).toThrow(message);
  });

  it.each<[string, Record<string, string>, string[]]>([
    ['the database a mongo-url names (where get_default_database() writes)', { 'mongo-url': 'mongodb://app:pw@db:27017/shop_main?authSource=admin' }, ['shop_main']],
    ['a replica set URL (several hosts) and its database', { 'mongo-url': 'mongodb://a:27017,b:27017/shop?replicaSet=rs0' }, ['shop']],
    ['a mongo-url naming admin as the server only', { 'mongo-url': 'mongodb://root:pw@db:27017/admin' }, ['lms']],
    ['a mongo-url without a path', { 'mongo-url': 'mongodb+srv://cluster.example.net/?retryWrites=true' }, ['lms']],
  ])('mongo: takes %s', (_name, override, expected) => {
    expect(getInputs(read({ ...base, ...override })).mongoDatabases).toEqual(expected);
  });

  it.each<[string, Record<string, string>, string[]]>([
    ['the database a mysql-url names', { 'mysql-url': 'mysql://root:secret@db:3306/lms_main' }, ['lms_main']],
    ['a URL database that mysql-databases lists', { 'mysql-url': 'mysql://root:secret@db:3306/b', 'mysql-databases': 'a, b' }, ['a', 'b']],
    ['a trailing slash names nothing', { 'mysql-url': 'mysql://root:secret@db:3306/' }, ['lms']],
    ['a percent-encoded database name', { 'mysql-url': 'mysql://root:secret@db:3306/lms%2Dx' }, ['lms-x']],
    ['a URL naming a system database as the server only', { 'mysql-url': 'mysql://root:secret@db:3306/mysql' }, ['lms']],
    ['a URL naming a system database beside a list', { 'mysql-url': 'mysql://root:secret@db:3306/sys', 'mysql-databases': 'a' }, ['a']],
  ])('takes %s', (_name, override, expected) => {
    expect(getInputs(read({ ...base, ...override })).mysqlDatabases).toEqual(expected);
  });

  it.each([
    [{ 'mysql-url': 'mysql://root:secret@db:3306/other', 'mysql-databases': 'lms' }, 'Input `mysql-url`: names the database `other`, but `mysql-databases` lists `lms`; remove the path from the URL or list that database'],
    [{ 'mysql-url': 'mysql://root:secret@db:3306/%E0%A4%A' }, 'Input `mysql-url`: has a database path that is not valid percent-encoding'],
    [{ 'mysql-databases': 'lms, mysql' }, 'Input `mysql-databases`: `mysql` is a MySQL system database, and the action drops and re-creates the databases it migrates'],
    [{ 'mysql-databases': 'Information_Schema' }, 'Input `mysql-databases`: `Information_Schema` is a MySQL system database'],
    [{ service: 'mysql' }, "Input `mysql-databases`: `mysql` is a MySQL system database, and the action drops and re-creates the databases it migrates; list the service's own database(s) in `mysql-databases` (without it, the one named after `service` is used)"],
    [{ 'mongo-databases': 'admin' }, 'Input `mongo-databases`: `admin` is a MongoDB system database'],
    [{ service: 'local', 'mysql-databases': 'lms' }, 'Input `mongo-databases`: `local` is a MongoDB system database'],
    [{ branch: 'refs/heads/main' }, 'Input `branch`:'],
    [{ branch: 'bad branch..name' }, 'Input `branch`:'],
  ])('refuses %j', (override, message) => {
    expect(() => getInputs(read({ ...base, ...override }))).toThrow(message);
  });

  it('takes a valid branch name as given', () => {
    expect(getInputs(read({ ...base, branch: 'release/2024.1' })).branch).toBe('release/2024.1');
  });

  it('never echoes a password from a URL in an error', () => {
    expect(() => getInputs(read({ ...base, 'mysql-url': 'http://root:hunter2@db:3306' }))).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') }),
    );
  });
});
