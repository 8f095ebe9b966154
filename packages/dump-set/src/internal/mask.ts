/**
 * `scheme://user:password@` anywhere in a text. The password runs to the `@` after which the host part
 * (up to whitespace, `/`, `?`, `#` or the end) has no other `@`: a password containing `/`, `:` or `@` is
 * masked whole; at worst something that is not a password gets masked.
 */
const PASSWORD_TO_HOST = String.raw`(\S*?)@(?=[^\s@/?#]*(?:[\s/?#]|$))`;
const CREDENTIALS_IN_URL = new RegExp(String.raw`([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)` + PASSWORD_TO_HOST, 'gi');

/**
 * The text with the password of every URL in it replaced by `***`; with `urls`, also every bare
 * occurrence of those URLs' passwords (drivers sometimes echo a password outside any URL).
 */
export function maskSecrets(text: string, urls: ReadonlyArray<string | undefined> = []): string {
  return urls.length === 0 ? text.replace(CREDENTIALS_IN_URL, '$1***@') : maskSecretsOf(text, urls);
}

/** The password (raw and percent-decoded) of a URL, if it carries one. */
export function passwordsOf(url: string): string[] {
  const match = new RegExp(String.raw`^[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:` + PASSWORD_TO_HOST, 'i').exec(url);
  const raw = match?.[1];
  if (!raw) return [];
  const found = [raw];
  try {
    const decoded = decodeURIComponent(raw);
    if (decoded !== raw && decoded !== '') found.push(decoded);
  } catch {
    // not percent-encoded
  }
  return found;
}

/**
 * Masks URL passwords and also every bare occurrence of the given URLs' passwords (drivers sometimes
 * echo a password outside any URL, e.g. in a failed-auth message).
 */
export function maskSecretsOf(text: string, urls: ReadonlyArray<string | undefined>): string {
  let masked = text.replace(CREDENTIALS_IN_URL, '$1***@');
  for (const url of urls) {
    if (url === undefined) continue;
    // Longest first, so a decoded password that contains the raw one is replaced whole.
    for (const secret of passwordsOf(url).sort((a, b) => b.length - a.length)) masked = masked.split(secret).join('***');
  }
  return masked;
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
