import { setTimeout as sleep } from 'node:timers/promises';
import type { Store } from './store.js';

/** Waits `ms`; an abort ends the wait at once, rejecting with the signal's reason (not an AbortError). */
export async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  signal?.throwIfAborted();
  await sleep(ms, undefined, signal ? { signal } : {}).catch((error: unknown) => {
    signal?.throwIfAborted();
    throw error;
  });
}

/**
 * The store, with each `exists` and `putIfAbsent` refusing to start once `signal` is aborted, so that the
 * file tasks a publish already started stop before their next request. A `putIfAbsent` in flight gets the
 * signal too: an S3 upload stops at once and its multipart upload is aborted, so a cancelled publish of a
 * large file neither keeps uploading nor leaves parts behind (a create-only blob is whole or absent).
 */
export function stoppingStore(store: Store, signal: AbortSignal | undefined): Store {
  if (!signal) return store;
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (property === 'exists') return (...args: unknown[]) => (signal.aborted ? Promise.reject(signal.reason) : (value as (...args: unknown[]) => unknown).apply(target, args));
      if (property !== 'putIfAbsent') return value.bind(target);
      const put = value as Store['putIfAbsent'];
      return (key: string, body: Parameters<Store['putIfAbsent']>[1], onBytes?: (bytes: number) => void, given?: AbortSignal) =>
        signal.aborted ? Promise.reject(signal.reason) : put.call(target, key, body, onBytes, given ? AbortSignal.any([given, signal]) : signal);
    },
  });
}
