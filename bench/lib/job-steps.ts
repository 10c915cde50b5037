import type pg from 'pg';

/** The job every B2 system runs: three steps, each one small write to the same PostgreSQL table. */
export interface JobSteps {
  step(jobId: string, step: number): Promise<void>;
}

/**
 * Completion signal shared by every system under test: the third step resolves the waiter of
 * its job, so "done" means the same thing (last write committed) whichever system ran it.
 */
export class Completions {
  private readonly waiting = new Map<string, () => void>();

  /** Resolves once `jobId`'s third step has committed; call before the job can finish. */
  expect(jobId: string): Promise<void> {
    return new Promise((resolve) => this.waiting.set(jobId, resolve));
  }

  done(jobId: string): void {
    this.waiting.get(jobId)?.();
    this.waiting.delete(jobId);
  }
}

export async function createJobTable(pool: pg.Pool): Promise<void> {
  await pool.query(
    'create table if not exists bench_b2_jobs (id text primary key, system text not null, step int not null, started_at timestamptz not null default now(), done_at timestamptz)',
  );
}

/** Step 1 inserts the job's row, steps 2 and 3 update it; each is idempotent so a retried step is harmless. */
export function jobSteps(pool: pg.Pool, system: string, completions: Completions): JobSteps {
  return {
    async step(jobId, step) {
      if (step === 1)
        await pool.query('insert into bench_b2_jobs (id, system, step) values ($1, $2, 1) on conflict (id) do nothing', [jobId, system]);
      else if (step === 2) await pool.query('update bench_b2_jobs set step = 2 where id = $1 and step < 2', [jobId]);
      else {
        await pool.query('update bench_b2_jobs set step = 3, done_at = now() where id = $1', [jobId]);
        completions.done(jobId);
      }
    },
  };
}

/** Runs the three steps in order inside one job handler (how the queue libraries run a multi-step job). */
export async function runThreeSteps(steps: JobSteps, jobId: string): Promise<void> {
  for (const n of [1, 2, 3]) await steps.step(jobId, n);
}
