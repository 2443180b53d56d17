// A scripted MongoDB wire-protocol endpoint for start-up tests of real server processes: it speaks
// just enough of the protocol (the OP_QUERY handshake, then OP_MSG commands) for the official driver
// to connect, and answers each command as the test scripts it: refuse the credentials, fail an
// index's creation, or never finish it. It stores nothing and is no MongoDB server; it plays one
// that fails in a known way, so a test can watch a real process report it and stop.
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { BSON, type Document } from 'mongodb';

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;

/** The answer to one command: a reply document, or 'never' to leave the client waiting. */
export type Answer = Document | 'never';

/** Answers every command: the test's script first, then a standalone server's defaults. */
export type Script = (command: Document) => Answer | undefined;

const HELLO = {
  ismaster: true,
  isWritablePrimary: true,
  helloOk: true,
  maxBsonObjectSize: 16 * 1024 * 1024,
  maxMessageSizeBytes: 48_000_000,
  maxWriteBatchSize: 100_000,
  logicalSessionTimeoutMinutes: 30,
  connectionId: 1,
  minWireVersion: 0,
  maxWireVersion: 21,
  readOnly: false,
  ok: 1,
};

/** What a standalone server answers to the commands a store's start-up sends before it reads data. */
function standalone(command: Document): Answer {
  const name = Object.keys(command)[0]!;
  if (name === 'ismaster' || name === 'isMaster' || name === 'hello') return { ...HELLO, localTime: new Date() };
  if (name === 'ping' || name === 'create' || name === 'createIndexes' || name === 'endSessions') return { ok: 1 };
  return { ok: 0, errmsg: `no such command: '${name}'`, code: 59, codeName: 'CommandNotFound' };
}

function header(length: number, requestId: number, responseTo: number, opCode: number): Buffer {
  const buffer = Buffer.alloc(16);
  buffer.writeInt32LE(length, 0);
  buffer.writeInt32LE(requestId, 4);
  buffer.writeInt32LE(responseTo, 8);
  buffer.writeInt32LE(opCode, 12);
  return buffer;
}

/** The command of one message, and how to frame a reply to it. */
function parse(message: Buffer): { command: Document; reply: (doc: Document) => Buffer } {
  const requestId = message.readInt32LE(4);
  const opCode = message.readInt32LE(12);
  const body = BSON.serialize;
  if (opCode === OP_QUERY) {
    const nameEnd = message.indexOf(0, 20);
    const queryAt = nameEnd + 1 + 8;
    const command = BSON.deserialize(message.subarray(queryAt, queryAt + message.readInt32LE(queryAt)));
    return {
      command,
      reply: (doc) => {
        const fields = Buffer.alloc(20);
        fields.writeInt32LE(1, 16); // numberReturned
        const bytes = Buffer.from(body(doc));
        return Buffer.concat([header(16 + 20 + bytes.length, 0, requestId, OP_REPLY), fields, bytes]);
      },
    };
  }
  if (opCode !== OP_MSG) throw new Error(`scripted MongoDB: opcode ${opCode} is not spoken here`);
  // flagBits, then sections: kind 0 is the command; kind 1 (document sequences) is not used by these commands.
  const command = BSON.deserialize(message.subarray(21, 21 + message.readInt32LE(21)));
  return {
    command,
    reply: (doc) => {
      const bytes = Buffer.from(body(doc));
      return Buffer.concat([header(16 + 5 + bytes.length, 0, requestId, OP_MSG), Buffer.alloc(5), bytes]);
    },
  };
}

function serve(socket: Socket, script: Script): void {
  let pending = Buffer.alloc(0);
  socket.on('error', () => undefined);
  socket.on('data', (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4 && pending.length >= pending.readInt32LE(0)) {
      const message = pending.subarray(0, pending.readInt32LE(0));
      pending = pending.subarray(message.length);
      const { command, reply } = parse(message);
      const answer = script(command) ?? standalone(command);
      if (answer !== 'never') socket.write(reply(answer));
    }
  });
}

export interface ScriptedMongo {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Listens on a free loopback port and answers as the script says. */
export async function scriptedMongo(script: Script, userinfo = ''): Promise<ScriptedMongo> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serve(socket, script);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `mongodb://${userinfo}127.0.0.1:${port}/chat?directConnection=true`,
    port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
