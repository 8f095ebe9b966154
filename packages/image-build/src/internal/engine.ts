import { EngineUnreachableError, InputError } from './errors.js';
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
