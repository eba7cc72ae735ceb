// The client's startup checks, against a tiny fake server on the loopback that
// answers the wire protocol's handshake like a standalone mongod or a replica-set member.
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { BSON } from 'mongodb';
import { parseConfig } from '../../src/config';
import { ServiceUnavailable } from '../../src/core/errors';
import {
  assertTransactionsSupported, clientOptions, closeSharedMongoClient, ReplicaSetRequired, sharedMongoClient,
} from '../../src/adapters/mongodb/mongo-client';
import { openMongoStorage } from '../../src/adapters/mongodb';

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;

const header = (length: number, responseTo: number, opCode: number): Buffer => {
  const h = Buffer.alloc(16);
  h.writeInt32LE(length, 0);
  h.writeInt32LE(0, 4);
  h.writeInt32LE(responseTo, 8);
  h.writeInt32LE(opCode, 12);
  return h;
};

const reply = (requestId: number, opCode: number, doc: BSON.Document): Buffer => {
  const body = Buffer.from(BSON.serialize(doc));
  if (opCode === OP_QUERY) {
    const fields = Buffer.alloc(20);
    fields.writeInt32LE(1, 16); // numberReturned
    return Buffer.concat([header(16 + 20 + body.length, requestId, OP_REPLY), fields, body]);
  }
  const prefix = Buffer.from([0, 0, 0, 0, 0]); // flagBits, section kind 0
  return Buffer.concat([header(16 + 5 + body.length, requestId, OP_MSG), prefix, body]);
};

const commandOf = (msg: Buffer, opCode: number): string => {
  let at = 16;
  if (opCode === OP_QUERY) {
    at += 4;
    at = msg.indexOf(0, at) + 1 + 8;
  } else {
    at += 5;
  }
  const doc = BSON.deserialize(msg.subarray(at, at + msg.readInt32LE(at)));
  return Object.keys(doc)[0] ?? '';
};

