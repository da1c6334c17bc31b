import { parseArgs } from 'node:util';

/** A command of `gazette`: each module exports its own from `<module>.cli.ts`; cli.ts lists them. */
export interface CliCommand {
  summary: string;
  usage: string;
  /** Resolves with the exit code; throws UsageError or ConfigError for a one-line message. */
  run: (args: string[]) => Promise<number>;
}

/** A mistake in the command line: printed as one line, exit code 2. */
export class UsageError extends Error {}

export function wantsHelp(args: string[]): boolean {
  const { values } = parseArgs({
    args,
    options: { help: { type: 'boolean', short: 'h' } },
    strict: false,
    allowPositionals: true,
  });
  return values.help === true;
}
