import type { Inputs } from './context.js';

/** Environment variables of the standard AWS credential chain whose values must never reach a log. */
export const awsSecretVariables = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const;

/** The password of a URL, as written and URL-decoded (the runner masks exact strings only). */
function urlPasswords(value: string): string[] {
  if (value === '') return [];
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return [];
  }
  if (url.password === '') return [];
  let decoded = url.password;
  try {
    decoded = decodeURIComponent(url.password);
  } catch {
    // A malformed escape: the raw form is all there is.
  }
  return [url.password, decoded];
}

/** Every value to hand to core.setSecret before anything is logged: URL passwords and AWS keys. */
export function secretsToMask(inputs: Pick<Inputs, 'mysqlUrl' | 'mongoUrl' | 's3Endpoint'>, env: NodeJS.ProcessEnv): string[] {
  const values = [
    ...urlPasswords(inputs.mysqlUrl),
    ...urlPasswords(inputs.mongoUrl),
    ...urlPasswords(inputs.s3Endpoint),
    ...awsSecretVariables.map((name) => env[name] ?? ''),
  ];
  return [...new Set(values.filter((value) => value.trim() !== ''))];
}
