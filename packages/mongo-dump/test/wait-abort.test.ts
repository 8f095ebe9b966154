import { expect, test } from 'vitest';
import { freePort } from '../../../test/support/loopback.js';
import { connectMongo } from '../src/internal/connect.js';


test('aborting ends the wait for an unreachable server at once, with the signal\'s reason', async () => {
  const controller = new AbortController();
  const reason = new Error('interrupted (SIGINT)');
  setTimeout(() => controller.abort(reason), 300);
  const error = await connectMongo(`mongodb://127.0.0.1:${await freePort()}`, { waitSeconds: 60, signal: controller.signal }).then(
    () => new Error('connected'),
    (caught: unknown) => caught,
  );
  expect(error).toBe(reason);
});
