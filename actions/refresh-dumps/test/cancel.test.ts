import { EventEmitter } from 'node:events';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test, vi } from 'vitest';
import { openStore } from '@org/dump-versioning';
import { CancelledError, cancelledMessage, unlessCancelled, whileCancellable, type CancelledPhase } from '../src/cancel.js';
import { inStep } from '../src/errors.js';
import { applyRetention } from '../src/publish.js';

// A cancelled workflow run (SIGINT, then SIGTERM, then a kill) stops the publish and retention at a
// safe point, releasing their store leases, and fails the step with one message.

describe('cancelledMessage', () => {
  test.each<[string, CancelledPhase, RegExp]>([
    ['SIGINT', { phase: 'publish', commit: 'c'.repeat(40) }, /^The workflow run was cancelled \(SIGINT\) while publishing c{40}: the publish stopped before naming a version .* released its lease .* Re-run the workflow to publish this commit$/],
    ['SIGTERM', { phase: 'retention', version: 'v1' }, /^The workflow run was cancelled \(SIGTERM\) during retention, after version v1 was published: .* released its lease; the next run's retention catches up$/],
  ])('%s during %o', (signal, during, expected) => {
    expect(cancelledMessage(signal, during)).toMatch(expected);
  });
});

describe('whileCancellable', () => {
  test.each([['SIGINT'], ['SIGTERM']] as const)('%s aborts the work, a second signal only logs, and the handlers are removed after', async (name) => {
    const source = new EventEmitter();
    const log = vi.fn();
    const result = await whileCancellable(
      async (signal) => {
        expect(source.listenerCount('SIGINT') + source.listenerCount('SIGTERM')).toBe(2);
        source.emit(name, name);
        source.emit('SIGTERM', 'SIGTERM');
        return unlessCancelled(signal, { phase: 'publish', commit: 'abc' }, async () => signal.throwIfAborted());
      },
      log,
      source,
    ).catch((error: unknown) => error);
    expect(result).toBeInstanceOf(CancelledError);
    expect((result as CancelledError).message).toBe(cancelledMessage(name, { phase: 'publish', commit: 'abc' }));
    expect(log.mock.calls.map(([message]) => message)).toEqual([expect.stringMatching(new RegExp(`^${name}: the run is being cancelled`)), expect.stringMatching(/^SIGTERM: still stopping/)]);
    expect(source.listenerCount('SIGINT') + source.listenerCount('SIGTERM')).toBe(0);
  });

  test('work that finished despite the abort (a publish past its commit entry) returns its result', async () => {
    const source = new EventEmitter();
    const value = await whileCancellable(
      (signal) =>
        unlessCancelled(signal, { phase: 'publish', commit: 'abc' }, async () => {
          source.emit('SIGINT', 'SIGINT');
          return 'published';
        }),
      () => undefined,
      source,
    );
    expect(value).toBe('published');
  });

  test('an error without a cancellation stays that error', async () => {
    const failure = new Error('disk full');
    await expect(unlessCancelled(new AbortController().signal, { phase: 'retention', version: 'v' }, () => Promise.reject(failure))).rejects.toBe(failure);
  });

  test.each([
    ['the abort reason', (reason: unknown) => reason, true],
    ['an error wrapping it', (reason: unknown) => new Error('publish failed', { cause: reason }), true],
    // A publish past its commit entry goes on after the cancel; if its ref write then fails, that is the failure.
    ['another failure after the cancel', () => new Error('ref-contended'), false],
  ])('after a cancel, %s is reported as cancelled: %s', async (_, thrown, cancelled) => {
    const controller = new AbortController();
    controller.abort(new Error('SIGTERM'));
    const error = thrown(controller.signal.reason);
    const failure = await unlessCancelled(controller.signal, { phase: 'publish', commit: 'abc' }, () => Promise.reject(error)).catch((caught: unknown) => caught);
    expect(failure instanceof CancelledError).toBe(cancelled);
    if (!cancelled) expect(failure).toBe(error);
  });

  test('a cancel inside a step (as main.ts runs the publish: inStep around it) stays the cancel, not a step failure', async () => {
    const controller = new AbortController();
    controller.abort(new Error('SIGINT'));
    const failure = await inStep('Publishing to /store', 'store', () =>
      unlessCancelled(controller.signal, { phase: 'publish', commit: 'abc' }, async () => controller.signal.throwIfAborted()),
    ).catch((caught: unknown) => caught);
    expect(failure).toBeInstanceOf(CancelledError);
  });
});

test('a cancelled retention is a failure (not a "skipped" warning) and leaves no prune lease', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'refresh-cancel-'));
  try {
    const service = 'lms';
    // A live publish (this process) holds a lease: the prune waits for it, and is cancelled meanwhile.
    await mkdir(path.join(root, service, 'locks'), { recursive: true });
    await writeFile(path.join(root, service, 'locks', 'publish-live.json'), `${JSON.stringify({ kind: 'publish', id: 'live', host: hostname(), pid: process.pid })}\n`);
    const store = openStore(root);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('cancelled (SIGINT)')), 100);
    const warn = vi.fn();
    const during: CancelledPhase = { phase: 'retention', version: 'v1' };
    const failure = await unlessCancelled(controller.signal, during, () => applyRetention(store, service, 3, warn, controller.signal)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CancelledError);
    expect(warn).not.toHaveBeenCalled();
    expect(await readdir(path.join(root, service, 'locks'))).toEqual(['publish-live.json']);
    await store.close();
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
