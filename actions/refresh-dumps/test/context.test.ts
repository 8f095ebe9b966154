import { describe, expect, it } from 'vitest';
import { defaultDataTables, getInputs } from '../src/context.js';

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
      dataTables: defaultDataTables,
      dataCollections: [],
      mode: 'auto',
      migrationsGlob: ['**/migrations/[0-9]*.py'],
      keep: undefined,
      waitTimeout: 60,
      dryRun: false,
      awsRegion: 'us-east-1',
    });
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
    [{ 'mongo-url': 'not a url' }, 'Input `mongo-url`: is not a URL'],
    [{ mode: 'fast' }, 'Input `mode`: expected one of auto, full, incremental'],
    [{ keep: '0' }, 'Input `keep`: expected a whole number'],
    [{ 'dry-run': 'maybe' }, 'Input `dry-run`: expected true or false'],
  ])('rejects %j', (override, message) => {
    expect(() => getInputs(read({ ...base, ...override }))).toThrow(message);
  });

  it('never echoes a password from a URL in an error', () => {
    expect(() => getInputs(read({ ...base, 'mysql-url': 'http://root:hunter2@db:3306' }))).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') }),
    );
  });
});
