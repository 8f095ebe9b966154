import { describe, expect, test } from 'vitest';
import { InvalidMysqlUrlError, TlsError, parseMysqlUrl } from '../src/index.js';
import { describeServerError, tlsFailure } from '../src/internal/connect.js';

describe('TLS options of a MySQL URL', () => {
  test.each([
    ['mysql://h', undefined],
    ['mysql://h?ssl-mode=DISABLED', undefined],
    ['mysql://h?ssl-mode=required', { mode: 'REQUIRED' }],
    ['mysql://h:3307/db?ssl-mode=VERIFY_CA', { mode: 'VERIFY_CA' }],
    ['mysql://10.0.0.5?ssl-mode=verify_ca&ssl-ca=/etc/ssl/ca.pem', { mode: 'VERIFY_CA', caFile: '/etc/ssl/ca.pem' }],
    ['mysql://db.internal?ssl-mode=VERIFY_IDENTITY', { mode: 'VERIFY_IDENTITY' }],
    // A CA to trust means the certificate is to be checked, the strictest way unless a mode says otherwise.
    ['mysql://db.internal?ssl-ca=%2Fhome%2Fdev%2Fca.pem', { mode: 'VERIFY_IDENTITY', caFile: '/home/dev/ca.pem' }],
  ])('%s', (url, tls) => {
    expect(parseMysqlUrl(url).tls).toEqual(tls);
  });

  // Each URL carries the password `topsecret`: the message names the problem, never the password.
  test.each([
    ['mysql://u:topsecret@h?ssl=true', /unknown option `ssl` in mysql:\/\/u:\*\*\*@h\?ssl=true \(another client's TLS option, not read here: .*ssl-mode=/],
    ['mysql://u:topsecret@h?sslmode=require', /unknown option `sslmode`.*another client's TLS option/],
    ['mysql://u:topsecret@h/db?charset=utf8mb4', /unknown option `charset` in .*; the options a MySQL URL takes are ssl-mode=DISABLED\|REQUIRED\|VERIFY_CA\|VERIFY_IDENTITY and ssl-ca/],
    ['mysql://u:topsecret@h?ssl-mode=PREFERRED', /ssl-mode=PREFERRED in .* is not one of DISABLED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY/],
    ['mysql://u:topsecret@h?ssl-mode=REQUIRED&ssl-ca=/ca.pem', /ssl-ca in .* has no effect with ssl-mode=REQUIRED.*use ssl-mode=VERIFY_CA or VERIFY_IDENTITY/],
    ['mysql://u:topsecret@h?ssl-mode=DISABLED&ssl-ca=/ca.pem', /ssl-ca in .* contradicts ssl-mode=DISABLED/],
    ['mysql://u:topsecret@h?ssl-ca=', /ssl-ca in .* is empty/],
    // The driver does not check the name of a certificate when it connects to an address.
    ['mysql://u:topsecret@127.0.0.1?ssl-mode=VERIFY_IDENTITY', /but 127\.0\.0\.1 is an IP address; connect by the host name the certificate names, or use ssl-mode=VERIFY_CA/],
    ['mysql://u:topsecret@[::1]:3306?ssl-ca=/ca.pem', /also what ssl-ca alone asks for\), but ::1 is an IP address/],
  ])('refuses %s', (url, message) => {
    let error: unknown;
    try {
      parseMysqlUrl(url);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidMysqlUrlError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('topsecret');
  });
});

describe('failed TLS set-ups name the server and what to change', () => {
  const verifyCa = parseMysqlUrl('mysql://app:Sup3rSecret@10.0.0.5:3307?ssl-mode=VERIFY_CA&ssl-ca=/etc/ssl/dev-ca.pem');
  const byName = parseMysqlUrl('mysql://app:Sup3rSecret@db.internal:3307?ssl-mode=VERIFY_IDENTITY');
  /** mysql2 replaces the code of every failed TLS negotiation (client_handshake.js) and keeps Node's message. */
  const handshakeError = (message: string) => Object.assign(new Error(message), { code: 'HANDSHAKE_SSL_ERROR', fatal: true });

  test.each([
    [
      'a server without TLS',
      verifyCa,
      Object.assign(new Error('Server does not support secure connection'), { code: 'HANDSHAKE_NO_SSL_SUPPORT', fatal: true }),
      'TLS to MySQL server at 10.0.0.5:3307: the server offers no TLS, but the URL asks for ssl-mode=VERIFY_CA; enable TLS on the server (ssl_cert, ssl_key), or leave ssl-mode out to connect unencrypted',
    ],
    [
      // Recorded from mysql2 against the harness MariaDB (a certificate of a private CA, no ssl-ca given).
      'a certificate of a CA not trusted',
      byName,
      handshakeError('self-signed certificate in certificate chain'),
      "TLS to MySQL server at db.internal:3307: its certificate is not trusted by Node's built-in CA list (SELF_SIGNED_CERT_IN_CHAIN); give the CA that signed it with ssl-ca=/path/to/ca.pem, or use ssl-mode=REQUIRED to encrypt without checking the certificate",
    ],
    [
      'a certificate another CA signed',
      verifyCa,
      handshakeError('unable to get local issuer certificate'),
      'TLS to MySQL server at 10.0.0.5:3307: its certificate is not trusted by the CA certificate(s) in /etc/ssl/dev-ca.pem (UNABLE_TO_GET_ISSUER_CERT_LOCALLY); give the CA that signed it with ssl-ca=/path/to/ca.pem, or use ssl-mode=REQUIRED to encrypt without checking the certificate',
    ],
    [
      // Node's tls.checkServerIdentity message.
      'a certificate issued for another name',
      byName,
      handshakeError("Hostname/IP does not match certificate's altnames: Host: db.internal. is not in the cert's altnames: DNS:localhost"),
      "TLS to MySQL server at db.internal:3307: its certificate is not issued for db.internal (Hostname/IP does not match certificate's altnames: Host: db.internal. is not in the cert's altnames: DNS:localhost); connect with a host name the certificate names, or use ssl-mode=VERIFY_CA to check only who signed it",
    ],
    ['an expired certificate', byName, handshakeError('certificate has expired'), 'TLS to MySQL server at db.internal:3307: the handshake failed (CERT_HAS_EXPIRED: certificate has expired)'],
  ])('%s', (_label, url, error, message) => {
    const described = describeServerError(error, url, { connecting: true });
    expect(described).toBeInstanceOf(TlsError);
    expect(described.message).toBe(message);
    expect((described as TlsError).code).toBe('tls-failed');
    expect(described.message).not.toContain('Sup3rSecret');
  });

  test('a socket error on an unencrypted URL is not a TLS problem', () => {
    const plain = parseMysqlUrl('mysql://app:pw@10.0.0.5:3307');
    expect(tlsFailure(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), plain)).toBeUndefined();
    expect(tlsFailure(Object.assign(new Error('x'), { code: 'EPROTO' }), plain)).toBeUndefined();
  });
});
