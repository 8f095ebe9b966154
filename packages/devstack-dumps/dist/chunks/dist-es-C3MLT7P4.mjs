#!/usr/bin/env node
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
} from "./chunk-75CPIPKJ.mjs";
import "./chunk-D6AUODFN.mjs";
import "./chunk-LDKIQA67.mjs";
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
//# sourceMappingURL=dist-es-C3MLT7P4.mjs.map
