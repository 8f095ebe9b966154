import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import { InputError } from './errors.js';
import { LOCKFILE_PATTERN } from './cache-mounts.js';
import { contextSources, findStage, resolveFromImage, splitImageRef } from './dockerfile-model.js';
import type { DockerfileModel, Stage, Step } from './dockerfile-model.js';

export type LintLevel = 'warn' | 'error' | 'off';

export interface LintFinding {
  rule: LintRule;
  severity: 'warning' | 'error';
  file: string;
  /** 1-based, as GitHub annotations expect. */
  line: number;
  message: string;
  fix: string;
}

export type LintRule =
  | 'copy-context-before-install'
  | 'apt-update-separate'
  | 'cache-busting-arg'
  | 'dev-stage-after-code'
  | 'dockerignore'
  | 'unpinned-base-image';

/** What the lint needs to know about the build context besides the Dockerfile. */
export interface ContextFacts {
  /** Content of `.dockerignore` (or `<Dockerfile>.dockerignore`), null when there is none. */
  dockerignore: string | null;
  /** The file `dockerignore` was read from, as messages name it (e.g. `docker/Dockerfile.dockerignore`). */
  dockerignoreFile?: string;
  /** The build context as messages name it (the `context` input); `.` when not given. */
  context?: string;
  /** The context holds a Node project, so `node_modules` must be ignored too. */
  nodeProject: boolean;
}

export function parseLintLevel(value: string): LintLevel {
  const level = (value.trim() || 'warn') as LintLevel;
  if (!['warn', 'error', 'off'].includes(level)) throw new InputError('lint', `\`${value}\` is not a lint level`, 'Use warn, error or off.');
  return level;
}

/** A RUN that installs dependencies: the slow step the cache must protect. */
const INSTALL =
  /\b(?:pip3?|python3?\s+-m\s+pip|uv\s+pip)\s+install\b|\buv\s+sync\b|\b(?:poetry|pipenv|bundle|composer)\s+install\b|\bnpm\s+(?:ci|install|i)\b|\byarn\s+install\b|\bpnpm\s+(?:install|i)\b|\bapt(?:-get)?\s+(?:-\S+\s+)*install\b|\bapk\s+add\b|\bgo\s+mod\s+download\b|\b(?:dnf|yum|microdnf)\s+(?:-\S+\s+)*install\b/;
const APT_UPDATE = /\bapt(?:-get)?\s+(?:-\S+\s+)*update\b/;
const APT_INSTALL = /\bapt(?:-get)?\s+(?:-\S+\s+)*install\b/;
const PROXY_ARG = /^(?:https?_proxy|ftp_proxy|all_proxy|no_proxy)$/i;
const MIRROR_ARG = /mirror|index_url|extra_index|registry|^pip_|^npm_config_|^apt_/i;
const UID_ARG = /^(?:uid|gid|user_?id|group_?id|host_?uid|host_?gid|puid|pgid)$/i;

/**
 * A RUN that installs dependencies: a known package manager command, a RUN with a cache mount (what
 * else would it cache), or one that reads a lockfile (`./install-deps requirements.txt`).
 */
