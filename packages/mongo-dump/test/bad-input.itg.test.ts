import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { MongoClient } from 'mongodb';
import { beforeAll, expect, test } from 'vitest';
import { freePort } from '../../../test/support/loopback.js';
import { describeWithServices } from '../../../test/support/services.js';
import {
  dumpMongo,
  loadMongo,
  MongoCollectionNotFoundError,
  MongoDatabaseNotFoundError,
  MongoDumpDirectoryError,
  MongoLoadRejectedError,
  MongoOutputExistsError,
  MongoUnreachableError,
} from '../src/index.js';
import type { MongoEngine } from '../src/internal/connect.js';
import { metadataJson } from '../src/internal/normalise.js';
import { recordedSpecs } from './recorded-catalog.js';
import { readTree, uniqueDbName, useFixtureDatabase } from './live-fixture.js';

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => new Error('expected a rejection, got success'),
    (error: unknown) => error as Error,
  );
  return outcome;
}


describeWithServices(['mongo'], 'mongo dump and load bad input', () => {
  const source = uniqueDbName('mdump_bad_src');
  const target = uniqueDbName('mdump_bad_dst');
  const fixture = useFixtureDatabase(source, [target]);
  let url: string;
  let client: MongoClient;
  let engine: MongoEngine;
  let work: string;
  beforeAll(() => ({ url, client, engine, work } = fixture));

  test('an unreachable server fails within 10 s, naming host:port, password masked', async () => {
    const port = await freePort();
    const started = Date.now();
    const error = await rejection(
      dumpMongo({ url: `mongodb://admin:hunter2@127.0.0.1:${port}`, databases: [source], outDir: join(work, 'unreachable') }),
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(error).toBeInstanceOf(MongoUnreachableError);
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.message).not.toContain('hunter2');
  });

  test('a server that accepts connections but never answers fails within 10 s, naming host:port', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const started = Date.now();
      const error = await rejection(dumpMongo({ url: `mongodb://admin:hunter2@127.0.0.1:${port}`, databases: [source], outDir: join(work, 'silent') }));
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(error).toBeInstanceOf(MongoUnreachableError);
      expect(error.message).toContain(`127.0.0.1:${port}`);
      expect(error.message).not.toContain('hunter2');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test('waitSeconds retries until a server that starts late answers', async () => {
    const port = await freePort();
    const sockets: Socket[] = [];
    let proxy: Server | undefined;
    const target = new URL(url);
    // A TCP forwarder to the real server that only starts listening after 7 s: longer than one
    // server-selection attempt (5 s), so only the retry loop can succeed.
    const timer = setTimeout(() => {
      proxy = createServer((socket) => {
        const upstream = connect(Number(target.port), target.hostname);
        sockets.push(socket, upstream);
        socket.pipe(upstream).pipe(socket);
      }).listen(port, '127.0.0.1');
    }, 7000);
    try {
      const lateUrl = url.replace(target.host, `127.0.0.1:${port}`);
      const result = await dumpMongo({ url: lateUrl, databases: [source], outDir: join(work, 'late'), waitSeconds: 30 });
      expect(result.files).toContain(`mongo/${source}/orders.metadata.json`);
    } finally {
      clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(undefined)));
    }
  });

  test('a nonexistent data collection is named and nothing is written', async () => {
    const outDir = join(work, 'nocoll');
    const error = await rejection(dumpMongo({ url, databases: [source], dataCollections: ['orders', 'no_such_coll'], outDir }));
    expect(error).toBeInstanceOf(MongoCollectionNotFoundError);
    expect(error.message).toContain('"no_such_coll"');
    expect((await readTree(outDir).catch(() => new Map())).size).toBe(0);
  });

  test('a nonexistent database is named', async () => {
    const error = await rejection(dumpMongo({ url, databases: [source, 'mdump_no_such_db'], outDir: join(work, 'nodb') }));
    expect(error).toBeInstanceOf(MongoDatabaseNotFoundError);
    expect(error.message).toContain('"mdump_no_such_db"');
  });

  test('an existing dump is never overwritten', async () => {
    const outDir = join(work, 'exists');
    await mkdir(join(outDir, 'mongo', source), { recursive: true });
    expect(await rejection(dumpMongo({ url, databases: [source], outDir }))).toBeInstanceOf(MongoOutputExistsError);
  });

  test('a dump missing a .bson file is refused before connecting', async () => {
    const dir = join(work, 'broken');
    await mkdir(join(dir, 'mongo', 'shop'), { recursive: true });
    await writeFile(join(dir, 'mongo', 'shop', 'orders.metadata.json'), '{"indexes":[],"collectionName":"orders","type":"collection"}');
    // An unreachable URL proves the directory is checked first: its error would otherwise win.
    const error = await rejection(loadMongo({ url: 'mongodb://127.0.0.1:1', dir }));
    expect(error).toBeInstanceOf(MongoDumpDirectoryError);
    expect(error.message).toContain(join(dir, 'mongo', 'shop', 'orders.bson'));
  });

  test('the recorded MongoDB 7 catalog: FerretDB refuses it cleanly, MongoDB loads it', async () => {
    const dir = join(work, 'recorded');
    await mkdir(join(dir, 'mongo', 'shop'), { recursive: true });
    for (const spec of recordedSpecs()) {
      await writeFile(join(dir, 'mongo', 'shop', `${spec.name}.metadata.json`), metadataJson(spec));
      if (spec.type === 'collection') await writeFile(join(dir, 'mongo', 'shop', `${spec.name}.bson`), '');
    }
    const load = loadMongo({ url, dir, databaseRename: target });
    if (engine.flavor === 'ferretdb') {
      const error = await rejection(load);
      expect(error).toBeInstanceOf(MongoLoadRejectedError);
      expect(error.message).toMatch(/not implemented/);
      // Nothing half-loaded stays behind.
      const names = (await client.db('admin').admin().listDatabases({ nameOnly: true })).databases.map((db) => db.name);
      expect(names).not.toContain(target);
    } else {
      await load;
      await dumpMongo({ url, databases: [target], outDir: join(work, 'recorded-again') });
      const files = await readTree(join(work, 'recorded-again', 'mongo', target));
      const expected = recordedSpecs().flatMap((spec) =>
        spec.type === 'collection' ? [`${spec.name}.bson`, `${spec.name}.metadata.json`] : [`${spec.name}.metadata.json`],
      );
      expect([...files.keys()].sort()).toEqual(expected.sort());
    }
  });
});
