import { isCancellation } from './build-failure.js';
import { describeBaseImageChange, describeEarlierChange } from './miss-cause.js';
import type { TagPlan } from './git-tags.js';
import type { BuildReport, MissCause, StepReport } from './report.js';
import type { Flavour } from './targets.js';

/** What `--metadata-file` holds per bake target (the fields the action uses). */
export interface BakeMetadataEntry {
  'containerimage.digest'?: string;
  'image.name'?: string;
  [key: string]: unknown;
}
export type BakeMetadata = Record<string, BakeMetadataEntry>;

/** Sizes the action measured in the registry after the push (absent when nothing was pushed). */
export interface FlavourSizes {
  /** Compressed layer bytes of the image, as stored in the registry. */
  imageBytes?: number;
  /** Bytes of the blobs the repository did not hold before this build (layers, config, manifest). */
  pushedBytes?: number;
  /** How many of the image's layers were new. */
  pushedLayers?: number;
  /** Why the pushed bytes are unknown (the registry could not be read before the push). */
  pushedUnknown?: string;
}

export function describeCause(cause: MissCause): string {
  switch (cause.kind) {
    case 'context-files':
      return `changed file${cause.files.length > 1 ? 's' : ''}: ${cause.files.slice(0, 5).join(', ')}${cause.files.length > 5 ? ` (+${cause.files.length - 5})` : ''}`;
    case 'build-arg':
      return `changed build arg${cause.names.length > 1 ? 's' : ''}: ${cause.names.join(', ')}`;
    case 'base-image':
      return describeBaseImageChange(cause) ?? `base image ${cause.image} moved (${cause.previous.slice(0, 19)} -> ${cause.current.slice(0, 19)})`;
    case 'earlier-instruction':
      return describeEarlierChange(cause);
    case 'instruction':
      return 'its instruction is new or changed since the previous build';
    case 'unknown':
      return `unknown: ${cause.hint}`;
  }
}

/** `dev 1/3 COPY src/ ./src/` (`linux/arm64 dev 1/3 ...` in a multi-platform build): a step as the report names it. */
export function stepLabel(step: Pick<StepReport, 'platform' | 'stage' | 'index' | 'total' | 'instruction'>): string {
  return `${step.platform ? `${step.platform} ` : ''}${step.stage ? `${step.stage} ` : ''}${step.index}/${step.total} ${step.instruction}`;
}

/** What the report says instead of a first miss when a flavour has no step that ran or was cached. */
export const NO_STEPS = 'no build steps ran';

/** 1536 -> `1.5 KiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

const seconds = (msValue: number) => `${(msValue / 1000).toFixed(1)} s`;
/** Table cells: no pipes or newlines from instructions, and not endless unless `max` allows it. */
const cell = (text: string, max = 80) => {
  const flat = text.replace(/\s+/g, ' ').replace(/\|/g, '\\|');
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
};

