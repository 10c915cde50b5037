// Every workflow the worker registers. Workflow code imports only types from activities.
export { smokeWorkflow } from './smoke/workflow';
export { regenerateContentWorkflow, videoImportWorkflow } from './video-import/workflow';
export { billingEventWorkflow, subscriptionWorkflow } from './subscription/workflow';
export { subscriptionCleanupWorkflow } from './subscription-cleanup/workflow';
export { adminGrantWorkflow } from './admin-grant/workflow';
export { postWorkflow } from './posts/workflow';
export { thumbnailsWorkflow, thumbnailYoutubeUploadWorkflow } from './thumbnails/workflow';
export { commissionDisputeWorkflow, monthlyPayoutsWorkflow, payoutBatchWorkflow, payoutsWorkflow } from './payouts/workflow';
export { clipsWorkflow } from './clips/workflow';
export { videoIngestWorkflow } from './video-ingest/workflow';
export { videoExportWorkflow } from './video-export/workflow';
export { channelSyncSweepWorkflow, channelSyncWorkflow } from './channel-sync/workflow';
export { contentPlanWorkflow, scheduledContentPlanWorkflow } from './content-plans/workflow';
export { productScrapeWorkflow } from './product-scrape/workflow';
export { productVideoWorkflow } from './product-video/workflow';
export { creditExpiryWorkflow } from './credit-expiry/workflow';
export { modelTrainingWorkflow } from './model-training/workflow';
export { imageGenerationWorkflow } from './image-generation/workflow';
