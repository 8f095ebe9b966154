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

/** apt/apt-get options before the command, with the value of those that take one (`-o Acquire::Retries=3`). */
const APT_OPTIONS = String.raw`(?:(?:-[oct]|--(?:option|config-file|target-release|default-release))\s+\S+\s+|-\S+\s+)*`;
const aptCommand = (command: string) => String.raw`\bapt(?:-get)?\s+${APT_OPTIONS}${command}\b`;
const APT_UPDATE = new RegExp(aptCommand('update'));
const APT_INSTALL = new RegExp(aptCommand('install'));
/** A package manager command that installs dependencies: the slow step the cache must protect. */
const INSTALL = new RegExp(
  [
    String.raw`\b(?:pip3?|python3?\s+-m\s+pip|uv\s+pip)\s+install\b`,
    String.raw`\buv\s+sync\b`,
    String.raw`\b(?:poetry|pipenv|bundle|composer)\s+install\b`,
    String.raw`\bnpm\s+(?:ci|install|i)\b`,
    String.raw`\byarn\s+install\b`,
    String.raw`\bpnpm\s+(?:install|i)\b`,
    aptCommand('install'),
    String.raw`\bapk\s+add\b`,
    String.raw`\bgo\s+mod\s+download\b`,
    String.raw`\b(?:dnf|yum|microdnf)\s+(?:-\S+\s+)*install\b`,
  ].join('|'),
);
/**
 * An install of the project itself, not of its dependencies: `pip install --no-deps .` (only local
 * paths or wheels), `poetry install --only-root`. After the code copy that is a build step.
 */
