// The baseline of the classroom benchmark: a minimal socket.io relay as tutorials write it. Every
// event a client sends is re-emitted to the other sockets of its room with `socket.to(room).emit`.
// PORT (required) and HOST (default 127.0.0.1) from the environment.
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const port = Number(process.env.PORT);
const host = process.env.HOST ?? '127.0.0.1';
const httpServer = createServer();
const io = new Server(httpServer, { serveClient: false });

io.on('connection', (socket) => {
  socket.on('join', (room, ack) => {
    socket.join(room);
    socket.data.room = room;
    if (typeof ack === 'function') ack();
  });
  socket.onAny((event, ...args) => {
    if (event !== 'join' && socket.data.room) socket.to(socket.data.room).emit(event, ...args);
  });
});

httpServer.listen(port, host, () => console.log(`socket.io relay listening on ${host}:${port}`));
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    io.close();
    process.exit(0);
  });
}
