import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Collection, MongoClient } from 'mongodb';
import { connectMongo } from '@org/mongo-dump';
import { DumpSetServerError } from './errors.js';
import type { LoadLockOptions } from './load-lock.js';
import { maskSecretsOf, serverAddress } from './mask.js';

/**
 * Where MongoDB load locks live: a database of their own (never a load or dump target: mongo-dump counts
 * it among the system databases), one document per lock generation.
 */
export const MONGO_LOCK_DATABASE = 'devstack_dumps_locks';
export const MONGO_LOCK_COLLECTION = 'load_locks';

/**
 * One holder of the lock of a target database. `_id` is `<database>#<generation>`: taking the lock is
 * inserting the next generation, and a unique `_id` is the only write FerretDB v1 makes atomic (its
 * conditional updates and deletes find, then write by `_id`), so two waiters can never both take it.
 * The newest generation is never deleted (a released one is marked), so generations never repeat.
 */
export interface MongoLockDocument {
  _id: string;
  database: string;
  generation: number;
  /** Random per load: only the holder renews or releases its lock. */
  owner: string;
  host: string;
  pid: number;
  since: Date;
  /** On the server's clock; renewed while the load runs, so a killed load's lock ends within a lease. */
  expiresAt: Date;
  released?: boolean;
}

export interface MongoLoadLockOptions extends LoadLockOptions {
  /** Lease length and renewal period (tests shorten them). */
  lease?: { seconds: number; renewEveryMs: number };
  /** Where the lock documents live (tests point it elsewhere). */
  namespace?: { database: string; collection: string };
}

export const MONGO_LEASE_SECONDS = 30;
const RENEW_EVERY_MS = 10_000;
/** A waiter looks again this often; an abort ends its sleep at once. */
const POLL_MS = 500;
const DUPLICATE_KEY = 11000;

export const lockDocumentId = (database: string, generation: number) => `${database}#${generation}`;

/** Whether a waiter may take the next generation over `top` (the newest): none yet, released, or its lease ran out. */
export function lockIsFree(top: Pick<MongoLockDocument, 'released' | 'expiresAt'> | null, now: Date): boolean {
  // A hand-edited document without a valid expiry must not block loads for ever.
  return top === null || top.released === true || !(top.expiresAt instanceof Date) || top.expiresAt.getTime() <= now.getTime();
}

export const describeHolder = (top: Pick<MongoLockDocument, 'pid' | 'host'>) => `process ${top.pid} on ${top.host}`;

/**
 * Takes the lock of each target MongoDB database (sorted, so loads of several cannot deadlock), waiting
 * (bounded) for another load that holds one, and returns what releases them. Mirrors lockMysqlTargets;
 * Mongo has no session-bound lock, so the holder renews a lease instead, and a load that dies without
 * releasing blocks others for at most one lease.
 */
export async function lockMongoTargets(url: string, databases: string[], options: MongoLoadLockOptions): Promise<() => Promise<void>> {
  // Unreachable server, bad credentials: the dumper's typed errors, as any Mongo step of a load gives them.
  const client = await connectMongo(url, { waitSeconds: Math.min(Math.max(options.waitSeconds, 0), 600), signal: options.signal });
  const address = serverAddress(url);
  const lease = options.lease ?? { seconds: MONGO_LEASE_SECONDS, renewEveryMs: RENEW_EVERY_MS };
  const namespace = options.namespace ?? { database: MONGO_LOCK_DATABASE, collection: MONGO_LOCK_COLLECTION };
  const locks = client.db(namespace.database).collection<MongoLockDocument>(namespace.collection);
  const owner = randomBytes(16).toString('hex');
  const held: MongoLockDocument[] = [];
  let clock: () => Date = () => new Date();
  let timer: NodeJS.Timeout | undefined;
  let renewing: Promise<void> = Promise.resolve();
  const lost = new Set<string>();
  const tidying: Promise<void>[] = [];

  const renew = async () => {
    for (const mine of held) {
      const renewed = await locks.updateOne({ _id: mine._id, owner }, { $set: { expiresAt: new Date(clock().getTime() + lease.seconds * 1000) } }).catch(() => undefined);
      // Deleted by a later holder: this load went a whole lease without renewing (server away, process stopped).
      if (renewed?.matchedCount === 0 && !lost.has(mine._id)) {
        lost.add(mine._id);
        options.onWaiting?.(`the lock of MongoDB database ${mine.database} on ${address} was taken over by another load after this one could not renew it for ${lease.seconds} s; the two loads may interfere`);
      }
    }
  };
  const release = async () => {
    if (timer) clearInterval(timer);
    await renewing;
    for (const mine of held) await locks.updateOne({ _id: mine._id, owner }, { $set: { released: true, expiresAt: clock() } }).catch(() => undefined);
    // Each database keeps its newest generation for good (one small document per database name ever loaded):
    // deleting it would let a waiter that read it take a generation while another, seeing none, takes 1.
    await Promise.all(tidying);
    await client.close().catch(() => undefined);
  };

  try {
    clock = await serverClock(client);
    const deadline = Date.now() + options.lockWaitSeconds * 1000;
    for (const database of [...new Set(databases)].sort()) {
      held.push(await acquire(locks, database, { owner, clock, lease: lease.seconds, deadline, address, options, tidying }));
      timer ??= setInterval(() => {
        renewing = renewing.then(renew);
      }, lease.renewEveryMs).unref();
    }
    return release;
  } catch (error) {
    if (options.signal?.aborted) {
      await release();
      throw options.signal.reason;
    }
    if (error instanceof DumpSetServerError) {
      await release();
      throw error;
    }
    // The server answered with a refusal (no write access to the lock database, ...): load unprotected, saying so.
    if (typeof (error as { code?: unknown }).code === 'number') {
      options.onWaiting?.(
        `MongoDB ${address} refuses the load lock in ${namespace.database}.${namespace.collection} (${maskSecretsOf((error as Error).message, [url])}); loading without waiting for other loads into the same database`,
      );
      return release;
    }
    await release();
    throw new DumpSetServerError('mongo-failed', maskSecretsOf(`locking the load targets on MongoDB ${address} failed: ${(error as Error).message}`, [url]), { cause: error });
  }
}

