import { InvalidMysqlUrlError } from './errors.js';

export interface MysqlUrl {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Database from the URL path, if any. */
  database: string | undefined;
  /** `host:port`, safe to print. */
  address: string;
}

/** Parses `mysql://user:pass@host:port/db` (also `mariadb://`). Errors never repeat the password. */
export function parseMysqlUrl(url: string): MysqlUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidMysqlUrlError(`not a URL: ${maskUrl(url)}; expected mysql://user:password@host:port`);
  }
  if (parsed.protocol !== 'mysql:' && parsed.protocol !== 'mariadb:') {
    throw new InvalidMysqlUrlError(
      `unsupported scheme ${parsed.protocol} in ${maskUrl(url)}; expected mysql://user:password@host:port`,
    );
  }
  if (!parsed.hostname) throw new InvalidMysqlUrlError(`no host in ${maskUrl(url)}`);
  const port = parsed.port ? Number(parsed.port) : 3306;
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || undefined;
  return {
    host,
    port,
    user: decodeURIComponent(parsed.username) || 'root',
    password: decodeURIComponent(parsed.password),
    database,
    address: `${parsed.hostname}:${port}`,
  };
}

/** The URL with its password replaced by `***`, for messages and logs. Works on unparseable input too. */
export function maskUrl(url: string): string {
  // Up to the last `@` of the authority: a password may contain `@` (the driver takes the last one too).
  const masked = url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^/?#]*@/i, '$1***@');
  if (masked !== url) return masked;
  // A scheme://authority URL that parses without a password has nothing to hide (an `@` in its query is
  // not a password's). Without `//`, `x:a@b` parses as a scheme and a path, so that proves nothing.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && URL.canParse(url) && new URL(url).password === '') return url;
  return maskUserInfo(url);
}

/**
 * For input the pattern above does not fit (`mysql//u:p@h`, `u:p@h`, a password with `/`): everything from
 * the first `:` after any `scheme://` up to the last `@`. It may hide more than the password, never less.
 */
function maskUserInfo(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0] ?? '';
  const rest = url.slice(scheme.length);
  const colon = rest.indexOf(':');
  const at = rest.lastIndexOf('@');
  return colon >= 0 && colon < at ? `${scheme}${rest.slice(0, colon)}:***${rest.slice(at)}` : url;
}

/**
 * A server or driver message with the URL's password (raw and percent-encoded) and any URL credentials
 * replaced by `***`: servers rarely echo a password, but a message must never carry one.
 */
export function maskSecretsIn(text: string, url: Pick<MysqlUrl, 'password'>): string {
  let masked = text.replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)\S*@/gi, '$1***@');
  if (url.password === '') return masked;
  // Longest first, so an encoded form containing the raw one is replaced whole.
  const forms = [...new Set([encodeURIComponent(url.password), url.password])].sort((a, b) => b.length - a.length);
  for (const secret of forms) masked = masked.split(secret).join('***');
  return masked;
}
