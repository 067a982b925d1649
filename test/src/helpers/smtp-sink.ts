import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { waitUntil } from './webhook-receiver.js';

export interface ReceivedMail {
  envelope: { from: string; to: string[] };
  mail: ParsedMail;
  /** Date.now() when the message was accepted. */
  at: number;
}

export interface SmtpSink {
  url: string;
  received: ReceivedMail[];
  /** SMTP reply codes to answer the next DATA commands with (e.g. 451, 550). */
  failNext(...codes: number[]): void;
  /**
   * A relay that is down for a while: until `untilMs` (a Date.now() time) every connection is
   * refused at the greeting with `421`, or (`stage: 'data'`) every message is answered `code` after DATA.
   */
  failUntil(untilMs: number, code: number, stage?: 'connect' | 'data'): void;
  /** Connections and messages refused so far (by failNext or failUntil). */
  readonly refused: number;
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

/** A real SMTP server in-process (`smtp-server`); every message is parsed with `mailparser`. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const received: ReceivedMail[] = [];
  const queued: number[] = [];
  const outage = { until: 0, code: 0, stage: 'data' as 'connect' | 'data', refused: 0 };
  const refusal = (code: number) =>
    Object.assign(new Error(code >= 500 ? 'mailbox unavailable' : 'try again later'), { responseCode: code });
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect(_session, callback) {
      if (outage.stage === 'connect' && Date.now() < outage.until) {
        outage.refused++;
        callback(refusal(outage.code));
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const code = queued.shift() ?? (outage.stage === 'data' && Date.now() < outage.until ? outage.code : undefined);
        if (code !== undefined) {
          outage.refused++;
          callback(refusal(code));
          return;
        }
        simpleParser(Buffer.concat(chunks)).then(
          (mail) => {
            received.push({
              envelope: {
                from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                to: session.envelope.rcptTo.map((r) => r.address),
              },
              mail,
              at: Date.now(),
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
    received,
    failNext: (...codes) => queued.push(...codes),
    failUntil: (untilMs, code, stage = 'data') => {
      Object.assign(outage, { until: untilMs, code, stage });
    },
    get refused() {
      return outage.refused;
    },
    waitFor: (count, timeoutMs = 20_000) =>
      waitUntil(
        () => received.length >= count,
        timeoutMs,
        () => `${received.length}/${count} emails`,
      ).then(() => received),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
