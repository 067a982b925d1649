import { createHash } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { EmailAddressSchema, PermanentError, RegwatchError, RetryableError } from '@regwatch/contracts';
import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';
import { parseConnectionUrl } from 'nodemailer/lib/shared/index.js';
import type { RenderedEmail } from '../render/email-parts.js';
import { withAttemptInfo } from './attempt-info.js';

export interface MailerOptions {
  /** `smtp://user:pass@host:587` or `smtps://…:465`; when set, mail goes out over a pooled SMTP transport. */
  smtpUrl?: string;
  /** Without `smtpUrl`: directory to write each message to as `<deliveryId>.eml` (development, demos). */
  outboxDir?: string;
  /** `alerts@example.com` or `regwatch <alerts@example.com>`. */
  from: string;
  /** Right-hand side of Message-IDs; default the domain of `from`. */
  messageIdDomain?: string;
  /** SMTP connections kept open. Default 3. */
  maxConnections?: number;
  /** Connect + greeting timeout, and socket inactivity timeout, in ms. Defaults 10 s and 30 s. */
  connectTimeoutMs?: number;
  socketTimeoutMs?: number;
}

/** A configured way to send mail; build once, share, `close()` on shutdown. */
export interface Mailer {
  readonly mode: 'smtp' | 'outbox';
  readonly from: string;
  /** The bare address of `from`, used as the envelope sender. */
  readonly envelopeFrom: string;
  readonly messageIdDomain: string;
  readonly transport: Transporter;
  readonly outboxDir: string | undefined;
  close(): void;
}

function bareAddress(from: string): string {
  const m = /<([^<>]+)>\s*$/.exec(from);
  return (m ? m[1]! : from).trim();
}

/**
 * Builds the mailer: a pooled SMTP transport when `smtpUrl` is set, else a stream transport whose
 * RFC 822 output is written to `outboxDir`. Both build the message through the same nodemailer
 * path; only the last step differs.
 * @throws Error when neither is given or `from` is not an address.
 */
export function createMailer(opts: MailerOptions): Mailer {
  const envelopeFrom = bareAddress(opts.from);
  if (!EmailAddressSchema.safeParse(envelopeFrom).success || /[\r\n]/.test(opts.from)) {
    throw new Error('mailer "from" must be an address like alerts@example.com, optionally with a display name');
  }
  const messageIdDomain = opts.messageIdDomain ?? envelopeFrom.slice(envelopeFrom.lastIndexOf('@') + 1);
  // Message building never reads files or fetches URLs: nothing we send refers to any.
  const safety = { disableFileAccess: true, disableUrlAccess: true };
  let transport: Transporter;
  let mode: Mailer['mode'];
  if (opts.smtpUrl) {
    mode = 'smtp';
    transport = nodemailer.createTransport({
      // nodemailer ignores every other option when given `url`, so parse it and merge.
      ...parseConnectionUrl(opts.smtpUrl),
      pool: true,
      maxConnections: opts.maxConnections ?? 3,
      connectionTimeout: opts.connectTimeoutMs ?? 10_000,
      greetingTimeout: opts.connectTimeoutMs ?? 10_000,
      socketTimeout: opts.socketTimeoutMs ?? 30_000,
      ...safety,
    });
  } else if (opts.outboxDir) {
    mode = 'outbox';
    transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows', ...safety });
  } else {
    throw new Error('createMailer needs smtpUrl or outboxDir');
  }
  return {
    mode,
    from: opts.from,
    envelopeFrom,
    messageIdDomain,
    transport,
    outboxDir: opts.outboxDir,
    close: () => transport.close(),
  };
}

export interface SendEmailInput {
  to: readonly string[];
  message: RenderedEmail;
  /** Makes the Message-ID (and the outbox file name): the same on every retry. */
  deliveryId: string;
}

export interface SendEmailResult {
  /** SMTP reply code of the final answer (250), when sent over SMTP. */
  code?: number;
  /** The server's final reply line (`250 OK: queued as …`), when sent over SMTP. */
  response?: string;
  latencyMs: number;
  messageId: string;
  /** Recipients the server refused while accepting the others. */
  rejected: string[];
  /** The .eml written, in outbox mode. */
  path?: string;
}

const SAFE_ID = /^[A-Za-z0-9._-]{1,100}$/;

function idPart(deliveryId: string): string {
  return SAFE_ID.test(deliveryId) ? deliveryId : createHash('sha256').update(deliveryId).digest('hex').slice(0, 40);
}

/**
 * The Message-ID for a delivery: `<regwatch.<deliveryId>@<domain>>`. Deterministic, so a message
 * the server accepted before a retry (the reply was lost) carries the same id and can be
 * recognised as a duplicate by the receiving side.
 */
export function messageIdFor(deliveryId: string, domain: string): string {
  return `<regwatch.${idPart(deliveryId)}@${domain}>`;
}

function smtpCode(err: unknown): number | undefined {
  const code = (err as { responseCode?: unknown } | null)?.responseCode;
  return typeof code === 'number' ? code : undefined;
}

