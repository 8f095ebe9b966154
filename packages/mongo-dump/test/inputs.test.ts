import { describe, expect, test } from 'vitest';
import { maskMongoUrl, mongoQuerySecrets } from '../src/index.js';
import { engineFromBuildInfo } from '../src/internal/connect.js';
import { MongoCollectionNotFoundError, MongoUnsupportedError } from '../src/internal/errors.js';
import { orderViews } from '../src/internal/load.js';
import { checkFileSafeName, resolveDataCollections } from '../src/internal/names.js';
import type { CollectionSpec, CollectionType } from '../src/internal/normalise.js';
import { maskSecretsIn, mongoHosts } from '../src/internal/url.js';
import { recordedSpecs } from './recorded-catalog.js';

describe('URLs', () => {
  test.each([
    ['mongodb://127.0.0.1:27017', 'mongodb://127.0.0.1:27017', '127.0.0.1:27017'],
    ['mongodb://app:s3cret@db:27017/shop?authSource=admin', 'mongodb://app:***@db:27017/shop?authSource=admin', 'db:27017'],
    ['mongodb://app:p%40ss@a:1,b/x', 'mongodb://app:***@a:1,b/x', 'a:1,b:27017'],
    ['mongodb://onlyuser@h', 'mongodb://onlyuser@h', 'h:27017'],
    ['mongodb+srv://u:pw@cluster.example.net/db', 'mongodb+srv://u:***@cluster.example.net/db', 'cluster.example.net'],
  ])('%s', (url, masked, hosts) => {
    expect(maskMongoUrl(url)).toBe(masked);
    expect(mongoHosts(url)).toBe(hosts);
  });

  // Malformed input is still masked, from the first `:` (after any scheme://) to the last `@`.
  test.each([
    ['mongodb:/u:topsecret@h', 'mongodb:***@h'],
    ['u:topsecret@h:27017', 'u:***@h:27017'],
    ['mongodb://u:top/secret@h/db', 'mongodb://u:***@h/db'],
    ['mongodb://h/db?x=1', 'mongodb://h/db?x=1'],
    // A password with `@`, a user with `@`: the user info runs to the authority's last `@`.
    ['mongodb://u:p@ss@h/db', 'mongodb://u:***@h/db'],
    ['mongodb://me@corp.com:pw@a:1,b:2/db', 'mongodb://me@corp.com:***@a:1,b:2/db'],
    // A password holding `@` and then `/`, `?` or `#` (unescaped) is masked to the last `@`, never cut short.
    ['mongodb://u:p@ss/w@h/db', 'mongodb://u:***@h/db'],
    ['mongodb://u:ss:w/rd%25#?x@h:27017/db', 'mongodb://u:***@h:27017/db'],
  ])('malformed %s -> %s', (url, masked) => {
    expect(maskMongoUrl(url)).toBe(masked);
  });

  test.each([
    [
      'an AWS session token in authMechanismProperties',
      'mongodb://AKIAEXAMPLE:wJalrSecret@m:27017/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:FQoGZXIvYXdzEXAMPLE%2Btok%3D&x=1',
      'mongodb://AKIAEXAMPLE:***@m:27017/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:***&x=1',
      ['FQoGZXIvYXdzEXAMPLE+tok=', 'FQoGZXIvYXdzEXAMPLE%2Btok%3D'],
    ],
    ['a client key file password', 'mongodb://m/?tls=true&tlsCertificateKeyFilePassword=KeyFileS3cret', 'mongodb://m/?tls=true&tlsCertificateKeyFilePassword=***', ['KeyFileS3cret']],
    ['a SOCKS proxy password, option name in any case', 'mongodb://m/?proxyHost=p&proxyUsername=u&PROXYPASSWORD=pr%40xy', 'mongodb://m/?proxyHost=p&proxyUsername=u&PROXYPASSWORD=***', ['pr%40xy', 'pr@xy']],
    ['non-secret properties stay', 'mongodb://m/?authMechanismProperties=SERVICE_NAME:mongodb,CANONICALIZE_HOST_NAME:true', 'mongodb://m/?authMechanismProperties=SERVICE_NAME:mongodb,CANONICALIZE_HOST_NAME:true', []],
  ])('secret options: %s', (_name, url, masked, secrets) => {
    expect(maskMongoUrl(url)).toBe(masked);
    expect(mongoQuerySecrets(url).sort()).toEqual([...secrets].sort());
    for (const secret of secrets) expect(maskSecretsIn(`the driver said ${secret} and ${url}`, url)).not.toContain(secret);
  });

  test('a password echoed in a message is masked, raw and percent-decoded', () => {
    expect(maskSecretsIn('failed for p%40ss and p@ss', 'mongodb://app:p%40ss@a:1')).toBe('failed for *** and ***');
  });
});

