import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { StoreConfigError, maskUrl, openStore } from '../src/index.js';

describe('openStore', () => {
  test('plain paths and file URLs open a filesystem store', () => {
    expect(openStore('.devstack/dumps', { cwd: '/repo' }).location).toBe(path.resolve('/repo/.devstack/dumps'));
    expect(openStore('file:///var/dumps').location).toBe('/var/dumps');
  });

  test('s3 URLs keep bucket and prefix', () => {
    const store = openStore('s3://my-bucket/team/dumps/', { s3Endpoint: 'http://127.0.0.1:1', env: {} });
    expect(store.location).toBe('s3://my-bucket/team/dumps');
  });

  test.each([
    ['gs://bucket/x', /unknown store scheme "gs:"/],
    ['http://user:pw@host/x', /unknown store scheme "http:" in http:\/\/\*\*\*@host\/x/],
    ['s3://Bad_Bucket/x', /not a valid bucket name/],
    ['s3://key:secret@bucket/x', /contains credentials/],
    ['s3://bucket/../x', /must not contain/],
    ['file://relative/x', /not a valid file URL/],
    ['  ', /store URL is empty/],
  ])('rejects %s with one clear StoreConfigError', (url, message) => {
    expect(() => openStore(url, { env: {} })).toThrow(StoreConfigError);
    expect(() => openStore(url, { env: {} })).toThrow(message);
    expect(() => openStore(url, { env: {} })).not.toThrow(/pw|secret/);
  });

  test('maskUrl hides user info', () => {
    expect(maskUrl('mysql://root:rootpw@127.0.0.1:3306')).toBe('mysql://***@127.0.0.1:3306');
  });
});
