#!/usr/bin/env node
import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);
import {
  ENV_ACCOUNT_ID,
  ENV_CREDENTIAL_SCOPE,
  ENV_EXPIRATION,
  ENV_KEY,
  ENV_SECRET,
  ENV_SESSION,
  fromEnv
} from "./chunk-SOYWYRA5.mjs";
import "./chunk-GVAS2VCG.mjs";
import "./chunk-IIQE3F77.mjs";
import "./chunk-WJMCH5XQ.mjs";
import "./chunk-LDKIQA67.mjs";
export {
  ENV_ACCOUNT_ID,
  ENV_CREDENTIAL_SCOPE,
  ENV_EXPIRATION,
  ENV_KEY,
  ENV_SECRET,
  ENV_SESSION,
  fromEnv
};
//# sourceMappingURL=dist-es-AMSYEL6L.mjs.map
