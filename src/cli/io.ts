/** What a command may touch: its output streams, the working directory and the environment. */
export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** stdout is a terminal (progress and colour allowed). */
  readonly tty: boolean;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Full --help text. */
  readonly help: string;
  run(argv: readonly string[], io: Io): Promise<number>;
}
