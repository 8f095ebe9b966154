import semver from 'semver';
import { InputError } from './errors.js';
import type { Flavour } from './targets.js';

/** What the workflow run knows about the commit; the action fills it from the GitHub context. */
export interface GitContext {
  eventName: string;
  /** `refs/heads/<branch>`, `refs/tags/<tag>` or `refs/pull/<n>/merge`. */
  ref: string;
  sha: string;
  defaultBranch: string;
  prNumber?: number;
  /** The branch a pull request merges into (`github.base_ref`). */
  prBaseRef?: string;
  /** Committer time of `sha`, ISO 8601 (`git log -1 --format=%cI`). */
  commitTime: string;
  /** `https://github.com/org/repo`. */
  repoUrl: string;
}

/** A tag of every flavour image; `push: false` tags (pull requests) only ever name a local image. */
export interface TagPlan {
  name: string;
  push: boolean;
}

const PULL_REQUEST_EVENTS = new Set(['pull_request', 'pull_request_target']);
const TAG_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export function isPullRequest(ctx: GitContext): boolean {
  return PULL_REQUEST_EVENTS.has(ctx.eventName);
}

/** The branch this build belongs to: the PR's head for pull requests (`refs/pull/7/merge` -> none). */
export function branchOf(ctx: GitContext): string | undefined {
  return ctx.ref.startsWith('refs/heads/') ? ctx.ref.slice('refs/heads/'.length) : undefined;
}

function tagOf(ctx: GitContext): string | undefined {
  return ctx.ref.startsWith('refs/tags/') ? ctx.ref.slice('refs/tags/'.length) : undefined;
}

/** A git ref name made into a valid Docker tag: invalid characters -> `-`, no leading `.`/`-`, <= 128 chars. */
export function sanitizeTag(name: string): string {
  return name
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, 128)
    .replace(/-+$/, '');
}

/** The `v*` tag as a semver version, or undefined for any other ref. */
export function releaseVersion(ctx: GitContext): semver.SemVer | undefined {
  const tag = tagOf(ctx);
  if (!tag || !/^v\d/.test(tag)) return undefined;
  return semver.parse(tag.slice(1)) ?? undefined;
}

/** Default for the `push` input: true on pushes to the default branch and on tags, false otherwise. */
export function defaultPush(ctx: GitContext): boolean {
  if (isPullRequest(ctx)) return false;
  return branchOf(ctx) === ctx.defaultBranch || tagOf(ctx) !== undefined;
}

function shortSha(ctx: GitContext): string {
  if (!/^[0-9a-f]{7,64}$/.test(ctx.sha)) {
    throw new InputError('sha', `\`${ctx.sha}\` is not a commit hash`, 'Pass the full hex commit id (github.sha).');
  }
  return ctx.sha.slice(0, 7);
}

/**
 * The tags of this build: `sha-<short>`; the sanitised branch and `latest` on the default branch;
 * `1.2.3`, `1.2`, `1` for a `v1.2.3` tag (only the full version for pre-releases, no major tag for 0.x);
 * the sanitised tag name for other tags; `pr-<n>` on pull requests, where nothing is pushable; then `extra`.
 */
export function computeTags(ctx: GitContext, extra: string[] = []): TagPlan[] {
  const pushable = !isPullRequest(ctx);
  const names: string[] = [`sha-${shortSha(ctx)}`];
  if (isPullRequest(ctx)) {
    if (!ctx.prNumber) throw new InputError('pr-number', 'a pull request event has no PR number', 'Pass github.event.number.');
    names.push(`pr-${ctx.prNumber}`);
  }
  const branch = branchOf(ctx);
  if (branch !== undefined && !isPullRequest(ctx)) {
    const tag = sanitizeTag(branch);
    if (tag) names.push(tag);
    if (branch === ctx.defaultBranch) names.push('latest');
  }
  const gitTag = tagOf(ctx);
  if (gitTag !== undefined) {
    const version = releaseVersion(ctx);
    if (version && version.prerelease.length === 0) {
      names.push(version.version, `${version.major}.${version.minor}`);
      if (version.major > 0) names.push(String(version.major));
    } else if (version) {
      names.push(version.version);
    } else if (sanitizeTag(gitTag)) {
      names.push(sanitizeTag(gitTag));
    }
  }
  for (const raw of extra.map((t) => t.trim()).filter(Boolean)) {
    if (!TAG_NAME.test(raw)) {
      throw new InputError('tags', `\`${raw}\` is not a valid tag`, 'Use letters, digits, `_`, `.` and `-` (at most 128, not starting with `.` or `-`).');
    }
    names.push(raw);
  }
  return [...new Set(names)].map((name) => ({ name, push: pushable }));
}

/** Parses the `tags` input: bare tags, one per line or comma-separated, each added to every flavour. */
export function parseExtraTags(value: string): string[] {
  const tags = value.split(/[,\n]/).map((t) => t.trim()).filter(Boolean);
  for (const tag of tags) {
    if (!TAG_NAME.test(tag)) {
      const hint = tag.includes('/') || tag.includes(':') ? ' Give the tag alone (`stable`), not a full reference: it is added to every flavour image.' : '';
      throw new InputError('tags', `\`${tag}\` is not a valid tag`, `Use letters, digits, \`_\`, \`.\` and \`-\` (at most 128, not starting with \`.\` or \`-\`).${hint}`);
    }
  }
  return [...new Set(tags)];
}

/** Full references of one flavour: `<flavour image>:<tag>`. */
export function flavourTags(flavour: Flavour, tags: TagPlan[], only: 'all' | 'pushable' = 'all'): string[] {
  return tags.filter((t) => only === 'all' || t.push).map((t) => `${flavour.image}:${t.name}`);
}

/** The commit time as whole seconds since the epoch, for SOURCE_DATE_EPOCH. */
export function sourceDateEpoch(ctx: GitContext): string {
  const ms = Date.parse(ctx.commitTime);
  if (Number.isNaN(ms)) {
    throw new InputError('commit-time', `\`${ctx.commitTime}\` is not a date`, 'Pass the ISO 8601 committer date (`git log -1 --format=%cI`).');
  }
  return String(Math.floor(ms / 1000));
}

/**
 * OCI labels of one flavour. `created` is the commit time, not the build time, so building an
 * unchanged commit again yields the same image config and digest.
 */
export function ociLabels(ctx: GitContext, flavour: Flavour): Record<string, string> {
  const version = releaseVersion(ctx)?.version ?? sanitizeTag(tagOf(ctx) ?? '');
  const label =
    version ||
    (isPullRequest(ctx) ? `pr-${ctx.prNumber}` : sanitizeTag(branchOf(ctx) ?? '')) ||
    `sha-${shortSha(ctx)}`;
  return {
    'org.opencontainers.image.created': new Date(Number(sourceDateEpoch(ctx)) * 1000).toISOString().replace('.000Z', 'Z'),
    'org.opencontainers.image.revision': ctx.sha,
    'org.opencontainers.image.source': ctx.repoUrl,
    'org.opencontainers.image.title': flavour.image.split('/').pop() ?? flavour.image,
    'org.opencontainers.image.version': label,
  };
}
