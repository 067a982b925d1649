import { type Engine, evaluate, formatReport, readLabelledJsonl } from '@regwatch/rules';
import type { CommandIo } from '../io.js';

/** `regwatch eval <file.jsonl> [--json]`: precision/recall of the classifier on a labelled set. */
export async function evalCommand(args: string[], io: CommandIo, engine: Engine): Promise<number> {
  const file = args.find((a) => !a.startsWith('--'));
  if (!file) {
    io.stderr('usage: regwatch eval <file.jsonl> [--json]\n');
    return 2;
  }
  try {
    const items = await readLabelledJsonl(file);
    const report = evaluate(items, engine);
    io.stdout(args.includes('--json') ? `${JSON.stringify(report)}\n` : `${formatReport(report)}\n`);
    return 0;
  } catch (err) {
    io.stderr(`regwatch eval: ${(err as Error).message}\n`);
    return 1;
  }
}
