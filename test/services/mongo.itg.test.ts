import { randomBytes } from 'node:crypto';
import { MongoClient, MongoServerError } from 'mongodb';
import { expect, it } from 'vitest';
import { describeWithServices, serviceVar } from '../support/services.js';

describeWithServices(['mongo'], 'MongoDB server of the harness (TEST_MONGO_URL)', () => {
  it('keeps a unique compound index: listIndexes reads it back and a duplicate insert fails', async () => {
    const client = new MongoClient(serviceVar('TEST_MONGO_URL'), { serverSelectionTimeoutMS: 10_000 });
    const db = client.db(`itg_smoke_${randomBytes(4).toString('hex')}`);
    try {
      const buildInfo = await db.admin().command({ buildInfo: 1 });
      // FerretDB answers with the MongoDB version it emulates plus its own version.
      const ferretdb = buildInfo['ferretdbVersion'] as string | undefined;
      console.log(
        `[services] mongo server version: ${String(buildInfo['version'])}${ferretdb ? ` (FerretDB ${ferretdb})` : ''}`,
      );

      const collection = await db.createCollection('accounts');
      // Key order matters in a compound index: tenant first, then email descending.
      await collection.createIndex({ tenant: 1, email: -1 }, { unique: true, name: 'tenant_email' });

      const indexes = await collection.listIndexes().toArray();
      const index = indexes.find((candidate) => candidate['name'] === 'tenant_email');
      expect(index).toBeDefined();
      expect(Object.entries(index?.['key'] as Record<string, unknown>)).toEqual([
        ['tenant', 1],
        ['email', -1],
      ]);
      expect(index?.['unique']).toBe(true);

      await collection.insertOne({ tenant: 'a', email: 'x@example.test' });
      await collection.insertOne({ tenant: 'b', email: 'x@example.test' });
      const duplicate = collection.insertOne({ tenant: 'a', email: 'x@example.test' });
      await expect(duplicate).rejects.toBeInstanceOf(MongoServerError);
      await expect(duplicate).rejects.toMatchObject({ code: 11000 });
      expect(await collection.countDocuments()).toBe(2);
    } finally {
      await db.dropDatabase().catch(() => undefined);
      await client.close();
    }
  });
});
