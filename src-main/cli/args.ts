// Shared argument parsing for CLI subcommands: node:util parseArgs, bad flags as UsageError, --help handled.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './index';

export type CliValues = Record<string, string | boolean | undefined>;

/**
 * Parses `argv` against `options` (a `help`/`-h` flag is added). Returns null when help was asked for
 * (after printing `help`), so the caller returns exit code 0.
 */
export function parseCliArgs(
  argv: string[],
  options: NonNullable<ParseArgsConfig['options']>,
  help: string,
  allowPositionals = false,
): { values: CliValues; positionals: string[] } | null {
  let parsed: { values: CliValues; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals,
      strict: true,
    }) as { values: CliValues; positionals: string[] };
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${help}`);
  }
  if (parsed.values.help) {
    console.log(help);
    return null;
  }
  return parsed;
}

/** A sliding-window --overlap value: undefined when absent, else a number in [0, 1) or a UsageError. */
export function parseOverlap(value: string | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  const overlap = Number(value);
  if (!Number.isFinite(overlap) || overlap < 0 || overlap >= 1)
    throw new UsageError(`--overlap must be a number in [0, 1), got '${String(value)}'`);
  return overlap;
}
