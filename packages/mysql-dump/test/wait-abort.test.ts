import { expect, test } from 'vitest';
import { freePort } from '../../../test/support/loopback.js';
import { openMysqlSession } from '../src/index.js';


test('aborting ends the wait for an unreachable server at once, with the signal\'s reason', async () => {
  const controller = new AbortController();
  const reason = new Error('interrupted (SIGINT)');
  setTimeout(() => controller.abort(reason), 300);
  const error = await openMysqlSession({ url: `mysql://root:pw@127.0.0.1:${await freePort()}`, wait: 60, signal: controller.signal }).then(
    () => new Error('connected'),
    (caught: unknown) => caught,
  );
  expect(error).toBe(reason);
});