/** `550 5.1.1` from a reply line; the free text after it (it often names the recipient) is left out. */
function replyStatus(err: unknown, code: number): string {
  const response = (err as { response?: unknown } | null)?.response;
  const enhanced = typeof response === 'string' ? /^\d{3}[ -](\d\.\d{1,3}\.\d{1,3})/.exec(response) : null;
  return enhanced ? `${code} ${enhanced[1]}` : String(code);
}

/**
 * Sends one rendered message to `to` — the envelope recipients are exactly these addresses, never
 * anything parsed from the message — and maps the outcome:
 * - accepted → `{ code: 250, response, latencyMs, messageId }` (outbox: `{ path, … }`);
 * - SMTP 4xx (421, 450, 451, 452…) → `RetryableError` `SMTP_TEMPORARY`;
 * - SMTP 5xx (550, 554…) → `PermanentError` `SMTP_REJECTED`;
 * - authentication refused → `RetryableError` `SMTP_AUTH` (a config problem ops can fix; the mail must not be lost);
 * - connection, TLS, DNS errors and timeouts → `RetryableError` `SMTP_CONNECTION`.
 * When the server refuses some recipients and takes the others the send succeeds and `rejected`
 * lists them; retrying would send the others a duplicate.
 * The reply code and latency of a failure are available through `getAttemptInfo(err)`.
 */
export async function sendEmail(mailer: Mailer, input: SendEmailInput): Promise<SendEmailResult> {
  if (input.to.length === 0) throw new PermanentError('EMAIL_NO_RECIPIENT', 'the email channel lists no recipient');
  input.to.forEach((addr, i) => {
    if (!EmailAddressSchema.safeParse(addr).success) {
      throw new PermanentError('EMAIL_BAD_ADDRESS', `channel address to[${i}] is not an email address`);
    }
  });
  const messageId = messageIdFor(input.deliveryId, mailer.messageIdDomain);
  const mail: SendMailOptions = {
    from: mailer.from,
    to: [...input.to],
    // Set explicitly: recipients come from the channel, whatever the headers say.
    envelope: { from: mailer.envelopeFrom, to: [...input.to] },
    subject: input.message.subject,
    text: input.message.text,
    html: input.message.html,
    headers: input.message.headers,
    messageId,
    disableFileAccess: true,
    disableUrlAccess: true,
  };
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let info: {
    message?: Buffer;
    response?: string;
    rejected?: Array<string | { address: string }>;
  };
  try {
    info = await mailer.transport.sendMail(mail);
  } catch (err) {
    throw withAttemptInfo(mapSmtpError(err), {
      ...(smtpCode(err) ? { code: smtpCode(err)! } : {}),
      latencyMs: elapsed(),
    });
  }
  const rejected = (info.rejected ?? []).map((r) => (typeof r === 'string' ? r : r.address));
  if (mailer.mode === 'outbox') {
    const dir = mailer.outboxDir!;
    const path = join(dir, `${idPart(input.deliveryId)}.eml`);
    await mkdir(dir, { recursive: true });
    // Write then rename, so a reader never sees half a message.
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, info.message!);
    await rename(tmp, path);
    return { latencyMs: elapsed(), messageId, rejected, path };
  }
  const response = info.response ?? '';
  const code = Number(/^(\d{3})/.exec(response)?.[1]);
  return { ...(Number.isFinite(code) ? { code } : {}), response, latencyMs: elapsed(), messageId, rejected };
}

const CONNECTION_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ETLS', 'EPROTOCOL', 'ECONNRESET']);

function mapSmtpError(err: unknown): RegwatchError {
  if (err instanceof RegwatchError) return err;
  const code = smtpCode(err);
  const kind = (err as { code?: unknown } | null)?.code;
  if (kind === 'EAUTH') {
    return new RetryableError(
      'SMTP_AUTH',
      `the SMTP server refused our login${code ? ` (${code})` : ''}: check the SMTP credentials`,
    );
  }
  // All recipients refused: if any refusal was temporary, a later try may reach them.
  const refusals = (err as { rejectedErrors?: unknown } | null)?.rejectedErrors;
  if (Array.isArray(refusals) && refusals.some((r) => (smtpCode(r) ?? 0) >= 400 && (smtpCode(r) ?? 0) < 500)) {
    const first = refusals.find((r) => (smtpCode(r) ?? 0) < 500)!;
    return new RetryableError(
      'SMTP_TEMPORARY',
      `the SMTP server deferred the recipients (${replyStatus(first, smtpCode(first)!)})`,
    );
  }
  if (code !== undefined && code >= 400 && code < 500) {
    return new RetryableError('SMTP_TEMPORARY', `the SMTP server deferred the message (${replyStatus(err, code)})`);
  }
  if (code !== undefined && code >= 500 && code < 600) {
    return new PermanentError('SMTP_REJECTED', `the SMTP server rejected the message (${replyStatus(err, code)})`);
  }
  if (typeof kind === 'string' && CONNECTION_CODES.has(kind)) {
    return new RetryableError('SMTP_CONNECTION', `could not talk to the SMTP server (${kind})`);
  }
  return new RetryableError('SMTP_FAILED', `sending the email failed${typeof kind === 'string' ? ` (${kind})` : ''}`);
}
