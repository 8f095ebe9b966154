import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);
import {
  ENV_ACCOUNT_ID,
  ENV_CREDENTIAL_SCOPE,
  ENV_EXPIRATION,
  ENV_KEY,
  ENV_SECRET,
  ENV_SESSION,
  fromEnv
} from "./chunk-LOITZHWT.mjs";
import "./chunk-CTMXBCUL.mjs";
import "./chunk-HIERNFC2.mjs";
import "./chunk-SD5JSVG4.mjs";
import "./chunk-JD63WSCL.mjs";
import "./chunk-GWJ7NSXM.mjs";
import "./chunk-XXU3GRUT.mjs";
export {
  ENV_ACCOUNT_ID,
  ENV_CREDENTIAL_SCOPE,
  ENV_EXPIRATION,
  ENV_KEY,
  ENV_SECRET,
  ENV_SESSION,
  fromEnv
};
//# sourceMappingURL=dist-es-ZTUXLAJC.mjs.map
