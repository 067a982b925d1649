import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NODE_FLAGS } from './node-flags.js';

const repoFile = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');

describe('NODE_FLAGS', () => {
  it('is what the container image sets as NODE_OPTIONS', () => {
    const m = /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(repoFile('infra/docker/Dockerfile'));
    expect(m?.[1]?.split(' ')).toEqual(NODE_FLAGS);
  });

  it('is what `pnpm start` and `pnpm demo` run the services with', () => {
    const scripts = (JSON.parse(repoFile('package.json')) as { scripts: Record<string, string> }).scripts;
    for (const name of ['start', 'demo']) {
      expect(scripts[name]).toContain(`node ${NODE_FLAGS.join(' ')} services/cli/dist/main.js ${name}`);
    }
  });
});
