import { DumpVersioningError, IntegrityError } from './errors.js';
import { decodeBranchRef, decodeCommitEntry, decodeManifest, type CommitEntry, type MigrationsRecordRef, type VersionManifest } from './manifest.js';
import { decodeMigrationsRecord } from './migrations-record.js';
import { progressCounter, type ProgressListener } from './progress.js';
import { assertService } from './query.js';
import { mapLimit } from './concurrency.js';
import { layout, type Store } from './store.js';
import { fetchVerified } from './transfer.js';
import { isAccessDenied, MULTIPART_PERMISSIONS } from './prune.js';

export interface VerifyProblem {
  service: string;
  key: string;
  code: string;
  message: string;
}

export interface VerifyResult {
  /** No problems; warnings do not count. */
  ok: boolean;
  services: string[];
  checked: { versions: number; commits: number; refs: number; blobs: number; migrations: number };
  problems: VerifyProblem[];
  /**
   * Findings that harm no version, e.g. `incomplete-upload`: a multipart upload of a blob neither completed nor
   * aborted (S3: a publish killed mid-upload, or one running now), whose parts are billed until aborted.
   */
  warnings: VerifyProblem[];
}

export interface VerifyOptions {
  store: Store;
  /** One service, or every service in the store. */
  service?: string;
  /** Download and hash every blob (default); false only checks that they exist. */
  hashes?: boolean;
  concurrency?: number;
  onProgress?: ProgressListener;
}

const SERVICE_KEY = /^([^/]+)\/(?:versions|commits|refs|blobs|migrations)\//;

/**
 * Checks that every manifest's blobs and every migrations record a manifest or commit entry names exist
 * and hash right, and that no index entry or ref dangles.
 */
