import * as core from '@actions/core';
import { loginArgs, withRegistryRetry } from '@org/image-build';
import { docker, errorLines } from './docker.js';

/**
 * `docker login` with the password on stdin (never in argv or a log line); 429/5xx and connection
 * errors are retried with backoff (when they outlast the retries, the error names `registry` and what to
 * check), refused credentials fail at once with one RegistryAuthError and a host that does not resolve
 * with one RegistryHostError naming `registry`.
 */
export async function login(registry: string, username: string, password: string): Promise<void> {
  core.setSecret(password);
  const { args, stdin } = loginArgs({ registry, username, password });
  await withRegistryRetry(
    async () => {
      const result = await docker(args, { input: Buffer.from(stdin) });
      if (result.exitCode !== 0) throw new Error(errorLines(result.stderr) || `docker login exited with ${result.exitCode}`);
    },
    {
      operation: `Logging in to ${registry}`,
      registry,
      input: 'registry',
      secrets: [password],
      onRetry: ({ delayMs, message }) => core.warning(`Login to ${registry} failed (${message}); retrying in ${Math.round(delayMs / 1000)} s.`),
    },
  );
  core.info(`Logged in to ${registry} as ${username}.`);
}

/** Removes the stored credentials again (post step), so a self-hosted runner does not keep them. */
export async function logout(registry: string): Promise<void> {
  const result = await docker(['logout', registry]);
  if (result.exitCode !== 0) core.warning(`docker logout ${registry} failed: ${errorLines(result.stderr)}`);
}
