// A real SMTP server for the email tests (smtp-server on 127.0.0.1): collects every message, parses
// the few headers the tests need, decodes quoted-printable bodies and extracts the one link.
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
export { freePort } from '../helpers/processes.js';

export interface ReceivedMail {
  envelopeFrom: string;
  envelopeTo: string[];
  raw: string;
  headers: Map<string, string>;
  /** The whole message with quoted-printable soft breaks and escapes decoded (UTF-8). */
  decoded: string;
}

export interface SmtpHarness {
  port: number;
  url: string;
  messages: ReceivedMail[];
  /** Resolves once at least `count` messages have arrived (the tap timeout bounds the wait). */
  waitFor(count: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

/** Quoted-printable (RFC 2045 §6.7): drop soft line breaks, turn =XX into bytes, read as UTF-8. */
export function decodeQuotedPrintable(text: string): string {
  const unfolded = text.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < unfolded.length; i++) {
    const c = unfolded[i]!;
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(unfolded.slice(i + 1, i + 3))) {
      bytes.push(parseInt(unfolded.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(c, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

export function parseHeaders(raw: string): Map<string, string> {
  const head = raw.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const map = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) map.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  return map;
}

/** Every token link in a message; the tests assert the text and HTML parts carry the same one. */
export function extractLinks(mail: { decoded: string }): string[] {
  return [...mail.decoded.matchAll(/https?:\/\/[^\s"'<>]+[?&]token=[A-Za-z0-9_-]+/g)].map((m) => m[0]);
}

export function extractLink(mail: { decoded: string }): string {
  const links = [...new Set(extractLinks(mail))];
  if (links.length !== 1) throw new Error(`expected exactly one distinct link, found ${links.length}`);
  return links[0]!;
}

export const tokenOf = (link: string): string => new URL(link).searchParams.get('token') ?? '';

export async function startSmtpServer(port = 0): Promise<SmtpHarness> {
  const messages: ReceivedMail[] = [];
  const events = new EventEmitter();
  const server = new SMTPServer({
    authOptional: true,
    // No STARTTLS offered on loopback, so nodemailer talks plain SMTP without ?ignoreTLS.
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const from = session.envelope.mailFrom;
        messages.push({
          envelopeFrom: from ? from.address : '',
          envelopeTo: session.envelope.rcptTo.map((r) => r.address),
          raw,
          headers: parseHeaders(raw),
          decoded: decodeQuotedPrintable(raw),
        });
        events.emit('message');
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.server.address() as AddressInfo).port;
  return {
    port: actual,
    url: `smtp://127.0.0.1:${actual}`,
    messages,
    waitFor(count) {
      return new Promise((resolve) => {
        const check = () => {
          if (messages.length >= count) {
            events.off('message', check);
            resolve(messages.slice());
          }
        };
        events.on('message', check);
        check();
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

