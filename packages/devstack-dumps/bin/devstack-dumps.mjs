#!/usr/bin/env node
// The CLI from source, for this workspace's tests: tsx compiles the TypeScript on the fly. What ships (package.json
// `bin`) is the self-contained bundle dist/devstack-dumps.mjs, built by `pnpm build` (~0.3 s to start vs ~1 s here).
import { register } from 'tsx/esm/api';

register();
await import('../src/bin.ts');
