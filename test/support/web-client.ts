import http from 'node:http';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  bytes: Buffer;
}

/** A plain request on 127.0.0.1: path and headers (Host included) are sent as given. */
export function request(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // agent: false: a fresh connection each time, so no request rides a closed pooled socket.
    const req = http.request(
      { host: '127.0.0.1', port, method, path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: bytes.toString('utf8'),
            bytes,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export interface ServerEvent {
  event: string;
  data: Record<string, unknown>;
}

/** An open /api/events stream, parsed into events as they arrive. */
export interface EventStream {
  status: number;
  /** The next event of that type (events of other types are kept for their own waiters). */
  next(event: string): Promise<ServerEvent>;
  /** Every event received so far. */
  seen(): ServerEvent[];
  /** Resolves once the stream has sent its opening comment. */
  connected: Promise<void>;
  ended: Promise<void>;
  close(): void;
}

export function openEvents(
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<EventStream> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      const all: ServerEvent[] = [];
      const unread: ServerEvent[] = [];
      const waiters: Array<{ event: string; resolve: (e: ServerEvent) => void }> = [];
      let buffer = '';
      let markConnected!: () => void;
      const connected = new Promise<void>((done) => (markConnected = done));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let cut;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          if (frame.startsWith(':')) {
            markConnected();
            continue;
          }
          const event = /^event: (.*)$/m.exec(frame)?.[1] ?? 'message';
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (data === undefined) continue;
          const parsed = { event, data: JSON.parse(data) as Record<string, unknown> };
          all.push(parsed);
          const w = waiters.findIndex((x) => x.event === event);
          if (w >= 0) waiters.splice(w, 1)[0]!.resolve(parsed);
          else unread.push(parsed);
        }
      });
      const ended = new Promise<void>((done) => {
        res.on('end', done);
        res.on('close', done);
      });
      if (res.statusCode !== 200) markConnected();
      resolve({
        status: res.statusCode ?? 0,
        next: (event) => {
          const i = unread.findIndex((x) => x.event === event);
          if (i >= 0) return Promise.resolve(unread.splice(i, 1)[0]!);
          return new Promise((done) => waiters.push({ event, resolve: done }));
        },
        seen: () => [...all],
        connected,
        ended,
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}
