/**
 * Task queues split by resource: general orchestration + I/O, and CPU-bound media work
 * with low concurrency. A prefix lets tests and parallel stacks isolate their queues.
 */
export interface TaskQueues {
  main: string;
  media: string;
}

export function taskQueues(prefix = ''): TaskQueues {
  return { main: `${prefix}platform-main`, media: `${prefix}platform-media` };
}
