import fs from 'node:fs';
import { parseArgs } from 'node:util';
import pino from 'pino';
import type { ConnectionState } from '@whiskeysockets/baileys';
import { linkedNumber } from '../channels/whatsapp/whatsapp-check.js';
import type { WhatsAppSocket } from '../channels/whatsapp/whatsapp-socket.js';
import type { CliCommand, ConfigCommandContext, TextOut } from './command.js';

export const WHATSAPP_USAGE = `usage: nanocell whatsapp link [--phone NUMBER] [--timeout SECONDS]
  Link nanocell to your WhatsApp as a linked device (like WhatsApp Web). It prints a code to
  scan: on your phone open WhatsApp → Settings → Linked devices → Link a device. With
  --phone (your number with country code, e.g. +447700900123) it prints an 8-character code
  to type instead (Link a device → Link with phone number instead). The keys are kept in the
  owner config dir (NANOCELL_CONFIG_DIR/whatsapp, readable by you only); \`nanocell start\`
  then connects WhatsApp. Anyone who has those keys can read and send its messages.
  Link an account of the assistant's own (a spare number, or WhatsApp Business): what the
  linked account itself sends is never taken as a message to the assistant, so you write to
  it from your own WhatsApp.
  --timeout SECONDS   how long to wait for the phone (default 120)
`;

/** WhatsApp's close codes (Baileys' DisconnectReason). */
const LOGGED_OUT = 401;
const RESTART_REQUIRED = 515;
/** WhatsApp closes a pairing after about six QR codes; the owner is told to run it again. */
const MAX_RESTARTS = 3;

export interface LinkDeps {
  /** Where the keys end up (`config.channels.whatsapp.authDir`). */
  authDir: string;
  connect: (authDir: string) => Promise<WhatsAppSocket>;
  out: TextOut;
  err: TextOut;
}

type Outcome = { kind: 'open' } | { kind: 'closed'; code: number | null } | { kind: 'timeout' };

/**
 * `nanocell whatsapp link`: pairs this host with the owner's phone. The keys are written to a
 * staging folder first and moved into place only once WhatsApp opened the connection, so a
 * half-done link never turns the channel on.
 */
