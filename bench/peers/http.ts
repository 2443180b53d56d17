// The HTTP side both peers share: GET /ready, and POST /publish?c=<channel> with the message
// text as the body (the publisher's "send").
import http from 'node:http';

export function createControlServer(publish: (channel: string, text: string) => void): http.Server {
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/ready') {
      res.end('ok');
      return;
    }
    if (req.method === 'POST' && url.pathname === '/publish') {
      const channel = url.searchParams.get('c');
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (!channel) {
          res.statusCode = 400;
          res.end('missing ?c=<channel>');
          return;
        }
        publish(channel, Buffer.concat(chunks).toString('utf8'));
        res.end('ok');
      });
      return;
    }
    res.statusCode = 404;
    res.end();
  });
}

export function listenPort(): number {
  const port = Number(process.env.PORT);
  if (!Number.isInteger(port) || port <= 0) throw new Error('PORT must be set');
  return port;
}
