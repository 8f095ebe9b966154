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
} from "./chunk-VTWXES2Z.mjs";
import "./chunk-7NS5SZIF.mjs";
import "./chunk-BN3W4PTM.mjs";
import "./chunk-75CPIPKJ.mjs";
import "./chunk-TJQZTHE6.mjs";
import "./chunk-D6AUODFN.mjs";
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
//# sourceMappingURL=dist-es-OGEF7TXZ.mjs.map
