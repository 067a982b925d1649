import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../../services/cli/dist/main.js', import.meta.url));

/** `pnpm demo` as a new user runs it: the built CLI, offline, alerts into the outbox and the webhook log. */
describe.skipIf(!existsSync(CLI))('pnpm demo', () => {
  it('delivers every sample story (RSS, a GBK HTML list page, a Federal Register API) once by webhook and email within 30 s', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rw-demo-'));
    try {
      const child = spawn(process.execPath, [CLI, 'demo', '--exit-when-done'], {
        env: { ...process.env, REGWATCH_DATA_DIR: dataDir, LOG_LEVEL: 'warn', LOG_FORMAT: 'json' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        out += d.toString();
      });
      const started = Date.now();
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(code, out).toBe(0);
      expect(Date.now() - started).toBeLessThan(30_000);
      const hooks = readFileSync(join(dataDir, 'webhooks.log'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { webhookId: string; payload: { type: string; data: { title: string } } })
        .filter((h) => h.payload.type === 'alert.created');
      const mails = readdirSync(join(dataDir, 'outbox')).filter((f) => f.endsWith('.eml'));
      // One alert.created per story; the syndicated copy may add an alert.updated, never a second alert.
      // 5 from the RSS feeds, 1 from the MOFCOM-like HTML list, 1 from the Federal Register-like API.
      expect(hooks).toHaveLength(7);
      expect(new Set(hooks.map((h) => h.webhookId)).size).toBe(7);
      expect(mails).toHaveLength(7);
      const titles = hooks.map((h) => h.payload.data.title);
      expect(titles.some((t) => t.includes('NVIDIA H20'))).toBe(true);
      // Decoded from GBK, read with the mofcom-export-control preset's selectors.
      expect(titles).toContain('商务部 海关总署公告2026年第18号 关于对部分无人机相关物项实施出口管制的公告');
      expect(titles.some((t) => t.startsWith('Revisions to License Requirements for Advanced Computing Items'))).toBe(
        true,
      );
      expect(titles.some((t) => /review|wedding|CSV|消费促进|新闻发布会|Advisory Committee/i.test(t))).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
