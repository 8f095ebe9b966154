import { describe } from 'vitest';

/** The servers the harness provides, and the variables that name each one. */
export const serviceVariables = {
  mysql: ['TEST_MYSQL_URL'],
  /** Oracle MySQL beside MariaDB: the dumper's tests run on it too (vitest project integration:oracle-mysql). */
  oracleMysql: ['TEST_ORACLE_MYSQL_URL'],
  /** A MySQL server offering TLS with a certificate for `localhost` signed by the CA in this PEM file. */
  mysqlTls: ['TEST_MYSQL_TLS_URL', 'TEST_MYSQL_TLS_CA'],
  mongo: ['TEST_MONGO_URL'],
  /** The Mongo server's TLS listener: a mongodb://localhost:port/?tls=true&tlsCAFile=... URL (certificate for localhost). */
  mongoTls: ['TEST_MONGO_TLS_URL'],
  s3: ['TEST_S3_ENDPOINT', 'TEST_S3_ACCESS_KEY_ID', 'TEST_S3_SECRET_ACCESS_KEY'],
  registry: ['TEST_REGISTRY'],
  docker: ['DOCKER_HOST'],
} as const;

export type ServiceName = keyof typeof serviceVariables;

const isCI = () => process.env.CI === 'true';

/** The variables of a service, or the reason it is unavailable. */
export function serviceConfig(name: ServiceName): { env: Record<string, string> } | { missing: string } {
  const env: Record<string, string> = {};
  const missing: string[] = [];
  for (const key of serviceVariables[name]) {
    const value = process.env[key];
    if (value) env[key] = value;
    else missing.push(key);
  }
  return missing.length === 0 ? { env } : { missing: missing.join(', ') };
}

/**
 * `describe` that runs only when every named server is configured. Locally a missing server skips the
 * block with a printed reason; under CI=true it is an error, so a broken harness can never pass silently.
 */
export function describeWithServices(services: ServiceName[], title: string, body: () => void): void {
  const reasons = services.flatMap((name) => {
    const config = serviceConfig(name);
    // A project that points TEST_MYSQL_URL at another server (vitest.config.ts) names the variable it read.
    const missing = 'missing' in config ? config.missing.replace('TEST_MYSQL_URL', process.env.TEST_MYSQL_URL_NAMED ?? 'TEST_MYSQL_URL') : undefined;
    return missing !== undefined ? [`${name} (${missing} not set; run \`pnpm services:up\`)`] : [];
  });
  if (reasons.length === 0) {
    describe(title, body);
    return;
  }
  const reason = `needs ${reasons.join(' and ')}`;
  if (isCI()) {
    describe(title, () => {
      throw new Error(`CI=true but a test server is missing: ${reason}`);
    });
    return;
  }
  console.warn(`[skip] ${title}: ${reason}`);
  describe.skip(title, body);
}

/** The value of a variable a describeWithServices block has already checked. */
export function serviceVar(key: string): string {
  const value = process.env[key];
  if (!value) throw new Error(`${key} is not set`);
  return value;
}
