import { describe, expect, it, test } from 'vitest';
import { InvalidMysqlUrlError, maskUrl, parseMysqlUrl } from '../src/index.js';
import { maskSecretsIn } from '../src/internal/url.js';

describe('parseMysqlUrl', () => {
  it('reads user, password, host, port and database', () => {
    expect(parseMysqlUrl('mysql://app:s%40cret@db.local:3307/shop')).toEqual({
      host: 'db.local', port: 3307, user: 'app', password: 's@cret', database: 'shop', address: 'db.local:3307',
    });
  });
  it('defaults the port and user', () => {
    expect(parseMysqlUrl('mysql://127.0.0.1')).toMatchObject({ port: 3306, user: 'root', password: '', database: undefined });
  });
  // Each input carries the password `topsecret`; the message must name the problem and the (masked) input.
  it.each([
    ['postgres://u:topsecret@h/db', /unsupported scheme postgres: in postgres:\/\/u:\*\*\*@h\/db/],
    ['mysql://root:topsecret@host:notaport', /not a URL: mysql:\/\/root:\*\*\*@host:notaport/],
    ['mysql://root:topsecret@ho st', /not a URL: mysql:\/\/root:\*\*\*@ho st/],
    ['mysql://root:topsecret@', /not a URL: mysql:\/\/root:\*\*\*@;/],
    // Malformed beyond the URL pattern: still masked (from the first `:` to the last `@`).
    ['mysql//root:topsecret@host', /not a URL: mysql\/\/root:\*\*\*@host/],
    ['mysql:/root:topsecret@host', /no host in mysql:\*\*\*@host/],
    ['mysql:root:topsecret@host', /no host in mysql:\*\*\*@host/],
    ['root:topsecret@host:3306', /unsupported scheme root: in root:\*\*\*@host:3306/],
    ['mysql://root:top/secret@host', /no host in mysql:\/\/root:\*\*\*@host|not a URL: mysql:\/\/root:\*\*\*@host/],
  ])('rejects %s without echoing the password', (url, message) => {
    const error = (() => {
      try {
        parseMysqlUrl(url);
      } catch (caught) {
        return caught;
      }
      throw new Error(`${url} was accepted`);
    })();
    expect(error).toBeInstanceOf(InvalidMysqlUrlError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('topsecret');
  });
});

describe('maskUrl', () => {
  it.each([
    ['mysql://root:rootpw@127.0.0.1:23306', 'mysql://root:***@127.0.0.1:23306'],
    ['mysql://root:p%40ss:word@h/db', 'mysql://root:***@h/db'],
    ['mysql://root@h', 'mysql://root@h'],
    ['mysql://h:3306/db', 'mysql://h:3306/db'],
    ['mysql://root:top/secret@h', 'mysql://root:***@h'],
    ['root:pw@h:3306', 'root:***@h:3306'],
    // A password with `@`, a user with `@`; an `@` in the query of a URL without a password is left alone.
    ['mysql://u:p@ss@h:3306/db', 'mysql://u:***@h:3306/db'],
    ['mysql://me@corp.com:pw@h/db', 'mysql://me@corp.com:***@h/db'],
    ['mysql://u@h:3306/db?x=a@b', 'mysql://u@h:3306/db?x=a@b'],
    // A password holding `@` and then `/`, `?` or `#` (unescaped) is masked to the last `@`, never cut short.
    ['mysql://app:Tr0ub@dor/42@db.internal:3306', 'mysql://app:***@db.internal:3306'],
    ['mysql://app:p@ss?x#y@h:1/db', 'mysql://app:***@h:1/db'],
    // A password with `#` or `?` and one `@`: a URL parser reads a host, a port and a fragment or query there.
    ['mysql://u:2024#Secret@host/db', 'mysql://u:***@host/db'],
    ['mysql://u:2024?Secret@host/db', 'mysql://u:***@host/db'],
  ])('%s -> %s', (url, masked) => expect(maskUrl(url)).toBe(masked));
});

describe('parseMysqlUrl percent-encoding', () => {
  test.each([
    ['mysql://root:top%ZZsecret@h/db', 'the password in mysql://root:***@h/db is not valid percent-encoding'],
    ['mysql://root:topsecret@h/%E0%A4%A', 'the database path in mysql://root:***@h/%E0%A4%A is not valid percent-encoding'],
  ])('%s is a typed error, not a URIError', (url, message) => {
    expect(() => parseMysqlUrl(url)).toThrow(new InvalidMysqlUrlError(message));
  });
});

describe('maskSecretsIn with a short password', () => {
  test('masks it where it stands alone, not inside words', () => {
    expect(maskSecretsIn("cannot read /tmp/p.pem: give the path; password 'p' is wrong", { password: 'p' })).toBe("cannot read /tmp/***.pem: give the path; password '***' is wrong");
  });
});
