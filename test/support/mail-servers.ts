import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const DOVECOT = '/usr/sbin/dovecot';
const POSTFIX = '/usr/sbin/postfix';
const POSTFIX_MASTER = '/usr/lib/postfix/sbin/master';
/** The domain every test mailbox lives in; postfix delivers it locally, nothing leaves. */
export const MAIL_DOMAIN = 'nanocell.test';
/** Mail files belong to this uid (postfix's virtual agent writes, dovecot reads as it). */
const MAIL_UID = 65534;
const MAIL_GID = 65534;

export interface MailUser {
  address: string;
  user: string;
  password: string;
}

/** Real dovecot (IMAP) and postfix (SMTP) on 127.0.0.1, config and maildirs in a temp dir. */
export interface MailServers {
  imapUrl: string;
  smtpUrl: string;
  imapPort: number;
  smtpPort: number;
  /** The mailboxes, by local part (e.g. `users.bot`). */
  users: Record<string, MailUser>;
  /** Live IMAP sessions of a user, as dovecot counts them (`doveadm who`). */
  imapSessions(user: string): number;
  /** The servers' own logs, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Whether the mail-server suites run: locally they skip when dovecot or postfix is missing
 * (or we are not root: postfix must run as root), in CI (`CI` set) they always run and fail
 * loudly instead.
 */
export function canRunMailServers(): boolean {
  if (process.env.CI) return true;
  const root = process.getuid?.() === 0;
  return root && [DOVECOT, POSTFIX, POSTFIX_MASTER].every((f) => fs.existsSync(f));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

async function waitForBanner(port: number, prefix: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const banner = await new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      let text = '';
      socket.setTimeout(1000, () => socket.destroy());
      socket.on('data', (c) => {
        text += c.toString();
        if (text.includes('\n')) socket.destroy();
      });
      socket.on('close', () => resolve(text));
      socket.on('error', () => resolve(''));
    });
    if (banner.startsWith(prefix)) return;
    if (Date.now() > deadline) throw new Error(`no "${prefix}" banner on port ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Start dovecot and postfix as this process's children (as root, as CI runs), each with its
 * own configuration in a fresh temp dir and on free ports; `stop` ends them by PID.
 * `users` are local parts; each gets the password `pw-<local part>`.
 */
export async function startMailServers(
  locals: string[] = ['bot', 'owner', 'stranger'],
): Promise<MailServers> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-mail-'));
  fs.chmodSync(dir, 0o755);
  const [imapPort, smtpPort] = [await freePort(), await freePort()];
  const users: Record<string, MailUser> = {};
  for (const local of locals) {
    users[local] = { address: `${local}@${MAIL_DOMAIN}`, user: local, password: `pw-${local}` };
  }
  const mailRoot = path.join(dir, 'mail');
  fs.mkdirSync(mailRoot, { mode: 0o755 });
  fs.chownSync(mailRoot, MAIL_UID, MAIL_GID);

  const dovecotDir = path.join(dir, 'dovecot');
  fs.mkdirSync(path.join(dovecotDir, 'run'), { recursive: true, mode: 0o755 });
  fs.writeFileSync(
    path.join(dovecotDir, 'passwd'),
    Object.values(users)
      .map((u) => `${u.user}:{PLAIN}${u.password}:${MAIL_UID}:${MAIL_GID}::${mailRoot}/${u.user}\n`)
      .join(''),
  );
  const authSocket = path.join(dovecotDir, 'run', 'auth-postfix');
  const dovecotConf = path.join(dovecotDir, 'dovecot.conf');
  fs.writeFileSync(
    dovecotConf,
    `base_dir = ${dovecotDir}/run
state_dir = ${dovecotDir}/state
log_path = ${dovecotDir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = ${MAIL_UID}
mail_location = maildir:${mailRoot}/%n
mail_privileged_group =
passdb {
  driver = passwd-file
  args = scheme=PLAIN ${dovecotDir}/passwd
}
userdb {
  driver = passwd-file
  args = ${dovecotDir}/passwd
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${imapPort}
  }
  inet_listener imaps {
    port = 0
  }
}
service auth {
  unix_listener auth-postfix {
    mode = 0666
  }
}
`,
  );
  fs.mkdirSync(path.join(dovecotDir, 'state'), { mode: 0o755 });

  const postfixDir = path.join(dir, 'postfix');
  const queueDir = path.join(postfixDir, 'queue');
  fs.mkdirSync(queueDir, { recursive: true });
  fs.mkdirSync(path.join(postfixDir, 'data'), { recursive: true });
  fs.writeFileSync(
    path.join(postfixDir, 'vmailbox'),
    Object.values(users)
      .map((u) => `${u.address} ${u.user}/\n`)
      .join(''),
  );
  fs.writeFileSync(
    path.join(postfixDir, 'main.cf'),
    `compatibility_level = 3.6
queue_directory = ${queueDir}
data_directory = ${postfixDir}/data
maillog_file = ${postfixDir}/postfix.log
maillog_file_prefixes = ${postfixDir}
myhostname = mail.${MAIL_DOMAIN}
mydomain = ${MAIL_DOMAIN}
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains =
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
virtual_mailbox_domains = ${MAIL_DOMAIN}
virtual_mailbox_base = ${mailRoot}
virtual_mailbox_maps = texthash:${postfixDir}/vmailbox
virtual_uid_maps = static:${MAIL_UID}
virtual_gid_maps = static:${MAIL_GID}
virtual_minimum_uid = 100
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = ${authSocket}
smtpd_tls_security_level = none
smtpd_tls_auth_only = no
default_transport = error:outside mail is not delivered in tests
relay_transport = error:outside mail is not delivered in tests
message_size_limit = 52428800
virtual_mailbox_limit = 0
alias_maps =
alias_database =
biff = no
`,
  );
  const master = fs
    .readFileSync('/etc/postfix/master.cf', 'utf8')
    .split('\n')
    .filter((line) => !/^(smtp|submission|smtps)\s+inet\s/.test(line))
    // Not chrooted: the queue dir is a temp dir without the libraries a chroot needs.
    .map((line) => line.replace(/^(\S+\s+\S+\s+\S+\s+\S+\s+)y(\s)/, '$1n$2'))
    .join('\n');
  fs.writeFileSync(
    path.join(postfixDir, 'master.cf'),
    `${master}\n127.0.0.1:${smtpPort} inet n - n - - smtpd\n`,
  );
  const setup = spawnSync(POSTFIX, ['-c', postfixDir, 'set-permissions', 'create-missing'], {
    encoding: 'utf8',
  });
  // set-permissions exits 0 on success; show postfix's own words otherwise.
  if (setup.status !== 0) {
    throw new Error(`postfix set-permissions failed: ${setup.stderr}${setup.stdout}`);
  }

  const children: ChildProcess[] = [];
  const output: string[] = [];
  const launch = (cmd: string, args: string[]) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (c: Buffer) => output.push(c.toString()));
    child.stderr!.on('data', (c: Buffer) => output.push(c.toString()));
    children.push(child);
    return child;
  };
  const readLog = (file: string) => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  const logs = () =>
    `${output.join('')}\n--- dovecot\n${readLog(path.join(dovecotDir, 'dovecot.log'))}\n--- postfix\n${readLog(path.join(postfixDir, 'postfix.log'))}`;
  const stop = async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    launch(DOVECOT, ['-F', '-c', dovecotConf]);
    // -d: stay in the foreground, so the PID we hold is the master's own.
    launch(POSTFIX_MASTER, ['-d', '-c', postfixDir]);
    await waitForBanner(imapPort, '* OK', 15_000);
    await waitForBanner(smtpPort, '220', 15_000);
  } catch (err) {
    const text = logs();
    await stop();
    throw new Error(`mail servers did not start: ${(err as Error).message}\n${text}`, {
      cause: err,
    });
  }
  return {
    imapUrl: `imap://127.0.0.1:${imapPort}`,
    smtpUrl: `smtp://127.0.0.1:${smtpPort}`,
    imapPort,
    smtpPort,
    users,
    imapSessions: (user) => {
      const who = spawnSync('/usr/bin/doveadm', ['-c', dovecotConf, 'who', '-1', user], {
        encoding: 'utf8',
      });
      return who.stdout.split('\n').filter((l) => l.startsWith(`${user} `)).length;
    },
    logs,
    stop,
  };
}
