import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);
import {
  require_promise
} from "./chunk-J6R7JIYT.mjs";
import "./chunk-XXU3GRUT.mjs";
export default require_promise();
//# sourceMappingURL=promise-NXWYKTDI.mjs.map
