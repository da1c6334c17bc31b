// The runtime's ceiling for `npm run bench:site`: a bare node:http server that answers every request with
// one file's bytes, read once at start. Nothing Gazette does can be faster than this on the same Node.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { file: { type: 'string' }, port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' } },
  strict: true,
});
if (values.file === undefined || values.port === undefined) {
  console.error('Usage: node bench/site-static-server.ts --file <path> --port <n> [--host 127.0.0.1]');
  process.exit(2);
}

const body = readFileSync(values.file);
const headers = { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': String(body.length) };
const server = createServer((_request, response) => {
  response.writeHead(200, headers);
  response.end(body);
});
server.listen(Number(values.port), values.host);

// Close on SIGTERM/SIGINT so the parent sees a clean exit; idle keep-alive sockets must not hold it open.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
  });
}
