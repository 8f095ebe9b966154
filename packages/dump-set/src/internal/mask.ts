import { mongoQuerySecrets } from '@org/mongo-dump';
/**
 * `scheme://user:password@` anywhere in a text. The password runs to the last `@` before whitespace: a
 * password containing `/`, `:`, `?` or `@` (`p@ss/w@host`) is masked whole; at worst something that is not
 * a password (an `@` in a query) gets masked too.
 */
const PASSWORD_TO_HOST = String.raw`(\S*)@`;
const CREDENTIALS_IN_URL = new RegExp(String.raw`([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)` + PASSWORD_TO_HOST, 'gi');

/**
 * The text with the password of every URL in it replaced by `***`; with `urls`, also every bare
 * occurrence of those URLs' passwords (drivers sometimes echo a password outside any URL).
 */
export function maskSecrets(text: string, urls: ReadonlyArray<string | undefined> = []): string {
  return urls.length === 0 ? text.replace(CREDENTIALS_IN_URL, '$1***@') : maskSecretsOf(text, urls);
}

/**
 * The secret of a URL's user info (its password, or the whole `user:password`) in every spelling a log
 * may show: as written (up to the last `@`: a password may hold an unescaped `/` or space, and the scheme
 * may be missing), with its escapes in upper and lower case, percent-decoded, and re-encoded the way URL
 * parsers print it. Empty when the URL carries none.
 */
export function urlSecrets(value: string, part: 'password' | 'userinfo' = 'password'): string[] {
  const text = value.trim();
  const at = text.lastIndexOf('@');
  if (at < 0) return [];
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text)?.[0];
  // Without a scheme only `user:password@host` counts: a path like /home/me@corp is no user info.
  if (scheme === undefined && part === 'userinfo') return [];
  const start = scheme?.length ?? 0;
  const userinfo = text.slice(start, at);
  const colon = userinfo.indexOf(':');
  const written = part === 'userinfo' ? userinfo : colon < 0 ? '' : userinfo.slice(colon + 1);
  if (written === '') return [];
  const spellings = [written, written.replace(/%[0-9a-f]{2}/gi, (e) => e.toUpperCase()), written.replace(/%[0-9a-f]{2}/gi, (e) => e.toLowerCase())];
  try {
    spellings.push(decodeURIComponent(written));
  } catch {
    // A malformed escape: the written forms are all there is.
  }
  try {
    const url = new URL(text);
    spellings.push(part === 'userinfo' ? `${url.username}:${url.password}` : url.password);
  } catch {
    // Not parseable as a URL: nothing prints it re-encoded either.
  }
  return [...new Set(spellings.filter((spelling) => spelling !== '' && spelling !== ':'))];
}

/** The password of a URL in every spelling (see urlSecrets), and the secrets a MongoDB URL's options carry. */
export function connectionSecrets(url: string): string[] {
  return [...urlSecrets(url, 'password'), ...mongoQuerySecrets(url)];
}

/**
 * Masks URL passwords and also every bare occurrence of the given URLs' passwords (drivers sometimes
 * echo a password outside any URL, e.g. in a failed-auth message).
 */
export function maskSecretsOf(text: string, urls: ReadonlyArray<string | undefined>): string {
  // The known secrets first, while they are still whole in the text; then any other URL's password.
  let masked = text;
  for (const url of urls) {
    if (url === undefined) continue;
    // Longest first, so a decoded password that contains the raw one is replaced whole.
    for (const secret of connectionSecrets(url).sort((a, b) => b.length - a.length)) masked = replaceSecret(masked, secret);
  }
  return masked.replace(CREDENTIALS_IN_URL, '$1***@');
}

/**
 * `text` with `secret` replaced by `***`; a short one (a devstack's `pw`, `dev`) only where it stands alone,
 * so a password `p` does not turn "pem" into "***em" (the same rule in dump-set's and the other dumper's masking).
 */
function replaceSecret(text: string, secret: string): string {
  if (secret.length >= 8) return text.split(secret).join('***');
  return text.replace(new RegExp(`(?<![A-Za-z0-9])${secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9])`, 'g'), '***');
}


/** `host:port` of a mysql:// or mongodb:// URL (default ports filled in), safe to print. */
export function serverAddress(url: string): string {
  const match = /^([a-z][a-z0-9+.-]*):\/\/(?:[^@/?]*@)?([^/?]*)/i.exec(url);
  if (!match) return '(unparsable URL)';
  const scheme = match[1]!.toLowerCase();
  const defaultPort = scheme.startsWith('mongodb') ? 27017 : 3306;
  if (scheme === 'mongodb+srv') return match[2]!;
  return match[2]!
    .split(',')
    .map((host) => (/:\d+$/.test(host) ? host : `${host}:${defaultPort}`))
    .join(',');
}
