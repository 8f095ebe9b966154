// Connection strings may list several hosts (`a:1,b:2`), which WHATWG URL cannot parse, so we split the
// authority by hand; the driver itself validates the string when we connect.
// The user info runs to the last `@` of the authority: a password may contain `@`.
const URL_PATTERN = /^(mongodb(?:\+srv)?:\/\/)(?:([^/?]*)@)?([^/?@]*)(.*)$/s;

/** The URL with the password replaced by `***`, safe to print and to store. */
export function maskMongoUrl(url: string): string {
  const match = URL_PATTERN.exec(url);
  // Not the pattern, or no user info it can see (a password with `/`): the coarse mask below.
  if (!match || match[2] === undefined) return maskUserInfo(url);
  const [, scheme, userInfo, hosts, rest] = match;
  const colon = userInfo.indexOf(':');
  const maskedUserInfo = colon < 0 ? userInfo : `${userInfo.slice(0, colon)}:***`;
  return `${scheme}${maskedUserInfo}@${hosts}${rest}`;
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

/** Replace every occurrence of the URL's password in a message (driver errors may echo the URL). */
export function maskSecretsIn(message: string, url: string): string {
  const userInfo = URL_PATTERN.exec(url)?.[2];
  const colon = userInfo?.indexOf(':') ?? -1;
  if (!userInfo || colon < 0) return message;
  const password = userInfo.slice(colon + 1);
  if (password === '') return message;
  let masked = message.split(password).join('***');
  try {
    const decoded = decodeURIComponent(password);
    if (decoded !== '') masked = masked.split(decoded).join('***');
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
