import { connectionSecrets, urlSecrets } from '@org/dump-set';
import type { Inputs } from './context.js';

/** Environment variables of the standard AWS credential chain whose values must never reach a log. */
export const awsSecretVariables = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const;

/** Every value to hand to core.setSecret before anything is logged: URL passwords, secret MongoDB URL options, AWS keys. */
export function secretsToMask(inputs: Pick<Inputs, 'mysqlUrl' | 'mongoUrl' | 's3Endpoint' | 'store'>, env: NodeJS.ProcessEnv): string[] {
  const values = [
    ...connectionSecrets(inputs.mysqlUrl),
    ...connectionSecrets(inputs.mongoUrl),
    // Credentials do not belong in these (they are refused), but a key pasted there must not be printed by the refusal.
    ...[inputs.s3Endpoint, inputs.store, env.AWS_ENDPOINT_URL ?? '', env.AWS_ENDPOINT_URL_S3 ?? ''].flatMap((url) => urlSecrets(url, 'userinfo')),
    ...[inputs.s3Endpoint, inputs.store].flatMap((url) => urlSecrets(url)),
    ...awsSecretVariables.map((name) => env[name] ?? ''),
  ];
  return [...new Set(values.filter((value) => value.trim() !== ''))];
}
