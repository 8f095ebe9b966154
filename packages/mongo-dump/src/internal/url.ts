// Connection strings may list several hosts (`a:1,b:2`), which WHATWG URL cannot parse, so we split the
// authority by hand; the driver itself validates the string when we connect.
// The user info runs to the last `@` of the authority: a password may contain `@`.
const URL_PATTERN = /^(mongodb(?:\+srv)?:\/\/)(?:([^/?]*)@)?([^/?@]*)(.*)$/s;

/** The URL with the password and secret options (see mongoQuerySecrets) replaced by `***`, safe to print and to store. */
export function maskMongoUrl(url: string): string {
  return maskEach(maskPassword(url), mongoQuerySecrets(url));
}

function maskPassword(url: string): string {
  // A second `@` may belong to a password holding `@` and `/` or `?` (`u:p@ss/w@host`), which the pattern
  // would cut short: everything up to the last `@` then, hiding more than the password rather than less.
  if (passwordMayHoldAt(url)) return maskUserInfo(url);
  const match = URL_PATTERN.exec(url);
  // Not the pattern, or no user info it can see (a password with `/`): the coarse mask below.
  if (!match || match[2] === undefined) return maskUserInfo(url);
  const [, scheme, userInfo, hosts, rest] = match;
  const colon = userInfo.indexOf(':');
  const maskedUserInfo = colon < 0 ? userInfo : `${userInfo.slice(0, colon)}:***`;
  return `${scheme}${maskedUserInfo}@${hosts}${rest}`;
}

/** Longest first, so a decoded secret that contains the written one is replaced whole. */
function maskEach(text: string, secrets: string[]): string {
  return [...secrets].sort((a, b) => b.length - a.length).reduce((masked, secret) => replaceSecret(masked, secret), text);
}

/**
 * `text` with `secret` replaced by `***`; a short one (a devstack's `pw`, `dev`) only where it stands alone,
 * so a password `p` does not turn "pem" into "***em" (the same rule in dump-set's and the other dumper's masking).
 */
function replaceSecret(text: string, secret: string): string {
  if (secret.length >= 8) return text.split(secret).join('***');
  return text.replace(new RegExp(`(?<![A-Za-z0-9])${secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9])`, 'g'), '***');
}


/** Connection-string options whose whole value is a secret (the driver's names; matched in any case). */
const SECRET_OPTIONS = new Set(['tlscertificatekeyfilepassword', 'sslpemkeypassword', 'proxypassword']);
/** Keys of `authMechanismProperties` whose value is a secret (e.g. `AWS_SESSION_TOKEN:...`). */
const SECRET_PROPERTY = /token|secret|password/i;

/**
 * Secrets a connection string can carry outside its user info, as written and percent-decoded: the
 * values of `tlsCertificateKeyFilePassword`, `sslPEMKeyPassword` and `proxyPassword`, and of the token,
 * secret and password keys inside `authMechanismProperties` (MONGODB-AWS `AWS_SESSION_TOKEN:...`).
 */
export function mongoQuerySecrets(url: string): string[] {
  const query = /^[^?]*\?([^#]*)/s.exec(url)?.[1];
  if (!query) return [];
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text.replace(/\+/g, ' '));
    } catch {
      return text;
    }
  };
  const secrets: string[] = [];
  for (const pair of query.split('&')) {
    const equals = pair.indexOf('=');
    if (equals < 0) continue;
    const name = decode(pair.slice(0, equals)).toLowerCase();
    const written = pair.slice(equals + 1);
    if (SECRET_OPTIONS.has(name)) secrets.push(written, decode(written));
    if (name === 'authmechanismproperties') {
      for (const property of decode(written).split(',')) {
        const colon = property.indexOf(':');
        if (colon > 0 && SECRET_PROPERTY.test(property.slice(0, colon))) {
          const value = property.slice(colon + 1);
          secrets.push(value, encodeURIComponent(value));
        }
      }
    }
  }
  return [...new Set(secrets.filter((secret) => secret !== ''))];
}

