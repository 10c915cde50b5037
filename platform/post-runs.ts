import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { PostRunControl } from '../schemas/subscription-cleanup';
import { cancelPostUpdate, postWorkflowId } from '../workflows/posts/contract';

/**
 * Cancels posts through their runs' `cancelPost` update, the path DELETE /v1/posts/:id takes: the
 * run validates (not while publishing), persists `canceled` and ends. Activities reach it through
 * ActivityDeps.postRuns (they may not import the composition root).
 */
export function createPostRunControl(client: Client): PostRunControl {
  return {
    async cancel(postId) {
      try {
        await client.workflow.getHandle(postWorkflowId(postId)).executeUpdate(cancelPostUpdate);
        return 'canceled';
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError) return 'refused';
        if (err instanceof WorkflowNotFoundError) return 'not_running';
        throw err;
      }
    },
  };
}