interface AcquireContext {
  owner: string;
  /** Clean-ups started while acquiring, awaited before the client closes. */
  tidying: Promise<void>[];
  clock: () => Date;
  lease: number;
  deadline: number;
  address: string;
  options: MongoLoadLockOptions;
}

/** Waits until `database`'s lock is free and takes it: the document this load now holds. */
async function acquire(locks: Collection<MongoLockDocument>, database: string, context: AcquireContext): Promise<MongoLockDocument> {
  const { owner, clock, options, address } = context;
  const newest = () => locks.find({ database }).sort({ generation: -1 }).limit(1).next();
  let told = false;
  for (;;) {
    options.signal?.throwIfAborted();
    const top = await newest();
    const now = clock();
    if (lockIsFree(top, now)) {
      const generation = (top?.generation ?? 0) + 1;
      const mine: MongoLockDocument = { _id: lockDocumentId(database, generation), database, generation, owner, host: hostname(), pid: process.pid, since: now, expiresAt: new Date(now.getTime() + context.lease * 1000) };
      const taken = await locks.insertOne(mine).then(
        () => true,
        (error: unknown) => {
          if ((error as { code?: unknown }).code === DUPLICATE_KEY) return false;
          throw error;
        },
      );
      if (!taken) continue; // another waiter took this generation: it is the holder now
      const after = await newest();
      if (after && after.generation > generation) {
        // Our `top` was stale and the generation we took had been tidied away; a later one holds the lock.
        await locks.deleteOne({ _id: mine._id, owner });
        continue;
      }
      if (top && !top.released) options.onWaiting?.(`took over the lock of MongoDB database ${database} on ${address} from a load that stopped renewing it (${describeHolder(top)})`);
      // Best effort, off the load's path (release waits for it): older generations only matter to a reader
      // that is about to be told it lost.
      context.tidying.push(locks.deleteMany({ database, generation: { $lt: generation } }).then(() => undefined, () => undefined));
      return mine;
    }
    const holder = describeHolder(top!);
    if (!told) options.onWaiting?.(`waiting for another load into MongoDB database ${database} on ${address} (${holder}) to finish`);
    told = true;
    const left = context.deadline - Date.now();
    if (left <= 0) {
      throw new DumpSetServerError(
        'load-busy',
        `another load into MongoDB database ${database} on ${address} (${holder}) did not finish within ${options.lockWaitSeconds} s; wait for it, or end it, then load again (the lock of a load that was killed ends ${context.lease} s after it stopped)`,
      );
    }
    await sleep(Math.min(POLL_MS, left), undefined, options.signal ? { signal: options.signal } : {});
  }
}

/**
 * The server's clock, from `hello`'s localTime: leases are written by one machine and judged by another,
 * so both use the server's time. This machine's clock when the server does not tell its own.
 */
async function serverClock(client: MongoClient): Promise<() => Date> {
  const before = Date.now();
  const hello = await client
    .db('admin')
    .command({ hello: 1 })
    .catch(() => undefined);
  const localTime = hello?.localTime as unknown;
  const offset = localTime instanceof Date ? localTime.getTime() - (before + Date.now()) / 2 : 0;
  return () => new Date(Date.now() + offset);
}
