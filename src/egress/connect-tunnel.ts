/**
 * CONNECT tunnels from a cell (how HTTPS leaves through the proxy). The proxy checks the
 * host, port and address, then relays bytes it cannot read: no method/path rule and no
 * credential swap applies inside, and a placeholder sent through a tunnel is not seen.
 */
import type http from 'node:http';
import net from 'node:net';
import type { DecisionFields, EgressContext } from './egress-context.js';
import { canonicalHost, wellFormedHost } from '../policy/host-name.js';
import { decideConnect } from './egress-decide.js';
import { noRunReason } from './egress-run.js';
import { allowedReason, checkPass, passToken } from './egress-pass.js';
import { rawRefusal } from './http-headers.js';

type Authority = { ok: true; host: string; port: number } | { ok: false; reason: string };

export function parseAuthority(raw: string): Authority {
  const bad = {
    ok: false as const,
    reason: `CONNECT target ${raw.slice(0, 200)} must be host:port, e.g. api.example.com:443`,
  };
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(raw);
  if (!m?.[1] || !m[2]) return bad;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return bad;
  try {
    // The URL parser gives every spelling of a host one form (2130706433 -> 127.0.0.1).
    const host = canonicalHost(new URL(`http://${m[1]}/`).hostname.replace(/^\[|\]$/g, ''));
    return wellFormedHost(host) ? { ok: true, host, port } : bad;
  } catch {
    return bad;
  }
}

export async function openTunnel(
  ctx: EgressContext,
  req: http.IncomingMessage,
  cell: net.Socket,
  head: Buffer,
): Promise<void> {
  const seen: DecisionFields = {
    allowed: false,
    stage: 'decided',
    kind: 'connect',
    method: 'CONNECT',
    host: '',
    reason: '',
  };
  const run = ctx.currentRun();
  const refuse = (status: number, reason: string): void => {
    ctx.record({ ...seen, allowed: false, stage: 'decided', reason }, run);
    cell.end(rawRefusal(status, reason));
  };
  cell.on('error', () => cell.destroy());

  if (!run) return refuse(403, noRunReason(ctx.grant.groupName));
  const spent = run.budget.refusal();
  if (spent) return refuse(429, spent);
  const authority = parseAuthority(req.url ?? '');
  if (!authority.ok) return refuse(400, authority.reason);
  const { host, port } = authority;
  Object.assign(seen, { host, port });
  const placeholders = ctx.broker.inspectHead(host, '', []);
  if (!placeholders.ok) return refuse(403, placeholders.reason);
  const match = decideConnect(
    ctx.grant.policy,
    ctx.grant.groupName,
    host,
    port,
    run.identity.untrusted?.() === true,
  );
  if (!match.ok) return refuse(403, match.reason);
  Object.assign(seen, { rule: match.label });
  const pass = checkPass(run, passToken(req.rawHeaders), { method: 'CONNECT', host });
  if (!pass.ok) return refuse(403, pass.reason);
  const held = pass.scope
    ? undefined
    : run.identity.guard?.({
        kind: 'connect',
        method: 'CONNECT',
        host,
        credentialed: false,
        grantHasCredentials: ctx.grant.credentials.length > 0,
      });
  if (held) return refuse(403, held);
  const target = await ctx.resolve(host);
  if (!target.ok) return refuse(target.status, target.reason);
  // Checked again and counted in one step: other requests may have started while resolving.
  const late = run.budget.tryStart();
  if (late) return refuse(429, late);
  Object.assign(seen, { address: target.address });
  if (pass.scope) seen.pass = pass.scope.purpose;
  ctx.record({ ...seen, allowed: true, reason: allowedReason(match.label, pass.scope) }, run);

  const up = net.connect({ host: target.address, port });
  ctx.track(up);
  up.setTimeout(ctx.idleTimeoutMs);
  cell.setTimeout(ctx.idleTimeoutMs);
  let bytesUp = 0;
  let bytesDown = 0;
  let connected = false;
  let ended = false;
  const finish = (allowed: boolean, reason: string): void => {
    if (ended) return;
    ended = true;
    ctx.record({ ...seen, allowed, stage: 'finished', reason, bytesUp, bytesDown }, run);
  };
  const count = (direction: 'up' | 'down', n: number): void => {
    if (direction === 'up') bytesUp += n;
    else bytesDown += n;
    if (!run.budget.addBytes(n) && !ended) {
      finish(false, run.budget.overBytesReason());
      up.destroy();
      cell.destroy();
    }
  };

  const forget = run.onEnd(() => {
    finish(false, 'the run ended; its tunnel was cut');
    up.destroy();
    cell.destroy();
  });

  up.on('error', (err: NodeJS.ErrnoException) => {
    const reason = `upstream ${host}:${port} failed: ${err.code ?? err.message}`;
    if (connected) {
      finish(false, reason);
      cell.destroy();
    } else if (!ended) {
      finish(false, reason);
      cell.end(rawRefusal(502, reason));
    }
  });
  up.on('timeout', () => up.destroy(new Error(`no data for ${ctx.idleTimeoutMs} ms`)));
  cell.on('timeout', () => {
    finish(true, `tunnel idle for ${ctx.idleTimeoutMs} ms, closed`);
    up.destroy();
    cell.destroy();
  });
  up.once('connect', () => {
    connected = true;
    cell.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) {
      count('up', head.length);
      up.write(head);
    }
    cell.on('data', (chunk: Buffer) => count('up', chunk.length));
    up.on('data', (chunk: Buffer) => count('down', chunk.length));
    cell.pipe(up);
    up.pipe(cell);
  });
  // Each side's end is passed on by pipe; the tunnel is over once both sides are closed.
  let open = 2;
  const closed = (): void => {
    open--;
    if (open === 0) finish(true, 'tunnel closed');
  };
  up.on('close', () => {
    closed();
    if (!cell.destroyed) cell.end();
  });
  cell.on('close', () => {
    closed();
    forget();
    up.destroy();
  });
}
