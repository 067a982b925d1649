#!/usr/bin/env node
import { createInterface } from 'node:readline';
import { parseEnv } from '@regwatch/config';
import { createRulesHolder } from '@regwatch/rules';
import { alerts } from './commands/alerts.js';
import { classify } from './commands/classify.js';
import { configCheck } from './commands/config-check.js';
import { demo } from './commands/demo.js';
import { dlq } from './commands/dlq.js';
import { evalCommand } from './commands/eval.js';
import { feeds } from './commands/feeds.js';
import { pollOnce } from './commands/poll-once.js';
import { sources } from './commands/sources.js';
import { start } from './commands/start.js';
import { subs } from './commands/subs.js';
import { tokens } from './commands/tokens.js';
import type { CommandIo } from './io.js';

const USAGE = `usage: regwatch <command>

  start                      run poller, classifier, notifier and api in one process
  demo [--exit-when-done]    the whole pipeline offline on sample feeds
  config check [file]        validate a config file (default: REGWATCH_CONFIG)
  classify [--jsonl]         classify {title, summary, url?, lang?} from stdin
  eval <file.jsonl> [--json] precision/recall on a labelled set
  poll-once <url> [--json]   fetch, parse and normalize one feed and print its items
  poll-once --source '<json>' [--json]   the same for any source definition (html, federalregister, page)
  feeds list|add|rm          API-made feeds (config-file ones listed, read-only); add --preset <id>
  sources list [--json]      the source catalogue: presets for official sources
  sources check [ids…]       poll each preset once and say which yield items
  subs list|add|pause|resume|test   subscriptions; test sends a test alert
  alerts tail [--follow]     the newest alerts
  dlq list|replay            dead-lettered and failed deliveries
  tokens create|revoke|list  API bearer tokens (admin, ops, team:<name>)
`;

const io: CommandIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  stdinLines: () => createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY }),
  env: process.env,
};

function engine() {
  return createRulesHolder(parseEnv(process.env).REGWATCH_RULES).engine;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return start(rest, io);
    case 'demo':
      return demo(rest, io);
    case 'config':
      if (rest[0] === 'check') return configCheck(rest.slice(1), io);
      break;
    case 'classify':
      return classify(rest, io, engine());
    case 'eval':
      return evalCommand(rest, io, engine());
    case 'poll-once':
      return pollOnce(rest, io);
    case 'feeds':
      return feeds(rest, io);
    case 'sources':
      return sources(rest, io);
    case 'subs':
      return subs(rest, io);
    case 'alerts':
      return alerts(rest, io);
    case 'dlq':
      return dlq(rest, io);
    case 'tokens':
      return tokens(rest, io);
    case undefined:
    case 'help':
    case '--help':
      io.stdout(USAGE);
      return 0;
  }
  io.stderr(`regwatch: unknown command "${argv.join(' ')}"\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`regwatch: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
