export { EXIT, buildProgram, main } from './cli.js';
export type { CommandContext } from './internal/context.js';
