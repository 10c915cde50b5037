import { defineSignal } from '@temporalio/workflow';
import type { ProviderJobUpdate } from '../../schemas/provider-jobs';

/**
 * A provider job's status from our verified webhook route (`POST /v1/webhooks/:provider`). The
 * route only signals a run that exists (never signalWithStart): a webhook cannot start work.
 * Its own module so the API can send it without importing workflow code.
 */
export const providerJobUpdateSignal = defineSignal<[ProviderJobUpdate]>('providerJobUpdate');
