import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import * as core from '@actions/core';
import * as exec from '@actions/exec';
import { ActionError } from '@org/action-inputs';
import { builderCapabilityProblem, builderInspectArgs, builderPlatformOf, builderProblem, imageStoreArgs, usesContainerdStore } from '@org/image-build';
import { DockerCommandError, messageOf } from './errors.js';

export interface DockerResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface DockerOptions {
  /** Written to stdin (the login password): never part of argv. */
  input?: Buffer;
  /** Receives stderr as it arrives (the rawjson progress stream). */
  onStderr?: (text: string) => void;
  /** Print the command line first (argv never holds a secret). */
  echo?: boolean;
  /** Variables added to this process's environment for the command. */
  env?: Record<string, string>;
}

/** Runs `docker <args>` as an argument array (no shell) and captures its output; never throws on a non-zero exit. */
export async function docker(args: string[], options: DockerOptions = {}): Promise<DockerResult> {
  if (options.echo) core.info(`$ docker ${args.join(' ')}`);
  const out = new StringDecoder('utf8');
  const err = new StringDecoder('utf8');
  let stdout = '';
  let stderr = '';
  const exitCode = await exec.exec('docker', args, {
    silent: true,
    ignoreReturnCode: true,
    ...(options.input ? { input: options.input } : {}),
    // process.env holds only strings at run time; its type merely allows undefined.
    ...(options.env ? { env: { ...(process.env as Record<string, string>), ...options.env } } : {}),
    listeners: {
      stdout: (data: Buffer) => {
        stdout += out.write(data);
      },
      stderr: (data: Buffer) => {
        const text = err.write(data);
        if (options.onStderr) options.onStderr(text);
        else stderr += text;
      },
    },
  });
  stdout += out.end();
  const rest = err.end();
  if (options.onStderr) {
    if (rest) options.onStderr(rest);
  } else {
    stderr += rest;
  }
  return { exitCode, stdout, stderr };
}

/** Runs `docker <args>` until it exits or `signal` aborts; then it rejects with the signal's reason. */
export type BoundedDocker = (args: string[], signal: AbortSignal) => Promise<DockerResult>;

/**
 * `command <args>` (argument array, no shell) that is killed when `signal` aborts (`docker` above, on
 * @actions/exec, cannot be stopped), for commands a registry can hold forever. `docker` runs buildx as
 * a child process of its own: the command gets its own process group and the whole group is killed, so
 * no buildx is left waiting on the registry.
 */
export function boundedCommand(command = 'docker'): BoundedDocker {
  return (args, signal) =>
    new Promise<DockerResult>((resolve, reject) => {
      signal.throwIfAborted();
      const ownGroup = process.platform !== 'win32';
      const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: ownGroup });
      const out = new StringDecoder('utf8');
      const err = new StringDecoder('utf8');
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (data: Buffer) => (stdout += out.write(data)));
      child.stderr.on('data', (data: Buffer) => (stderr += err.write(data)));
      const kill = () => {
        try {
          if (ownGroup && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
          else child.kill('SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
        child.stdout.destroy();
        child.stderr.destroy();
        reject(signal.reason);
      };
      signal.addEventListener('abort', kill, { once: true });
      child.on('error', (error) => {
        signal.removeEventListener('abort', kill);
        reject(error);
      });
      child.on('close', (code) => {
        signal.removeEventListener('abort', kill);
        resolve({ exitCode: code ?? 1, stdout: stdout + out.end(), stderr: stderr + err.end() });
      });
    });
}

/** The lines of a failed command worth showing: its `ERROR`/`error` lines, else the last few. */
export function errorLines(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const errors = lines.filter((l) => /^(ERROR|Error|error)\b/.test(l));
  return (errors.length ? errors : lines.slice(-3)).join(' / ');
}

/** `docker <args>` that must succeed: returns stdout, or throws one DockerCommandError. */
export async function dockerOrThrow(args: string[], options: DockerOptions = {}): Promise<string> {
  const result = await docker(args, options);
  if (result.exitCode !== 0) throw new DockerCommandError(args.slice(0, 2).join(' '), result.exitCode, errorLines(result.stderr || result.stdout));
  return result.stdout;
}

/**
 * Fails early, with one error naming `builder` or DOCKER_HOST, when the builder or the engine behind
 * it does not answer: otherwise the login, the registry lookups or the bake fail later with less to go on.
 * Returns the platform the builder builds for when `platforms` is empty.
 */
export async function checkBuilder(builder: string, needs: { cacheExport: boolean; platforms: number }, env: NodeJS.ProcessEnv = process.env): Promise<{ platform: string }> {
  let result: DockerResult;
  try {
    result = await docker(builderInspectArgs(builder));
  } catch (error) {
    throw new ActionError(`Cannot run the docker CLI (${messageOf(error)}): this action needs Docker with buildx on the runner.`, true);
  }
  const problem = builderProblem(result, { builder, ...(env.DOCKER_HOST ? { dockerHost: env.DOCKER_HOST } : {}) });
  if (problem) throw problem;
  const driver = /^Driver:\s*(\S+)/m.exec(result.stdout)?.[1];
  // Only the docker driver depends on the engine's image store; `docker info` answers for the engine of DOCKER_HOST.
  const containerdStore = driver === 'docker' && usesContainerdStore((await docker(imageStoreArgs())).stdout.trim());
  core.info(`Builder ${builder || '(current)'}${driver ? `, driver ${driver}${driver === 'docker' ? (containerdStore ? ' (containerd image store)' : ' (classic image store)') : ''}` : ''}: reachable.`);
  const unable = builderCapabilityProblem({ name: builder, driver, containerdStore }, needs);
  if (unable) throw unable;
  // What it builds for without `platforms`: cache mount ids using $TARGETARCH are expanded with it.
  return { platform: builderPlatformOf(result.stdout) };
}
