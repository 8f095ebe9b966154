import { describe, expect, test } from 'vitest';
import { bookkeepingTablesIn } from '../src/internal/bookkeeping.js';

describe('bookkeepingTablesIn: a table is a tool\'s bookkeeping table by name and columns', () => {
  test.each<[string, Record<string, string[]>, Array<{ table: string; volatile: Record<string, string | null> }>]>([
    ['Django', { django_migrations: ['id', 'app', 'name', 'applied'] }, [{ table: 'django_migrations', volatile: { 'django_migrations.applied': '2000-01-01 00:00:00' } }]],
    ['Alembic (nothing to fix)', { alembic_version: ['version_num'] }, [{ table: 'alembic_version', volatile: {} }]],
    ['Laravel `migrations`', { migrations: ['id', 'migration', 'batch'] }, [{ table: 'migrations', volatile: { 'migrations.batch': '1' } }]],
    ['TypeORM `migrations`', { migrations: ['id', 'timestamp', 'name'] }, [{ table: 'migrations', volatile: {} }]],
    ['an application table named `migrations`', { migrations: ['id', 'email', 'password_hash'] }, []],
    // TypeORM's columns and more: an application's table (it could hold anything).
    ['an application `migrations` with TypeORM\'s columns among others', { migrations: ['id', 'name', 'timestamp', 'customer_email', 'api_token'] }, []],
    ['an application `schema_migrations` with more than a tool makes', { schema_migrations: ['version', 'applied_by_user'] }, []],
    ['Liquibase, columns in another case', { DATABASECHANGELOG: ['id', 'author', 'filename', 'dateexecuted', 'orderexecuted', 'deployment_id'] }, [
      { table: 'DATABASECHANGELOG', volatile: { 'DATABASECHANGELOG.dateexecuted': '2000-01-01 00:00:00', 'DATABASECHANGELOG.deployment_id': '0000000000' } },
    ]],
    ['golang-migrate `schema_migrations` (no time column to fix)', { schema_migrations: ['version', 'dirty'] }, [{ table: 'schema_migrations', volatile: {} }]],
    ['Ecto `schema_migrations`', { schema_migrations: ['version', 'inserted_at'] }, [{ table: 'schema_migrations', volatile: { 'schema_migrations.inserted_at': '2000-01-01 00:00:00' } }]],
    ['a name in another case is another table', { Alembic_Version: ['version_num'] }, []],
  ])('%s', (_case, tables, expected) => {
    const found = bookkeepingTablesIn(new Map(Object.entries(tables)));
    expect(found.map(({ table, volatile }) => ({ table, volatile }))).toEqual(expected);
  });
});
