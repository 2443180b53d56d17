// Matrix pushers: POST the notify body to the gateway's URL (Push Gateway API,
// /_matrix/push/v1/notify). The gateway answers with the pushkeys it rejected; ours among them
// means the pusher is dead.
import type { PusherTarget } from '../domain/push.ts';
import { type DeliveryOutcome, SEND_TIMEOUT_MS, outcomeOfStatus } from './delivery.ts';

/** The most of a gateway's answer that is read: it is a short list of pushkeys. */
const ANSWER_MAX_BYTES = 64 * 1024;

/** The response body as text, refusing to read past the limit. */
async function boundedText(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > ANSWER_MAX_BYTES) {
      await reader.cancel();
      throw new Error(`the gateway's answer is over ${ANSWER_MAX_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The pushkeys of a gateway's answer `{"rejected": [...]}` (none when it is anything else). */
function rejectedOf(text: string): string[] {
  try {
    const answer = JSON.parse(text) as { rejected?: unknown };
    return Array.isArray(answer.rejected) ? answer.rejected.filter((key): key is string => typeof key === 'string') : [];
  } catch {
    return [];
  }
}

/** Sends one notify request for one pusher and says what came of it. */
export async function sendToGateway(target: PusherTarget, body: string): Promise<DeliveryOutcome> {
  let response: Response;
  try {
    response = await fetch(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      redirect: 'error',
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
    });
  } catch (error) {
    return { kind: 'retry', reason: (error as Error).message, retryAfterMs: null };
  }
  try {
    const text = await boundedText(response);
    if (!response.ok) return outcomeOfStatus(response.status, response.headers.get('retry-after'), []);
    if (rejectedOf(text).includes(target.pushkey)) return { kind: 'gone', reason: 'the gateway rejected the pushkey' };
    return { kind: 'sent' };
  } catch (error) {
    return { kind: 'retry', reason: (error as Error).message, retryAfterMs: null };
  }
}
