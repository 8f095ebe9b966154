import type { Command } from 'commander';

/** What a command needs from its surroundings; tests can replace the streams. */
export interface CommandContext {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /**
   * A command that can stop cleanly calls this once and passes the signal on: Ctrl-C (SIGINT, SIGTERM)
   * then aborts it with an Interrupted reason instead of killing the process (see bin.ts). Absent in tests.
   */
  interruptible?: () => AbortSignal;
}

/** The reason an interruptible command was aborted with: a signal from the terminal or the system. */
export class Interrupted extends Error {
  /** What the stopped command left, when it says so itself (publish, prune); the CLI's message then is this. */
  outcome: string | undefined;
  constructor(readonly signal: string) {
    super(`interrupted (${signal})`);
    this.name = 'Interrupted';
  }
}

/** Each command file exports one of these; cli.ts adds them to the program. */
export type RegisterCommand = (program: Command, context: CommandContext) => void;
