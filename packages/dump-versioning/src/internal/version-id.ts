import { InvalidInputError, NotFoundError } from './errors.js';
import { isServiceName, isVersionId } from './manifest.js';
import { layout, type Store } from './store.js';

/** Shortest prefix accepted (as git's default abbreviation): shorter ones collide too easily. */
export const MIN_VERSION_PREFIX = 7;
const VERSION_LENGTH = 64;
/** Candidates named in an "ambiguous" error; more only make the message unreadable. */
const SHOWN_CANDIDATES = 10;

const LIST_HINT = (service: string) => `run \`devstack-dumps list --service ${service}\` to see the published versions`;

export function unknownVersionError(store: Store, service: string, version: string): NotFoundError {
  return new NotFoundError('unknown-version', `version ${version} of service ${service} is not in ${store.location}; ${LIST_HINT(service)}`);
}

/**
 * The full id of a published version from the id or a unique hex prefix of at least 7 characters
 * (`list` shows 12). Fails with InvalidInputError (`bad-version`: not hex, too short or too long;
 * `ambiguous-version`: naming the candidates) or NotFoundError (`unknown-version`).
 */
export async function resolveVersion(store: Store, service: string, idOrPrefix: string): Promise<string> {
  if (!isServiceName(service)) throw new InvalidInputError('bad-service', `service name ${JSON.stringify(service)} is invalid; use letters, digits, ".", "_" or "-"`);
  const given = typeof idOrPrefix === 'string' ? idOrPrefix.trim().toLowerCase() : '';
  if (!/^[0-9a-f]+$/.test(given)) {
    throw new InvalidInputError('bad-version', `version ${JSON.stringify(idOrPrefix)} is not a hex version id; give the full id or at least its first ${MIN_VERSION_PREFIX} characters`);
  }
  if (given.length < MIN_VERSION_PREFIX || given.length > VERSION_LENGTH) {
    const why = given.length < MIN_VERSION_PREFIX ? `is shorter than ${MIN_VERSION_PREFIX} characters` : `is longer than ${VERSION_LENGTH} characters`;
    throw new InvalidInputError('bad-version', `version ${JSON.stringify(idOrPrefix)} ${why}; give the full id or at least its first ${MIN_VERSION_PREFIX} characters`);
  }
  await store.checkRoot?.('read');
  if (given.length === VERSION_LENGTH) {
    if (!(await store.exists(layout.version(service, given)))) throw unknownVersionError(store, service, given);
    return given;
  }
  const prefix = layout.versionsPrefix(service);
  const matches: string[] = [];
  for await (const object of store.list(prefix)) {
    const id = object.key.slice(prefix.length, -'.json'.length);
    if (object.key.endsWith('.json') && id.startsWith(given) && /^[0-9a-f]{64}$/.test(id)) matches.push(id);
  }
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw new NotFoundError('unknown-version', `no version of service ${service} in ${store.location} starts with ${given}; ${LIST_HINT(service)}`);
  const shown = matches.sort().slice(0, SHOWN_CANDIDATES).join(', ');
  const more = matches.length > SHOWN_CANDIDATES ? ` and ${matches.length - SHOWN_CANDIDATES} more` : '';
  throw new InvalidInputError('ambiguous-version', `version prefix ${given} of service ${service} matches ${matches.length} versions (${shown}${more}); give more characters`);
}

/** For callers that read the manifest next: a full id needs no lookup (reading it reports an unknown one). */
export async function versionIdOf(store: Store, service: string, idOrPrefix: string): Promise<string> {
  return isVersionId(idOrPrefix) ? idOrPrefix : resolveVersion(store, service, idOrPrefix);
}
