#!/usr/bin/env node
// The CLI is TypeScript consumed from source (like every package here); tsx compiles it on the fly.
import { register } from 'tsx/esm/api';

register();
await import('../src/bin.ts');
