'use strict';
// @stomp/stompjs 7 over the `ws` package against the real stompbox binary on /ws:
// connect, pub/sub, receipts, heart-beats, client acks and nack redelivery, binary bodies,
// frames split across WebSocket messages, and reconnect after a broker restart.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startBroker } = require('./lib/broker');
const { Inbox, sleep, unique } = require('./lib/inbox');
const {
  newClient, connectedClient, receiptFor, subscribeConfirmed, publishConfirmed, shutdown,
} = require('./lib/stompjs7');

describe('@stomp/stompjs 7 over ws', () => {
  let broker;
  const clients = [];
  const connect = async (config) => {
    const client = await connectedClient(broker.wsUrl, config);
    clients.push(client);
    return client;
  };

  before(async () => { broker = await startBroker(); });
  after(async () => {
    for (const c of clients) await c.deactivate({ force: true }).catch(() => {});
    if (broker) await broker.stop();
  });

  it('connects with STOMP 1.2 and gets the CONNECTED headers', async () => {
    const client = await connect();
    const h = client.connectedFrame.headers;
    assert.equal(h.version, '1.2');
    assert.match(h['heart-beat'], /^\d+,\d+$/);
    assert.ok(h.session, 'CONNECTED carries a session header');
    assert.ok(h.server, 'CONNECTED carries a server header');
    assert.equal(client.webSocket.protocol, 'v12.stomp', 'server picks the v12.stomp subprotocol');
    await shutdown(client);
  });

  it('delivers a SEND to a topic subscriber with destination, subscription and custom headers',
    async () => {
      const client = await connect();
      const dest = `/topic/${unique('pubsub')}`;
      const { sub, inbox } = await subscribeConfirmed(client, dest);
      client.publish({ destination: dest, body: 'hello world', headers: { 'x-trace': 'abc:def' } });
      const msg = await inbox.next();
      assert.equal(msg.body, 'hello world');
      assert.equal(msg.headers.destination, dest);
      assert.equal(msg.headers.subscription, sub.id);
      assert.ok(msg.headers['message-id'], 'MESSAGE has a message-id');
      assert.equal(msg.headers['x-trace'], 'abc:def', 'custom header (with escaped colon) kept');
      await shutdown(client);
    });

  it('fans a message out to subscribers on other connections', async () => {
    const dest = `/topic/${unique('fanout')}`;
    const subs = [];
    for (let i = 0; i < 3; i++) subs.push(await subscribeConfirmed(await connect(), dest));
    const publisher = await connect();
    publisher.publish({ destination: dest, body: 'to everyone' });
    for (const { inbox } of subs) assert.equal((await inbox.next()).body, 'to everyone');
  });

  it('delivers /user/{name}/queue/x to every session of that user as /user/queue/x', async () => {
    const name = unique('user');
    const queue = `/queue/${unique('notes')}`;
    const asUser = { connectHeaders: { login: name, passcode: 'any' } };
    const tabs = [];
    for (let i = 0; i < 2; i++) {
      tabs.push(await subscribeConfirmed(await connect(asUser), `/user${queue}`));
    }
    const other = await connect({ connectHeaders: { login: unique('other'), passcode: 'any' } });
    const bystander = await subscribeConfirmed(other, `/user${queue}`);
    const sender = await connect();
    sender.publish({ destination: `/user/${name}${queue}`, body: 'for you' });
    for (const { inbox } of tabs) {
      const msg = await inbox.next();
      assert.equal(msg.body, 'for you');
      assert.equal(msg.headers.destination, `/user${queue}`);
    }
    await publishConfirmed(sender, { destination: `/user/${name}${queue}`, body: 'second' });
    for (const { inbox } of tabs) assert.equal((await inbox.next()).body, 'second');
    assert.equal(bystander.inbox.size, 0, 'another user never sees it');
  });

  it('answers receipts for SEND, SUBSCRIBE, UNSUBSCRIBE and DISCONNECT', async () => {
    const client = await connect();
    const dest = `/queue/${unique('receipts')}`;
    const { sub } = await subscribeConfirmed(client, dest);
    await publishConfirmed(client, { destination: dest, body: 'r' });
    const unsubscribed = receiptFor(client, 'unsub-1');
    sub.unsubscribe({ receipt: 'unsub-1' });
    const frame = await unsubscribed;
    assert.equal(frame.command, 'RECEIPT');
    assert.equal(frame.headers['receipt-id'], 'unsub-1');
    await shutdown(client); // waits for the DISCONNECT receipt
    assert.equal(client.errors.length, 0, 'no ERROR frame during the exchange');
  });

  it('keeps an idle connection alive with heart-beats in both directions', async () => {
    const beats = { received: 0 };
    let closed = false;
    const client = await connect({
      heartbeatIncoming: 1000,
      heartbeatOutgoing: 1000,
      onHeartbeatReceived: () => { beats.received++; },
    });
    client.onWebSocketClose = () => { closed = true; };
    const [sx, sy] = client.connectedFrame.headers['heart-beat'].split(',').map(Number);
    assert.ok(sx > 0, `broker offers to send heart-beats (CONNECTED heart-beat ${sx},${sy})`);
    // Idle for a few intervals of whatever was negotiated: the client drops the socket itself
    // when it sees no server activity for two of them, and the broker does the same.
    await sleep(Math.max(4000, 2 * Math.max(1000, sx, sy) + 1000));
    assert.equal(closed, false, 'connection still open after idling');
    assert.equal(client.connected, true);
    assert.ok(beats.received >= 1, 'at least one heart-beat received from the broker');
    await publishConfirmed(client, { destination: `/topic/${unique('hb')}`, body: 'still here' });
    await shutdown(client);
  });

  it('redelivers a NACKed queue message with redelivered:true and honours ACK', async () => {
    const dest = `/queue/${unique('acks')}`;
    const client = await connect();
    const { sub, inbox } = await subscribeConfirmed(client, dest, { ack: 'client-individual' });
    client.publish({ destination: dest, body: 'm1' });
    const first = await inbox.next();
    assert.equal(first.body, 'm1');
    assert.ok(first.headers.ack, 'MESSAGE in client-individual mode has an ack header (1.2)');
    assert.notEqual(first.headers.redelivered, 'true');
    first.nack();
    const again = await inbox.next();
    assert.equal(again.body, 'm1', 'the NACKed message comes back');
    assert.equal(again.headers.redelivered, 'true');
    const acked = receiptFor(client, 'ack-1');
    again.ack({ receipt: 'ack-1' });
    await acked;
    client.publish({ destination: dest, body: 'm2' });
    assert.equal((await inbox.next()).body, 'm2', 'the ACKed message is not delivered again');
    assert.equal(inbox.size, 0, 'no other delivery queued up');
    sub.unsubscribe();
    await shutdown(client);
    assert.equal(client.errors.length, 0, 'no ERROR frame for ACK/NACK');
  });

  it('does not redeliver ACKed messages to the next consumer of the queue', async () => {
    const dest = `/queue/${unique('acked')}`;
    const first = await connect();
    const a = await subscribeConfirmed(first, dest, { ack: 'client-individual' });
    first.publish({ destination: dest, body: 'once' });
    const msg = await a.inbox.next();
    const acked = receiptFor(first, 'ack-once');
    msg.ack({ receipt: 'ack-once' });
    await acked;
    await shutdown(first);

    const second = await connect();
    const b = await subscribeConfirmed(second, dest, { ack: 'client-individual' });
    second.publish({ destination: dest, body: 'marker' });
    const next = await b.inbox.next();
    assert.equal(next.body, 'marker', 'first delivery to the new consumer is the new message');
    next.ack();
    await shutdown(second);
  });

  it('round-trips a binary body with NUL and non-UTF-8 bytes', async () => {
    const client = await connect();
    const dest = `/topic/${unique('binary')}`;
    const { inbox } = await subscribeConfirmed(client, dest);
    const bytes = Uint8Array.from([0x00, 0x01, 0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0x0a, 0x00,
      0x5c, 0x3a, 0xed, 0xa0, 0x80, 0x00]);
    client.publish({ destination: dest, binaryBody: bytes,
      headers: { 'content-type': 'application/octet-stream' } });
    const msg = await inbox.next();
    assert.deepEqual(Buffer.from(msg.binaryBody), Buffer.from(bytes));
    assert.equal(msg.headers['content-type'], 'application/octet-stream');
    assert.equal(Number(msg.headers['content-length']), bytes.length);
    await shutdown(client);
  });

  it('reassembles a 100 KiB frame the client split into 8 KiB WebSocket messages', async () => {
    const client = await connect({ splitLargeFrames: true, maxWebSocketChunkSize: 8 * 1024 });
    const dest = `/queue/${unique('large')}`;
    const { inbox } = await subscribeConfirmed(client, dest);
    // Multi-byte characters make content-length (bytes) differ from the string length.
    const unit = 'stompbox-é€-0123456789abcdefghijklmnopqrstuvwxyz\n';
    const body = unit.repeat(Math.ceil((100 * 1024) / unit.length));
    await publishConfirmed(client, { destination: dest, body });
    assert.ok(client.log.some((l) => l.startsWith('chunk sent')), 'the client really split it');
    const msg = await inbox.next();
    assert.equal(msg.body.length, body.length);
    assert.equal(msg.body, body);
    await shutdown(client);
  });
});

