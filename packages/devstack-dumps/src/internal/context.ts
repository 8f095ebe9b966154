import type { Command } from 'commander';

/** What a command needs from its surroundings; tests can replace the streams. */
export interface CommandContext {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** Each command file exports one of these; cli.ts adds them to the program. */
export type RegisterCommand = (program: Command, context: CommandContext) => void;