export async function whatsappCommand(args: string[], deps: LinkDeps): Promise<number> {
  const usage = (problem: string) => {
    deps.err.write(`nanocell: ${problem}\n${WHATSAPP_USAGE}`);
    return 2;
  };
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { phone: { type: 'string' }, timeout: { type: 'string' } },
      allowPositionals: true,
    });
  } catch (err) {
    return usage((err as Error).message);
  }
  const { positionals, values } = parsed;
  if (positionals.length !== 1 || positionals[0] !== 'link') {
    return usage(
      `expected "whatsapp link"${positionals[0] ? `, not "whatsapp ${positionals[0].slice(0, 20)}"` : ''}`,
    );
  }
  const phone = values.phone?.replace(/[\s()+-]/g, '');
  if (phone !== undefined && !/^\d{7,15}$/.test(phone)) {
    return usage('--phone is your number with its country code, e.g. +447700900123');
  }
  const seconds = values.timeout === undefined ? 120 : Number(values.timeout);
  if (!Number.isInteger(seconds) || seconds < 10 || seconds > 600) {
    return usage(`--timeout is a whole number of seconds from 10 to 600, not "${values.timeout}"`);
  }
  const already = linkedNumber(deps.authDir);
  if (already.ok) {
    deps.err.write(
      `nanocell: WhatsApp is already linked as ${already.number} (keys in ${deps.authDir}). To link again, remove that folder first (and the device under Linked devices on the phone).\n`,
    );
    return 1;
  }
  const staging = `${deps.authDir}.linking`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true, mode: 0o700 });
  fs.chmodSync(staging, 0o700);
  try {
    const code = await pair(staging, phone, seconds * 1000, deps);
    if (code !== 0) return code;
    fs.rmSync(deps.authDir, { recursive: true, force: true });
    fs.renameSync(staging, deps.authDir);
    const linked = linkedNumber(deps.authDir);
    deps.out.write(
      `WhatsApp is linked${linked.ok ? ` as ${linked.number}` : ''}. Keys are in ${deps.authDir}.\n` +
        'Bind a chat with: nanocell groups add NAME --chat whatsapp:<number>@s.whatsapp.net, then run nanocell start.\n',
    );
    return 0;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

async function pair(
  dir: string,
  phone: string | undefined,
  timeoutMs: number,
  deps: LinkDeps,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let requested = false;
  deps.out.write(
    phone
      ? 'On your phone: WhatsApp → Settings → Linked devices → Link a device → Link with phone number instead, and type the code below.\n'
      : 'On your phone: WhatsApp → Settings → Linked devices → Link a device, and scan the code below.\n',
  );
  for (let restarts = 0; ; restarts++) {
    const socket = await deps.connect(dir);
    let outcome: Outcome;
    try {
      outcome = await untilOpen(socket, deadline - Date.now(), async (qr) => {
        // A QR code comes again every 20 s or so; a phone-number code is asked for once.
        if (phone && requested) return;
        if (phone) {
          requested = true;
          const code = await socket.requestPairingCode(phone);
          deps.out.write(`Pairing code: ${code.slice(0, 4)}-${code.slice(4)}\n`);
        } else {
          deps.out.write(`\n${qr}\n\n`);
          deps.out.write(
            "No QR renderer is installed with nanocell: turn the line above into a QR code (e.g. qrencode -t ansiutf8 'LINE'), or run again with --phone NUMBER to type a code instead.\n",
          );
        }
      });
    } finally {
      await socket.end();
    }
    if (outcome.kind === 'open') return 0;
    if (outcome.kind === 'timeout') {
      deps.err.write(
        `nanocell: no phone linked within ${Math.round(timeoutMs / 1000)} s: run nanocell whatsapp link again and scan the code while it shows (or give a longer --timeout)\n`,
      );
      return 1;
    }
    // After the scan WhatsApp closes the connection and asks for a new one with the keys.
    if (outcome.code === RESTART_REQUIRED && restarts < MAX_RESTARTS) continue;
    deps.err.write(
      outcome.code === LOGGED_OUT
        ? 'nanocell: WhatsApp refused the link (the code expired or the phone declined): run nanocell whatsapp link again\n'
        : `nanocell: WhatsApp closed the connection (code ${outcome.code ?? 'none'}) before the link was done: check the network and run nanocell whatsapp link again\n`,
    );
    return 1;
  }
}

/** Waits on one connection until it opens or closes, handing on each QR code it shows. */
function untilOpen(
  socket: WhatsAppSocket,
  timeoutMs: number,
  showCode: (qr: string) => Promise<void>,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const done = (outcome: Outcome) => {
      clearTimeout(timer);
      socket.off('connection.update', onUpdate);
      resolve(outcome);
    };
    const timer = setTimeout(() => done({ kind: 'timeout' }), Math.max(0, timeoutMs));
    const onUpdate = (update: Partial<ConnectionState>) => {
      if (update.connection === 'open') return done({ kind: 'open' });
      if (update.connection === 'close') {
        const code = (update.lastDisconnect?.error as { output?: { statusCode?: unknown } })?.output
          ?.statusCode;
        return done({ kind: 'closed', code: typeof code === 'number' ? code : null });
      }
      if (typeof update.qr === 'string' && update.qr.length < 1000) {
        void showCode(update.qr).catch(() => done({ kind: 'closed', code: null }));
      }
    };
    socket.on('connection.update', onUpdate);
  });
}

export const whatsappCli = {
  name: 'whatsapp',
  summary: 'link nanocell to your WhatsApp as a linked device (whatsapp link [--phone N])',
  usage: WHATSAPP_USAGE,
  needs: 'config',
  run: async (args: string[], ctx: ConfigCommandContext) => {
    const { connectBaileys } = await import('../channels/whatsapp/whatsapp-socket.js');
    const log = pino({ level: 'error' }, { write: (line: string) => void ctx.err.write(line) });
    return whatsappCommand(args, {
      authDir: ctx.config.channels.whatsapp.authDir,
      connect: (dir) => connectBaileys(dir, log),
      out: ctx.out,
      err: ctx.err,
    });
  },
} satisfies CliCommand;
