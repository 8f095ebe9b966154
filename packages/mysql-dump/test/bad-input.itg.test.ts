import { createServer, connect, type Server } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithServices } from '../../../test/support/services.js';
import {
  AccessDeniedError,
  MissingPrivilegeError,
  ServerUnreachableError,
  UnknownDataTableError,
  UnknownDatabaseError,
  dumpMysql,
  loadMysql,
  readSchema,
} from '../src/index.js';
import { TestDatabases, mysqlUrl, tempDir } from './helpers/test-databases.js';

const listen = (server: Server) =>
  new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));

async function timed<T>(body: () => Promise<T>): Promise<{ error: unknown; ms: number }> {
  const start = Date.now();
  try {
    await body();
    return { error: undefined, ms: Date.now() - start };
  } catch (error) {
    return { error, ms: Date.now() - start };
  }
}

describeWithServices(['mysql'], 'mysql dump: bad input gets one clear error', () => {
  const dbs = new TestDatabases();
  let db: string;
  let other: string;
  let out: string;
  beforeAll(async () => {
    db = await dbs.create('bad');
    await dbs.run(db, 'CREATE TABLE present (id INT PRIMARY KEY); CREATE VIEW present_view AS SELECT id FROM present;');
    other = await dbs.create('bad_other');
    await dbs.run(other, 'CREATE TABLE present (id INT PRIMARY KEY);');
    out = await tempDir('bad');
  });
  afterAll(async () => {
    await (await dbs.admin()).query("DROP USER IF EXISTS 'md_limited'@'%'");
    await dbs.dropAll();
  });

  it('a refused port fails at once, naming host:port and not the password', async () => {
    const closed = createServer();
    const port = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
    const { error, ms } = await timed(() => dumpMysql({ url: `mysql://root:hunter2@127.0.0.1:${port}`, databases: [db], outDir: out }));
    expect(error).toBeInstanceOf(ServerUnreachableError);
    expect((error as Error).message).toContain(`127.0.0.1:${port}`);
    expect((error as Error).message).not.toContain('hunter2');
    expect(ms).toBeLessThan(10_000);
  });

  it('a server that accepts but never answers fails within 10 s, naming host:port', async () => {
    const silent = createServer(() => undefined);
    const port = await listen(silent);
    try {
      const { error, ms } = await timed(() => readSchema(`mysql://root:pw@127.0.0.1:${port}`, db));
      expect(error).toBeInstanceOf(ServerUnreachableError);
      expect((error as Error).message).toContain(`127.0.0.1:${port}`);
      expect(ms).toBeLessThan(10_000);
    } finally {
      silent.close();
    }
  });

  it('wait retries until a starting server appears', async () => {
    const target = new URL(mysqlUrl());
    const proxy = createServer((socket) => {
      const upstream = connect(Number(target.port || 3306), target.hostname);
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    const port = await listen(proxy);
    await new Promise((resolve) => proxy.close(resolve)); // not listening yet: "still starting"
    const later = setTimeout(() => proxy.listen(port, '127.0.0.1'), 1500);
    try {
      const url = `mysql://${target.username}:${target.password}@127.0.0.1:${port}`;
      const schema = await readSchema(url, db, { wait: 20 });
      expect(schema.tables.map((t) => t.name)).toEqual(['present']);
    } finally {
      clearTimeout(later);
      proxy.close();
    }
  });

  it('names an unknown data table', async () => {
    await expect(dumpMysql({ url: mysqlUrl(), databases: [db], dataTables: ['present', 'no_such_table'], outDir: out })).rejects.toThrow(
      UnknownDataTableError,
    );
    await expect(dumpMysql({ url: mysqlUrl(), databases: [db], dataTables: ['no_such_table'], outDir: out })).rejects.toThrow(/`no_such_table`/);
  });

  it('says a `database.table` data table names a database that is not dumped', async () => {
    // `other` exists on the server and has the table: the problem is only that it is not being dumped.
    const entry = `${other}.present`;
    const error = await dumpMysql({ url: mysqlUrl(), databases: [db], dataTables: ['present', entry], outDir: out }).then(
      () => new Error('the dump succeeded'),
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(UnknownDataTableError);
    expect((error as Error).message).toBe(
      `data table \`${entry}\` names database \`${other}\`, which is not dumped (dumped: \`${db}\`); ` +
        `add \`${other}\` to the databases to dump, or remove the entry from the data tables`,
    );
  });

  it('names an unknown database', async () => {
    const missing = `${db}_missing`;
    await expect(dumpMysql({ url: mysqlUrl(), databases: [missing], outDir: out })).rejects.toThrow(UnknownDatabaseError);
    await expect(readSchema(mysqlUrl(), missing)).rejects.toThrow(new RegExp(`\`${missing}\` does not exist`));
  });

  it('rejects a wrong password without printing it', async () => {
    const url = new URL(mysqlUrl());
    url.password = 'definitely-wrong-pw';
    const { error } = await timed(() => dumpMysql({ url: url.toString(), databases: [db], outDir: out }));
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect((error as Error).message).not.toContain('definitely-wrong-pw');
  });

  it('names the missing privilege for dump and load', async () => {
    const admin = await dbs.admin();
    await admin.query("DROP USER IF EXISTS 'md_limited'@'%'");
    await admin.query("CREATE USER 'md_limited'@'%' IDENTIFIED BY 'limitedpw'");
    await admin.query(`GRANT SELECT ON \`${db}\`.* TO 'md_limited'@'%'`);
    const url = new URL(mysqlUrl());
    url.username = 'md_limited';
    url.password = 'limitedpw';
    const { error } = await timed(() => dumpMysql({ url: url.toString(), databases: [db], outDir: out }));
    expect(error).toBeInstanceOf(MissingPrivilegeError);
    // Named by the up-front check ("lacks SHOW VIEW, TRIGGER, EVENT on database ...") or, when the server's
    // privilege tables were not yet visible to it, by the denial itself; either way the privilege is named.
    expect((error as Error).message).toMatch(/md_limited/);
    expect((error as Error).message).toMatch(/SHOW VIEW/);

    const dumpDir = await tempDir('bad-load');
    await dumpMysql({ url: mysqlUrl(), databases: [db], outDir: dumpDir });
    const load = await timed(() => loadMysql({ url: url.toString(), dir: dumpDir, databaseRename: `${db}_denied` }));
    expect(load.error).toBeInstanceOf(MissingPrivilegeError);
    expect((load.error as Error).message).toMatch(/md_limited/);
    expect((load.error as Error).message).not.toContain('limitedpw');
  });
});
