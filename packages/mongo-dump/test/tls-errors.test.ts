import { describe, expect, test } from 'vitest';
import { MongoTlsError } from '../src/index.js';
import { tlsProblem } from '../src/internal/connect.js';

/** A heartbeat failure as the driver reports it (recorded against FerretDB's TLS listener): the TLS error is the cause. */
const networkError = (code: string, message: string) => Object.assign(new Error(message), { name: 'MongoNetworkError', cause: Object.assign(new Error(message), { code }) });
/** A server selection error: each server's last failure in reason.servers. */
const selectionError = (failure: Error) =>
  Object.assign(new Error(failure.message), { name: 'MongoServerSelectionError', reason: { servers: new Map([['db:27017', { error: failure }]]) } });

describe('tlsProblem', () => {
  const url = 'mongodb://app:S3cret@db.internal:27017/?tls=true&tlsCAFile=%2Fetc%2Fssl%2Fdev-ca.pem';
  test.each([
    [
      'a leaf its CA file does not lead to',
      networkError('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'),
      'TLS to MongoDB at db.internal:27017: its certificate is not trusted by the CA certificate(s) in tlsCAFile (a file without a PEM certificate in it counts as no CA) (UNABLE_TO_VERIFY_LEAF_SIGNATURE); give the CA that signed it with tlsCAFile=/path/to/ca.pem',
    ],
    [
      'the same inside a server selection error',
      selectionError(networkError('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain')),
      'TLS to MongoDB at db.internal:27017: its certificate is not trusted by the CA certificate(s) in tlsCAFile (a file without a PEM certificate in it counts as no CA) (SELF_SIGNED_CERT_IN_CHAIN); give the CA that signed it with tlsCAFile=/path/to/ca.pem',
    ],
    [
      'a certificate for another name',
      networkError('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames: Host: db.internal. is not in the cert's altnames: DNS:localhost"),
      "TLS to MongoDB at db.internal:27017: its certificate is not issued for the host in the URL (Hostname/IP does not match certificate's altnames: Host: db.internal. is not in the cert's altnames: DNS:localhost); connect with a host name the certificate names",
    ],
    [
      // The driver reads tlsCAFile itself and passes fs's error through.
      'an unreadable CA file',
      Object.assign(new Error("ENOENT: no such file or directory, open '/etc/ssl/dev-ca.pem'"), { code: 'ENOENT', path: '/etc/ssl/dev-ca.pem' }),
      'TLS to MongoDB at db.internal:27017: cannot read the file tlsCAFile names, /etc/ssl/dev-ca.pem (ENOENT); give the path of a readable PEM file',
    ],
    ['an expired certificate', networkError('CERT_HAS_EXPIRED', 'certificate has expired'), 'TLS to MongoDB at db.internal:27017: the handshake failed (CERT_HAS_EXPIRED: certificate has expired)'],
  ])('%s', (_label, error, message) => {
    const problem = tlsProblem(error, url);
    expect(problem).toBeInstanceOf(MongoTlsError);
    expect(problem?.message).toBe(message);
    expect(problem?.code).toBe('tls-failed');
    expect(problem?.message).not.toContain('S3cret');
  });

  test('other failures are not TLS problems', () => {
    expect(tlsProblem(networkError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.5:27017'), url)).toBeUndefined();
    // A missing file the URL does not name is not about TLS.
    expect(tlsProblem(Object.assign(new Error('ENOENT'), { code: 'ENOENT', path: '/tmp/other' }), url)).toBeUndefined();
    expect(tlsProblem(new Error('Server selection timed out after 5000 ms'), 'mongodb://h:1')).toBeUndefined();
  });
});
