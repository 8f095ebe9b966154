import { expect, test } from 'vitest';
import { describeWithServices, serviceVar } from '../../../test/support/services.js';
import { MongoNotSelectableError } from '../src/index.js';
import { connectMongo } from '../src/internal/connect.js';

describeWithServices(['mongo'], 'a replicaSet the server is no member of', () => {
  test('is named as such, not as a server without a MongoDB handshake', async () => {
    const base = serviceVar('TEST_MONGO_URL').replace(/\/?(\?.*)?$/, '');
    const url = `${base}/?replicaSet=fx2_no_such_set`;
    const error = await connectMongo(url, { serverSelectionTimeoutMS: 1000 }).then(
      async (client) => {
        await client.close();
        return undefined;
      },
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(MongoNotSelectableError);
    expect(error?.message).toContain('answered, but it is not a member of replica set "fx2_no_such_set"');
    expect(error?.message).toContain('drop replicaSet from the URL');
  });
});
