import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { waitUntil } from './webhook-receiver.js';

export interface ReceivedMail {
  envelope: { from: string; to: string[] };
  mail: ParsedMail;
}

export interface SmtpSink {
  url: string;
  received: ReceivedMail[];
  /** SMTP reply codes to answer the next DATA commands with (e.g. 451, 550). */
  failNext(...codes: number[]): void;
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

/** A real SMTP server in-process (`smtp-server`); every message is parsed with `mailparser`. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const received: ReceivedMail[] = [];
  const queued: number[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const code = queued.shift();
        if (code !== undefined) {
          const err = Object.assign(new Error(code >= 500 ? 'mailbox unavailable' : 'try again later'), {
            responseCode: code,
          });
          callback(err);
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
    waitFor: (count, timeoutMs = 20_000) =>
      waitUntil(
        () => received.length >= count,
        timeoutMs,
        () => `${received.length}/${count} emails`,
      ).then(() => received),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
