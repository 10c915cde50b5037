import { ActivityFailure, ApplicationFailure, isCancellation } from '@temporalio/workflow';
import type { RunError } from '../../schemas/runs';

/** The typed failure behind an error: the error itself, or what an activity or child run threw. */
function applicationFailureOf(err: unknown): ApplicationFailure | undefined {
  if (err instanceof ApplicationFailure) return err;
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  return cause instanceof ApplicationFailure ? cause : undefined;
}

/** Type and message of a failure for job_runs, domain rows and typed rethrows (the API maps the type). */
export function describeFailure(err: unknown): RunError {
  const failure = applicationFailureOf(err);
  if (failure) return { type: failure.type ?? 'ApplicationFailure', message: failure.message };
  // A timeout inside an activity is named for itself, not for the ActivityFailure wrapping it.
  const inner = err instanceof ActivityFailure && err.cause ? err.cause : err;
  return { type: (inner as Error | undefined)?.name ?? 'Error', message: (inner as Error | undefined)?.message ?? String(inner) };
}

/** The message a user reads on a failed or canceled row. */
export function failureMessage(err: unknown): string {
  if (isCancellation(err)) return 'canceled by request';
  return describeFailure(err).message;
}
