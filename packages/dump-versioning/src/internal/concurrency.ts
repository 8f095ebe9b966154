// Small concurrency helpers shared by publish, pull, verify, prune and queries.

/**
 * Runs `task` over `items` with at most `limit` in flight; results keep the input order. After the first
 * failure no new task starts, and the returned promise rejects with that first error only once every
 * task already started has settled (so a caller's cleanup never races work still in flight).
 */
export async function mapLimit<T, R>(items: ReadonlyArray<T>, limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const index = next++;
      try {
        results[index] = await task(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
  return results;
}

/**
 * Runs tasks while their total weight stays within `capacity` (a task heavier than that runs alone),
 * the others waiting in call order: a count limit with weight 1, a memory budget with weight = bytes.
 */
export function createLimiter(capacity: number) {
  let used = 0;
  const waiting: Array<{ weight: number; start: () => void }> = [];
  const admit = () => {
    while (waiting.length > 0 && (used === 0 || used + waiting[0]!.weight <= capacity)) {
      const next = waiting.shift()!;
      used += next.weight;
      next.start();
    }
  };
  return async <R>(task: () => Promise<R>, weight = 1): Promise<R> => {
    await new Promise<void>((start) => {
      waiting.push({ weight, start });
      admit();
    });
    try {
      return await task();
    } finally {
      used -= weight;
      admit();
    }
  };
}

/** Starts a promise now and lets a later await see its failure (without an unhandled rejection meanwhile). */
export function early<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}
