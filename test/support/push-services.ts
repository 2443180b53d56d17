// Local stand-ins for the services a server tells devices through, for the push tests: a Web Push
// service (HTTPS, with a certificate made here that the server process trusts through
// NODE_EXTRA_CA_CERTS) and a Matrix push gateway. Both record every request and answer as a test
// tells them: success by default, or a queue of answers (410, 429 with Retry-After, 5xx,
// {"rejected": [...]}), or holding a request unanswered.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  /** The PEM file to give a server process as NODE_EXTRA_CA_CERTS. */
  certPath: string;
  cert: string;
  key: string;
  remove(): void;
}

/** A self-signed certificate for 127.0.0.1 and localhost, made with openssl, valid for a day. */
export function makeTestCertificate(): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'push-cert-'));
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: 'ignore' });
  return { certPath, cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** When it arrived (Date.now()). */
  at: number;
  /** Whether the request was answered (a held one whose client died never is). */
  answered: boolean;
  status: number | null;
}

/** What to answer: a status, headers and a body; or 'hold' to keep the request unanswered. */
export type Answer = { status: number; headers?: Record<string, string>; body?: string } | 'hold';

export interface RecordingService {
  /** The service's base URL (https://127.0.0.1:port). */
  url: string;
  readonly requests: RecordedRequest[];
  /** Answers the next requests with these, in order; then the default again. */
  answerNext(...answers: Answer[]): void;
  /** Answers every held request with the default. */
  releaseHeld(): void;
  close(): Promise<void>;
}

/** An HTTPS server that records requests and answers them as told (defaultAnswer otherwise). */
export async function startRecordingService(certificate: TestCertificate, defaultAnswer: Exclude<Answer, 'hold'>): Promise<RecordingService> {
  const requests: RecordedRequest[] = [];
  const queued: Answer[] = [];
  const held: { record: RecordedRequest; res: ServerResponse }[] = [];
  const answer = (record: RecordedRequest, res: ServerResponse, { status, headers = {}, body = '' }: Exclude<Answer, 'hold'>) => {
    record.answered = true;
    record.status = status;
    res.writeHead(status, headers).end(body);
  };
  const server = createServer({ cert: certificate.cert, key: certificate.key }, (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const record: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks), at: Date.now(), answered: false, status: null };
      requests.push(record);
      const next = queued.shift() ?? defaultAnswer;
      if (next === 'hold') held.push({ record, res });
      else answer(record, res, next);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    answerNext: (...answers) => queued.push(...answers),
    releaseHeld() {
      for (const { record, res } of held.splice(0)) if (!res.destroyed) answer(record, res, defaultAnswer);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A Web Push service: 201 Created, as RFC 8030 answers a push message it accepted. */
export const startWebPushService = (certificate: TestCertificate) => startRecordingService(certificate, { status: 201 });

/** A Matrix push gateway: 200 with no rejected pushkey. */
export const startPushGateway = (certificate: TestCertificate) =>
  startRecordingService(certificate, { status: 200, headers: { 'content-type': 'application/json' }, body: '{"rejected":[]}' });

/** The notify bodies a gateway received (parsed). */
export function notifyBodies(gateway: RecordingService): GatewayNotification[] {
  return gateway.requests.map((r) => (JSON.parse(r.body.toString('utf8')) as { notification: GatewayNotification }).notification);
}

export interface GatewayNotification {
  event_id?: string;
  room_id?: string;
  type?: string;
  sender?: string;
  sender_display_name?: string;
  room_name?: string;
  prio?: string;
  content?: { msgtype: string; body: string };
  counts: { unread?: number; mentions?: number };
  devices: { app_id: string; pushkey: string; pushkey_ts?: number; data?: Record<string, unknown>; tweaks?: Record<string, unknown> }[];
}
