import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe } from 'vitest';
import { fakeCliRuntimes, realRuntimes, shouldRun } from '../support/runtimes.js';
import { cellAttackContract } from './cell-attacks.contract.js';
import { cellIsolationContract } from './cell-isolation.contract.js';
import { cellMcpContract } from './cell-mcp.contract.js';
import { cellProtocolContract } from './cell-protocol.contract.js';
import { cellSyscallContract } from './cell-syscalls.contract.js';

// Real runtimes: the protocol, isolation, syscall and attack contracts.
for (const rt of realRuntimes()) {
  describe.skipIf(!(await shouldRun(rt.make())))(rt.name, () => {
    cellProtocolContract(rt.name, rt.make);
    cellIsolationContract(rt.name, rt.make, rt);
    cellSyscallContract(rt.name, rt.make, { kernel: rt.name === 'gvisor' ? 'gvisor' : 'host' });
    cellAttackContract(rt.name, rt.make);
    cellMcpContract(rt.name, rt.make);
  });
}

// Runtimes that cannot run here: the protocol contract through a recording fake of their CLI
// (their isolation flags are checked in recorded-flags.test.ts).
const fakeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanocell-fake-cli-'));
afterAll(() => fs.rmSync(fakeDir, { recursive: true, force: true }));
for (const rt of fakeCliRuntimes(fakeDir)) {
  describe(`${rt.name} (recording fake, not tested on real hardware)`, () => {
    cellProtocolContract(rt.name, rt.make);
  });
}
