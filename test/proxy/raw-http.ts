// Raw HTTP/1.1 over a net socket, for request-targets and headers that HTTP clients would normalise
// (dot segments, backslashes, NUL, `X_Auth_User_Id`). One request per connection (Connection: close).
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function rawRequest(port: number, requestLines: string, body = ''): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error('raw request timed out')));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = split === -1 ? text : text.slice(0, split);
      const [statusLine, ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({ status: Number(statusLine?.split(' ')[1] ?? 0), headers, body: split === -1 ? '' : text.slice(split + 4) });
    });
    const head = requestLines.endsWith('\r\n') ? requestLines : `${requestLines}\r\n`;
    socket.write(`${head}Connection: close\r\n${body ? `Content-Length: ${Buffer.byteLength(body)}\r\n` : ''}\r\n${body}`, 'latin1');
  });
}

/** `GET <target>` with Host and optional extra header lines. */
export function rawGet(port: number, target: string, extraHeaders: string[] = []): Promise<RawResponse> {
  return rawRequest(port, [`GET ${target} HTTP/1.1`, 'Host: authgate.test', ...extraHeaders].join('\r\n'));
}
