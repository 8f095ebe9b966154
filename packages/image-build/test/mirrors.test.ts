import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { expect, test } from 'vitest';
import { parseBuildArgs, parseMirrors, parseTargets, redactUserInfo, writeSecretFiles } from '../src/index.js';
import { useTempDirs } from '../../../test/support/temp-dirs.js';

const temp = useTempDirs();

test.each([
  [
    'proxies become predefined ARGs in both cases',
    'http-proxy=http://proxy:3128\nno-proxy=localhost,127.0.0.1',
    { HTTP_PROXY: 'http://proxy:3128', http_proxy: 'http://proxy:3128', NO_PROXY: 'localhost,127.0.0.1', no_proxy: 'localhost,127.0.0.1' },
    [],
  ],
  [
    'pip over plain http is trusted',
    'pip=http://pypi.internal/simple',
    {},
    [{ id: 'pip.conf', content: '[global]\nindex-url = http://pypi.internal/simple\ntrusted-host = pypi.internal\n', mountTarget: '/etc/pip.conf' }],
  ],
  [
    'npm and apt become secret files',
    'npm=https://npm.internal/\n  apt=http://apt-cacher:3142',
    {},
    [
      { id: 'npmrc', content: 'registry=https://npm.internal/\n', mountTarget: '/root/.npmrc' },
      { id: 'apt.conf', content: 'Acquire::http::Proxy "http://apt-cacher:3142/";\n', mountTarget: '/etc/apt/apt.conf.d/99mirror' },
    ],
  ],
])('%s', (_, input, proxyArgs, secrets) => {
  const settings = parseMirrors(input);
  expect(settings.proxyArgs).toEqual(proxyArgs);
  expect(settings.secrets).toEqual(secrets);
});

test('credentials in mirror URLs are returned for masking', () => {
  const settings = parseMirrors('https-proxy=http://bob:s%40cret@proxy:3128');
  expect(settings.sensitiveValues).toContain('s@cret');
  expect(settings.proxyArgs.HTTPS_PROXY).toBe('http://bob:s%40cret@proxy:3128');
});

test.each<[string, string, string[]]>([
  [
    'a percent-escaped proxy password: raw value, URL as written to files, password escaped and decoded',
    'http-proxy=http://alice:pr0xyP%40ss@proxy1.internal:3128',
    ['http://alice:pr0xyP%40ss@proxy1.internal:3128', 'http://alice:pr0xyP%40ss@proxy1.internal:3128/', 'pr0xyP%40ss', 'pr0xyP@ss'],
  ],
  ['a plain password', 'pip=https://u:plainpw@pypi.internal/simple', ['https://u:plainpw@pypi.internal/simple', 'plainpw']],
  ['a token as the user name: the URL only, never the bare name', 'npm=https://tok3n@npm.internal/', ['https://tok3n@npm.internal/']],
  ['an escape that does not decode is masked as written', 'apt=http://u:100%zz@apt:3142', ['http://u:100%zz@apt:3142', 'http://u:100%zz@apt:3142/', '100%zz']],
  ['no credentials', 'https-proxy=http://proxy:3128', []],
])('masking: %s', (_, input, expected) => {
  expect(parseMirrors(input).sensitiveValues).toEqual(expected);
});

test.each([
  ['maven=https://m', /Input `mirrors`: `maven` is not a known mirror/],
  ['pip=not a url', /Input `mirrors`: `pip` is not an http\(s\) URL/],
  ['pip=ftp://x', /`pip` is not an http\(s\) URL/],
  ['pip=https://a\npip=https://b', /`pip` is given twice/],
  ['pip', /`pip` is not a key=value pair/],
])('rejects %j', (input, message) => {
  expect(() => parseMirrors(input)).toThrow(message);
});

test.each([
  ['http://proxyuser:pw@host:3128', 'http://***@host:3128'],
  ['https://tok3n@npm.internal/', 'https://***@npm.internal/'],
  ['proxyuser:pw@host:3128', '***@host:3128'],
  ['http-proxy http://u:p@ss/w ord@host', 'http-proxy http://***@host'],
  ['socks5h://u:p@proxy:1080', 'socks5h://***@proxy:1080'],
  ['http://host:3128', 'http://host:3128'],
  ['no user info', 'no user info'],
])('redactUserInfo(%j) = %j', (text, expected) => {
  expect(redactUserInfo(text)).toBe(expected);
});

// A mirror line that fails to parse is echoed before the action masks anything: never with its credentials.
test.each<[string, () => unknown, RegExp]>([
  ['mirrors without `kind=`', () => parseMirrors('http://proxyuser:s3cretpw@host:3128'), /Input `mirrors`: `http:\/\/\*\*\*@host:3128` is not a key=value pair/],
  ['mirrors: a URL with a query as the kind', () => parseMirrors('http://proxyuser:s3cretpw@host:3128/?a=b'), /Input `mirrors`: `http:\/\/\*\*\*@host:3128\/\?a` is not a known mirror/],
  ['mirrors: credentials without a scheme', () => parseMirrors('proxyuser:s3cretpw@host:3128'), /`\*\*\*@host:3128` is not a key=value pair/],
  ['targets', () => parseTargets('https://proxyuser:s3cretpw@host'), /Input `targets`: `https:\/\/\*\*\*@host`/],
  ['build-args', () => parseBuildArgs('http://proxyuser:s3cretpw@host:3128'), /Input `build-args`: `http:\/\/\*\*\*@host:3128` is not KEY=value/],
])('input errors never echo URL credentials: %s', (_, parse, message) => {
  expect(parse).toThrow(message);
  expect(parse).toThrow(expect.objectContaining({ message: expect.not.stringMatching(/s3cretpw|proxyuser/) }));
});

test('secret files are written 0600 and referenced by id', async () => {
  const dir = path.join(await temp.make('ib-sec-'), 'secrets');
  const entries = await writeSecretFiles(dir, parseMirrors('pip=https://pypi.internal/simple').secrets);
  expect(entries).toEqual([`id=pip.conf,src=${path.join(dir, 'pip.conf')}`]);
  expect((await stat(path.join(dir, 'pip.conf'))).mode & 0o777).toBe(0o600);
  expect(await readFile(path.join(dir, 'pip.conf'), 'utf8')).toContain('index-url = https://pypi.internal/simple');
});

test.each<[string, string, Record<string, string>, string[]]>([
  ['an upper-case proxy key', 'HTTP-PROXY=http://proxy:3128', { HTTP_PROXY: 'http://proxy:3128', http_proxy: 'http://proxy:3128' }, []],
  ['a mixed-case no-proxy key', 'No-Proxy=localhost', { NO_PROXY: 'localhost', no_proxy: 'localhost' }, []],
  ['a capitalised secret key', 'Pip=https://pypi.internal/simple', {}, ['pip.conf']],
  ['an upper-case apt key', 'APT=http://apt-cacher:3142', {}, ['apt.conf']],
])('mirror keys are case-insensitive: %s', (_, input, proxyArgs, secretIds) => {
  const settings = parseMirrors(input);
  expect(settings.proxyArgs).toEqual(proxyArgs);
  expect(settings.secrets.map((secret) => secret.id)).toEqual(secretIds);
});

test('the same mirror in two cases is given twice', () => {
  expect(() => parseMirrors('pip=https://a\nPIP=https://b')).toThrow(/`pip` is given twice/);
  expect(() => parseMirrors('https-proxy=http://a:1\nHTTPS-Proxy=http://b:2')).toThrow(/`https-proxy` is given twice/);
});
