// The one HTTP client of measured requests (sends, publishes, queries): node:http over keep-alive
// connections. fetch costs several times more CPU per request (~0.4 ms more here), and on a 2-core
// machine whatever the client spends is taken from the server under test.
import http from 'node:http';

const agent = new http.Agent({ keepAlive: true });

export interface HttpAnswer {
  status: number;
  text: string;
}

/** POSTs body to url; rejects on a transport error or when no answer comes within timeoutMs. */
export function post(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        clearTimeout(timer);
        resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    const timer = setTimeout(() => request.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)), timeoutMs);
    request.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.end(body);
  });
}
