import { ImageBuildError } from './errors.js';
import { classifyRegistryError } from './retry.js';

/** A blob a manifest points to. */
export interface BlobRef {
  digest: string;
  size: number;
  mediaType?: string;
}

/** A registry manifest, reduced to what sizes and push accounting need. */
export type ParsedManifest =
  | { kind: 'index'; manifests: BlobRef[] }
  | { kind: 'image'; config: BlobRef; layers: BlobRef[] };

/** A manifest that cannot be read. Not fatal: only the size columns of the report are lost. */
export class ManifestError extends ImageBuildError {
  readonly fatal = false;
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

function blob(value: unknown, where: string): BlobRef {
  const b = value as Partial<BlobRef> | null;
  if (!b || typeof b.digest !== 'string' || typeof b.size !== 'number') throw new ManifestError(`${where} has no digest and size`);
  return { digest: b.digest, size: b.size, ...(typeof b.mediaType === 'string' ? { mediaType: b.mediaType } : {}) };
}

/** Parses an OCI or Docker v2 image manifest or index (`docker buildx imagetools inspect --raw`). */
export function parseManifest(json: string): ParsedManifest {
  let doc: { manifests?: unknown[]; config?: unknown; layers?: unknown[] };
  try {
    doc = JSON.parse(json) as typeof doc;
  } catch (error) {
    throw new ManifestError(`The registry returned a manifest that is not JSON: ${(error as Error).message}`);
  }
  if (Array.isArray(doc.manifests)) return { kind: 'index', manifests: doc.manifests.map((m, i) => blob(m, `manifests[${i}]`)) };
  if (doc.config && Array.isArray(doc.layers)) {
    return { kind: 'image', config: blob(doc.config, 'config'), layers: doc.layers.map((l, i) => blob(l, `layers[${i}]`)) };
  }
  throw new ManifestError('The manifest is neither an image manifest nor an index.');
}

/**
 * Every blob of an image: manifests, configs and layers, following an index into its manifests.
 * `fetch` returns the raw manifest of `digest`; each distinct blob is listed once.
 */
export async function imageBlobs(digest: string, fetch: (digest: string) => Promise<string>): Promise<BlobRef[]> {
  const blobs = new Map<string, BlobRef>();
  const visit = async (ref: BlobRef): Promise<void> => {
    if (blobs.has(ref.digest)) return;
    const raw = await fetch(ref.digest);
    blobs.set(ref.digest, { ...ref, size: ref.size || Buffer.byteLength(raw) });
    const manifest = parseManifest(raw);
    if (manifest.kind === 'index') {
      for (const child of manifest.manifests) await visit(child);
      return;
    }
    for (const b of [manifest.config, ...manifest.layers]) if (!blobs.has(b.digest)) blobs.set(b.digest, b);
  };
  await visit({ digest, size: 0 });
  return [...blobs.values()];
}

/** Layer bytes of an image (compressed, as stored in the registry), attestations included. */
export function layerBytes(blobs: BlobRef[]): number {
  return blobs.filter((b) => /layer|rootfs|in-toto/.test(b.mediaType ?? '')).reduce((sum, b) => sum + b.size, 0);
}

/**
 * What a push had to upload: the blobs of the new image that the repository did not hold before
 * (`before`: the blobs of the images its tags pointed to, collected before the build).
 */
export function newBlobs(after: BlobRef[], before: Iterable<string>): { count: number; bytes: number; layers: number } {
  const known = new Set(before);
  const fresh = after.filter((b) => !known.has(b.digest));
  return {
    count: fresh.length,
    bytes: fresh.reduce((sum, b) => sum + b.size, 0),
    layers: fresh.filter((b) => /layer|rootfs/.test(b.mediaType ?? '')).length,
  };
}

/** What to do with one `docker buildx imagetools inspect --raw` of a manifest. */
export type ManifestLookupOutcome =
  | { kind: 'found' }
  /** No such tag or repository yet: nothing is behind the tag. */
  | { kind: 'absent' }
  | { kind: 'retry'; reason: string }
  /** Give up: the caller warns and leaves what depends on it (the pushed bytes) unknown. */
  | { kind: 'unavailable'; reason: string };

const ABSENT = /not found|unknown manifest|manifest unknown|name unknown|\b404\b/i;

/**
 * Decides a manifest lookup from its exit code and stderr; `attempt` is 1-based. 429/5xx,
 * connection errors and passing DNS failures are retried until `attempts`; refused credentials, a
 * host that does not exist and anything else are not, since retrying cannot change them.
 */
export function manifestLookupOutcome(result: { exitCode: number; stderr: string }, attempt: number, attempts = 3): ManifestLookupOutcome {
  if (result.exitCode === 0) return { kind: 'found' };
  const message = result.stderr.trim().split('\n').filter(Boolean).slice(-2).join(' / ') || `exit code ${result.exitCode}`;
  const { kind, status } = classifyRegistryError(message);
  if (kind === 'retryable') {
    return attempt < attempts ? { kind: 'retry', reason: message } : { kind: 'unavailable', reason: `still failing after ${attempts} attempts: ${message}` };
  }
  if (kind === 'auth') return { kind: 'unavailable', reason: `the registry refused to show it${status ? ` (HTTP ${status})` : ''}; log in with \`registry\`/\`username\`/\`password\`` };
  if (kind === 'dns') return { kind: 'unavailable', reason: `the registry host does not resolve: ${message}` };
  if (ABSENT.test(message)) return { kind: 'absent' };
  return { kind: 'unavailable', reason: message };
}
