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
 * file tasks a publish already started stop before their next request. A request in flight completes: a
 * create-only blob is whole or absent, either way harmless, and the next publish reuses it.
 */
export function stoppingStore(store: Store, signal: AbortSignal | undefined): Store {
  if (!signal) return store;
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (property !== 'exists' && property !== 'putIfAbsent') return value.bind(target);
      return (...args: unknown[]) => (signal.aborted ? Promise.reject(signal.reason) : (value as (...args: unknown[]) => unknown).apply(target, args));
    },
  });
}