/** The job summary: one row per flavour, then the build's plain messages (cache warnings). */
export function reportMarkdown(report: BuildReport, metadata: BakeMetadata = {}, sizes: Record<string, FlavourSizes> = {}): string {
  const rows = report.flavours.map((f) => {
    const miss = f.firstMiss ? `\`${cell(stepLabel(f.firstMiss.step))}\`` : f.steps.total === 0 ? NO_STEPS : 'none';
    // Whole, the table wraps it: cut, a cause loses its point (a moved base image its digests).
    const cause = f.firstMiss ? cell(describeCause(f.firstMiss.cause), Number.POSITIVE_INFINITY) : '';
    const digest = metadata[f.flavour]?.['containerimage.digest'];
    // A digest means buildx built the image (it writes none for a failed bake): never "failed" then.
    const status = digest ? `\`${digest.slice(0, 19)}\`` : f.error ? (isCancellation(f.error) ? 'canceled' : `failed: ${cell(f.error)}`) : '';
    const size = sizes[f.flavour]?.imageBytes;
    const pushed = sizes[f.flavour]?.pushedBytes;
    const pushedCell = sizes[f.flavour]?.pushedUnknown ? 'unknown' : pushed === undefined ? '-' : `${formatBytes(pushed)} (${sizes[f.flavour]?.pushedLayers ?? 0} layers)`;
    return `| ${f.flavour} | ${f.steps.total} | ${f.steps.cached} | ${f.steps.run} | ${miss} | ${cause} | ${seconds(f.durationMs)} | ${size === undefined ? '-' : formatBytes(size)} | ${pushedCell} | ${status} |`;
  });
  const lines = [
    '### Image build',
    '',
    '| Flavour | Steps | Cached | Run | First cache miss | Cause | Duration | Size | Pushed | Digest |',
    '| --- | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | --- |',
    ...rows,
    '',
    report.stepCount === 0
      ? `No build steps ran, so there is no cache hit ratio; total ${seconds(report.durationMs)}.`
      : `Cache hit ratio: **${(report.cacheHitRatio * 100).toFixed(0)}%** over ${report.stepCount} distinct steps; total ${seconds(report.durationMs)}.`,
  ];
  const unknown = Object.entries(sizes).filter(([, s]) => s.pushedUnknown);
  if (unknown.length) lines.push('', ...unknown.map(([flavour, s]) => `Pushed bytes of ${flavour} unknown: ${cell(s.pushedUnknown as string)}.`));
  const warnings = report.messages.filter((m) => /^WARN|^ERROR/i.test(m));
  if (warnings.length) lines.push('', ...warnings.map((w) => `> ${cell(w)}`));
  return `${lines.join('\n')}\n`;
}

/**
 * The action's outputs: `digest-<flavour>`, `tags` (every reference, one per line), `metadata`
 * (per flavour: image, tags, digest, step counts, first miss and cause, sizes, every step's status;
 * plus the base image digests and each build arg's fingerprint, `sha256:<hex of the value>`, never the
 * value, for the next build's cause analysis) and
 * `cache-hit-ratio` (cached / all distinct steps of the solve, FROM excluded, a step shared by
 * flavours counted once and a multi-platform step once per platform; 0..1, two decimals, 1 without steps).
 */
export function buildOutputs(options: {
  flavours: Flavour[];
  tags: TagPlan[];
  pushed: boolean;
  report: BuildReport;
  metadata: BakeMetadata;
  buildArgs?: Record<string, Record<string, string>>;
  sizes?: Record<string, FlavourSizes>;
}): Record<string, string> {
  const outputs: Record<string, string> = {};
  const tagsOf = (f: Flavour) => options.tags.filter((t) => !options.pushed || t.push).map((t) => `${f.image}:${t.name}`);
  for (const flavour of options.flavours) {
    const digest = options.metadata[flavour.name]?.['containerimage.digest'];
    if (digest) outputs[`digest-${flavour.name}`] = digest;
  }
  outputs.tags = options.flavours.flatMap(tagsOf).join('\n');
  const flavours: Record<string, unknown> = {};
  for (const flavour of options.flavours) {
    const report = options.report.flavours.find((f) => f.flavour === flavour.name);
    const miss = report?.firstMiss;
    flavours[flavour.name] = {
      image: flavour.image,
      stage: flavour.stage,
      tags: tagsOf(flavour),
      digest: options.metadata[flavour.name]?.['containerimage.digest'] ?? null,
      steps: report?.steps ?? { total: 0, cached: 0, run: 0 },
      firstMiss: miss ? { step: stepLabel(miss.step), cause: miss.cause, reason: describeCause(miss.cause) } : null,
      durationMs: report?.durationMs ?? 0,
      ...options.sizes?.[flavour.name],
      ...(report?.error ? { error: report.error } : {}),
      stepStatus: (report?.stepDetails ?? []).map((s) => ({ step: stepLabel(s), status: s.status, durationMs: s.durationMs })),
    };
  }
  outputs.metadata = JSON.stringify({
    flavours,
    baseImages: options.report.baseImages,
    buildArgs: options.buildArgs ?? {},
  });
  outputs['cache-hit-ratio'] = options.report.cacheHitRatio.toFixed(2);
  return outputs;
}
