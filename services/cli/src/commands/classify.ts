import { ClassifyInputSchema, formatIssues } from '@regwatch/contracts';
import type { Engine } from '@regwatch/rules';
import type { CommandIo } from '../io.js';

function classifyText(text: string, engine: Engine): { ok: true; out: unknown } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `not JSON: ${(err as Error).message}` };
  }
  const parsed = ClassifyInputSchema.safeParse(json);
  if (!parsed.success) return { ok: false, error: formatIssues(parsed.error).join('; ') };
  return { ok: true, out: engine.classify(parsed.data) };
}

/**
 * `regwatch classify`: one item `{title, summary, url?, lang?}` on stdin, its classification on
 * stdout, `identifiers` included (ECCNs, HS codes, CFR, FR numbers, dates, with offsets). With `--jsonl`, one item per line in and one result per line out, in order; a bad line
 * yields `{"error": …}` in its place and the exit code is 1.
 */
export async function classify(args: string[], io: CommandIo, engine: Engine): Promise<number> {
  if (!args.includes('--jsonl')) {
    const result = classifyText(await io.readStdin(), engine);
    if (!result.ok) {
      io.stderr(`regwatch classify: ${result.error}\n`);
      return 1;
    }
    io.stdout(`${JSON.stringify(result.out, null, 2)}\n`);
    return 0;
  }
  let failures = 0;
  let n = 0;
  for await (const line of io.stdinLines()) {
    n++;
    if (line.trim() === '') continue;
    const result = classifyText(line, engine);
    if (result.ok) io.stdout(`${JSON.stringify(result.out)}\n`);
    else {
      failures++;
      io.stdout(`${JSON.stringify({ error: `line ${n}: ${result.error}` })}\n`);
    }
  }
  if (failures > 0) io.stderr(`regwatch classify: ${failures} bad line(s)\n`);
  return failures > 0 ? 1 : 0;
}