const isInstall = (step: Step) =>
  step.keyword === 'RUN' &&
  (INSTALL.test(step.text) ||
    step.flags.some((f) => f.name === 'mount' && f.options.type === 'cache') ||
    step.text.split(/[\s;&|]+/).some((word) => LOCKFILE_PATTERN.test(word.replace(/^.*\//, ''))));
const copiesWholeContext = (step: Step) => contextSources(step).some((s) => ['.', './', '*', '/'].includes(s));

function copyBeforeInstall(stage: Stage): Array<Omit<LintFinding, 'severity' | 'file'>> {
  const copy = stage.steps.find(copiesWholeContext);
  if (!copy) return [];
  const install = stage.steps.find((s) => s.line > copy.line && isInstall(s));
  if (!install) return [];
  return [{
    rule: 'copy-context-before-install',
    line: copy.line,
    message: `\`${copy.keyword} ${copy.text}\` copies the whole context before the dependency installation on line ${install.line}: every code change re-installs dependencies.`,
    fix: 'Copy only the dependency files first (e.g. `COPY requirements.txt poetry.lock ./`), install, then `COPY . .`.',
  }];
}

function aptUpdateSeparate(stage: Stage): Array<Omit<LintFinding, 'severity' | 'file'>> {
  return stage.steps
    .filter((s) => s.keyword === 'RUN' && APT_UPDATE.test(s.text) && !APT_INSTALL.test(s.text))
    .filter((update) => stage.steps.some((s) => s.line > update.line && s.keyword === 'RUN' && APT_INSTALL.test(s.text)))
    .map((update) => ({
      rule: 'apt-update-separate' as const,
      line: update.line,
      message: '`apt-get update` runs in its own RUN: its cached layer keeps stale package lists, and a later install fails or installs old versions.',
      fix: 'Run `apt-get update && apt-get install -y ...` in one RUN.',
    }));
}

function cacheBustingArgs(stage: Stage): Array<Omit<LintFinding, 'severity' | 'file'>> {
  const findings: Array<Omit<LintFinding, 'severity' | 'file'>> = [];
  for (const step of stage.steps.filter((s) => s.keyword === 'ARG')) {
    const heavy = stage.steps.find((s) => s.line > step.line && isInstall(s));
    if (!heavy) continue;
    for (const { name } of step.argNames ?? []) {
      const why = PROXY_ARG.test(name) ? 'proxy' : MIRROR_ARG.test(name) ? 'mirror' : UID_ARG.test(name) ? 'uid' : undefined;
      if (!why) continue;
      const fix = {
        proxy: `Remove \`ARG ${name}\`: BuildKit's predefined proxy args reach RUN without being part of the cache key.`,
        mirror: `Pass the mirror as a build secret (\`RUN --mount=type=secret,id=pip.conf,target=/etc/pip.conf ...\`), see the image-build README.`,
        uid: `Move \`ARG ${name}\` (and the user creation) after the dependency installation, or into the dev stage.`,
      }[why];
      findings.push({
        rule: 'cache-busting-arg',
        line: step.line,
        message: `\`ARG ${name}\` is declared before the dependency installation on line ${heavy.line}: a different value re-runs it and every step after it.`,
        fix,
      });
    }
  }
  return findings;
}

/** The line of the first whole-context copy in a stage or the stages it builds FROM. */
function codeCopyLine(model: DockerfileModel, stage: Stage, seen = new Set<number>()): number | undefined {
  if (seen.has(stage.index)) return undefined;
  seen.add(stage.index);
  const own = stage.steps.find(copiesWholeContext)?.line;
  if (own !== undefined) return own;
  const parent = stage.from.stage ? findStage(model, stage.from.stage) : undefined;
  return parent ? codeCopyLine(model, parent, seen) : undefined;
}

function devStageAfterCode(model: DockerfileModel): Array<Omit<LintFinding, 'severity' | 'file'>> {
  return model.stages.flatMap((stage) => {
    const parent = stage.from.stage ? findStage(model, stage.from.stage) : undefined;
    const copyLine = parent ? codeCopyLine(model, parent) : undefined;
    const install = stage.steps.find(isInstall);
    if (!parent || copyLine === undefined || !install) return [];
    return [{
      rule: 'dev-stage-after-code' as const,
      line: stage.from.line,
      message: `Stage \`${stage.name}\` builds FROM \`${parent.name}\`, which has the code (copied on line ${copyLine}), and installs dependencies on line ${install.line}: every code change re-installs them.`,
      fix: `Build \`${stage.name}\` FROM the dependency stage (before the code copy) and copy the code in last.`,
    }];
  });
}

function ignores(patterns: string[], name: string): boolean {
  let ignored = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).trim().replace(/^\.?\/+/, '').replace(/\/+$/, '');
    if (!pattern) continue;
    // A directory matched by a pattern (or by `pattern/**`) excludes everything below it.
    if (picomatch(pattern, { dot: true })(name) || picomatch(`${pattern}/**`, { dot: true })(name)) ignored = !negated;
  }
  return ignored;
}

/** `<context>/.dockerignore`, as BuildKit reads it: at the root of the context, not next to the Dockerfile. */
function contextIgnoreFile(context: string): string {
  const root = context.replace(/\\/g, '/').replace(/\/+$/, '');
  return root === '' || root === '.' ? '.dockerignore' : `${root}/.dockerignore`;
}

function dockerignoreFindings(model: DockerfileModel, facts: ContextFacts): Array<Omit<LintFinding, 'severity' | 'file'>> {
  if (facts.dockerignore === null) {
    const contextFile = contextIgnoreFile(facts.context ?? '.');
    return [{
      rule: 'dockerignore',
      line: 1,
      message: `The build context has no ${contextFile} (nor ${model.file}.dockerignore): \`.git\`, \`node_modules\` and local files are sent and copied, and any change to them misses the cache.`,
      fix: `Add \`${contextFile}\` (at the root of the build context), or \`${model.file}.dockerignore\` for this Dockerfile only, listing at least \`.git\`${facts.nodeProject ? ' and `node_modules`' : ''}.`,
    }];
  }
  const file = facts.dockerignoreFile ?? '.dockerignore';
  const patterns = facts.dockerignore.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const missing = ['.git', ...(facts.nodeProject ? ['node_modules'] : [])].filter((name) => !ignores(patterns, name));
  if (missing.length === 0) return [];
  return [{
    rule: 'dockerignore',
    line: 1,
    message: `${file} does not exclude ${missing.map((m) => `\`${m}\``).join(' and ')}: it is sent with the context and a COPY of it misses the cache whenever it changes.`,
    fix: `Add ${missing.map((m) => `\`${m}\``).join(' and ')} to ${file}.`,
  }];
}

function unpinnedBase(model: DockerfileModel, buildArgs: Record<string, string>): Array<Omit<LintFinding, 'severity' | 'file'>> {
  return model.stages.flatMap((stage) => {
    const { image: written, stage: fromStage, line } = stage.from;
    if (fromStage || written === 'scratch') return [];
    // `FROM ${BASE_IMAGE}`: judge the value the build will use (build arg, else the ARG default).
    const image = written.includes('$') ? resolveFromImage(model, stage, buildArgs) : written;
    if (image === undefined || image === 'scratch') return [];
    const { repository, tag, digest } = splitImageRef(image);
    if (digest || (tag !== undefined && tag !== 'latest')) return [];
    const what = image === written ? `\`FROM ${image}\`` : `\`FROM ${written}\` (\`${image}\`)`;
    return [{
      rule: 'unpinned-base-image' as const,
      line,
      message: `${what} is not pinned: \`latest\` moves, so the cache misses from this stage on and builds are not reproducible.`,
      fix: `Pin a version and digest, e.g. \`${repository}:<version>@sha256:<digest>\`${written.includes('$') ? ' (in the ARG default or the build arg)' : ''}.`,
    }];
  });
}

