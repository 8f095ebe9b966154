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
} from "./chunk-Y3XGAEKF.mjs";
import "./chunk-SYUQKMXE.mjs";
import "./chunk-YYZDMG4L.mjs";
import "./chunk-4QWF42CQ.mjs";
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
//# sourceMappingURL=dist-es-UTXPL7QZ.mjs.map
