import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Alert, PermanentError, RetryableError, type Subscription } from '@regwatch/contracts';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { renderAlertEmail } from '../render/alert-email.js';
import { getAttemptInfo } from './attempt-info.js';
import { createMailer, messageIdFor, sendEmail } from './email.js';

interface Arrived {
  envelope: { from: string; to: string[] };
  raw: string;
  mail: ParsedMail;
}

/** A real SMTP server on 127.0.0.1; `failData`/`failRcpt` script refusals. */
async function startSmtp() {
  const arrived: Arrived[] = [];
  const dataReplies: number[] = [];
  const refuseRcpt = new Map<string, number>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      const code = refuseRcpt.get(address.address);
      if (code === undefined) return callback();
      callback(Object.assign(new Error(code >= 500 ? 'no such user' : 'mailbox busy'), { responseCode: code }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const code = dataReplies.shift();
        if (code !== undefined) {
          callback(
            Object.assign(new Error(code >= 500 ? 'message refused' : 'try again later'), { responseCode: code }),
          );
          return;
        }
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then(
          (mail) => {
            arrived.push({
              envelope: {
                from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                to: session.envelope.rcptTo.map((r) => r.address),
              },
              raw: raw.toString('utf8'),
              mail,
            });
            callback();
          },
          (err: Error) => callback(err),
        );
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    arrived,
    failData: (...codes: number[]) => dataReplies.push(...codes),
    refuseRcpt: (address: string, code: number) => refuseRcpt.set(address, code),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function setup() {
  const smtp = await startSmtp();
  cleanups.push(smtp.close);
  const mailer = createMailer({ smtpUrl: smtp.url, from: 'regwatch <alerts@regwatch.example>' });
  cleanups.push(() => mailer.close());
  return { smtp, mailer };
}

const TITLE = 'Commerce adds Acme Robotics to the Entity List';
const SUMMARY = 'The Bureau of Industry and Security (BIS) added Acme Robotics and two others.';

function alert(over: Partial<Alert> = {}): Alert {
  const title = over.title ?? TITLE;
  return {
    id: 'alert-1',
    storyId: 'story-1',
    itemId: 'item-1',
    feedId: 'bis-press',
    title,
    url: 'https://www.bis.gov/press/1',
    summary: SUMMARY,
    published: '2025-03-01T10:00:00Z',
    score: 0.9,
    severity: 'high',
    topics: ['export_controls'],
    jurisdictions: ['US', 'CN'],
    entities: ['BIS', 'Acme Robotics'],
    evidence: [
      {
        field: 'title',
        start: TITLE.indexOf('Entity List'),
        end: TITLE.indexOf('Entity List') + 11,
        text: 'Entity List',
        rule: 'entity-list',
        kind: 'topic',
        target: 'export_controls',
        weight: 0.8,
      },
    ],
    rulesVersion: 'r1',
    sources: [
      {
        feedId: 'bis-press',
        itemId: 'item-1',
        url: 'https://www.bis.gov/press/1',
        title: 'BIS press release',
        published: '2025-03-01T10:00:00Z',
      },
      {
        feedId: 'wire',
        itemId: 'w-9',
        url: 'javascript:alert(document.cookie)',
        title: 'Wire copy',
        published: '2025-03-01T11:00:00Z',
      },
    ],
    createdAt: '2025-03-01T10:01:00Z',
    ...over,
  };
}

const subscription: Subscription = {
  id: 'trade-desk',
  team: 'compliance',
  name: 'Trade desk',
  filter: { topics: ['export_controls'] },
  channels: [{ type: 'email', to: ['desk@team.example'] }],
  mode: 'immediate',
  paused: false,
};

const UNSUB = 'https://regwatch.example/unsubscribe?t=u1.abc.def';

function message(a: Alert = alert()) {
  return renderAlertEmail({
    alerts: [a],
    subscription,
    severity: 'high',
    matchedBy: ['topic:export_controls'],
    unsubscribeUrl: UNSUB,
  });
}

/** The header as it arrived (mailparser folds List-* headers into an object, so read the raw line). */
function headerLine(mail: ParsedMail, key: string): string | undefined {
  return mail.headerLines.find((h) => h.key === key)?.line;
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the promise to reject');
}

describe('sendEmail over real SMTP', () => {
  it('delivers subject, text and HTML parts, links and the one-click unsubscribe headers', async () => {
    const { smtp, mailer } = await setup();
    const res = await sendEmail(mailer, {
      to: ['desk@team.example', 'lead@team.example'],
      message: message(),
      deliveryId: 'd-1',
    });
    expect(res.code).toBe(250);
    expect(res.rejected).toEqual([]);
    expect(smtp.arrived).toHaveLength(1);
    const { mail, envelope } = smtp.arrived[0]!;
    expect(envelope).toEqual({ from: 'alerts@regwatch.example', to: ['desk@team.example', 'lead@team.example'] });
    expect(mail.subject).toBe(`[regwatch] HIGH ${TITLE}`);
    expect(mail.messageId).toBe('<regwatch.d-1@regwatch.example>');
    expect(res.messageId).toBe(mail.messageId);
    expect(headerLine(mail, 'list-unsubscribe')).toBe(`List-Unsubscribe: <${UNSUB}>`);
    expect(headerLine(mail, 'list-unsubscribe-post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(mail.headers.get('auto-submitted')).toBe('auto-generated');
    expect(mail.text).toContain('Why you got this:');
    expect(mail.text).toContain('Topic: Export controls');
    expect(mail.text).toContain('https://www.bis.gov/press/1');
    const html = String(mail.html);
    expect(html).toContain('<mark>Entity List</mark>');
    expect(html).toContain('<a href="https://www.bis.gov/press/1"');
    expect(html).not.toContain('href="javascript:');
    expect(html).toContain('Jurisdictions');
  });

  it('maps 451 to a RetryableError, then succeeds with the same Message-ID', async () => {
    const { smtp, mailer } = await setup();
    smtp.failData(451);
    const err = await rejection(
      sendEmail(mailer, { to: ['desk@team.example'], message: message(), deliveryId: 'd-451' }),
    );
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as RetryableError).code).toBe('SMTP_TEMPORARY');
    expect(getAttemptInfo(err)?.code).toBe(451);
    const ok = await sendEmail(mailer, { to: ['desk@team.example'], message: message(), deliveryId: 'd-451' });
    expect(ok.code).toBe(250);
    expect(smtp.arrived).toHaveLength(1);
    expect(smtp.arrived[0]!.mail.messageId).toBe(messageIdFor('d-451', 'regwatch.example'));
  });

  it('maps 550 to a PermanentError, at DATA and when the only recipient is refused', async () => {
    const { smtp, mailer } = await setup();
    smtp.failData(550);
    const atData = await rejection(
      sendEmail(mailer, { to: ['desk@team.example'], message: message(), deliveryId: 'd-550' }),
    );
    expect(atData).toBeInstanceOf(PermanentError);
    expect((atData as PermanentError).code).toBe('SMTP_REJECTED');
    expect(atData.message).toContain('550');

    smtp.refuseRcpt('gone@team.example', 550);
    const atRcpt = await rejection(
      sendEmail(mailer, { to: ['gone@team.example'], message: message(), deliveryId: 'd-550b' }),
    );
    expect(atRcpt).toBeInstanceOf(PermanentError);
    expect(atRcpt.message).not.toContain('gone@team.example');
    expect(smtp.arrived).toHaveLength(0);
  });

  it('delivers to the others when one recipient is refused, and says which', async () => {
    const { smtp, mailer } = await setup();
    smtp.refuseRcpt('gone@team.example', 550);
    const res = await sendEmail(mailer, {
      to: ['desk@team.example', 'gone@team.example'],
      message: message(),
      deliveryId: 'd-part',
    });
    expect(res.rejected).toEqual(['gone@team.example']);
    expect(smtp.arrived[0]!.envelope.to).toEqual(['desk@team.example']);
  });

  it('keeps header injection and script out: no Bcc, no extra recipient, script escaped', async () => {
    const { smtp, mailer } = await setup();
    const evil = 'Export ban\r\nBcc: evil@example.com\r\n<script>alert(1)</script>';
    const msg = message(alert({ title: evil, evidence: [] }));
    expect(msg.subject).not.toMatch(/[\r\n]/);
    await sendEmail(mailer, { to: ['desk@team.example'], message: msg, deliveryId: 'd-evil' });
    const got = smtp.arrived[0]!;
    expect(got.envelope.to).toEqual(['desk@team.example']);
    expect(got.mail.headers.has('bcc')).toBe(false);
    expect(got.mail.bcc).toBeUndefined();
    const headerBlock = got.raw.slice(0, got.raw.indexOf('\r\n\r\n'));
    expect(headerBlock).not.toMatch(/^bcc:/im);
    // The text part shows the title on one line too.
    expect(got.mail.text).not.toMatch(/^Bcc:/m);
    expect(got.mail.subject).toBe('[regwatch] HIGH Export ban Bcc: evil@example.com <script>alert(1)</script>');
    const html = String(got.mail.html);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('reports a refused connection as retryable', async () => {
    const smtp = await startSmtp();
    await smtp.close();
    const mailer = createMailer({ smtpUrl: smtp.url, from: 'alerts@regwatch.example', connectTimeoutMs: 2_000 });
    cleanups.push(() => mailer.close());
    const err = await rejection(
      sendEmail(mailer, { to: ['desk@team.example'], message: message(), deliveryId: 'd-down' }),
    );
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as RetryableError).code).toBe('SMTP_CONNECTION');
  });

  it('refuses a bad recipient before connecting', async () => {
    const { mailer } = await setup();
    const err = await rejection(
      sendEmail(mailer, { to: ['desk@team.example', 'x@y.z\r\nBcc: a@b.c'], message: message(), deliveryId: 'd-bad' }),
    );
    expect((err as PermanentError).code).toBe('EMAIL_BAD_ADDRESS');
  });
});

describe('sendEmail in outbox mode', () => {
  it('writes a parseable .eml named after the delivery, through the same message building', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'regwatch-outbox-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const mailer = createMailer({ outboxDir: join(dir, 'out'), from: 'alerts@regwatch.example' });
    const res = await sendEmail(mailer, { to: ['desk@team.example'], message: message(), deliveryId: 'd-outbox-1' });
    expect(res.path).toBe(join(dir, 'out', 'd-outbox-1.eml'));
    expect(await readdir(join(dir, 'out'))).toEqual(['d-outbox-1.eml']);
    const raw = await readFile(res.path!);
    expect(raw.toString('utf8')).toContain('\r\n');
    const mail = await simpleParser(raw);
    expect(mail.subject).toBe(`[regwatch] HIGH ${TITLE}`);
    expect(mail.messageId).toBe('<regwatch.d-outbox-1@regwatch.example>');
    expect(String(mail.html)).toContain('<mark>Entity List</mark>');
    expect(mail.text).toContain('Unsubscribe: https://regwatch.example/unsubscribe');
    expect(headerLine(mail, 'list-unsubscribe-post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
  });
});
