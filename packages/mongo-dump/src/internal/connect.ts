import { setTimeout as sleep } from 'node:timers/promises';
import type { Document, MongoClient } from 'mongodb';
import { mongoDriver } from './driver.js';
import {
  MongoAuthFailedError,
  MongoPrivilegeError,
  MongoUnreachableError,
  MongoUrlError,
} from './errors.js';
import { maskMongoUrl, maskSecretsIn, mongoHosts, mongoUser } from './url.js';

export interface MongoEngine {
  flavor: 'mongodb' | 'ferretdb';
  /** The engine's own version: MongoDB's, or FerretDB's (e.g. "1.24.2"). */
  version: string;
  /** The MongoDB version the server claims to be compatible with (FerretDB reports one too). */
  mongoCompatibleVersion: string;
}

export interface ConnectOptions {
  /** Keep retrying for up to this many seconds while the server starts (capped at 600). Default 0. */
  waitSeconds?: number;
  /** Per attempt; keeps an unreachable server's error well under 10 s. Default 5000. */
  serverSelectionTimeoutMS?: number;
}

export const MAX_WAIT_SECONDS = 600;
const RETRY_INTERVAL_MS = 1000;
const AUTH_FAILED = 18;
const UNAUTHORIZED = 13;

/** A connected client, after a `ping` proved the server answers and accepts the credentials. */
export async function connectMongo(url: string, options: ConnectOptions = {}): Promise<MongoClient> {
  const hosts = mongoHosts(url);
  const waitSeconds = Math.min(Math.max(options.waitSeconds ?? 0, 0), MAX_WAIT_SECONDS);
  const deadline = Date.now() + waitSeconds * 1000;
  const { MongoClient, MongoServerError } = await mongoDriver();
  for (;;) {
    let client: MongoClient;
    try {
      client = new MongoClient(url, {
        serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 5000,
        connectTimeoutMS: 5000,
        appName: 'devstack-dumps',
      });
    } catch (error) {
      throw new MongoUrlError(maskMongoUrl(url), maskSecretsIn(messageOf(error), url));
    }
    try {
      await client.connect();
      await client.db('admin').command({ ping: 1 });
      return client;
    } catch (error) {
      await client.close().catch(() => undefined);
      if (error instanceof MongoServerError && error.code === AUTH_FAILED) {
        throw new MongoAuthFailedError(hosts, mongoUser(url));
      }
      if (Date.now() + RETRY_INTERVAL_MS >= deadline) {
        throw new MongoUnreachableError(hosts, waitSeconds, maskSecretsIn(messageOf(error), url));
      }
      await sleep(RETRY_INTERVAL_MS);
    }
  }
}

/** FerretDB answers `buildInfo` with its own version beside the MongoDB version it emulates. */
export async function detectEngine(client: MongoClient): Promise<MongoEngine> {
  const info = await client.db('admin').command({ buildInfo: 1 });
  return engineFromBuildInfo(info);
}

export function engineFromBuildInfo(info: Document): MongoEngine {
  const mongoCompatibleVersion = String(info.version ?? 'unknown');
  // FerretDB v1 reports `ferretdbVersion: "v1.24.2"`; v2 reports a `ferretdb: { version }` document.
  const ferret = info.ferretdbVersion ?? (info.ferretdb as Document | undefined)?.version;
  if (ferret !== undefined) {
    return { flavor: 'ferretdb', version: String(ferret).replace(/^v/, ''), mongoCompatibleVersion };
  }
  return { flavor: 'mongodb', version: mongoCompatibleVersion, mongoCompatibleVersion };
}

/** Runs a server operation, turning "not authorized" into an error that names the privilege. */
export async function withPrivilege<T>(action: string, database: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    // Usually loaded already (a server error needs a connection); otherwise loaded here, once.
    const { MongoServerError } = await mongoDriver();
    if (error instanceof MongoServerError && error.code === UNAUTHORIZED) {
      throw new MongoPrivilegeError(action, database, error.message);
    }
    throw error;
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