describe('@stomp/stompjs 7 reconnect', () => {
  let broker;
  let subscriber;
  let publisher;
  before(async () => { broker = await startBroker(); });
  after(async () => {
    for (const c of [subscriber, publisher]) if (c) await c.deactivate({ force: true });
    if (broker) await broker.stop();
  });

  it('reconnects after a broker restart on the same port and resubscribes', async () => {
    const dest = `/topic/${unique('reconnect')}`;
    const connects = new Inbox('CONNECTED (re)connections');
    const closes = new Inbox('WebSocket closes');
    const messages = new Inbox(`messages on ${dest}`);
    subscriber = newClient(broker.wsUrl, { reconnectDelay: 200 });
    let n = 0;
    subscriber.onConnect = (frame) => {
      // Resubscribing in onConnect is how stompjs applications restore subscriptions.
      const receipt = `resub-${++n}`;
      subscriber.watchForReceipt(receipt, () => connects.push(frame));
      subscriber.subscribe(dest, (m) => messages.push(m), { receipt });
    };
    subscriber.onWebSocketClose = (evt) => closes.push(evt);
    subscriber.activate();
    await connects.next();

    await broker.kill();
    await closes.next();
    await broker.start();
    const reconnected = await connects.next(30000);
    assert.equal(reconnected.headers.version, '1.2');

    publisher = await connectedClient(broker.wsUrl);
    publisher.publish({ destination: dest, body: 'after restart' });
    const msg = await messages.next();
    assert.equal(msg.body, 'after restart');
    await shutdown(publisher);
    await shutdown(subscriber);
  });
});
