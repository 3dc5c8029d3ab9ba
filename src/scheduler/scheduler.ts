import type { Logger } from 'pino';
import type { Task, TaskStore } from '../store/tasks.js';
import { runAfter } from './next-run.js';

/** The outcome of one task run. Must not throw; a throw is logged and recorded as an error. */
export type RunTask = (task: Task) => Promise<{ ok: boolean; summary: string }>;

/**
 * What to do with a run that fell due while the host was down: make it once, at start
 * (never once per missed slot), or record it as skipped. Either way the next run is the
 * first one after the host came back.
 */
export type MissedRuns = 'run-once' | 'skip';

export interface SchedulerOptions {
  tasks: TaskStore;
  runTask: RunTask;
  now: () => Date;
  log: Logger;
  missedRuns?: MissedRuns;
  /** Due tasks taken per tick; more wait for the next tick. */
  batchSize?: number;
}

export interface TickReport {
  /** Tasks whose runs this tick started (their runs have finished when tick() resolves). */
  ran: number[];
  /** Tasks whose missed runs this tick recorded as skipped. */
  skipped: number[];
}

const SKIPPED_REASON = 'missed while the host was down';
const UNFINISHED_REASON = 'the host stopped during this run';

/**
 * Runs due tasks. Each tick takes the due tasks, moves each to its next run before running
 * it (a crash mid-run cannot make it run again in a loop), then runs them side by side
 * through `runTask` and records how each run went. A task never runs twice at once: while
 * its run is in progress, later ticks leave it alone and it runs again after.
 */
export class Scheduler {
  private readonly tasks: TaskStore;
  private readonly runTask: RunTask;
  private readonly now: () => Date;
  private readonly log: Logger;
  private readonly missedRuns: MissedRuns;
  private readonly batchSize: number;
  /** Runs due before this were missed while the host was down. */
  private readonly upSince: Date;
  private readonly inFlight = new Map<number, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(options: SchedulerOptions) {
    this.tasks = options.tasks;
    this.runTask = options.runTask;
    this.now = options.now;
    this.log = options.log;
    this.missedRuns = options.missedRuns ?? 'run-once';
    this.batchSize = options.batchSize ?? 50;
    this.upSince = this.now();
  }

  /**
   * Start the due runs and resolve when they have finished. Never rejects: a broken task
   * or store is logged and the other tasks still run.
   */
  async tick(): Promise<TickReport> {
    const report: TickReport = { ran: [], skipped: [] };
    const started: Array<Promise<void>> = [];
    let due: Task[] = [];
    const now = this.now();
    try {
      // Ask for enough rows that tasks still running cannot crowd out the ones waiting.
      due = this.tasks
        .due(now, this.batchSize + this.inFlight.size)
        .filter((t) => !this.inFlight.has(t.id))
        .slice(0, this.batchSize);
    } catch (err) {
      this.log.error({ err }, 'scheduler could not read due tasks');
    }
    for (const task of due) {
      try {
        const run = this.begin(task, now, report);
        if (run) started.push(run);
      } catch (err) {
        this.log.error(
          { err, taskId: task.id, groupId: task.groupId },
          'scheduler could not start task',
        );
      }
    }
    await Promise.all(started);
    return report;
  }

  /** Tick now and then every `intervalMs`; the timer does not keep the process alive. */
  start(intervalMs: number): void {
    if (!Number.isInteger(intervalMs) || intervalMs <= 0) {
      throw new RangeError(
        `scheduler interval must be a positive whole number of ms, got ${intervalMs}`,
      );
    }
    if (this.timer) throw new Error('scheduler already started');
    try {
      const requeued = this.tasks.requeueUnstartedRuns();
      if (requeued > 0)
        this.log.warn({ runs: requeued }, 'task runs that never started are due again');
      const closed = this.tasks.failUnfinishedRuns(this.now(), UNFINISHED_REASON);
      if (closed > 0) this.log.warn({ runs: closed }, 'closed task runs left unfinished');
    } catch (err) {
      this.log.error({ err }, 'scheduler could not close unfinished runs');
    }
    this.timer = setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
    void this.tick();
  }

  /** Stop ticking and wait for the runs in progress to finish. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all(this.inFlight.values());
  }

  private begin(task: Task, now: Date, report: TickReport): Promise<void> | undefined {
    if (task.nextRunAt === null) return undefined;
    const dueAt = new Date(task.nextRunAt);
    const context = { taskId: task.id, groupId: task.groupId };
    let nextRunAt: Date | null;
    try {
      nextRunAt = runAfter(task.schedule, dueAt, now);
    } catch (err) {
      // A stored schedule croner no longer accepts would be due, and fail, on every tick.
      this.log.error({ ...context, err }, 'task paused: its schedule cannot be computed');
      this.tasks.setStatus(task.id, 'paused', now);
      return undefined;
    }
    const claim = { dueAt: task.nextRunAt, nextRunAt, now };
    if (this.missedRuns === 'skip' && dueAt < this.upSince) {
      if (this.tasks.markRunSkipped(task.id, claim, SKIPPED_REASON) !== undefined) {
        report.skipped.push(task.id);
        this.log.info({ ...context, dueAt: task.nextRunAt }, 'task run skipped: missed while down');
      }
      return undefined;
    }
    const runId = this.tasks.markRunStarted(task.id, claim);
    if (runId === undefined) return undefined;
    report.ran.push(task.id);
    const run = this.execute(task, runId).finally(() => this.inFlight.delete(task.id));
    this.inFlight.set(task.id, run);
    return run;
  }

  private async execute(task: Task, runId: number): Promise<void> {
    const context = { taskId: task.id, groupId: task.groupId, runId };
    const startedMs = this.now().getTime();
    this.log.info(context, 'task run started');
    let outcome: { ok: boolean; summary: string };
    try {
      outcome = await this.runTask(task);
    } catch (err) {
      this.log.error({ ...context, err }, 'task run threw');
      outcome = { ok: false, summary: err instanceof Error ? err.message : String(err) };
    }
    const now = this.now();
    try {
      this.tasks.markRunFinished(
        runId,
        outcome.ok
          ? { status: 'ok', summary: outcome.summary, now }
          : { status: 'error', error: outcome.summary, now },
      );
    } catch (err) {
      this.log.error({ ...context, err }, 'could not record the end of a task run');
    }
    this.log.info(
      { ...context, ok: outcome.ok, durationMs: now.getTime() - startedMs },
      'task run finished',
    );
  }
}