/**
 * Every finding of the cache lint for one Dockerfile; none when `level` is `off`. `buildArgs` (the
 * `build-args` input) resolves `FROM ${ARG}` for the base image rule.
 */
export function lintDockerfile(model: DockerfileModel, facts: ContextFacts, level: LintLevel, buildArgs: Record<string, string> = {}): LintFinding[] {
  if (level === 'off') return [];
  const severity = level === 'error' ? 'error' : 'warning';
  const findings = [
    ...model.stages.flatMap((s) => [...copyBeforeInstall(s), ...aptUpdateSeparate(s), ...cacheBustingArgs(s)]),
    ...devStageAfterCode(model),
    ...dockerignoreFindings(model, facts),
    ...unpinnedBase(model, buildArgs),
  ];
  return findings
    .map((f) => ({ ...f, severity, file: model.file }) as LintFinding)
    .sort((a, b) => a.line - b.line || a.rule.localeCompare(b.rule));
}

/**
 * Reads the context facts: `<Dockerfile>.dockerignore` (next to the Dockerfile) wins over
 * `<context>/.dockerignore`, as in BuildKit. `shown` names both paths in messages (workspace-relative
 * `context` and `file` inputs); without it the paths are shown as given.
 */
export async function readContextFacts(contextDir: string, dockerfilePath: string, shown?: { context: string; file: string }): Promise<ContextFacts> {
  const read = (file: string) => readFile(file, 'utf8').catch(() => null);
  const own = await read(`${dockerfilePath}.dockerignore`);
  const dockerignore = own ?? (await read(path.join(contextDir, '.dockerignore')));
  const context = shown?.context ?? contextDir;
  const dockerignoreFile = dockerignore === null ? undefined : own !== null ? `${shown?.file ?? dockerfilePath}.dockerignore` : contextIgnoreFile(context);
  const exists = (name: string) => access(path.join(contextDir, name)).then(() => true, () => false);
  const nodeProject = (await exists('package.json')) || (await exists('node_modules'));
  return { dockerignore, ...(dockerignoreFile ? { dockerignoreFile } : {}), context, nodeProject };
}