/** A password (a `:` before the first `@`) and another `@` after it: the password may run to the last `@`. */
function passwordMayHoldAt(url: string): boolean {
  const rest = url.slice(/^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0].length ?? 0);
  const firstAt = rest.indexOf('@');
  const colon = rest.indexOf(':');
  return firstAt >= 0 && colon >= 0 && colon < firstAt && rest.lastIndexOf('@') !== firstAt;
}

/**
 * Everything from the first `:` after any `scheme://` up to the last `@` (malformed input such as
 * `mongodb:/u:p@h` or `u:p@h`): it may hide more than the password, never less.
 */
function maskUserInfo(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0] ?? '';
  const rest = url.slice(scheme.length);
  const colon = rest.indexOf(':');
  const at = rest.lastIndexOf('@');
  return colon >= 0 && colon < at ? `${scheme}${rest.slice(0, colon)}:***${rest.slice(at)}` : url;
}

/** `host:port[,host:port]` of the URL, with the default port filled in, for error messages. */
export function mongoHosts(url: string): string {
  const match = URL_PATTERN.exec(url);
  if (!match) return '(unparsable URL)';
  const [, scheme, , hosts = ''] = match;
  if (scheme === 'mongodb+srv://') return hosts;
  return hosts
    .split(',')
    .map((host) => (/:\d+$/.test(host) ? host : `${host}:27017`))
    .join(',');
}

/** The user name in the URL (decoded), or '' when the URL carries no credentials. */
export function mongoUser(url: string): string {
  const match = URL_PATTERN.exec(url);
  const userInfo = match?.[2];
  if (!userInfo) return '';
  const colon = userInfo.indexOf(':');
  const user = colon < 0 ? userInfo : userInfo.slice(0, colon);
  try {
    return decodeURIComponent(user);
  } catch {
    return user;
  }
}

/** Replace every occurrence of the URL's password and secret options in a message (driver errors may echo the URL). */
export function maskSecretsIn(message: string, url: string): string {
  return maskPasswordIn(maskEach(message, mongoQuerySecrets(url)), url);
}

function maskPasswordIn(message: string, url: string): string {
  const userInfo = URL_PATTERN.exec(url)?.[2];
  const colon = userInfo?.indexOf(':') ?? -1;
  if (!userInfo || colon < 0) return message;
  const password = userInfo.slice(colon + 1);
  if (password === '') return message;
  let masked = replaceSecret(message, password);
  try {
    const decoded = decodeURIComponent(password);
    if (decoded !== '') masked = replaceSecret(masked, decoded);
  } catch {
    // not percent-encoded: the raw form was already masked
  }
  return masked;
}

/**
 * The database a URL's user is authenticated against when it only says so implicitly: its path database
 * (`mongodb://u:p@host/shop` authenticates against `shop`), unless `authSource` is given. undefined when
 * there are no credentials, no path database, or an explicit authSource.
 */
export function implicitAuthDatabase(url: string): string | undefined {
  const match = URL_PATTERN.exec(url);
  if (!match?.[2]) return undefined;
  const rest = match[4] ?? '';
  const [pathPart = '', query = ''] = rest.split('?', 2);
  const database = pathPart.replace(/^\//, '');
  if (!database || /(?:^|&)authSource=/i.test(query)) return undefined;
  try {
    return decodeURIComponent(database);
  } catch {
    return database;
  }
}

/**
 * The database a mongodb:// or mongodb+srv:// URL names in its path (`mongodb://h1:1,h2:2/shop?replicaSet=rs`
 * -> shop), undefined when it names none or is no such URL. Throws URIError on bad percent-encoding. Unlike
 * WHATWG `new URL`, reads several hosts.
 */
export function mongoUrlDatabase(url: string): string | undefined {
  const match = URL_PATTERN.exec(url);
  if (!match) return undefined;
  const database = (match[4] ?? '').split(/[?#]/, 1)[0]!.replace(/^\/+|\/+$/g, '');
  return database === '' ? undefined : decodeURIComponent(database);
}
