import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);
import {
  CONFIG_PREFIX_SEPARATOR,
  DEFAULT_PROFILE,
  ENV_PROFILE,
  externalDataInterceptor,
  getHomeDir,
  getProfileName,
  getSSOTokenFilepath,
  getSSOTokenFromFile,
  loadSharedConfigFiles,
  loadSsoSessionData,
  parseKnownFiles,
  readFile
} from "./chunk-SD5JSVG4.mjs";
import "./chunk-GWJ7NSXM.mjs";
import "./chunk-XXU3GRUT.mjs";
export {
  CONFIG_PREFIX_SEPARATOR,
  DEFAULT_PROFILE,
  ENV_PROFILE,
  externalDataInterceptor,
  getHomeDir,
  getProfileName,
  getSSOTokenFilepath,
  getSSOTokenFromFile,
  loadSharedConfigFiles,
  loadSsoSessionData,
  parseKnownFiles,
  readFile
};
//# sourceMappingURL=dist-es-7RCMZOK6.mjs.map
