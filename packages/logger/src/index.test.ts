import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { REDACT_PATHS, redactUrl } from './index.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const log = pino({ redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, stream);
  return { log, lines };
}

describe('logger redaction', () => {
  it('censors webhook secrets, tokens and SMTP URLs wherever they are nested', () => {
    const { log, lines } = capture();
    log.info(
      {
        channel: { type: 'webhook', url: 'http://x', secret: 'whsec_abc' },
        sub: { channels: [{ secret: 'whsec_def' }] },
        token: 'rw_123',
        cfg: { smtpUrl: 'smtp://u:p@h' },
      },
      'x',
    );
    const out = lines.join('');
    expect(out).not.toContain('whsec_abc');
    expect(out).not.toContain('whsec_def');
    expect(out).not.toContain('rw_123');
    expect(out).not.toContain('u:p@h');
    expect(out).toContain('[redacted]');
  });

  it('strips credentials from URLs', () => {
    expect(redactUrl('redis://:hunter2@cache:6379/0')).not.toContain('hunter2');
    expect(redactUrl('smtp://user:pw@mail.example.com:587')).toBe('smtp://%5Bredacted%5D@mail.example.com:587');
    expect(redactUrl('not a url')).toBe('[unparseable url]');
  });
});
