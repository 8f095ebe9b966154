import { describe, expect, it } from 'vitest';
import type { PoolConnection } from 'mysql2/promise';
import { StatementRunner, classifyStatement, createdTableName } from '../src/internal/statement-runner.js';

describe('classifyStatement', () => {
  it.each([
    ['SET NAMES utf8mb4', 'setting'],
    ['SET SESSION SQL_MODE = \'\'', 'setting'],
    ['CREATE TABLE `t` (id INT)', 'create-table'],
    ['INSERT INTO `t` (`id`) VALUES\n(1)', 'insert'],
    ['CREATE VIEW `v` AS select 1', 'ordered'],
    ['CREATE TRIGGER x BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1', 'ordered'],
    ['ALTER DATABASE CHARACTER SET utf8mb4', 'ordered'],
  ])('%s -> %s', (text, kind) => expect(classifyStatement(text)).toBe(kind));
});

/** A stand-in connection that records what it ran, finishing after a per-call delay. */
function fakeConnection(name: string, log: { conn: string; sql: string; at: 'start' | 'end' }[], delays: number[]) {
  return {
    query: async (sql: string) => {
      log.push({ conn: name, sql, at: 'start' });
      await new Promise((resolve) => setTimeout(resolve, delays.shift() ?? 0));
      if (sql.includes('FAIL')) throw new Error('boom');
      log.push({ conn: name, sql, at: 'end' });
      return [[], []];
    },
  } as unknown as PoolConnection;
}

const stmt = (text: string, line: number) => ({ text, line });

describe('StatementRunner', () => {
  it('spreads independent batches, applies settings to each connection, and runs ordered statements alone', async () => {
    const log: { conn: string; sql: string; at: 'start' | 'end' }[] = [];
    const conns = [fakeConnection('a', log, [30, 0, 0]), fakeConnection('b', log, [5, 0, 0])];
    const runner = new StatementRunner(conns, 10, (e) => e as Error); // tiny limit: one statement per batch
    await runner.add(stmt('SET FOREIGN_KEY_CHECKS = 0', 1));
    await runner.add(stmt('CREATE TABLE t1 (id INT)', 2));
    await runner.add(stmt('CREATE TABLE t2 (id INT)', 3));
    await runner.add(stmt('CREATE VIEW v AS select 1', 4));
    await runner.finish();
    const starts = log.filter((l) => l.at === 'start');
    expect(starts.map((s) => [s.conn, s.sql])).toEqual([
      ['a', 'SET FOREIGN_KEY_CHECKS = 0;\nCREATE TABLE t1 (id INT)'],
      ['b', 'SET FOREIGN_KEY_CHECKS = 0;\nCREATE TABLE t2 (id INT)'],
      ['a', 'CREATE VIEW v AS select 1'],
    ]);
    // The view starts only after both tables finished, though `a` was slow.
    const viewStart = log.findIndex((l) => l.sql.startsWith('CREATE VIEW'));
    expect(log.slice(0, viewStart).filter((l) => l.at === 'end')).toHaveLength(2);
  });

  it('starts rows only after every table before them was created, while each kind still spreads over connections', async () => {
    const log: { conn: string; sql: string; at: 'start' | 'end' }[] = [];
    // `a` is slow to create t1: the rows for t1 must still wait for it, though `b` is free.
    const conns = [fakeConnection('a', log, [40, 0, 0]), fakeConnection('b', log, [0, 5, 0])];
    const runner = new StatementRunner(conns, 10, (e) => e as Error);
    await runner.add(stmt('CREATE TABLE t1 (id INT)', 1));
    await runner.add(stmt('CREATE TABLE t2 (id INT)', 2));
    await runner.add(stmt('INSERT INTO t1 VALUES (1)', 3));
    await runner.add(stmt('INSERT INTO t2 VALUES (1)', 4));
    await runner.finish();
    const firstInsert = log.findIndex((l) => l.sql.startsWith('INSERT'));
    expect(log.slice(0, firstInsert).filter((l) => l.at === 'end' && l.sql.startsWith('CREATE TABLE'))).toHaveLength(2);
    expect(new Set(log.filter((l) => l.at === 'start' && l.sql.startsWith('CREATE')).map((l) => l.conn))).toEqual(new Set(['a', 'b']));
    expect(new Set(log.filter((l) => l.at === 'start' && l.sql.startsWith('INSERT')).map((l) => l.conn))).toEqual(new Set(['a', 'b']));
  });

  it('sends a stored program whose body ends in a line comment last in its query', async () => {
    const log: { conn: string; sql: string; at: 'start' | 'end' }[] = [];
    const runner = new StatementRunner([fakeConnection('a', log, [])], 1000, (e) => e as Error);
    await runner.add(stmt('CREATE PROCEDURE p() SELECT 1 -- trailing comment', 1));
    await runner.add(stmt('CREATE VIEW v AS select 1', 2));
    await runner.finish();
    expect(log.filter((l) => l.at === 'start').map((l) => l.sql)).toEqual(['CREATE PROCEDURE p() SELECT 1 -- trailing comment', 'CREATE VIEW v AS select 1']);
  });

  it('measures batches in bytes (the server packet), not UTF-16 code units', async () => {
    const log: { conn: string; sql: string; at: 'start' | 'end' }[] = [];
    const runner = new StatementRunner([fakeConnection('a', log, [])], 100, (e) => e as Error);
    const insert = (id: number) => stmt(`INSERT INTO t (a) VALUES ('${'☃'.repeat(20)}${id}')`, id);
    await runner.add(insert(1));
    await runner.add(insert(2));
    await runner.finish();
    // Each statement is 52 code units but 92 bytes: two do not fit one 100-byte batch.
    expect(log.filter((l) => l.at === 'start')).toHaveLength(2);
  });

  it('reports the first failure with its statements and runs nothing more', async () => {
    const log: { conn: string; sql: string; at: 'start' | 'end' }[] = [];
    const runner = new StatementRunner([fakeConnection('a', log, [])], 1000, (_e, sent) => new Error(`lines ${sent.map((s) => s.line).join(',')}`));
    await runner.add(stmt('INSERT INTO t VALUES (FAIL)', 7));
    await runner.add(stmt('CREATE VIEW v AS select 1', 8));
    await expect(runner.finish()).rejects.toThrow('lines 7');
    expect(log.some((l) => l.sql.includes('CREATE VIEW'))).toBe(false);
  });
});

