import { BuilderCapabilityError, EngineUnreachableError, InputError } from './errors.js';
import type { ImageBuildError } from './errors.js';

/** argv of the check that the builder (and the engine behind it) answers, before anything uses them. */
export function builderInspectArgs(builder: string): string[] {
  return ['buildx', 'inspect', ...(builder ? [builder] : [])];
}

/**
 * What is wrong, if anything, from `docker buildx inspect [builder]`. buildx exits 1 for a builder
 * that does not exist, but 0 with an `Error:` line when the engine cannot be reached, so both the
 * exit code and the output count. `dockerHost` is DOCKER_HOST, for the message.
 */
export function builderProblem(result: { exitCode: number; stdout: string; stderr: string }, options: { builder: string; dockerHost?: string }): ImageBuildError | undefined {
  const text = `${result.stdout}\n${result.stderr}`;
  const missing = /no builder "?([^"\s]+)"? found/i.exec(text);
  if (missing && options.builder) {
    return new InputError('builder', `there is no buildx builder \`${options.builder}\``, 'Create it first (docker/setup-buildx-action creates one and outputs its `name`), or leave `builder` empty to use the current builder.');
  }
  const error = /^\s*(?:ERROR|Error):\s*(.+)$/m.exec(text)?.[1]?.trim();
  if (result.exitCode === 0 && !error) return undefined;
  const detail = error || text.trim().split('\n').slice(-2).join(' / ') || `docker buildx inspect exited with ${result.exitCode}`;
  return new EngineUnreachableError(options.builder, options.dockerHost, detail);
}

/** Node's architecture names as Go (and so Docker platforms) spell them. */
const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

/**
 * The builder's native platform from `docker buildx inspect`: the first of its `Platforms:` (BuildKit
 * lists its own first; a `*` marks platforms set by hand). Undefined when none is listed (a
 * docker-container builder not started yet).
 */
export function nativePlatformOf(inspectOutput: string): string | undefined {
  const first = /^\s*Platforms:\s*(.+)$/m.exec(inspectOutput)?.[1]?.split(',')[0]?.trim().replace(/\*$/, '');
  return first && /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/.test(first) ? first : undefined;
}

/** The platform the builder builds for when `platforms` is empty: its native one, else this runner's. */
export function builderPlatformOf(inspectOutput: string, arch: string = process.arch): string {
  return nativePlatformOf(inspectOutput) ?? `linux/${GO_ARCH[arch] ?? arch}`;
}

/** argv that prints the engine's storage driver status (JSON pairs), which names the containerd image store. */
export function imageStoreArgs(): string[] {
  return ['info', '--format', '{{json .DriverStatus}}'];
}

/** Whether `docker info`'s DriverStatus (imageStoreArgs) says the engine stores images with containerd. */
export function usesContainerdStore(driverStatusJson: string): boolean {
  try {
    const pairs = JSON.parse(driverStatusJson) as unknown;
    return Array.isArray(pairs) && pairs.some((pair) => Array.isArray(pair) && pair[0] === 'driver-type' && String(pair[1]).startsWith('io.containerd.snapshotter'));
  } catch {
    return false;
  }
}

/**
 * The `docker` driver (the engine's own BuildKit) exports build cache and builds for several platforms only
 * on the containerd image store; on the classic store buildx refuses ("Cache export is not supported for the
 * docker driver"), and only after the build started. This says so before anything runs.
 */
export function builderCapabilityProblem(
  builder: { name: string; driver: string | undefined; containerdStore: boolean },
  needs: { cacheExport: boolean; platforms: number },
): ImageBuildError | undefined {
  if (builder.driver !== 'docker' || builder.containerdStore) return undefined;
  const wants = [...(needs.cacheExport ? ['export build cache (`cache`)'] : []), ...(needs.platforms > 1 ? [`build ${needs.platforms} platforms (\`platforms\`)`] : [])];
  if (wants.length === 0) return undefined;
  return new BuilderCapabilityError(builder.name, wants.join(' and '));
}
