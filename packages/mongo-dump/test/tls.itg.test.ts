import { join } from 'node:path';
import { expect, test } from 'vitest';
import { rejectionOf } from '../../../test/support/rejection.js';
import { describeWithServices, serviceVar } from '../../../test/support/services.js';
import { dumpMongo, loadMongo, MongoTlsError } from '../src/index.js';
import { connectMongo } from '../src/internal/connect.js';
import { FIXTURE_DATA_COLLECTIONS, readTree, uniqueDbName, useFixtureDatabase } from './live-fixture.js';


// TEST_MONGO_TLS_URL is a TLS listener whose certificate names `localhost`, signed by a test CA (the harness's
// FerretDB or mongod; in GitHub CI a mongod container test/services/ci-tls starts).
describeWithServices(['mongoTls'], 'mongodb URLs with tls=true', () => {
  const source = uniqueDbName('mtls_src');
  const reloaded = uniqueDbName('mtls_reload');
  // The fixture is created over TLS too: in GitHub CI the TLS server is a container of its own.
  const fixture = useFixtureDatabase(source, [reloaded], 'TEST_MONGO_TLS_URL');
  const tlsUrl = () => serviceVar('TEST_MONGO_TLS_URL');

  test('dumps over TLS, loads over TLS under another name, and the dumps are the same bytes', async () => {
    const first = join(fixture.work, 'tls-a');
    await dumpMongo({ url: tlsUrl(), databases: [source], dataCollections: FIXTURE_DATA_COLLECTIONS, outDir: first });
    await loadMongo({ url: tlsUrl(), dir: first, databaseRename: reloaded });
    const again = join(fixture.work, 'tls-b');
    await dumpMongo({ url: tlsUrl(), databases: [reloaded], dataCollections: FIXTURE_DATA_COLLECTIONS, outDir: again });
    const a = await readTree(join(first, 'mongo', source));
    const b = await readTree(join(again, 'mongo', reloaded));
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [path, bytes] of a) expect(b.get(path)?.equals(bytes), path).toBe(true);
    // The load reached the server: it lists the reloaded collections.
    expect((await fixture.client.db(reloaded).listCollections().toArray()).map((c) => c.name).sort()).toEqual([...a.keys()].filter((k) => k.endsWith('.bson')).map((k) => k.slice(0, -5)).sort());
  });

  test.each([
    ['no CA to trust', (url: string) => url.replace(/&tlsCAFile=[^&]*/, ''), /^TLS to MongoDB at localhost:\d+: its certificate is not trusted by Node's built-in CA list \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)\); give the CA that signed it with tlsCAFile=/],
    ['an address the certificate does not name', (url: string) => url.replace('localhost', '127.0.0.1'), /^TLS to MongoDB at 127\.0\.0\.1:\d+: its certificate is not issued for the host in the URL \(Hostname\/IP does not match/],
    ['a CA file that is not there', (url: string) => url.replace(/tlsCAFile=[^&]*/, 'tlsCAFile=%2Fno%2Fsuch%2Fca.pem'), /cannot read the file tlsCAFile names, \/no\/such\/ca\.pem \(ENOENT\)/],
  ])('%s: a TLS error at once, not retried as a server still starting', async (_label, change, message) => {
    // With a 30 s wait budget, a failure taken for a server still starting is retried for 30 s and then
    // reported as unreachable (each attempt waiting out the driver's 5 s server selection): a certificate
    // problem is reported as itself, from the first failed handshake.
    const error = await rejectionOf(() => connectMongo(change(tlsUrl()), { waitSeconds: 30 }));
    expect(error).toBeInstanceOf(MongoTlsError);
    expect(error.message).toMatch(message);
  });
});
