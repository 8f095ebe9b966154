import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { describeWithServices, serviceVar } from '../../../test/support/services.js';
import { MongoSystemDatabaseError, loadMongo } from '../src/index.js';
import { uniqueDbName } from './live-fixture.js';

describeWithServices(['mongo'], 'loads into a system database are refused before connecting', () => {
  const control = uniqueDbName('mdump_sysguard');
  let client: MongoClient;
  let dir: string;
  let proxy: Server;
  let proxyUrl: string;
  let connections = 0;
  const sockets: Socket[] = [];

  const systemCollections = async () =>
    Object.fromEntries(
      await Promise.all(
        ['admin', 'local', 'config'].map(async (name) => [name, (await client.db(name).listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort()]),
      ),
    );

  beforeAll(async () => {
    const url = serviceVar('TEST_MONGO_URL');
    client = await new MongoClient(url).connect();
    dir = await mkdtemp(join(tmpdir(), 'mongo-dump-sysguard-'));
    await mkdir(join(dir, 'mongo', 'shop'), { recursive: true });
    await writeFile(join(dir, 'mongo', 'shop', 'orders.metadata.json'), '{"indexes":[],"collectionName":"orders","type":"collection"}');
    await writeFile(join(dir, 'mongo', 'shop', 'orders.bson'), '');
    // A forwarder that counts connections: a refusal "before connecting" must make none.
    const real = new URL(url.replace(/^mongodb:\/\/[^@/]*@/, 'mongodb://'));
    proxy = createServer((socket) => {
      connections++;
      const upstream = connect(Number(real.port || 27017), real.hostname);
      sockets.push(socket, upstream);
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyUrl = url.replace(real.host, `127.0.0.1:${(proxy.address() as { port: number }).port}`);
  });
  afterAll(async () => {
    await client?.db(control).dropDatabase();
    await client?.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(undefined)));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  // Without replace, so that a regression of the guard on a real MongoDB could at worst add a collection,
  // never drop admin's users; the unit tests cover replace.
  test.each([['admin'], ['Admin'], ['local'], ['config']])('a load into %s is refused, no connection made, nothing changed', async (target) => {
    const before = await systemCollections();
    const error = await loadMongo({ url: proxyUrl, dir, databaseRename: target }).then(
      () => new Error('the load succeeded'),
      (caught: unknown) => caught as Error,
    );
    expect(error).toBeInstanceOf(MongoSystemDatabaseError);
    expect(error).toMatchObject({ code: 'system-database', database: target });
    expect(connections).toBe(0);
    expect(await systemCollections()).toEqual(before);
  });

  test('the control: an ordinary target loads through the same proxy', async () => {
    await loadMongo({ url: proxyUrl, dir, databaseRename: control });
    expect(connections).toBeGreaterThan(0);
    expect((await client.db(control).listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name)).toEqual(['orders']);
  });
});
