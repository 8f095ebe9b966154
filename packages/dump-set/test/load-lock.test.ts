import { describe, expect, test, vi } from 'vitest';
import { DumpSetServerError } from '../src/index.js';
import { loadLockName, lockMysqlTargets } from '../src/internal/load-lock.js';
import { connectMysql } from '../src/internal/servers.js';

// The server's answers are scripted here; load-race.itg.test.ts runs the lock against MariaDB.
vi.mock('../src/internal/servers.js', () => ({ connectMysql: vi.fn() }));

function scriptedSession(answer: (sql: string) => unknown) {
  const connection = { query: vi.fn(async (sql: string) => answer(sql)), release: vi.fn() };
  const session = { pool: { getConnection: vi.fn(async () => connection) }, close: vi.fn(async () => undefined) };
  vi.mocked(connectMysql).mockResolvedValueOnce(session as never);
  return { connection, session };
}
const url = 'mysql://dev:s3cret-pw@db.local:3306';

describe('lockMysqlTargets', () => {
  test('lock names are server-wide, at most 64 characters, one per database', () => {
    const long = 'x'.repeat(64);
    expect(loadLockName(long).length).toBeLessThanOrEqual(64);
    expect(loadLockName('shop')).not.toBe(loadLockName('shop2'));
    expect(loadLockName('shop')).toMatch(/^devstack-dumps load [0-9a-f]{40}$/);
  });

  test('takes the locks in sorted order and releases them with the connection', async () => {
    const { connection, session } = scriptedSession(() => [[{ got: 1, holder: 7 }]]);
    const release = await lockMysqlTargets(url, ['b', 'a'], { waitSeconds: 0, lockWaitSeconds: 600 });
    expect(connection.query.mock.calls.map((call) => (call as unknown[])[1])).toEqual([
      [loadLockName('a'), loadLockName('a')],
      [loadLockName('b'), loadLockName('b')],
    ]);
    expect(session.close).not.toHaveBeenCalled();
    await release();
    expect(connection.release).toHaveBeenCalledOnce();
    expect(session.close).toHaveBeenCalledOnce();
  });

  test('a server that refuses named locks (cluster strict modes) loads anyway and says so', async () => {
    const refusal = Object.assign(new Error("This version of MariaDB doesn't yet support 'GET_LOCK in cluster (WSREP_ON=ON)'"), {
      errno: 1235,
      sqlMessage: "This version of MariaDB doesn't yet support 'GET_LOCK in cluster (WSREP_ON=ON)'",
    });
    scriptedSession(() => Promise.reject(refusal));
    const told: string[] = [];
    const release = await lockMysqlTargets(url, ['shop'], { waitSeconds: 0, lockWaitSeconds: 600, onWaiting: (message) => told.push(message) });
    expect(told).toEqual([
      "MySQL db.local:3306 refuses named locks (This version of MariaDB doesn't yet support 'GET_LOCK in cluster (WSREP_ON=ON)'); loading without waiting for other loads into the same database",
    ]);
    await release();
  });

  test('a lost connection while locking fails as a server error, password masked', async () => {
    const { session } = scriptedSession(() => Promise.reject(Object.assign(new Error(`Connection lost: ${url} closed`), { code: 'PROTOCOL_CONNECTION_LOST' })));
    const failure = await lockMysqlTargets(url, ['shop'], { waitSeconds: 0, lockWaitSeconds: 600 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DumpSetServerError);
    expect((failure as DumpSetServerError).code).toBe('mysql-failed');
    expect((failure as Error).message).toMatch(/^locking the load targets on MySQL db\.local:3306 failed: Connection lost: /);
    expect((failure as Error).message).not.toContain('s3cret-pw');
    expect(session.close).toHaveBeenCalledOnce();
  });

  /** A held lock as the server answers: the first try at once, every GET_LOCK(name, n) after n seconds, not taken. */
  const heldLock = () => {
    let calls = 0;
    return scriptedSession((_sql) => (calls++ === 0 ? [[{ got: 0, holder: 42 }]] : new Promise((resolve) => setTimeout(() => resolve([[{ got: 0 }]]), 1000))));
  };

  test('a lock not released in time names the holder and what to do', async () => {
    const { connection } = heldLock();
    const told: string[] = [];
    const failure = await lockMysqlTargets(url, ['shop'], { waitSeconds: 0, lockWaitSeconds: 2, onWaiting: (message) => told.push(message) }).catch((error: unknown) => error);
    expect(told).toEqual(['waiting for another load into MySQL database shop on db.local:3306 (MySQL connection 42) to finish']);
    expect((failure as DumpSetServerError).code).toBe('load-busy');
    expect((failure as Error).message).toBe(
      'another load into MySQL database shop on db.local:3306 (MySQL connection 42) did not finish within 2 s; wait for it, or end it (KILL 42), then load again',
    );
    // The wait is asked for a second at a time (so an abort is noticed), not in one long GET_LOCK.
    expect(connection.query.mock.calls.slice(1).map((call) => ((call as unknown[])[1] as unknown[])[1])).toEqual([1, 1]);
  }, 10_000);

  test('aborting (Ctrl-C) ends the wait for another load: rejects with the reason and releases the connection', async () => {
    const { connection, session } = heldLock();
    const controller = new AbortController();
    const reason = new Error('interrupted');
    const failure = await lockMysqlTargets(url, ['shop'], { waitSeconds: 0, lockWaitSeconds: 600, signal: controller.signal, onWaiting: () => setTimeout(() => controller.abort(reason), 100) }).catch((error: unknown) => error);
    expect(failure).toBe(reason);
    expect(connection.release).toHaveBeenCalledOnce();
    expect(session.close).toHaveBeenCalledOnce();
  }, 10_000);
});
