import type { TagPlan } from './git-tags.js';
import type { BuildReport, MissCause } from './report.js';
import type { Flavour } from './targets.js';

/** What `--metadata-file` holds per bake target (the fields the action uses). */
export interface BakeMetadataEntry {
  'containerimage.digest'?: string;
  'image.name'?: string;
  [key: string]: unknown;
}
export type BakeMetadata = Record<string, BakeMetadataEntry>;

export function describeCause(cause: MissCause): string {
  switch (cause.kind) {
    case 'context-files':
      return `changed file${cause.files.length > 1 ? 's' : ''}: ${cause.files.slice(0, 5).join(', ')}${cause.files.length > 5 ? ` (+${cause.files.length - 5})` : ''}`;
    case 'build-arg':
      return `changed build arg${cause.names.length > 1 ? 's' : ''}: ${cause.names.join(', ')}`;
    case 'base-image':
      return `base image ${cause.image} moved (${cause.previous.slice(0, 19)} -> ${cause.current.slice(0, 19)})`;
    case 'unknown':
      return `unknown: ${cause.hint}`;
  }
}

const seconds = (msValue: number) => `${(msValue / 1000).toFixed(1)} s`;
/** Table cells: no pipes or newlines from instructions, and not endless. */
const cell = (text: string) => {
  const flat = text.replace(/\s+/g, ' ').replace(/\|/g, '\\|');
  return flat.length > 80 ? `${flat.slice(0, 77)}...` : flat;
};

/** The job summary: one row per flavour, then the build's plain messages (cache warnings). */
export function reportMarkdown(report: BuildReport, metadata: BakeMetadata = {}): string {
  const rows = report.flavours.map((f) => {
    const miss = f.firstMiss
      ? `\`${cell(`${f.firstMiss.step.stage ? `${f.firstMiss.step.stage} ` : ''}${f.firstMiss.step.index}/${f.firstMiss.step.total} ${f.firstMiss.step.instruction}`)}\``
      : 'none';
    const cause = f.firstMiss ? cell(describeCause(f.firstMiss.cause)) : '';
    const digest = metadata[f.flavour]?.['containerimage.digest'];
    const status = f.error ? `failed: ${cell(f.error)}` : digest ? `\`${digest.slice(0, 19)}\`` : '';
    return `| ${f.flavour} | ${f.steps.total} | ${f.steps.cached} | ${f.steps.run} | ${miss} | ${cause} | ${seconds(f.durationMs)} | ${status} |`;
  });
  const lines = [
    '### Image build',
    '',
    '| Flavour | Steps | Cached | Run | First cache miss | Cause | Duration | Digest |',
    '| --- | ---: | ---: | ---: | --- | --- | ---: | --- |',
    ...rows,
    '',
    `Cache hit ratio: **${(report.cacheHitRatio * 100).toFixed(0)}%** over ${report.steps.filter((s) => !/^FROM\s/i.test(s.instruction) && s.status !== 'not-started').length} distinct steps; total ${seconds(report.durationMs)}.`,
  ];
  const warnings = report.messages.filter((m) => /^WARN|^ERROR/i.test(m));
  if (warnings.length) lines.push('', ...warnings.map((w) => `> ${cell(w)}`));
  return `${lines.join('\n')}\n`;
}

/**
 * The action's outputs: `digest-<flavour>`, `tags` (every reference, one per line), `metadata`
 * (the bake metadata plus the report, as JSON, for the next build's cause analysis) and
 * `cache-hit-ratio` (0..1, two decimals).
 */
export function buildOutputs(options: {
  flavours: Flavour[];
  tags: TagPlan[];
  pushed: boolean;
  report: BuildReport;
  metadata: BakeMetadata;
  buildArgs?: Record<string, Record<string, string>>;
}): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const flavour of options.flavours) {
    const digest = options.metadata[flavour.name]?.['containerimage.digest'];
    if (digest) outputs[`digest-${flavour.name}`] = digest;
  }
  outputs.tags = options.flavours
    .flatMap((f) => options.tags.filter((t) => !options.pushed || t.push).map((t) => `${f.image}:${t.name}`))
    .join('\n');
  outputs.metadata = JSON.stringify({
    bake: options.metadata,
    baseImages: options.report.baseImages,
    buildArgs: options.buildArgs ?? {},
    flavours: options.report.flavours.map((f) => ({ flavour: f.flavour, steps: f.steps, durationMs: f.durationMs })),
  });
  outputs['cache-hit-ratio'] = options.report.cacheHitRatio.toFixed(2);
  return outputs;
}
