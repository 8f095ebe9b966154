// Reads what a registry holds through the distribution API (/v2/_catalog, tags, manifests), to
// count the blobs a build added. Plain HTTP: the harness registry listens on 127.0.0.1.

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface Blob {
  digest: string;
  size: number;
  mediaType: string;
}

interface Manifest {
  mediaType?: string;
  manifests?: Blob[];
  config?: Blob;
  layers?: Blob[];
}

async function getJson<T>(url: string, accept = 'application/json'): Promise<{ body: T; digest: string | null } | undefined> {
  const response = await fetch(url, { headers: { Accept: accept } });
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return { body: (await response.json()) as T, digest: response.headers.get('docker-content-digest') };
}

/** Every repository under `prefix`, following the catalog's pages (`Link: <...>; rel="next"`). */
export async function repositories(registry: string, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let next: string | undefined = `/v2/_catalog?n=100`;
  while (next) {
    const response: Response = await fetch(`http://${registry}${next}`);
    if (!response.ok) throw new Error(`GET ${next}: HTTP ${response.status}`);
    found.push(...((await response.json()) as { repositories: string[] }).repositories);
    next = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
  }
  return found.filter((r) => r.startsWith(prefix)).sort();
}

export async function tagsOf(registry: string, repository: string): Promise<string[]> {
  return (await getJson<{ tags: string[] | null }>(`http://${registry}/v2/${repository}/tags/list`))?.body.tags ?? [];
}

/** The manifest behind a tag or digest, with its own digest. */
export async function manifest(registry: string, repository: string, reference: string): Promise<{ manifest: Manifest; digest: string } | undefined> {
  const got = await getJson<Manifest>(`http://${registry}/v2/${repository}/manifests/${reference}`, MANIFEST_TYPES);
  return got ? { manifest: got.body, digest: got.digest ?? reference } : undefined;
}

/** The layers of an image manifest (single platform, as the docker driver pushes). */
export async function layersOf(registry: string, repository: string, reference: string): Promise<Blob[]> {
  const found = await manifest(registry, repository, reference);
  if (!found) throw new Error(`${repository}:${reference} is not in the registry`);
  return found.manifest.layers ?? [];
}

/**
 * Every blob referenced by every tag of the repositories under `prefix`: manifests (by digest),
 * configs and layers, following indexes. Keyed by digest.
 */
export async function blobsUnder(registry: string, prefix: string): Promise<Map<string, Blob & { repository: string }>> {
  const blobs = new Map<string, Blob & { repository: string }>();
  for (const repository of await repositories(registry, prefix)) {
    const visit = async (reference: string): Promise<void> => {
      const found = await manifest(registry, repository, reference);
      if (!found) return;
      blobs.set(found.digest, { digest: found.digest, size: 0, mediaType: found.manifest.mediaType ?? 'manifest', repository });
      for (const child of found.manifest.manifests ?? []) await visit(child.digest);
      for (const b of [...(found.manifest.config ? [found.manifest.config] : []), ...(found.manifest.layers ?? [])]) blobs.set(b.digest, { ...b, repository });
    };
    for (const tag of await tagsOf(registry, repository)) await visit(tag);
  }
  return blobs;
}

export const isLayer = (blob: Blob) => /layer|rootfs\.diff/.test(blob.mediaType);
