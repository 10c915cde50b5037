import { CancellationScope, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { CreditActivities } from '../../activities/credits';
import { databaseWrites } from './activity-options';

// Ledger errors (InsufficientCredits, ReservationCommitted, …) are thrown non-retryable by the activities.
const credits = proxyActivities<CreditActivities>(databaseWrites());

/**
 * Credits held for one item of paid work (a training, one image): reserved before the provider
 * is called, committed once the item is delivered, refunded once otherwise. The reservation id
 * is `<runId>:<item>`: a retried activity never debits twice, and a new run of the same
 * workflow id pays for itself.
 */
export class CreditHold {
  private settled: 'committed' | 'refunded' | undefined;

  private constructor(readonly reservationId: string) {}

  /** Takes the credits now; fails InsufficientCredits (non-retryable) when the balance is short. */
  static async reserve(input: { userId: string; amount: number; item: string; reason: string }): Promise<CreditHold> {
    const hold = new CreditHold(`${workflowInfo().runId}:${input.item}`);
    await credits.reserveCredits({ userId: input.userId, amount: input.amount, reservationId: hold.reservationId, reason: input.reason });
    return hold;
  }

  get state(): 'held' | 'committed' | 'refunded' {
    return this.settled ?? 'held';
  }

  /**
   * Spends the credits of a delivered item. A cancel arriving meanwhile waits for the commit: abandoned
   * half-way, the hold would look unsettled and the run's refund would hit a committed reservation.
   */
  async commit(): Promise<void> {
    if (this.settled) return;
    await CancellationScope.nonCancellable(() => credits.commitCredits({ reservationId: this.reservationId }));
    this.settled = 'committed';
  }

  /** Gives the credits back, also while the run is being cancelled; a settled hold is left alone. */
  async refund(reason: string): Promise<void> {
    if (this.settled) return;
    await CancellationScope.nonCancellable(() => credits.refundCredits({ reservationId: this.reservationId, reason }));
    this.settled = 'refunded';
  }
}
