import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError, redactUserInfo } from './errors.js';
import { parseKeyValueList } from './targets.js';

/**
 * BuildKit's predefined proxy ARGs: passed as build args they reach RUN but are left out of the cache
 * key and the image history, unless the Dockerfile declares them with ARG: then their value is written
 * into the history of every later RUN. bakeDefinition refuses that while the proxy carries credentials
 * (checkDeclaredProxyArgs); without credentials the lint flags it (`cache-busting-arg`).
 */
const PROXY_KEYS = {
  'http-proxy': 'HTTP_PROXY',
  'https-proxy': 'HTTPS_PROXY',
  'ftp-proxy': 'FTP_PROXY',
  'all-proxy': 'ALL_PROXY',
  'no-proxy': 'NO_PROXY',
} as const;
const SECRET_KEYS = ['pip', 'npm', 'apt'] as const;
type MirrorKey = keyof typeof PROXY_KEYS | (typeof SECRET_KEYS)[number];
const EXAMPLE = 'pip=https://pypi.example/simple';

/** A file handed to the build as a secret: not part of any cache key, never in a layer. */
export interface BuildSecretFile {
  id: string;
  content: string;
  /** Where the README's Dockerfile snippet mounts it. */
  mountTarget: string;
}

export interface MirrorSettings {
  /** Predefined proxy build args, upper and lower case (tools read either). */
  proxyArgs: Record<string, string>;
  secrets: BuildSecretFile[];
  /** Credentials found in the URLs: the action masks them (core.setSecret) before anything is logged. */
  sensitiveValues: string[];
}

function parseUrl(key: string, value: string): URL {
  try {
    const url = new URL(value);
    if (!/^(https?|socks5h?):$/.test(url.protocol)) throw new Error('scheme');
    return url;
  } catch {
    throw new InputError('mirrors', `\`${key}\` is not an http(s) URL`, `Write e.g. \`${key}=http://proxy.internal:3128\`.`);
  }
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * What to mask of a URL with credentials: the value exactly as given, the URL as it is written into
 * config files (normalised), and the password both as written (percent-escaped) and decoded, since a
 * tool may print either. A user name alone (a token, `https://<token>@host`) is masked as part of
 * the URL only: masking a short user name on its own would blank unrelated words in the log.
 */
export function credentialsOf(raw: string, url: URL): string[] {
  if (!url.username && !url.password) return [];
  const values = [raw, url.href];
  if (url.password) values.push(url.password, decoded(url.password));
  return [...new Set(values)].filter((v) => v !== '');
}

function pipConf(url: URL): string {
  const lines = ['[global]', `index-url = ${url.href}`];
  // pip refuses plain-http indexes unless the host is trusted.
  if (url.protocol === 'http:') lines.push(`trusted-host = ${url.hostname}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Parses the `mirrors` input (one `key=value` per line; `no-proxy` holds commas): `http-proxy`, `https-proxy`,
 * `ftp-proxy`, `all-proxy`, `no-proxy` become predefined proxy ARGs; `pip`, `npm` and `apt`
 * become secret files (`pip.conf`, `npmrc`, `apt.conf`). Never a declared ARG: those bust the cache.
 */
export function parseMirrors(value: string): MirrorSettings {
  const settings: MirrorSettings = { proxyArgs: {}, secrets: [], sensitiveValues: [] };
  const seen = new Set<string>();
  for (const [rawKey, raw] of parseKeyValueList('mirrors', value, EXAMPLE, 'lines')) {
    const key = rawKey.toLowerCase() as MirrorKey;
    if (seen.has(key)) throw new InputError('mirrors', `\`${redactUserInfo(key)}\` is given twice`, 'Give each mirror once.');
    seen.add(key);
    if (key === 'no-proxy') {
      settings.proxyArgs.NO_PROXY = settings.proxyArgs.no_proxy = raw;
      continue;
    }
    if (!(key in PROXY_KEYS) && !(SECRET_KEYS as readonly string[]).includes(key)) {
      const known = [...Object.keys(PROXY_KEYS), ...SECRET_KEYS].join(', ');
      throw new InputError('mirrors', `\`${redactUserInfo(rawKey)}\` is not a known mirror`, `Use ${known}.`);
    }
    const url = parseUrl(key, raw);
    settings.sensitiveValues.push(...credentialsOf(raw, url));
    if (key in PROXY_KEYS) {
      const name = PROXY_KEYS[key as keyof typeof PROXY_KEYS];
      settings.proxyArgs[name] = settings.proxyArgs[name.toLowerCase()] = raw;
    } else if (key === 'pip') {
      settings.secrets.push({ id: 'pip.conf', content: pipConf(url), mountTarget: '/etc/pip.conf' });
    } else if (key === 'npm') {
      settings.secrets.push({ id: 'npmrc', content: `registry=${url.href}\n`, mountTarget: '/root/.npmrc' });
    } else {
      // apt speaks to a caching proxy (apt-cacher-ng, squid) through Acquire::http::Proxy.
      settings.secrets.push({ id: 'apt.conf', content: `Acquire::http::Proxy "${url.href}";\n`, mountTarget: '/etc/apt/apt.conf.d/99mirror' });
    }
  }
  return settings;
}

/** Writes the secret files (mode 0600) and returns bake `secret` entries `id=<id>,src=<file>`. */
export async function writeSecretFiles(dir: string, secrets: BuildSecretFile[]): Promise<string[]> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const entries: string[] = [];
  for (const secret of secrets) {
    const file = path.join(dir, secret.id);
    await writeFile(file, secret.content, { mode: 0o600 });
    await chmod(file, 0o600);
    entries.push(`id=${secret.id},src=${file}`);
  }
  return entries;
}

const SECRET_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const MIRROR_SECRET_IDS = new Set(['pip.conf', 'npmrc', 'apt.conf']);

/**
 * Parses the `secrets` input: one `id=value` per line. Errors name the line, never its content, since
 * the value is a secret that may not be masked yet. Ids used by `mirrors` are refused.
 */
export function parseBuildSecrets(value: string): { secrets: BuildSecretFile[]; sensitiveValues: string[] } {
  const secrets: BuildSecretFile[] = [];
  const sensitiveValues: string[] = [];
  value.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    const eq = line.indexOf('=');
    const id = eq > 0 ? line.slice(0, eq).trim() : '';
    if (!SECRET_ID.test(id)) {
      throw new InputError('secrets', `line ${index + 1} is not \`id=value\``, 'Write one `id=value` per line; the id is letters, digits, `.`, `_` and `-`.');
    }
    if (MIRROR_SECRET_IDS.has(id)) throw new InputError('secrets', `id \`${id}\` is used by the \`mirrors\` input`, 'Pick another id, or pass the mirror through `mirrors`.');
    if (secrets.some((s) => s.id === id)) throw new InputError('secrets', `id \`${id}\` is given twice`, 'Give each secret once.');
    const content = line.slice(eq + 1);
    secrets.push({ id, content, mountTarget: `/run/secrets/${id}` });
    if (content !== '') sensitiveValues.push(content);
  });
  return { secrets, sensitiveValues };
}
