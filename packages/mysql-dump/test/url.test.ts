import { describe, expect, it } from 'vitest';
import { InvalidMysqlUrlError, maskUrl, parseMysqlUrl } from '../src/index.js';

describe('parseMysqlUrl', () => {
  it('reads user, password, host, port and database', () => {
    expect(parseMysqlUrl('mysql://app:s%40cret@db.local:3307/shop')).toEqual({
      host: 'db.local', port: 3307, user: 'app', password: 's@cret', database: 'shop', address: 'db.local:3307',
    });
  });
  it('defaults the port and user', () => {
    expect(parseMysqlUrl('mysql://127.0.0.1')).toMatchObject({ port: 3306, user: 'root', password: '', database: undefined });
  });
  it.each([
    ['postgres://u:topsecret@h/db', /unsupported scheme postgres:/],
    ['not a url with topsecret', /not a URL/],
  ])('rejects %s without echoing the password', (url, message) => {
    expect(() => parseMysqlUrl(url)).toThrow(InvalidMysqlUrlError);
    expect(() => parseMysqlUrl(url)).toThrow(message);
    try {
      parseMysqlUrl(url);
    } catch (error) {
      expect((error as Error).message.includes('topsecret') && url.includes('://')).toBe(false);
    }
  });
});

describe('maskUrl', () => {
  it.each([
    ['mysql://root:rootpw@127.0.0.1:23306', 'mysql://root:***@127.0.0.1:23306'],
    ['mysql://root:p%40ss:word@h/db', 'mysql://root:***@h/db'],
    ['mysql://root@h', 'mysql://root@h'],
    ['mysql://h:3306/db', 'mysql://h:3306/db'],
  ])('%s -> %s', (url, masked) => expect(maskUrl(url)).toBe(masked));
});
