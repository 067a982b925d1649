import type { IncomingMessage } from 'node:http';
import type { Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import { createOutboundError, type OutboundPermanentError, type OutboundRetryableError } from './errors.js';

type Coding = 'gzip' | 'deflate' | 'br';

/**
 * Reads `Content-Encoding`. `[]` means the body is as sent; `undefined` means a coding we cannot
 * undo (`compress`, `zstd`, or several stacked codings, which no feed or webhook server uses).
 */
export function parseContentEncoding(value: string | undefined): Coding[] | undefined {
  const codings = (value ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '' && s !== 'identity');
  if (codings.length === 0) return [];
  if (codings.length > 1) return undefined;
  const coding = codings[0];
  if (coding === 'gzip' || coding === 'x-gzip') return ['gzip'];
  if (coding === 'deflate') return ['deflate'];
  if (coding === 'br') return ['br'];
  return undefined;
}

/**
 * "deflate" is specified as zlib-wrapped (RFC 9110 §8.4.1.2) but some servers send raw deflate;
 * a zlib stream starts with a CMF byte for method 8 whose 16-bit header is a multiple of 31.
 */
function isZlibWrapped(first: Buffer): boolean {
  const b0 = first[0] ?? 0;
  if ((b0 & 0x0f) !== 8 || b0 >> 4 > 7) return false;
  const b1 = first[1];
  return b1 === undefined || ((b0 << 8) | b1) % 31 === 0;
}

function createDecoder(coding: Coding, first: Buffer): Transform {
  if (coding === 'gzip') return zlib.createGunzip();
  if (coding === 'br') return zlib.createBrotliDecompress();
  return isZlibWrapped(first) ? zlib.createInflate() : zlib.createInflateRaw();
}

export interface ReadBodyOptions {
  maxBytes: number;
  codings: Coding[];
  /** For messages. */
  url: string;
  onDone(body: Buffer): void;
  onError(err: OutboundPermanentError | OutboundRetryableError): void;
}

/**
 * Streams a response body into memory, enforcing `maxBytes` on the bytes received *and* on the
 * bytes after decompression, so neither a lying server nor a compression bomb can make the
 * process hold more than about `maxBytes` (plus one zlib chunk). Returns a function that stops
 * reading and releases everything; callers use it when the request as a whole fails.
 */
export function readBody(res: IncomingMessage, opts: ReadBodyOptions): () => void {
  const chunks: Buffer[] = [];
  let decoded = 0;
  let received = 0;
  let decoder: Transform | undefined;
  let finished = false;

  const stop = () => {
    finished = true;
    decoder?.destroy();
    res.destroy();
  };
  const fail = (err: OutboundPermanentError | OutboundRetryableError) => {
    if (finished) return;
    stop();
    opts.onError(err);
  };
  const done = () => {
    if (finished) return;
    finished = true;
    opts.onDone(Buffer.concat(chunks, decoded));
  };
  const tooLarge = (what: string) =>
    createOutboundError(
      'OUTBOUND_TOO_LARGE',
      `response from ${opts.url} exceeds ${opts.maxBytes} bytes ${what}`,
    ) as OutboundPermanentError;
  const collect = (chunk: Buffer) => {
    if (finished) return;
    decoded += chunk.length;
    if (decoded > opts.maxBytes) {
      fail(tooLarge(opts.codings.length > 0 ? 'after decompression' : 'while streaming'));
      return;
    }
    chunks.push(chunk);
  };

  // A broken connection mid-body; Node reports it as "aborted" / ECONNRESET.
  res.on('error', (err) =>
    fail(
      createOutboundError('OUTBOUND_CONNECT', `connection to ${opts.url} broke while reading the body`, { cause: err }),
    ),
  );

  const coding = opts.codings[0];
  res.on('data', (chunk: Buffer) => {
    if (finished) return;
    received += chunk.length;
    if (received > opts.maxBytes) {
      fail(tooLarge('while streaming'));
      return;
    }
    if (coding === undefined) {
      collect(chunk);
      return;
    }
    if (decoder === undefined) {
      // Created on the first byte: an empty body needs no decoding (and gunzip would reject it).
      decoder = createDecoder(coding, chunk);
      decoder.on('data', collect);
      decoder.on('end', done);
      decoder.on('error', (err) =>
        fail(
          createOutboundError('OUTBOUND_BAD_ENCODING', `could not decode the ${coding} body from ${opts.url}`, {
            cause: err,
          }),
        ),
      );
    }
    if (!decoder.write(chunk)) {
      res.pause();
      decoder.once('drain', () => res.resume());
    }
  });
  res.on('end', () => {
    if (decoder === undefined) done();
    else decoder.end();
  });
  return stop;
}
