import { createHash } from 'node:crypto';
import type { PoolConnection } from 'mysql2/promise';
import { DumpSetServerError } from './errors.js';
import { maskSecretsOf, serverAddress } from './mask.js';
import { connectMysql } from './servers.js';

/** MySQL named locks are server-wide and at most 64 characters long: a digest of the database name. */
export function loadLockName(database: string): string {
  return `devstack-dumps load ${createHash('sha256').update(database).digest('hex').slice(0, 40)}`;
}

export interface LoadLockOptions {
  /** Seconds to wait for a server that is still starting (connecting). */
  waitSeconds: number;
  /** Seconds to wait for another load into the same database to finish. */
  lockWaitSeconds: number;
  /** Told when the load waits for another one, or goes ahead unprotected. */
  onWaiting?: (message: string) => void;
  /** Aborting (Ctrl-C) ends a wait for another load within a second; rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * GET_LOCK's answer: 1 taken, 0 timed out, NULL error. MySQL 8+ types it BIGINT, which the session's
 * bigNumberStrings turns into the string '1' (MariaDB's INT stays a number): compared as a number.
 */
type LockAnswer = { got: number | string | null };
const taken = (answer: LockAnswer) => answer.got !== null && Number(answer.got) === 1;

/** The server waits at most this long per GET_LOCK, so an abort is noticed between waits (no waiter is left on the server). */
const LOCK_POLL_SECONDS = 1;

/**
 * Takes the server's named lock of each target database, waiting (bounded) for another load that holds
 * one, and returns what releases them. Without it, two loads into the same database (two terminals
 * provisioning at once) interleave: one fails on the other's tables and its rollback drops what the other
 * loaded. The locks belong to one connection, so a load that dies releases them with its connection.
 * Names are taken in sorted order, so two loads of several databases cannot deadlock.
 */
export async function lockMysqlTargets(url: string, databases: string[], options: LoadLockOptions): Promise<() => Promise<void>> {
  const session = await connectMysql(url, options.waitSeconds, options.signal);
  let connection: PoolConnection | undefined;
  const address = serverAddress(url);
  const release = async () => {
    // Closing the connection releases every lock it holds.
    connection?.release();
    await session.close().catch(() => undefined);
  };
  try {
    connection = await session.pool.getConnection();
    for (const database of [...databases].sort()) {
      const name = loadLockName(database);
      const [[first]] = (await connection.query('SELECT GET_LOCK(?, 0) AS got, IS_USED_LOCK(?) AS holder', [name, name])) as unknown as [[LockAnswer & { holder: number | string | null }]];
      if (taken(first)) continue;
      const holder = first.holder === null ? '' : ` (MySQL connection ${first.holder})`;
      options.onWaiting?.(`waiting for another load into MySQL database ${database} on ${address}${holder} to finish`);
      if (!(await waitForLock(connection, name, options))) {
        const end = first.holder === null ? 'end it' : `end it (KILL ${first.holder})`;
        throw new DumpSetServerError(
          'load-busy',
          `another load into MySQL database ${database} on ${address}${holder} did not finish within ${options.lockWaitSeconds} s; wait for it, or ${end}, then load again`,
        );
      }
    }
    return release;
  } catch (error) {
    if (options.signal?.aborted) {
      await release();
      throw options.signal.reason;
    }
    // A server that refuses named locks (Galera/PXC strict mode) still loads, unprotected, saying so.
    const refused = typeof (error as { errno?: unknown }).errno === 'number' && typeof (error as { sqlMessage?: unknown }).sqlMessage === 'string';
    if (refused && !(error instanceof DumpSetServerError)) {
      options.onWaiting?.(`MySQL ${address} refuses named locks (${maskSecretsOf((error as Error).message, [url])}); loading without waiting for other loads into the same database`);
      return release;
    }
    await release();
    if (error instanceof DumpSetServerError) throw error;
    throw new DumpSetServerError('mysql-failed', maskSecretsOf(`locking the load targets on MySQL ${address} failed: ${(error as Error).message}`, [url]), { cause: error });
  }
}

/** Waits up to `lockWaitSeconds` for the named lock, a second at a time, giving up early on abort: true once taken. */
async function waitForLock(connection: PoolConnection, name: string, options: LoadLockOptions): Promise<boolean> {
  const deadline = Date.now() + options.lockWaitSeconds * 1000;
  for (;;) {
    options.signal?.throwIfAborted();
    const seconds = Math.max(0, Math.min(LOCK_POLL_SECONDS, Math.ceil((deadline - Date.now()) / 1000)));
    const [[answer]] = (await connection.query('SELECT GET_LOCK(?, ?) AS got', [name, seconds])) as unknown as [[LockAnswer]];
    if (taken(answer)) return true;
    if (Date.now() >= deadline) return false;
  }
}