describe('engine detection from buildInfo', () => {
  test.each([
    ['MongoDB 7', { version: '7.0.14', gitVersion: 'ce59cfc6a3c5e5c067dca0d30697edd68d4f5188', ok: 1 }, { flavor: 'mongodb', version: '7.0.14' }],
    // Recorded from the FerretDB v1.24.2 (SQLite) dev server.
    ['FerretDB 1.x', { version: '7.0.42', ferretdbVersion: 'v1.24.2', ferretdbFeatures: {}, ok: 1 }, { flavor: 'ferretdb', version: '1.24.2' }],
    ['FerretDB 2.x', { version: '7.0.77', ferretdb: { version: 'v2.1.0' }, ok: 1 }, { flavor: 'ferretdb', version: '2.1.0' }],
  ])('%s', (_case, buildInfo, expected) => {
    expect(engineFromBuildInfo(buildInfo)).toMatchObject(expected);
  });
});

function spec(name: string, type: CollectionType = 'collection', viewOn?: string): CollectionSpec {
  return { name, type, options: new Map(viewOn ? [['viewOn', viewOn]] : []), indexes: [] };
}

describe('data collections', () => {
  const catalogs = new Map([
    ['shop', recordedSpecs()],
    ['auth', [spec('users'), spec('orders'), spec('a.b')]],
  ]);

  test.each([
    ['qualified', ['shop.orders'], { shop: ['orders'] }],
    ['bare name in every database that has it', ['orders'], { auth: ['orders'], shop: ['orders'] }],
    ['collection names with dots', ['auth.a.b', 'a.b'], { auth: ['a.b'] }],
    ['none', [], {}],
  ])('%s', (_case, entries, expected) => {
    const chosen = resolveDataCollections(entries, catalogs);
    expect(Object.fromEntries([...chosen].map(([db, names]) => [db, [...names].sort()]))).toEqual(expected);
  });

  test.each([
    ['shop.nope', MongoCollectionNotFoundError, 'data collection "shop.nope" does not exist in database(s) "shop"'],
    ['nope', MongoCollectionNotFoundError, 'data collection "nope" does not exist in database(s) "shop", "auth"'],
    ['shop.order_totals', MongoUnsupportedError, '"shop.order_totals" is a view in database "shop"'],
    ['weather', MongoUnsupportedError, '"weather" is a time series collection'],
  ])('%s is refused, named', (entry, errorClass, message) => {
    expect(() => resolveDataCollections([entry], catalogs)).toThrow(errorClass);
    expect(() => resolveDataCollections([entry], catalogs)).toThrow(message);
  });

  test.each([['..'], ['.hidden'], ['x'.repeat(300)], ['é'.repeat(50)]])('unsafe file name %s is refused', (name) => {
    expect(() => checkFileSafeName('collection', name, 'shop')).toThrow(MongoUnsupportedError);
  });

  test.each([['a/b'], ['a\\b'], ['pct%zz'], ['plus+sign'], ['c:d'], ['tab\tx'], ['..x']])('database name %s is refused (folder names are not escaped)', (name) => {
    expect(() => checkFileSafeName('database', name)).toThrow(MongoUnsupportedError);
  });

  test.each([['a/b'], ['pct%zz'], ['plus+sign'], ['q?*"<>|'], ['é'.repeat(40)]])('collection name %s is escaped, not refused', (name) => {
    expect(() => checkFileSafeName('collection', name, 'shop')).not.toThrow();
  });
});

describe('view creation order', () => {
  test('views on views come after their source, the rest by name', () => {
    const views = [spec('c', 'view', 'b'), spec('a', 'view', 'orders'), spec('b', 'view', 'a'), spec('d', 'view', 'orders')];
    expect(orderViews(views).map((view) => view.name)).toEqual(['a', 'b', 'c', 'd']);
    const reversed = [spec('a', 'view', 'b'), spec('b', 'view', 'orders')];
    expect(orderViews(reversed).map((view) => view.name)).toEqual(['b', 'a']);
  });

  test('a cycle is refused', () => {
    expect(() => orderViews([spec('a', 'view', 'b'), spec('b', 'view', 'a')])).toThrow('views a -> b -> a form a cycle');
  });
});

describe('maskSecretsIn with a short password', () => {
  test('masks it where it stands alone, not inside words', () => {
    expect(maskSecretsIn('Authentication failed for user dev with password dev (see devstack docs)', 'mongodb://dev:dev@h:27017')).toBe(
      'Authentication failed for user *** with password *** (see devstack docs)',
    );
  });
});
