/**
 * Turns the dumpers' fine-grained progress events into a few readable lines: one when a
 * (engine, database, phase) starts, then one per 25 % step, then one when it is complete.
 */
export function progressReporter(onProgress: ((message: string) => void) | undefined) {
  const lastStep = new Map<string, number>();
  return (key: string, done: number, total: number, describe: () => string) => {
    if (!onProgress) return;
    const step = total <= 0 ? 4 : Math.min(4, Math.floor((done / total) * 4));
    const previous = lastStep.get(key);
    if (previous !== undefined && previous >= step) return;
    lastStep.set(key, step);
    onProgress(describe());
  };
}
