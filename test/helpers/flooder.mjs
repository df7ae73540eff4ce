// A separate process that floods board.cursor over a raw tRPC WebSocket as fast as it can,
// reconnecting when the server closes it. Args: wsUrl token boardId seconds.
import WebSocket from 'ws';

const [url, token, boardId, seconds] = process.argv.slice(2);
const until = Date.now() + Number(seconds) * 1000;
let sent = 0;
let errors = 0;
let ok = 0;
let closes = 0;
function open() {
  if (Date.now() > until) return finish();
  const ws = new WebSocket(`${url}?connectionParams=1`);
  ws.on('open', () => {
    ws.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
    const pump = () => {
      if (ws.readyState !== WebSocket.OPEN || Date.now() > until) return;
      if (ws.bufferedAmount < 64 * 1024) {
        for (let i = 0; i < 50; i++) ws.send(JSON.stringify({ id: ++sent, method: 'mutation', params: { path: 'board.cursor', input: { boardId, x: i, y: i } } }));
      }
      setImmediate(pump);
    };
    pump();
  });
  ws.on('message', (d) => (d.toString().includes('"error"') ? errors++ : ok++));
  ws.on('error', () => undefined);
  ws.on('close', () => {
    closes++;
    setTimeout(open, 100);
  });
}
function finish() {
  console.log(JSON.stringify({ sent, ok, errors, closes }));
  process.exit(0);
}
open();
setTimeout(finish, Number(seconds) * 1000 + 2000);
