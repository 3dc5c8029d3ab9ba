import { tell, warnIfOverridden, type StepContext, type StepResult } from './setup-context.js';

/**
 * Step 2: the cell runtime, among those `doctor` finds available here (or `auto`: the first
 * that works at each start). A named runtime that is broken is refused with doctor's fix.
 */
export async function runtimeStep(ctx: StepContext): Promise<StepResult> {
  const { flags, prompts, draft } = ctx;
  const verdicts = await ctx.surveyRuntimes();
  const available = verdicts.filter((v) => v.group === 'available');
  let choice = flags.runtime;
  if (choice === undefined) {
    if (!available.length) {
      tell(
        ctx,
        'warn',
        'no cell runtime is usable yet; run scripts/setup.sh, then ./nanocell doctor',
      );
    }
    choice = await prompts!.select(
      'Which runtime isolates the cells?',
      [
        ...available.map((v) => ({ value: v.name, label: v.name, hint: firstPart(v.detail) })),
        { value: 'auto', label: 'auto', hint: 'the first that works at each start (bwrap first)' },
      ],
      draft.get('NANOCELL_RUNTIME') ?? available[0]?.name ?? 'auto',
    );
  } else if (choice !== 'auto' && !available.some((v) => v.name === choice)) {
    const verdict = verdicts.find((v) => v.name === choice);
    tell(
      ctx,
      'error',
      `the ${choice} runtime is not usable here: ${verdict?.detail ?? 'unknown runtime'}` +
        (available.length
          ? `; available: ${available.map((v) => v.name).join(', ')}`
          : '; none is available yet: run scripts/setup.sh'),
    );
    return 1;
  }
  const problem = draft.set('NANOCELL_RUNTIME', choice);
  if (problem) {
    tell(ctx, 'error', problem);
    return 2;
  }
  draft.save();
  tell(ctx, 'success', `runtime: ${choice}`);
  warnIfOverridden(ctx, ['NANOCELL_RUNTIME']);
  return undefined;
}

/** The runtime's own description up to its list of what it enforces: one short hint. */
function firstPart(detail: string): string {
  return detail.split(';')[0]!.slice(0, 60);
}
