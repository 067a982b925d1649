/**
 * `node dist/eval-cli.js [dev.jsonl] [taxonomy.yaml]`: classifies a labelled set and prints the report.
 * The labelled file comes from the argument, else REGWATCH_CLASSIFIER_DEV, else the shared fixtures
 * beside the repository. Add `--bench` to also print throughput and compile time.
 */
import { existsSync } from 'node:fs';
import { benchClassifier } from './bench.js';
import { compileRules } from './engine.js';
import { defaultDevSetPath, evaluate, formatReport, readLabelledJsonl } from './eval.js';
import { loadRules } from './taxonomy.js';

function main(argv: string[]): number {
  const args = argv.filter((a) => !a.startsWith('--'));
  const path = args[0] ?? defaultDevSetPath();
  if (!existsSync(path)) {
    process.stderr.write(`no labelled set at ${path} (pass a path or set REGWATCH_CLASSIFIER_DEV)\n`);
    return 2;
  }
  const rules = loadRules(args[1]);
  const engine = compileRules(rules);
  const items = readLabelledJsonl(path);
  process.stdout.write(`${formatReport(evaluate(items, engine))}\n`);
  if (argv.includes('--bench')) {
    const r = benchClassifier({ items, rules, seconds: 3 });
    process.stdout.write(
      `bench: ${r.itemsPerSecond} items/s wall, ${r.itemsPerCpuSecond} items/s CPU (${r.items} items in ${r.seconds}s), compile ${r.compileMs} ms, load ${r.loadMs} ms\n`,
    );
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