export async function verify(options: VerifyOptions): Promise<VerifyResult> {
  const { store } = options;
  const keys = new Map<string, Set<string>>();
  const services: string[] = [];
  if (options.service !== undefined) assertService(options.service);
  await store.checkRoot?.('read');
  for await (const object of store.list(options.service === undefined ? '' : `${options.service}/`)) {
    const service = SERVICE_KEY.exec(object.key)?.[1];
    if (!service) continue;
    if (!keys.has(service)) {
      keys.set(service, new Set());
      services.push(service);
    }
    keys.get(service)!.add(object.key);
  }
  const checked = { versions: 0, commits: 0, refs: 0, blobs: 0, migrations: 0 };
  const problems: VerifyProblem[] = [];
  const warnings: VerifyProblem[] = [];
  const note = (service: string, key: string, error: unknown) => {
    if (!(error instanceof DumpVersioningError)) throw error;
    problems.push({ service, key, code: error.code, message: error.message });
  };
  const read = async (key: string) => (await store.get(key))?.body.toString('utf8');

  for (const service of services) {
    if (store.listIncompleteUploads) {
      try {
        for await (const upload of store.listIncompleteUploads(layout.blobsPrefix(service))) {
          warnings.push({
            service,
            key: upload.key,
            code: 'incomplete-upload',
            message: `incomplete multipart upload of ${upload.key} started ${upload.initiated.toISOString()} (an interrupted publish, or one running now); a prune that deletes aborts it once older than its grace period, and a bucket lifecycle rule (AbortIncompleteMultipartUpload) prevents such leftovers`,
          });
        }
      } catch (error) {
        if (!isAccessDenied(error)) throw error;
        warnings.push({ service, key: layout.blobsPrefix(service), code: 'incomplete-uploads-unlisted', message: `incomplete uploads of interrupted publishes were not looked for: ${MULTIPART_PERMISSIONS}` });
      }
    }
    const present = keys.get(service)!;
    const under = (prefix: string) => [...present].filter((key) => key.startsWith(prefix) && key.endsWith('.json'));
    const manifests: VersionManifest[] = [];
    // Migrations records by key, with the first document naming each (checked once however many share it).
    const records = new Map<string, { ref: MigrationsRecordRef; namedBy: string }>();
    const noteRecord = (document: CommitEntry, documentKey: string) => {
      if (!document.migrationsRecord) return;
      const key = layout.migrations(service, document.migrationsRecord.sha256);
      if (!present.has(key)) {
        problems.push({ service, key: documentKey, code: 'migrations-missing', message: `${documentKey} names migrations record ${key}, which is not in the store` });
      } else if (!records.has(key)) records.set(key, { ref: document.migrationsRecord, namedBy: documentKey });
    };
    for (const key of under(layout.versionsPrefix(service))) {
      checked.versions++;
      try {
        const manifest = decodeManifest((await read(key)) ?? '', `${store.location}/${key}`);
        if (layout.version(service, manifest.version) !== key) throw new DumpVersioningError('misplaced-manifest', `manifest ${key} holds version ${manifest.version} of ${manifest.service}; it is stored under the wrong key`);
        manifests.push(manifest);
        noteRecord(manifest, key);
      } catch (error) {
        note(service, key, error);
      }
    }
    // Each blob is checked once even when many versions share it.
    const blobs = new Map<string, { manifest: VersionManifest; file: VersionManifest['files'][number] }>();
    for (const manifest of manifests) {
      for (const file of manifest.files) {
        const key = layout.blob(service, file.sha256, file.compression);
        if (!present.has(key)) {
          problems.push({ service, key, code: 'blob-missing', message: `version ${manifest.version}: file ${file.path} is missing (blob ${key})` });
        } else if (!blobs.has(key)) blobs.set(key, { manifest, file });
      }
    }
    if (options.hashes !== false) {
      const total = [...blobs.values()].reduce((sum, blob) => sum + blob.file.size, 0);
      const onBytes = progressCounter('verify', total, options.onProgress);
      await mapLimit([...blobs.entries()], options.concurrency ?? 4, async ([key, { manifest, file }]) => {
        checked.blobs++;
        try {
          await fetchVerified(store, service, file, undefined, `verify of version ${manifest.version} (${service})`, onBytes);
        } catch (error) {
          note(service, key, error);
        }
      });
    } else checked.blobs += blobs.size;

    for (const key of under(layout.commitsPrefix(service))) {
      checked.commits++;
      try {
        const entry = decodeCommitEntry((await read(key)) ?? '', `${store.location}/${key}`);
        if (!present.has(layout.version(service, entry.version))) {
          problems.push({ service, key, code: 'dangling-commit', message: `commit entry ${key} names version ${entry.version}, which is not in the store` });
        }
        noteRecord(entry, key);
      } catch (error) {
        note(service, key, error);
      }
    }
    for (const [key, { ref, namedBy }] of records) {
      checked.migrations++;
      if (options.hashes === false) continue;
      try {
        const object = await store.get(key);
        if (!object) throw new IntegrityError('migrations-missing', `${namedBy} names migrations record ${key}, which disappeared during verify`);
        decodeMigrationsRecord(object.body, ref, `${store.location}/${key}`);
      } catch (error) {
        note(service, key, error);
      }
    }
    for (const key of under(layout.refsPrefix(service))) {
      checked.refs++;
      try {
        const ref = decodeBranchRef((await read(key)) ?? '', `${store.location}/${key}`);
        if (!present.has(layout.version(service, ref.version))) {
          problems.push({ service, key, code: 'dangling-ref', message: `ref ${ref.branch} names version ${ref.version}, which is not in the store` });
        }
        if (!present.has(layout.commit(service, ref.commit))) {
          problems.push({ service, key, code: 'dangling-ref', message: `ref ${ref.branch} names commit ${ref.commit}, which has no commit index entry` });
        }
      } catch (error) {
        note(service, key, error);
      }
    }
  }
  return { ok: problems.length === 0, services, checked, problems, warnings };
}
