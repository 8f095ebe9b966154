#!/usr/bin/env node
import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);

// packages/dump-versioning/src/internal/errors.ts
var DumpVersioningError = class extends Error {
  code;
  fatal;
  constructor(code, message, options = {}) {
    super(message, options.cause === void 0 ? void 0 : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.fatal = options.fatal ?? true;
  }
};
var StoreConfigError = class extends DumpVersioningError {
};
var StoreAccessError = class extends DumpVersioningError {
};
var ManifestError = class extends DumpVersioningError {
};
var UnsafePathError = class extends DumpVersioningError {
};
var NotFoundError = class extends DumpVersioningError {
};
var IntegrityError = class extends DumpVersioningError {
};
var InvalidInputError = class extends DumpVersioningError {
};
var GitError = class extends DumpVersioningError {
};
var PublishWarning = class extends DumpVersioningError {
  constructor(code, message) {
    super(code, message, { fatal: false });
  }
};

// packages/dump-versioning/src/internal/s3-diagnosis.ts
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";

// packages/dump-versioning/src/internal/first-byte.ts
var FIRST_BYTE_VARIABLE = "DEVSTACK_DUMPS_S3_FIRST_BYTE_SECONDS";

// packages/dump-versioning/src/internal/s3-diagnosis.ts
var seconds = (ms) => `${Number((ms / 1e3).toFixed(1))} s`;
var statusOf = (error) => error?.$metadata?.httpStatusCode;
var nameOf = (error) => error?.name;
function responseOf(error) {
  return error?.$response;
}
function notS3(error) {
  const response = responseOf(error);
  if (!response) return void 0;
  const type = (response.headers?.["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  const status = response.statusCode ?? statusOf(error);
  const http = status ? `, HTTP ${status}` : "";
  if (type === "text/html" || type === "application/xhtml+xml") return `an HTML page${http}`;
  if (!/Deserialization error/.test(error?.message ?? "")) return void 0;
  const kind = type === "application/json" ? "a JSON document" : type === "text/plain" ? "plain text" : type ? `a ${type} document` : "an unparsable answer";
  return `${kind}${http}`;
}
var PLAIN_HTTP_TO_TLS = /HTTP request to an HTTPS server|plain HTTP request was sent to HTTPS port/i;
var NOT_TLS = /wrong version number|packet length too long|unknown protocol|record layer failure/i;
function describeS3Failure(context, action, key, error) {
  const { bucket, location, endpoint, mask } = context;
  if (credentialFailureOf(error)) return describeCredentialFailure(context, error);
  const where = endpoint ? ` at ${endpoint}` : "";
  const theEndpoint = `the S3 endpoint ${endpoint}${context.endpointFrom ? ` (from ${context.endpointFrom})` : ""}`;
  const name = nameOf(error);
  const message = mask(error?.message ?? String(error));
  const code = error?.code;
  if (endpoint?.startsWith("https:") && code === "EPROTO" && NOT_TLS.test(message)) {
    const reason = /SSL routines:[^:]*:([^:]+)/.exec(message)?.[1] ?? NOT_TLS.exec(message)?.[0];
    return new StoreConfigError("s3-endpoint-not-tls", `${theEndpoint} does not speak TLS (EPROTO: ${reason}); use http:// or check the S3 endpoint`, { cause: error });
  }
  const body = responseOf(error)?.body;
  if (endpoint && typeof body === "string" && PLAIN_HTTP_TO_TLS.test(body)) {
    return new StoreConfigError("s3-endpoint-needs-tls", `${theEndpoint} expects TLS (it answered: ${JSON.stringify(mask(body.trim().slice(0, 100)))}); use https:// or check the S3 endpoint`, { cause: error });
  }
  const status = responseOf(error)?.statusCode ?? statusOf(error);
  if (status !== void 0 && [413, 502, 503, 504].includes(status) && notS3(error)) {
    return new StoreAccessError(
      "gateway-error",
      `a proxy or gateway in front of ${endpoint ? theEndpoint : "S3"} answered HTTP ${status} (${notS3(error)}) when asked to ${action} ${keyOf(context, key)} in ${location}; ${status === 413 ? "raise its request body limit (parts are 8 MiB; nginx: client_max_body_size)" : "check that proxy or gateway and the server behind it"}`,
      { cause: error }
    );
  }
  const other = notS3(error);
  if (other) {
    const check = endpoint ? "check the S3 endpoint: it must be the S3 API's URL (MinIO: the API port, not the console's)" : "check HTTPS_PROXY/HTTP_PROXY: a proxy in between may have answered";
    return new StoreConfigError(
      "s3-endpoint-not-s3",
      `${endpoint ? theEndpoint : "AWS S3"} answered with something that is not S3 (${other}) when asked to ${action} ${keyOf(context, key)} in ${location}; ${check}`,
      { cause: error }
    );
  }
  if (name === "NoSuchBucket") {
    return new StoreConfigError("bucket-missing", `bucket ${bucket} does not exist${where}; create it or check the store location (${location})`);
  }
  if (name === "InvalidAccessKeyId" || name === "SignatureDoesNotMatch" || name === "InvalidToken" || name === "ExpiredToken") {
    return new StoreConfigError("credentials-rejected", `S3${where} rejected the credentials (${name}) for ${location}; check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the role you assumed`);
  }
  if (name === "AuthorizationHeaderMalformed" || /the region '[^']*' is wrong/i.test(message)) {
    const expected = /expecting '([a-z0-9-]+)'/i.exec(message)?.[1];
    return new StoreConfigError(
      "region-mismatch",
      `S3${where} refused the requests for ${location}: they were signed for another region than the server's (${JSON.stringify(message)}); set the S3 region (or AWS_REGION) to ${expected ? `"${expected}"` : "the server's region"}`,
      { cause: error }
    );
  }
  if (name === "CredentialsProviderError") {
    return new StoreConfigError("credentials-missing", `no AWS credentials found for ${location}; set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or configure a role (${message})`);
  }
  if (name === "AccessDenied" || statusOf(error) === 403) {
    return new StoreConfigError("access-denied", `access denied to ${action} ${keyOf(context, key)} in ${location}${where}; grant s3:GetObject/PutObject/ListBucket/DeleteObject on the bucket or fix the credentials`);
  }
  if (name === "TimeoutError") {
    const attempts = error?.$metadata?.attempts;
    const longer = error.timeoutPhase === "first-byte" ? `, or set ${FIRST_BYTE_VARIABLE} (seconds) if it is only slow to start answering` : "";
    return new StoreAccessError(
      "s3-timeout",
      `the S3 endpoint${where || " (AWS default)"} did not answer when asked to ${action} ${keyOf(context, key)} in ${location}${attempts ? ` (${attempts} attempts)` : ""}: ${message}; check the S3 endpoint, the network and any proxy${longer}`,
      { cause: error }
    );
  }
  if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "ECONNRESET") {
    return new StoreConfigError("endpoint-unreachable", `cannot reach the S3 endpoint${where || " (AWS default)"} for ${location} (${code}); check the S3 endpoint (or AWS_ENDPOINT_URL_S3)`);
  }
  return new StoreAccessError("s3-request-failed", `S3 ${action} of ${keyOf(context, key)} in ${location} failed: ${name ?? "error"}: ${message}`, { cause: error });
}
function describeBodyReadFailure(context, key, attempts, error) {
  const code = error?.code;
  const why = context.mask(code ?? error?.message ?? String(error));
  return new StoreAccessError(
    "s3-read-interrupted",
    `the connection dropped while reading ${keyOf(context, key)} in ${context.location} (${attempts} attempts, ${why}); try again, and if it persists check the network and any proxy in between`,
    { cause: error }
  );
}
var CREDENTIAL_FAILURE = /* @__PURE__ */ Symbol("credential failure");
function credentialFailureOf(error) {
  return error !== null && typeof error === "object" ? error[CREDENTIAL_FAILURE] : void 0;
}
var CREDENTIAL_NOTE = /credential_process|Command failed/;
function credentialLogger() {
  const notes = [];
  const debug = (...content) => {
    const text = content.map(String).join(" ");
    if (!CREDENTIAL_NOTE.test(text)) return;
    notes.push(text.replace(/^@smithy\/property-provider (->|\(!\)) /, "").trim());
    if (notes.length > 10) notes.shift();
  };
  return { logger: { debug, info: () => void 0, warn: (...content) => console.warn(...content), error: () => void 0 }, notes };
}
function addCredentialMarker(client, notes) {
  const config = client.config;
  config.httpAuthSchemes = config.httpAuthSchemes.map((scheme) => ({
    ...scheme,
    identityProvider: (identityConfig) => {
      const provider = scheme.identityProvider(identityConfig);
      if (!provider) return provider;
      return async (properties) => {
        const start = notes.length;
        try {
          return await provider(properties);
        } catch (error) {
          const marked = error !== null && typeof error === "object" ? error : new Error(String(error));
          const files = await import("./dist-es-C3MLT7P4.mjs").then(({ loadSharedConfigFiles }) => loadSharedConfigFiles({ ignoreCache: true })).then(({ configFile, credentialsFile }) => ({ config: configFile, credentials: credentialsFile })).catch(() => void 0);
          const failure = { notes: notes.slice(Math.min(start, notes.length)), files };
          Object.defineProperty(marked, CREDENTIAL_FAILURE, { value: failure });
          throw marked;
        }
      };
    }
  }));
}
function describeCredentialFailure(context, error, env = process.env) {
  const { location, mask } = context;
  const fail = (why) => new StoreConfigError("credentials-missing", `no AWS credentials for ${location}: ${mask(why)}`, { cause: error });
  const { code, path: file } = error ?? {};
  const configFile = env.AWS_CONFIG_FILE?.trim() || path.join(homedir(), ".aws", "config");
  const credentialsFile = env.AWS_SHARED_CREDENTIALS_FILE?.trim() || path.join(homedir(), ".aws", "credentials");
  const profileSet = env.AWS_PROFILE?.trim() || void 0;
  const profile = profileSet ?? "default";
  const files = credentialFailureOf(error)?.files;
  const fromConfig = files && new Map(Object.entries(files.config));
  const fromCredentials = files && new Map(Object.entries(files.credentials));
  const tokenFile = env.AWS_WEB_IDENTITY_TOKEN_FILE?.trim();
  if (file && tokenFile && file === tokenFile) {
    return fail(`AWS_WEB_IDENTITY_TOKEN_FILE names ${file}, which cannot be read (${code ?? "error"}); point it at the web identity (OIDC) token file, or unset it and AWS_ROLE_ARN`);
  }
  if (file && fromConfig?.get(profile)?.web_identity_token_file === file) {
    return fail(`the web_identity_token_file of AWS profile ${profile} (${configFile}) is ${file}, which cannot be read (${code ?? "error"}); fix that setting or create the file`);
  }
  if (profileSet && !fromConfig?.has(profileSet) && !fromCredentials?.has(profileSet)) {
    return fail(`AWS_PROFILE names profile ${profileSet}, which neither ${configFile} nor ${credentialsFile} defines${existsSync(configFile) || existsSync(credentialsFile) ? "" : " (neither file exists)"}; check the name or unset AWS_PROFILE`);
  }
  const notes = credentialFailureOf(error)?.notes ?? [];
  const processNote = notes.at(-1);
  if (processNote && fromConfig?.get(profile)?.credential_process !== void 0) {
    return fail(`the credential_process of AWS profile ${profile} failed: ${processNote}`);
  }
  const message = error?.message ?? String(error);
  return fail(`${file ? `reading ${file} failed (${code ?? "error"})` : message}; set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or configure a role`);
}
var keyOf = (context, key) => context.prefix ? `${context.prefix}/${key}` : key;
function attemptFailure(error, mask) {
  const { timeoutPhase, timeoutMs } = error ?? {};
  if (timeoutPhase === "first-byte" && timeoutMs) return `did not answer within ${seconds(timeoutMs)}`;
  if (timeoutPhase === "connect" && timeoutMs) return `did not accept a connection within ${seconds(timeoutMs)}`;
  if (timeoutPhase === "idle" && timeoutMs) return `went silent for ${seconds(timeoutMs)} mid-request`;
  const code = error?.code;
  if (code) return `failed (${code})`;
  const status = statusOf(error);
  return `failed (${mask(nameOf(error) ?? "error")}${status ? `, HTTP ${status}` : ""})`;
}
var NOTICE_REPEAT_MS = 5e3;
function addRetryNotices(client, context, onRetry) {
  const who = context.endpoint ? `S3 endpoint ${context.endpoint}` : "AWS S3";
  const failed = /* @__PURE__ */ new WeakMap();
  const told = /* @__PURE__ */ new Map();
  const tell = (message) => {
    const now = performance.now();
    if (now - (told.get(message) ?? -Infinity) < NOTICE_REPEAT_MS) return;
    told.set(message, now);
    onRetry(message);
  };
  const middleware = (next, handlerContext) => async (args) => {
    const header = args.request?.headers?.["amz-sdk-request"] ?? "";
    const [, attempt, max] = /attempt=(\d+); max=(\d+)/.exec(header) ?? [];
    if (attempt && Number(attempt) > 1 && failed.has(handlerContext)) {
      try {
        tell(`${who} ${attemptFailure(failed.get(handlerContext), context.mask)}; retrying (${attempt}/${max})`);
      } catch {
      }
    }
    try {
      return await next(args);
    } catch (error) {
      failed.set(handlerContext, error);
      throw error;
    }
  };
  client.middlewareStack.addRelativeTo(middleware, { relation: "after", toMiddleware: "retryMiddleware", name: "dumpVersioningRetryNotices" });
}

export {
  DumpVersioningError,
  StoreConfigError,
  StoreAccessError,
  ManifestError,
  UnsafePathError,
  NotFoundError,
  IntegrityError,
  InvalidInputError,
  GitError,
  PublishWarning,
  FIRST_BYTE_VARIABLE,
  seconds,
  notS3,
  describeS3Failure,
  describeBodyReadFailure,
  credentialLogger,
  addCredentialMarker,
  addRetryNotices
};
//# sourceMappingURL=chunk-NKRAGBPM.mjs.map