const PIP_INSTALL_ARGS = /\b(?:pip3?|python3?\s+-m\s+pip|uv\s+pip)\s+install\s+(.*)$/;
const LOCAL_TARGET = /^(?:\.{1,2}(?:\/\S*)?|\/\S*|~\S*|\S+\.whl|\S+\.tar\.gz|\$\S+)$/;
function projectOnlyInstall(command: string): boolean {
  if (/\bpoetry\s+install\b.*\s--only-root\b/.test(command)) return true;
  const args = PIP_INSTALL_ARGS.exec(command)?.[1]?.split(/\s+/).filter(Boolean);
  if (!args?.includes('--no-deps')) return false;
  const targets = args.filter((arg) => !arg.startsWith('-'));
  return targets.length > 0 && targets.every((arg) => LOCAL_TARGET.test(arg.replace(/^["']|["']$/g, '')));
}
/** Dependency manifests: with a cache mount, a RUN naming one is a (custom) dependency installation. */
const MANIFEST_PATTERN = /^(?:package\.json|pyproject\.toml|Pipfile|requirements[^/]*\.in|go\.mod|Gemfile|composer\.json|Cargo\.toml|mix\.exs)$/;

const PROXY_ARG = /^(?:https?_proxy|ftp_proxy|all_proxy|no_proxy)$/i;
/**
 * Names that mean a package index, mirror or registry (`PIP_INDEX_URL`, `PIP_EXTRA_INDEX_URL`,
 * `PIP_TRUSTED_HOST`, `UV_DEFAULT_INDEX`, `NPM_CONFIG_REGISTRY`, `DEBIAN_MIRROR`, `GOPROXY`,
 * `APT_PROXY`), not every `PIP_*`/`APT_*`/`NPM_CONFIG_*` (`PIP_VERSION`, `APT_PACKAGES` are ordinary args).
 */
const MIRROR_ARG = /mirror|index_url|extra_index|trusted_host|find_links|registr(?:y|ies)|^uv_(?:default_)?index$|proxy$|apt_cacher/i;
const UID_ARG = /^(?:uid|gid|user_?id|group_?id|(?:host|user|local)_?(?:uid|gid)|puid|pgid)$/i;

/** The shell commands of a RUN (split on `&&`, `||`, `;`, `|`). */
const commandsOf = (step: Step) => step.text.split(/&&|\|\||[;|]/);
const hasCacheMount = (step: Step) => step.flags.some((f) => f.name === 'mount' && f.options.type === 'cache');
const namesFile = (step: Step, pattern: RegExp) => step.text.split(/[\s;&|"'=,]+/).some((word) => pattern.test(word.replace(/^.*\//, '')));

/**
 * A RUN that installs dependencies, for the rules about code copied before them: a package manager
 * install command (not a project-only install such as `pip install --no-deps .`), a RUN that names a
 * lockfile (`./install-deps requirements.txt`), or one with a cache mount that names a manifest. A
 * cache mount alone does not make a step an installation: `go build` with Go's build cache after
 * `COPY . .` is the build, which must run on every code change.
 */
const installsDependencies = (step: Step) =>
  step.keyword === 'RUN' &&
  (commandsOf(step).some((command) => INSTALL.test(command) && !projectOnlyInstall(command)) ||
    namesFile(step, LOCKFILE_PATTERN) ||
    (hasCacheMount(step) && namesFile(step, MANIFEST_PATTERN)));
/**
 * A slow step a declared ARG must not precede (`cache-busting-arg`): any package manager install, a
 * RUN with a cache mount (what else would it cache), or one that reads a lockfile.
 */
const isSlowStep = (step: Step) => step.keyword === 'RUN' && (INSTALL.test(step.text) || hasCacheMount(step) || installsDependencies(step));
const copiesWholeContext = (step: Step) => contextSources(step).some((s) => ['.', './', '*', '/'].includes(s));

/**
 * uv's and Poetry's documented two-step pattern: dependencies without the project before the code copy
 * (`uv sync --no-install-project`, `poetry install --no-root`), then the same tool again after it, which
 * then only installs the project (a build step, like `pip install --no-deps .`).
 */
const DEPENDENCIES_ONLY = [
  { before: /\buv\s+sync\b.*\s--no-install-project\b/, after: /\buv\s+sync\b/ },
  { before: /\bpoetry\s+install\b.*\s--no-root\b/, after: /\bpoetry\s+install\b/ },
];
function installsProjectAfter(step: Step, earlier: Step[]): boolean {
  const commands = commandsOf(step).filter((command) => INSTALL.test(command));
  return (
    commands.length > 0 &&
    commands.every((command) => DEPENDENCIES_ONLY.some(({ before, after }) => after.test(command) && earlier.some((s) => s.keyword === 'RUN' && before.test(s.text))))
  );
}

function copyBeforeInstall(stage: Stage): Array<Omit<LintFinding, 'severity' | 'file'>> {
  const copy = stage.steps.find(copiesWholeContext);
  if (!copy) return [];
  const before = stage.steps.filter((s) => s.line < copy.line);
  const install = stage.steps.find((s) => s.line > copy.line && installsDependencies(s) && !installsProjectAfter(s, before));
  if (!install) return [];
  return [{
    rule: 'copy-context-before-install',
    line: copy.line,
    message: `\`${copy.keyword} ${copy.text}\` copies the whole context before the dependency installation on line ${install.line}: every code change re-installs dependencies.`,
    fix: 'Copy only the dependency files first (e.g. `COPY requirements.txt poetry.lock ./`), install, then `COPY . .`.',
  }];
}

/** The stages `stage` is built FROM (its FROM chain), nearest first, without `stage` itself. */
function ancestors(model: DockerfileModel, stage: Stage): Stage[] {
  const chain: Stage[] = [];
  let current = stage.from.stage ? findStage(model, stage.from.stage) : undefined;
  while (current && current !== stage && !chain.includes(current)) {
    chain.push(current);
    current = current.from.stage ? findStage(model, current.from.stage) : undefined;
  }
  return chain;
}

/** An `apt-get install` that reads the package lists of an earlier step (it does not update them itself). */
const installsWithOldLists = (step: Step) => step.keyword === 'RUN' && APT_INSTALL.test(step.text) && !APT_UPDATE.test(step.text);

/**
 * `apt-get update` alone in a RUN, and a later RUN that installs on its lists: later in the stage, or
 * in a stage built FROM it (which starts from the update's cached layer).
 */
function aptUpdateSeparate(model: DockerfileModel, stage: Stage): Array<Omit<LintFinding, 'severity' | 'file'>> {
  const descendants = model.stages.filter((s) => ancestors(model, s).includes(stage));
  return stage.steps
    .filter((s) => s.keyword === 'RUN' && APT_UPDATE.test(s.text) && !APT_INSTALL.test(s.text))
    .flatMap((update) => {
      const own = stage.steps.find((s) => s.line > update.line && installsWithOldLists(s));
      // A stage built FROM this one installs on these lists unless it runs its own update first.
      const firstAptStep = (d: Stage) => d.steps.find((s) => s.keyword === 'RUN' && (APT_UPDATE.test(s.text) || APT_INSTALL.test(s.text)));
      const child = own ? undefined : descendants.find((d) => {
        const first = firstAptStep(d);
        return first !== undefined && installsWithOldLists(first);
      });
      const install = own ?? (child ? firstAptStep(child) : undefined);
      if (!install) return [];
      const where = child ? ` in stage \`${child.name}\` (built FROM this one)` : '';
      return [{
        rule: 'apt-update-separate' as const,
        line: update.line,
        message: `\`apt-get update\` runs in its own RUN: its cached layer keeps stale package lists, and the install on line ${install.line}${where} fails or installs old versions.`,
        fix: 'Run `apt-get update && apt-get install -y ...` in one RUN.',
      }];
    });
}

function cacheBustingArgs(stage: Stage): Array<Omit<LintFinding, 'severity' | 'file'>> {
  const findings: Array<Omit<LintFinding, 'severity' | 'file'>> = [];
  for (const step of stage.steps.filter((s) => s.keyword === 'ARG')) {
    const heavy = stage.steps.find((s) => s.line > step.line && isSlowStep(s));
    if (!heavy) continue;
    for (const { name } of step.argNames ?? []) {
      const why = PROXY_ARG.test(name) ? 'proxy' : MIRROR_ARG.test(name) ? 'mirror' : UID_ARG.test(name) ? 'uid' : undefined;
      if (!why) continue;
      const fix = {
        proxy: `Remove \`ARG ${name}\`: BuildKit's predefined proxy args reach RUN without it, and stay out of the cache key and the image history (a declared one is written there with its value).`,
        mirror: `Pass the mirror as a build secret and mount it where the tool reads its configuration (\`RUN --mount=type=secret,id=pip.conf,target=/etc/pip.conf ...\`; the \`mirrors\` input writes pip.conf, npmrc and apt.conf), see docs/dockerfile-caching.md.`,
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
    const install = stage.steps.find(installsDependencies);
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
    ...model.stages.flatMap((s) => [...copyBeforeInstall(s), ...aptUpdateSeparate(model, s), ...cacheBustingArgs(s)]),
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
