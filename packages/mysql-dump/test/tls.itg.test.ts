import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejectionOf } from '../../../test/support/rejection.js';
import { describeWithServices, serviceVar } from '../../../test/support/services.js';
import { AccessDeniedError, TlsError, dumpMysql, loadMysql, openMysqlSession } from '../src/index.js';
import { TestDatabases, readText, tempDir } from './helpers/test-databases.js';

/** The TLS server's URL as `user`:`password`, on `host`, with `options`. */
function urlFor(options: string, account?: { user: string; password: string }, host = '127.0.0.1'): string {
  const url = new URL(serviceVar('TEST_MYSQL_TLS_URL'));
  if (account) {
    url.username = account.user;
    url.password = account.password;
  }
  url.hostname = host;
  return `${url.toString().replace(/\/$/, '')}${options}`;
}

/** The cipher of a session opened with `url` as the server sees it ('' when unencrypted). */
async function serverSideCipher(url: string): Promise<string> {
  const session = await openMysqlSession({ url });
  try {
    const [rows] = await session.pool.query<any[]>("SHOW SESSION STATUS LIKE 'Ssl_cipher'");
    return String(rows[0]?.Value ?? '');
  } finally {
    await session.close();
  }
}


// TEST_MYSQL_TLS_URL offers TLS with a certificate for `localhost` signed by the CA in TEST_MYSQL_TLS_CA
// (the harness MariaDB; in GitHub CI a container test/services/ci-tls starts).
describeWithServices(['mysqlTls'], 'mysql URLs with ssl-mode / ssl-ca, on a server offering TLS', () => {
  const ca = () => serviceVar('TEST_MYSQL_TLS_CA');

  describe('each mode, as the server sees the session', () => {
    it('connects unencrypted without options, encrypted with each ssl-mode', async () => {
      expect(await serverSideCipher(urlFor(''))).toBe('');
      expect(await serverSideCipher(urlFor('?ssl-mode=DISABLED'))).toBe('');
      expect(await serverSideCipher(urlFor('?ssl-mode=REQUIRED'))).toMatch(/^TLS_|AES|CHACHA/);
      expect(await serverSideCipher(urlFor(`?ssl-mode=VERIFY_CA&ssl-ca=${encodeURIComponent(ca())}`))).not.toBe('');
      // ssl-ca alone checks the name too: the certificate names localhost.
      expect(await serverSideCipher(urlFor(`?ssl-ca=${encodeURIComponent(ca())}`, undefined, 'localhost'))).not.toBe('');
    });

    it("refuses a certificate Node's built-in CA list does not trust, naming the server and ssl-ca", async () => {
      const error = await rejectionOf(() => serverSideCipher(urlFor('?ssl-mode=VERIFY_CA')));
      expect(error).toBeInstanceOf(TlsError);
      expect(error.message).toMatch(/^TLS to MySQL server at 127\.0\.0\.1:\d+: its certificate is not trusted by Node's built-in CA list \(SELF_SIGNED_CERT_IN_CHAIN\); give the CA that signed it with ssl-ca=/);
    });

    it('refuses a certificate the given CA file did not sign', async () => {
      // The system's CA bundle (ca-certificates): real CAs, none of which signed the harness certificate.
      const error = await rejectionOf(() => serverSideCipher(urlFor('?ssl-ca=%2Fetc%2Fssl%2Fcerts%2Fca-certificates.crt', undefined, 'localhost')));
      expect(error).toBeInstanceOf(TlsError);
      expect(error.message).toContain('its certificate is not trusted by the CA certificate(s) in /etc/ssl/certs/ca-certificates.crt');
    });

    it('says when the CA file cannot be read', async () => {
      const error = await rejectionOf(() => serverSideCipher(urlFor('?ssl-mode=VERIFY_CA&ssl-ca=%2Fno%2Fsuch%2Fca.pem')));
      expect(error).toBeInstanceOf(TlsError);
      expect(error.message).toMatch(/cannot read the ssl-ca file \/no\/such\/ca\.pem \(ENOENT\)/);
    });

    it('says when the CA file holds no PEM certificate (Node would ignore it and call the server untrusted)', async () => {
      const error = await rejectionOf(() => serverSideCipher(urlFor('?ssl-mode=VERIFY_CA&ssl-ca=%2Fetc%2Fhostname')));
      expect(error).toBeInstanceOf(TlsError);
      expect(error.message).toMatch(/the ssl-ca file \/etc\/hostname holds no PEM certificate/);
    });
  });

  describe('dump and load for an account that may only connect over TLS', () => {
    const dbs = new TestDatabases(() => serviceVar('TEST_MYSQL_TLS_URL'));
    const account = { user: `tls_only_${process.pid}`, password: 'Tls-0nly-pw' };
    let source: string;
    beforeAll(async () => {
      source = await dbs.create('tls_src');
      await dbs.run(source, 'CREATE TABLE django_migrations (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, app VARCHAR(255) NOT NULL, name VARCHAR(255) NOT NULL, applied DATETIME(6) NOT NULL); ' +
        "INSERT INTO django_migrations (app, name, applied) VALUES ('shop', '0001_initial', NOW(6)); CREATE TABLE orders (id INT NOT NULL PRIMARY KEY, total DECIMAL(10,2) NOT NULL)");
      const admin = await dbs.admin();
      await admin.query(`CREATE USER '${account.user}'@'127.0.0.1' IDENTIFIED BY '${account.password}' REQUIRE SSL`);
      await admin.query(`GRANT ALL ON *.* TO '${account.user}'@'127.0.0.1'`);
    });
    afterAll(async () => {
      await (await dbs.admin()).query(`DROP USER IF EXISTS '${account.user}'@'127.0.0.1'`);
      await dbs.dropAll();
    });

    it('the server turns the account away unencrypted', async () => {
      expect(await rejectionOf(() => serverSideCipher(urlFor('', account)))).toBeInstanceOf(AccessDeniedError);
    });

    it('dumps, loads under another name and dumps again to the same bytes, all over TLS', async () => {
      const tls = `?ssl-mode=VERIFY_CA&ssl-ca=${encodeURIComponent(ca())}`;
      const first = await tempDir('tls1');
      await dumpMysql({ url: urlFor(tls, account), databases: [source], outDir: first });
      const sql = await readText(join(first, 'mysql', `${source}.sql`));
      expect(sql).toContain('CREATE TABLE `orders`');
      const copy = dbs.name('tls_copy');
      await loadMysql({ url: urlFor(tls, account), dir: first, databaseRename: copy });
      const again = await tempDir('tls2');
      await dumpMysql({ url: urlFor(tls, account), databases: [copy], outDir: again });
      expect(await readText(join(again, 'mysql', `${copy}.sql`))).toBe(sql);
    });

    it('a load whose server certificate is not trusted creates nothing', async () => {
      const dir = await tempDir('tls3');
      await dumpMysql({ url: urlFor('?ssl-mode=REQUIRED', account), databases: [source], outDir: dir });
      const target = dbs.name('tls_untrusted');
      expect(await rejectionOf(() => loadMysql({ url: urlFor('?ssl-mode=VERIFY_CA', account), dir, databaseRename: target }))).toBeInstanceOf(TlsError);
      const [rows] = await (await dbs.admin()).query<any[]>('SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [target]);
      expect(Number(rows[0].n)).toBe(0);
    });
  });
});
