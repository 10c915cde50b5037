export interface SseEvent {
  id?: string;
  event: string;
  data: any;
}

/**
 * Reads a text/event-stream until the server ends it (or `stopAfter` says so), parsing
 * events as the SSE spec frames them; comments are returned separately.
 */
export async function readEventStream(
  url: string,
  headers: Record<string, string> = {},
  stopAfter?: (events: SseEvent[]) => boolean,
): Promise<{ status: number; contentType: string | null; events: SseEvent[]; comments: string[] }> {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  if (!res.ok || !res.body) return { status: res.status, contentType: res.headers.get('content-type'), events, comments };
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event: Partial<SseEvent> & { dataLines: string[] } = { dataLines: [] };
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) comments.push(line.slice(1).trim());
          else if (line.startsWith('id: ')) event.id = line.slice(4);
          else if (line.startsWith('event: ')) event.event = line.slice(7);
          else if (line.startsWith('data: ')) event.dataLines.push(line.slice(6));
        }
        if (event.dataLines.length > 0)
          events.push({ id: event.id, event: event.event ?? 'message', data: JSON.parse(event.dataLines.join('\n')) });
      }
      if (stopAfter?.(events)) {
        controller.abort();
        break;
      }
    }
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err;
  }
  return { status: res.status, contentType: res.headers.get('content-type'), events, comments };
}
