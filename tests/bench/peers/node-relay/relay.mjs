// Transport ceiling of the side-by-side benchmark: a WebSocket-over-TLS relay that stores
// nothing. A client connects to wss://127.0.0.1:PORT/?id=NAME; each text frame it sends
// starts with "DEST " (destination name, one space) and is forwarded unchanged to the
// connection named DEST (dropped if DEST is not connected). No compression.
//
//   node relay.mjs --port 0 --cert cert.pem --key key.pem --port-file F
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { WebSocketServer } from 'ws';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => {
    if (a.startsWith('--')) pairs.push([a.slice(2), all[i + 1]]);
    return pairs;
  }, []));

const server = createServer({ cert: readFileSync(args.cert), key: readFileSync(args.key) });
const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 65536 });
const byName = new Map();

wss.on('connection', (ws, req) => {
  const name = new URL(req.url, 'https://x').searchParams.get('id');
  if (!name) { ws.close(1008, 'id required'); return; }
  byName.set(name, ws);
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const text = data.toString();
    const space = text.indexOf(' ');
    const dest = byName.get(text.slice(0, space));
    if (dest !== undefined) dest.send(text);
  });
  ws.on('close', () => { if (byName.get(name) === ws) byName.delete(name); });
  ws.on('error', () => {});
});

server.listen(Number(args.port ?? 0), '127.0.0.1', () => {
  const port = server.address().port;
  if (args['port-file']) writeFileSync(args['port-file'], `${port}\n`);
  console.log(`node-relay: listening on wss://127.0.0.1:${port}/`);
});
