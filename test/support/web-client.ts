import http from 'node:http';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  bytes: Buffer;
}

/**
 * A plain request on 127.0.0.1: path and headers (Host included) are sent as given; an empty
 * `host` sends no Host header at all.
 */
export function request(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // agent: false: a fresh connection each time, so no request rides a closed pooled socket.
    const { host, ...rest } = headers;
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: host === '' ? rest : headers,
        setHost: host !== '',
        agent: false,
      },
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
  /**
   * The next event of that type (for which `where` holds, e.g. of one chat); events nobody
   * waited for are kept for later waiters.
   */
  next(event: string, where?: (data: Record<string, unknown>) => boolean): Promise<ServerEvent>;
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
      type Match = (e: ServerEvent) => boolean;
      const waiters: Array<{ match: Match; resolve: (e: ServerEvent) => void }> = [];
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
          const w = waiters.findIndex((x) => x.match(parsed));
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
        next: (event, where = () => true) => {
          const match: Match = (e) => e.event === event && where(e.data);
          const i = unread.findIndex(match);
          if (i >= 0) return Promise.resolve(unread.splice(i, 1)[0]!);
          return new Promise((done) => waiters.push({ match, resolve: done }));
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
