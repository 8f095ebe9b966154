import { isIP } from 'node:net';
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
  /** TLS from the URL's `ssl-mode` / `ssl-ca` options; absent: unencrypted (`ssl-mode=DISABLED`, the default). */
  tls?: MysqlTls;
}

/** The `ssl-mode` values that encrypt, named as the `mysql` client names them. */
export type MysqlTlsMode = 'REQUIRED' | 'VERIFY_CA' | 'VERIFY_IDENTITY';

export interface MysqlTls {
  /** REQUIRED: encrypted, certificate not checked; VERIFY_CA: signed by a trusted CA; VERIFY_IDENTITY: and issued for the host. */
  mode: MysqlTlsMode;
  /** PEM file of the CA(s) to trust instead of the system's (`ssl-ca`). */
  caFile?: string;
}

const TLS_MODES = ['DISABLED', 'REQUIRED', 'VERIFY_CA', 'VERIFY_IDENTITY'] as const;
const OPTIONS_HELP = 'the options a MySQL URL takes are ssl-mode=DISABLED|REQUIRED|VERIFY_CA|VERIFY_IDENTITY and ssl-ca=/path/to/ca.pem';
/** Other clients' spellings of TLS options: refused with a pointer to ours rather than ignored (which would connect unencrypted). */
const FOREIGN_TLS_OPTIONS = /^(ssl|tls|sslmode|ssl_mode|tls-mode|usessl|requiressl|sslaccept|ssl-cert|ssl-key|ssl_ca|sslca|sslcert|sslkey|ssl-capath|ssl-cipher)$/i;

/**
 * TLS from the URL's query. Anything but `ssl-mode` and `ssl-ca` is refused: an option silently ignored
 * (`?ssl=true`) would connect unencrypted while its author believes otherwise.
 */
function tlsOf(query: URLSearchParams, url: string): MysqlTls | undefined {
  let mode: (typeof TLS_MODES)[number] | undefined;
  let caFile: string | undefined;
  for (const [key, value] of query) {
    if (key === 'ssl-mode') {
      const upper = value.toUpperCase();
      if (!(TLS_MODES as readonly string[]).includes(upper)) throw new InvalidMysqlUrlError(`ssl-mode=${value} in ${maskUrl(url)} is not one of ${TLS_MODES.join(', ')}`);
      mode = upper as (typeof TLS_MODES)[number];
    } else if (key === 'ssl-ca') {
      if (value === '') throw new InvalidMysqlUrlError(`ssl-ca in ${maskUrl(url)} is empty; give the path of a PEM file holding the CA certificate(s) to trust`);
      caFile = value;
    } else {
      const hint = FOREIGN_TLS_OPTIONS.test(key) ? ` (another client's TLS option, not read here: ${OPTIONS_HELP})` : `; ${OPTIONS_HELP}`;
      throw new InvalidMysqlUrlError(`unknown option \`${key}\` in ${maskUrl(url)}${hint}`);
    }
  }
  // A CA to trust says the certificate is to be checked: the strictest mode unless one is named.
  if (mode === undefined) return caFile === undefined ? undefined : { mode: 'VERIFY_IDENTITY', caFile };
  if (mode === 'DISABLED') {
    if (caFile !== undefined) throw new InvalidMysqlUrlError(`ssl-ca in ${maskUrl(url)} contradicts ssl-mode=DISABLED; drop one of them`);
    return undefined;
  }
  if (mode === 'REQUIRED' && caFile !== undefined) {
    throw new InvalidMysqlUrlError(`ssl-ca in ${maskUrl(url)} has no effect with ssl-mode=REQUIRED, which does not check the certificate; use ssl-mode=VERIFY_CA or VERIFY_IDENTITY`);
  }
  return caFile === undefined ? { mode } : { mode, caFile };
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
  const decode = (part: string, what: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw new InvalidMysqlUrlError(`the ${what} in ${maskUrl(url)} is not valid percent-encoding`);
    }
  };
  const database = decode(parsed.pathname.replace(/^\//, ''), 'database path') || undefined;
  const tls = tlsOf(parsed.searchParams, url);
  // The driver checks the name a certificate is issued for only when it connects by name (TLS sends no IP
  // address as server name): with an address, VERIFY_IDENTITY would check nothing, so it is refused.
  if (tls?.mode === 'VERIFY_IDENTITY' && isIP(host) !== 0) {
    throw new InvalidMysqlUrlError(
      `${maskUrl(url)} asks to check that the server's certificate is issued for its host (ssl-mode=VERIFY_IDENTITY, also what ssl-ca alone asks for), ` +
        `but ${host} is an IP address; connect by the host name the certificate names, or use ssl-mode=VERIFY_CA to check only who signed it`,
    );
  }
  return {
    host,
    port,
    user: decode(parsed.username, 'user name') || 'root',
    password: decode(parsed.password, 'password'),
    database,
    address: `${parsed.hostname}:${port}`,
    ...(tls ? { tls } : {}),
  };
}

/** The URL with its password replaced by `***`, for messages and logs. Works on unparseable input too. */
export function maskUrl(url: string): string {
  // A second `@` may belong to a password holding `@` and `/` (`u:p@ss/w@host`), which the pattern below
  // would cut at the `/`: everything up to the last `@` then, hiding more than the password rather than less.
  if (passwordMayHoldAt(url)) return maskUserInfo(url);
  // Up to the last `@` of the authority: a password may contain `@` (the driver takes the last one too).
  const masked = url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^/?#]*@/i, '$1***@');
  if (masked !== url) return masked;
  // A scheme://authority URL that parses without a password has nothing to hide (an `@` in its query is
  // not a password's). Without `//`, `x:a@b` parses as a scheme and a path, so that proves nothing.
  // Only when the parser saw user info: `u:2024#Secret@h` parses as host `u`, port 2024 and a fragment.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && URL.canParse(url) && new URL(url).password === '' && new URL(url).username !== '') return url;
  return maskUserInfo(url);
}

/** A password (a `:` before the first `@`) and another `@` after it: the password may run to the last `@`. */
function passwordMayHoldAt(url: string): boolean {
  const rest = url.slice(/^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0].length ?? 0);
  const firstAt = rest.indexOf('@');
  const colon = rest.indexOf(':');
  return firstAt >= 0 && colon >= 0 && colon < firstAt && rest.lastIndexOf('@') !== firstAt;
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
  for (const secret of forms) masked = replaceSecret(masked, secret);
  return masked;
}

/**
 * `text` with `secret` replaced by `***`; a short one (a devstack's `pw`, `dev`) only where it stands alone,
 * so a password `p` does not turn "pem" into "***em" (the same rule in dump-set's and the other dumper's masking).
 */
function replaceSecret(text: string, secret: string): string {
  if (secret.length >= 8) return text.split(secret).join('***');
  return text.replace(new RegExp(`(?<![A-Za-z0-9])${secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9])`, 'g'), '***');
}