/** Answers hello/isMaster with `hello` and every other command with ok. */
const fakeMongod = async (hello: (port: number) => BSON.Document, listenOn = 0): Promise<{ uri: string; stop: () => Promise<void>; commands: string[] }> => {
  const commands: string[] = [];
  let port = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4 && buf.length >= buf.readInt32LE(0)) {
        const msg = buf.subarray(0, buf.readInt32LE(0));
        buf = buf.subarray(msg.length);
        const opCode = msg.readInt32LE(12);
        const cmd = commandOf(msg, opCode);
        commands.push(cmd);
        const doc = ['hello', 'ismaster', 'isMaster'].includes(cmd) ? hello(port) : { ok: 1 };
        socket.write(reply(msg.readInt32LE(4), opCode, doc));
      }
    });
  });
  await new Promise<void>((r) => server.listen(listenOn, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  const stop = async (): Promise<void> => {
    sockets.forEach((s) => s.destroy());
    await new Promise((r) => server.close(r));
  };
  return { uri: `mongodb://127.0.0.1:${port}/?directConnection=true`, stop, commands };
};

const baseHello = {
  helloOk: true, ismaster: true, isWritablePrimary: true, maxBsonObjectSize: 16_777_216, maxMessageSizeBytes: 48_000_000,
  maxWriteBatchSize: 100_000, localTime: new Date(), logicalSessionTimeoutMinutes: 30, connectionId: 1,
  minWireVersion: 0, maxWireVersion: 21, ok: 1,
};

const configEnv = (uri: string) => ({
  STORAGE: 'mongodb', MONGODB_URI: uri, MONGODB_SERVER_SELECTION_TIMEOUT_MS: '500', MONGODB_MAX_POOL_SIZE: '2',
  AUTH_JWT_SECRET: 'unit-test-secret-0123456789',
});
const configFor = (uri: string) => parseConfig(configEnv(uri));

describe('mongodb client', () => {
  it('accepts replica sets and mongos, refuses a standalone server with a clear message', () => {
    expect(() => assertTransactionsSupported({ ...baseHello, setName: 'rs0' })).not.toThrow();
    expect(() => assertTransactionsSupported({ ...baseHello, msg: 'isdbgrid' })).not.toThrow();
    expect(() => assertTransactionsSupported(baseHello)).toThrow(ReplicaSetRequired);
    expect(() => assertTransactionsSupported(baseHello)).toThrow(/replica set/);
  });

  it('builds a small pool with a short server selection timeout from the config', () => {
    const o = clientOptions(configFor('mongodb://localhost').mongodb);
    expect(o).toMatchObject({ maxPoolSize: 2, serverSelectionTimeoutMS: 500 });
    // The driver's default (0) would wait for a pooled connection forever, past the function timeout.
    expect(o.waitQueueTimeoutMS).toBe(500);
  });

  it('bounds each ledger transaction by MONGODB_TRANSACTION_TIMEOUT_MS (default 5 s)', () => {
    expect(configFor('mongodb://localhost').mongodb.transactionTimeoutMs).toBe(5000);
  });

  it('fails to open on a standalone mongod, naming the replica set requirement', async () => {
    const fake = await fakeMongod(() => baseHello);
    try {
      await expect(openMongoStorage(configFor(fake.uri).mongodb)).rejects.toThrow(ReplicaSetRequired);
    } finally {
      await fake.stop();
    }
  });

  it('opens on a replica-set member, answers health pings, and reuses one client per process', async () => {
    const fake = await fakeMongod((port) => ({ ...baseHello, setName: 'rs0', hosts: [`127.0.0.1:${port}`], me: `127.0.0.1:${port}` }));
    try {
      const config = configFor(fake.uri);
      const storage = await openMongoStorage(config.mongodb);
      const again = await openMongoStorage(config.mongodb);
      expect(storage.kind).toBe('mongodb');
      await expect(storage.health.ping()).resolves.toBeUndefined();
      await expect(again.health.ping()).resolves.toBeUndefined();
      expect(fake.commands.filter((c) => c === 'ping')).toHaveLength(2);
      const client = await sharedMongoClient(config.mongodb);
      expect(await sharedMongoClient(config.mongodb)).toBe(client);
      await storage.close();
      // Closing forgets the client: the next open connects afresh.
      expect(await sharedMongoClient(config.mongodb)).not.toBe(client);
      await closeSharedMongoClient(config.mongodb);
    } finally {
      await fake.stop();
    }
  });

  it('has an outbox, and writes events, exactly when EVENT_BUS_NAME is set', async () => {
    const fake = await fakeMongod((port) => ({ ...baseHello, setName: 'rs0', hosts: [`127.0.0.1:${port}`], me: `127.0.0.1:${port}` }));
    try {
      const off = configFor(fake.uri).mongodb;
      const on = parseConfig({ ...configEnv(fake.uri), EVENT_BUS_NAME: 'wallet-bus' }).mongodb;
      expect([off.events, on.events]).toEqual([false, true]);
      expect((await openMongoStorage(off)).outbox).toBeUndefined();
      expect((await openMongoStorage(on)).outbox).toBeDefined();
    } finally {
      // One client serves both (events do not change the connection).
      await closeSharedMongoClient(configFor(fake.uri).mongodb);
      await fake.stop();
    }
  });

  it('answers ServiceUnavailable when nothing listens, and tries again on the next open', async () => {
    const probe = await fakeMongod(() => baseHello);
    const port = Number(new URL(probe.uri).port);
    await probe.stop(); // nothing listens on the port now
    const config = configFor(probe.uri);
    await expect(openMongoStorage(config.mongodb)).rejects.toBeInstanceOf(ServiceUnavailable);
    // The failure was not cached: once the server is up, the next open succeeds.
    const fake = await fakeMongod((p) => ({ ...baseHello, setName: 'rs0', hosts: [`127.0.0.1:${p}`] }), port);
    try {
      const storage = await openMongoStorage(config.mongodb);
      await expect(storage.health.ping()).resolves.toBeUndefined();
      await storage.close();
    } finally {
      await fake.stop();
    }
  });
});
