import type { WorkflowHandle } from '@temporalio/client';

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
type Event = NonNullable<History['events']>[number];
type ProtoTime = { seconds?: { toString(): string } | number | null; nanos?: number | null } | null | undefined;

/** Timestamp or Duration proto → milliseconds (seconds arrive as Long). */
export function protoMs(value: ProtoTime): number {
  if (!value) return Number.NaN;
  const seconds = typeof value.seconds === 'number' ? value.seconds : Number(value.seconds?.toString() ?? 0);
  return seconds * 1000 + (value.nanos ?? 0) / 1e6;
}

export interface TimerTiming {
  /** When the timer was due: TimerStarted time + its start-to-fire timeout. */
  dueMs: number;
  /** When the worker acted on the fired timer: the first WorkflowTaskCompleted after TimerFired. */
  handledMs: number;
  completedMs: number;
}

/** The first timer of a workflow run, read from its history; undefined when it never fired. */
export function firstTimerTiming(events: readonly Event[]): TimerTiming | undefined {
  // An event's kind is told by which attributes it carries (avoids importing @temporalio/proto's enum).
  const startedIndex = events.findIndex((e) => e.timerStartedEventAttributes);
  const firedIndex = events.findIndex((e) => e.timerFiredEventAttributes);
  const started = events[startedIndex];
  if (!started || firedIndex < 0) return undefined;
  const handled = events.slice(firedIndex).find((e) => e.workflowTaskCompletedEventAttributes);
  const completed = events.find((e) => e.workflowExecutionCompletedEventAttributes);
  if (!handled || !completed) return undefined;
  return {
    dueMs: protoMs(started.eventTime) + protoMs(started.timerStartedEventAttributes?.startToFireTimeout),
    handledMs: protoMs(handled.eventTime),
    completedMs: protoMs(completed.eventTime),
  };
}
