import { describe, expect, it } from 'vitest';
import type { PoolConnection } from 'mysql2/promise';
import { StatementRunner, classifyStatement } from '../src/internal/statement-runner.js';

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

  it('reports the first failure with its statements and runs nothing more', async () => {
    const log: { conn: string; sql: string; at: 'start' | 'end' }[] = [];
    const runner = new StatementRunner([fakeConnection('a', log, [])], 1000, (_e, sent) => new Error(`lines ${sent.map((s) => s.line).join(',')}`));
    await runner.add(stmt('INSERT INTO t VALUES (FAIL)', 7));
    await runner.add(stmt('CREATE VIEW v AS select 1', 8));
    await expect(runner.finish()).rejects.toThrow('lines 7');
    expect(log.some((l) => l.sql.includes('CREATE VIEW'))).toBe(false);
  });
});