describe('createdTableName', () => {
  it.each([
    ['CREATE TABLE `t1` (id INT)', 't1'],
    ['CREATE TABLE `odd``name` (id INT)', 'odd`name'],
    ['CREATE TABLE IF NOT EXISTS plain_name (id INT)', 'plain_name'],
    ['create table `Mixed` (id INT)', 'Mixed'],
    ['CREATE TABLE `db`.`t` (id INT)', undefined],
    ['CREATE TABLE db.t (id INT)', undefined],
  ])('%s -> %s', (text, name) => expect(createdTableName(text)).toBe(name));
});

/**
 * A stand-in server for lock conflicts: runs a multi-statement text one statement at a time, and fails a
 * statement with `errno` while `conflicts` has a count left for its table (as MySQL 8 does when concurrent
 * CREATE TABLEs with foreign keys deadlock on metadata locks); the statements before it stay done.
 */
function conflictingServer(conflicts: Map<string, number>, errno = 1213) {
  const tables: string[] = [];
  const sent: string[] = [];
  const conn = {
    query: async (sql: string) => {
      sent.push(sql);
      if (sql.startsWith('SELECT TABLE_NAME')) return [tables.map((name) => ({ name, folded: 0 })), []];
      for (const statement of sql.split(';\n')) {
        const name = /^CREATE TABLE `([^`]+)`/.exec(statement)?.[1];
        if (!name) continue;
        const left = conflicts.get(name) ?? 0;
        if (left > 0) {
          conflicts.set(name, left - 1);
          throw Object.assign(new Error(`lock conflict on ${name}`), { errno });
        }
        if (tables.includes(name)) throw Object.assign(new Error(`Table '${name}' already exists`), { errno: 1050 });
        tables.push(name);
      }
      return [[], []];
    },
  } as unknown as PoolConnection;
  return { conn, tables, sent };
}

describe('StatementRunner on lock conflicts', () => {
  const creates = ['t1', 't2', 't3'].map((name, i) => stmt(`CREATE TABLE \`${name}\` (id INT)`, i + 1));

  it.each([
    ['a deadlock', 1213],
    ['a lock wait timeout', 1205],
  ])('creates the tables a CREATE TABLE batch had not created when it lost %s, each once', async (_what, errno) => {
    // t2 loses twice: once in the batch, once when run again on its own.
    const server = conflictingServer(new Map([['t2', 2]]), errno);
    const runner = new StatementRunner([server.conn], 1 << 20, (e) => e as Error);
    for (const statement of creates) await runner.add(statement);
    await runner.finish();
    expect(server.tables).toEqual(['t1', 't2', 't3']);
    expect(server.sent.filter((sql) => sql.includes('CREATE TABLE `t1`'))).toHaveLength(1);
  });

  it('gives up after a few conflicts on one statement and reports the batch', async () => {
    const server = conflictingServer(new Map([['t2', 50]]));
    const runner = new StatementRunner([server.conn], 1 << 20, (e, sent) => new Error(`${(e as Error).message} (lines ${sent.map((s) => s.line).join(',')})`));
    for (const statement of creates) await runner.add(statement);
    await expect(runner.finish()).rejects.toThrow('lock conflict on t2 (lines 1,2,3)');
    expect(server.tables).toEqual(['t1']);
  });

  it('does not retry other statements, other errors, or tables named with their database', async () => {
    const inserts = conflictingServer(new Map());
    const insertConn = {
      query: async () => {
        throw Object.assign(new Error('deadlock on rows'), { errno: 1213 });
      },
    } as unknown as PoolConnection;
    const insertRunner = new StatementRunner([insertConn], 1 << 20, (e) => e as Error);
    await insertRunner.add(stmt('INSERT INTO t1 VALUES (1)', 1));
    await expect(insertRunner.finish()).rejects.toThrow('deadlock on rows');
    expect(inserts.sent).toEqual([]);

    const other = conflictingServer(new Map([['t1', 1]]), 1064);
    const otherRunner = new StatementRunner([other.conn], 1 << 20, (e) => e as Error);
    await otherRunner.add(creates[0]!);
    await expect(otherRunner.finish()).rejects.toThrow('lock conflict on t1');
    expect(other.sent.some((sql) => sql.startsWith('SELECT'))).toBe(false);

    const qualified = conflictingServer(new Map());
    const qualifiedConn = {
      query: async (sql: string) => {
        qualified.sent.push(sql);
        throw Object.assign(new Error('deadlock'), { errno: 1213 });
      },
    } as unknown as PoolConnection;
    const qualifiedRunner = new StatementRunner([qualifiedConn], 1 << 20, (e) => e as Error);
    await qualifiedRunner.add(stmt('CREATE TABLE `db`.`t` (id INT)', 1));
    await expect(qualifiedRunner.finish()).rejects.toThrow('deadlock');
    expect(qualified.sent).toHaveLength(1);
  });
});
