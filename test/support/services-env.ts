import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const servicesEnvFile = fileURLToPath(new URL('../services/.env', import.meta.url));

/** Reads KEY=VALUE lines written by `test/services/up`; variables already in the environment win. */
export function loadServicesEnv(file = process.env.SERVICES_ENV_FILE ?? servicesEnvFile): Record<string, string> {
  const env: Record<string, string> = {};
  if (!existsSync(file)) return env;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (!match) continue;
    const [, key, raw] = match as unknown as [string, string, string];
    if (process.env[key] !== undefined) continue;
    env[key] = raw.replace(/^'(.*)'$/, '$1');
  }
  return env;
}
