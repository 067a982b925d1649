import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface DemoSink {
  url: string;
  /** Verified deliveries by event type (`alert.created`, `alert.updated`, …). */
  counts: Record<string, number>;
  close(): Promise<void>;
}

/**
 * The demo's webhook consumer: verifies each delivery with the `standardwebhooks` package, as a
 * customer's endpoint would, and appends what verified to a JSON-lines log.
 */
export async function startDemoSink(
  secret: string,
  logFile: string,
  onEvent: (line: string) => void,
): Promise<DemoSink> {
  const verifier = new Webhook(secret);
  const counts: Record<string, number> = {};
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= 1024 * 1024) chunks.push(c);
    });
    req.on('end', () => {
      try {
        const payload = verifier.verify(Buffer.concat(chunks).toString('utf8'), {
          'webhook-id': String(req.headers['webhook-id']),
          'webhook-timestamp': String(req.headers['webhook-timestamp']),
          'webhook-signature': String(req.headers['webhook-signature']),
        }) as { type: string; data: { title: string; severity: string; sources?: unknown[] } };
        counts[payload.type] = (counts[payload.type] ?? 0) + 1;
        appendFileSync(
          logFile,
          `${JSON.stringify({ webhookId: req.headers['webhook-id'], verified: true, payload })}\n`,
        );
        onEvent(
          `webhook  ✔ signature verified  ${payload.type}  [${payload.data.severity}] ${payload.data.title} (${payload.data.sources?.length ?? 1} source(s))`,
        );
        res.writeHead(204).end();
      } catch (err) {
        onEvent(`webhook  ✘ rejected: ${(err as Error).message}`);
        res.writeHead(401).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/regwatch`,
    counts,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
