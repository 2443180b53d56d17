// The app's one stream, viewerEvents, as the API tests open and read it.
import { ViewerEventsDocument, type ViewerEventsSubscription } from '../../operations/generated/graphql.ts';
import { Subscription, wsClient } from './client.ts';

export type ViewerEvent = ViewerEventsSubscription['viewerEvents'];

/** Waits until an event matching `match` has arrived on the stream, and returns it. */
export async function eventOn(stream: Subscription<ViewerEventsSubscription>, match: (event: ViewerEvent) => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (let seen = 0; ; ) {
    await stream.waitFor(seen + 1, Math.max(1, deadline - Date.now()));
    for (; seen < stream.events.length; seen++) {
      const event = stream.events[seen]!.viewerEvents;
      if (match(event)) return event;
    }
  }
}

/** A stream that has certainly started: it has carried one event the test caused. */
export async function openStream(wsUrl: string, token: string, deviceId: string, prime: () => Promise<unknown>) {
  const client = wsClient(wsUrl, token, deviceId);
  const stream = new Subscription<ViewerEventsSubscription>(client, ViewerEventsDocument);
  for (let attempt = 0; stream.events.length === 0; attempt++) {
    await prime();
    await stream.waitFor(1, 250).catch(() => {});
    if (attempt > 40) throw new Error('the stream never started');
  }
  return { client, stream };
}
