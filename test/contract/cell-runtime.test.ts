import { describe } from 'vitest';
import { runtimesUnderTest, shouldRun } from '../support/runtimes.js';
import { cellRuntimeContract } from './cell-runtime.contract.js';

for (const rt of runtimesUnderTest()) {
  describe.skipIf(!(await shouldRun(rt.make())))(rt.name, () => {
    cellRuntimeContract(rt.name, rt.make);
  });
}
