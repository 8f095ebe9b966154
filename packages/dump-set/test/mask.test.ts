import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { maskSecrets } from '../src/index.js';
import { maskSecretsOf, serverAddress } from '../src/internal/mask.js';

describe('maskSecrets', () => {
  test('masks the password of every URL in a text and keeps everything else', () => {
    const text = 'cannot reach mysql://root:hunter2@127.0.0.1:13306/shop and mongodb://app:p%40ss@db1:27017,db2/x?authSource=admin';
    expect(maskSecrets(text)).toBe('cannot reach mysql://root:***@127.0.0.1:13306/shop and mongodb://app:***@db1:27017,db2/x?authSource=admin');
  });

  test('leaves URLs without a password alone', () => {
    expect(maskSecrets('mongodb://127.0.0.1:17017 and mysql://root@h:1/db and s3://bucket/prefix')).toBe('mongodb://127.0.0.1:17017 and mysql://root@h:1/db and s3://bucket/prefix');
  });

  test('masks passwords holding /, : and @ too', () => {
    expect(maskSecrets('mysql://u:a/b:c@h:3306')).toBe('mysql://u:***@h:3306');
    expect(maskSecrets('mysql://u:p@ss@h:3306/db, then mysql://v:w@x@h2')).toBe('mysql://u:***@h:3306/db, then mysql://v:***@h2');
  });

  test('masks a password holding `@` and then `/` or `?` whole, to the last `@` (a URL parser reads host and path there)', () => {
    expect(maskSecrets('bad URL mysql://app:Tr0ub@dor/42@db.internal:3306 given')).toBe('bad URL mysql://app:***@db.internal:3306 given');
    expect(maskSecretsOf('bad URL mysql://app:Tr0ub@dor?42@h:1', ['mysql://app:Tr0ub@dor?42@h:1'])).toBe('bad URL mysql://app:***@h:1');
  });

  test('property: a password never survives in a URL', () => {
    const password = fc.stringMatching(/^[A-Za-z0-9!$%&*+,;=~/?#:@-]{1,24}$/).map((p) => `Zq${p}`);
    fc.assert(
      fc.property(password, fc.constantFrom('mysql', 'mongodb', 'mariadb', 'https'), fc.string({ maxLength: 20 }), (secret, scheme, prefix) => {
        const masked = maskSecrets(`${prefix.replace(/\S*:\/\//g, '')} ${scheme}://user:${secret}@host.example:1234/db`);
        expect(masked).not.toContain(secret);
        expect(masked).toContain(`${scheme}://user:***@host.example:1234/db`);
      }),
    );
  });

  test('maskSecretsOf also masks the bare password (raw and decoded) of the given URLs', () => {
    const url = 'mysql://root:s%3Acret99@127.0.0.1:3306';
    expect(maskSecretsOf("Access denied for 'root' (using password s:cret99 / s%3Acret99)", [url])).toBe("Access denied for 'root' (using password *** / ***)");
  });

  test('a short bare password is masked where it stands alone, not inside words (a password p left "***em")', () => {
    expect(maskSecretsOf("give the path of a PEM file, not /tmp/x.pem; server said: password 'p' is wrong", ['mysql://u:p@h'])).toBe(
      "give the path of a PEM file, not /tmp/x.pem; server said: password '***' is wrong",
    );
    // From 8 characters on, everywhere: a long secret inside other text is still a leak.
    expect(maskSecretsOf('tokenS3cretPass99end', ['mysql://u:S3cretPass99@h'])).toBe('token***end');
  });

  test('maskSecretsOf also masks secrets in MongoDB URL options', () => {
    const url = 'mongodb://m:27017/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:FwoGtoken';
    expect(maskSecretsOf('auth failed with session token FwoGtoken', [url])).toBe('auth failed with session token ***');
  });

  test('maskSecretsOf also masks the password as a URL parser re-encodes it', () => {
    // A driver printing the parsed URL shows `p%20w!`, a spelling the command line never had.
    expect(maskSecretsOf('connecting as root:p%20w! failed', ['mysql://root:p w!@127.0.0.1:3306'])).toBe('connecting as root:*** failed');
  });

  test('serverAddress names host:port with default ports and never the credentials', () => {
    expect(serverAddress('mysql://root:pw@127.0.0.1:13306/db')).toBe('127.0.0.1:13306');
    expect(serverAddress('mysql://root:pw@db.local')).toBe('db.local:3306');
    expect(serverAddress('mongodb://u:pw@a,b:27018/x')).toBe('a:27017,b:27018');
  });
});
