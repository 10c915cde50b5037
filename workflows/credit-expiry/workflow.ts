import { continueAsNew, proxyActivities } from '@temporalio/workflow';
import type { CreditExpiryActivities } from '../../activities/credit-expiry';
import { databaseWrites } from '../common/activity-options';
import { CREDIT_EXPIRY_PAGE_SIZE, CREDIT_EXPIRY_PAGES_PER_RUN, type CreditExpiryResult } from './contract';

const ledger = proxyActivities<CreditExpiryActivities>({ ...databaseWrites(), startToCloseTimeout: '2 minutes' });

/**
 * Expires every credit lot whose time has come, a page at a time; each lot leaves the balance as
 * one 'expiry' ledger row. Many pages continue as new, carrying the totals.
 */
export async function creditExpiryWorkflow(
  carried: CreditExpiryResult = { expiredLots: 0, expiredCredits: 0 },
): Promise<CreditExpiryResult> {
  const totals = { ...carried };
  for (let page = 0; page < CREDIT_EXPIRY_PAGES_PER_RUN; page++) {
    const result = await ledger.expireDueCreditLots({ limit: CREDIT_EXPIRY_PAGE_SIZE });
    totals.expiredLots += result.expiredLots;
    totals.expiredCredits += result.expiredCredits;
    if (!result.more) return totals;
  }
  return continueAsNew<typeof creditExpiryWorkflow>(totals);
}
