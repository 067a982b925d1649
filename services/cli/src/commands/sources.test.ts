import { describe, expect, it } from 'vitest';
import type { CommandIo } from '../io.js';
import { rebaseUrl, sources } from './sources.js';

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CommandIo = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    readStdin: async () => '',
    stdinLines: async function* () {},
    env,
  };
  return sources(args, io).then((code) => ({ code, out: out.join(''), err: err.join('') }));
}

describe('regwatch sources list', () => {
  it('prints every preset with type, jurisdiction, language and an honest VERIFIED column', async () => {
    const { code, out } = await run(['list']);
    expect(code).toBe(0);
    expect(out).toMatch(/^ID\s+TYPE\s+JURIS\s+LANG\s+VERIFIED\s+TITLE/);
    expect(out).toMatch(/mofcom-export-control\s+html\s+CN\s+zh\s+NO\s+商务部/);
    expect(out).toMatch(/fr-ustr\s+federalregister\s+US\s+en\s+NO/);
    expect(out).toMatch(/uk-ecju\s+rss\s+UK\s+en\s+NO/);
    expect(out).toContain('Not one preset has been seen working');
    expect(out).toContain('regwatch sources check');
  });

  it('--json gives each preset with its note and the feed it makes', async () => {
    const { code, out } = await run(['list', '--json']);
    expect(code).toBe(0);
    const list = JSON.parse(out) as Array<Record<string, unknown> & { feed: Record<string, unknown> }>;
    expect(list.length).toBeGreaterThanOrEqual(12);
    const fr = list.find((p) => p.id === 'fr-bis')!;
    expect(fr).toMatchObject({ type: 'federalregister', jurisdiction: 'US', language: 'en', verified: false });
    expect(fr.feed).toMatchObject({ id: 'fr-bis', agencies: ['industry-and-security-bureau'] });
    expect(String(fr.url)).toContain('conditions%5Bagencies%5D%5B%5D=industry-and-security-bureau');
    expect(String(fr.note)).toContain('industry-and-security-bureau');
  });

  it('rejects an unknown subcommand and names unknown preset ids for check', async () => {
    expect((await run(['frobnicate'])).code).toBe(2);
    const bad = await run(['check', 'mofcom-export-contrl'], { REGWATCH_ALLOW_NETS: '127.0.0.0/8' });
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('unknown preset "mofcom-export-contrl"; did you mean "mofcom-export-control"');
    const badOrigin = await run(['check', '--rebase', 'not a url', 'fr-bis']);
    expect(badOrigin.code).toBe(2);
    expect(badOrigin.err).toContain('--rebase');
  });

  it('rebases a URL onto another origin, keeping path and query', () => {
    expect(rebaseUrl('https://ofac.treasury.gov/recent-actions?page=1', new URL('http://127.0.0.1:9/x'))).toBe(
      'http://127.0.0.1:9/recent-actions?page=1',
    );
  });
});
