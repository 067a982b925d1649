/** What a command may touch, passed in so commands are testable without a process. */
export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<string>;
  /** Reads stdin line by line without holding all of it in memory. */
  stdinLines: () => AsyncIterable<string>;
  env: NodeJS.ProcessEnv;
}
