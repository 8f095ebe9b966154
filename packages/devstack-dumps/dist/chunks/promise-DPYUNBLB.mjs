#!/usr/bin/env node
import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);
import {
  require_promise
} from "./chunk-QJQBWH6W.mjs";
import "./chunk-LDKIQA67.mjs";
export default require_promise();
//# sourceMappingURL=promise-DPYUNBLB.mjs.map
