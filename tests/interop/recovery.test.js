'use strict';
// Topic history and recovery (docs/recovery.md, issue #18) with the genuine @stomp/stompjs 7:
// a subscriber keeps the last `x-position` per destination (lib/recovery.js, the recipe of the
// doc); a publisher sends 1,000 messages at a steady rate; the subscriber's connection is cut
// mid-run, by the server (the console's admin close) or at network level (a proxy in between
// destroys both sockets); stomp.js reconnects and resubscribes with `x-recover-from`. The
// subscriber must end with all 1,000, in order, exactly once, and a RECEIPT `x-recovered:true`.
// Over WebSocket (ws) and SockJS; a recovery from too far back, after a restart (new epoch) or on
// a topic without history is `x-recovered:false`.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const SockJS = require('sockjs-client');
const WebSocket = require('ws');
const { startBroker } = require('./lib/broker');
const { Inbox, unique, waitUntil } = require('./lib/inbox');
const { startProxy } = require('./lib/proxy');
const { adminCloseSession } = require('./lib/admin');
const {
  ADMIN, READER, WRITER, login, numbers, offsetsOf, writeRecoveryConfig,
} = require('./lib/recovery_fixture');
const { RecoveringSubscription } = require('./lib/recovery');
const {
  newClient, connectedClient, receiptFor, publishConfirmed, publishSteadily, shutdown,
} = require('./lib/stompjs7');

const COUNT = 1000;
const CUT_AFTER = 300; // messages the subscriber has when its connection is cut
const WAIT_MS = 30000;
const positionsOf = (messages) => messages.map((m) => m.headers['x-position']);

describe('@stomp/stompjs 7 recovers topic messages across a cut', () => {
  let dir;
  let broker;
  let proxy;
  const clients = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stompbox-recovery-'));
    broker = await startBroker(['--config', writeRecoveryConfig(dir)]);
    proxy = await startProxy(broker.wsPort);
  });

  after(async () => {
    for (const c of clients) await c.deactivate({ force: true }).catch(() => {});
    if (proxy) await proxy.close();
    if (broker) await broker.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /**
   * A reconnecting subscriber (reconnectDelay 300 ms) on `destination` through `factory` (a
   * WebSocket factory) using the recipe: returns { client, messages, receipts } where receipts
   * is an Inbox of each SUBSCRIBE's x-recovered (null when none was asked).
   */
  function recoveringSubscriber(destination, factory) {
    const messages = [];
    const receipts = new Inbox(`RECEIPTs of SUBSCRIBE ${destination}`);
    const subscription = new RecoveringSubscription(destination, (m) => messages.push(m),
      (recovered) => receipts.push(recovered));
    const client = newClient(null, {
      ...login(READER), webSocketFactory: factory, reconnectDelay: 300,
      onConnect: (frame) => {
        sub.session = frame.headers.session; // names the connection for the admin close
        subscription.subscribe(client);
      },
    });
    const sub = { client, messages, receipts, subscription };
    clients.push(client);
    client.activate();
    return sub;
  }

  /**
   * The scenario of issue #18: 1,000 messages at a steady rate to a topic with history, the
   * subscriber cut by `cut(sub)` once it has CUT_AFTER; all 1,000 in order exactly once after.
   */
  async function recoversAllAcrossCut(factory, cut) {
    const dest = `/topic/recovery.${unique('run')}`;
    const sub = recoveringSubscriber(dest, factory);
    assert.equal(await sub.receipts.next(WAIT_MS), null, 'first SUBSCRIBE asks nothing');
    const publisher = await connectedClient(broker.wsUrl, login(WRITER));
    clients.push(publisher);
    const progress = {};
    const publishing = publishSteadily(publisher, dest, COUNT, progress);

    await waitUntil('subscriber has its first messages', () => sub.messages.length >= CUT_AFTER,
      WAIT_MS);
    const hadAtCut = sub.messages.length;
    await cut(sub);
    const recovered = await sub.receipts.next(WAIT_MS);
    const sentAtResubscribe = progress.sent;
    await publishing;
    // A marker after the 1,000: a duplicate or a late recovered message would come before it.
    await publishConfirmed(publisher, { destination: dest, body: 'end' });
    await waitUntil('the marker', () => sub.messages.some((m) => m.body === 'end'), WAIT_MS);

    assert.equal(recovered, true, 'RECEIPT x-recovered:true');
    assert.ok(hadAtCut < COUNT && sentAtResubscribe > hadAtCut,
      `cut with ${hadAtCut} received, ${sentAtResubscribe} sent at resubscribe: a real gap`);
    const bodies = sub.messages.map((m) => m.body);
    assert.deepEqual(bodies, [...numbers(COUNT), 'end'], 'all 1,000, in order, exactly once');
    assert.deepEqual(offsetsOf(positionsOf(sub.messages)), numbers(COUNT + 1).map(Number),
      'x-position offsets 1..1001 on one epoch');
    await shutdown(publisher);
    await shutdown(sub.client);
    return { hadAtCut, sentAtResubscribe };
  }

  const wsTo = (port) => () => new WebSocket(`ws://127.0.0.1:${port}/ws`,
    ['v12.stomp', 'v11.stomp', 'v10.stomp']);

  it('recovers all 1,000 after the server closes the connection (admin close)', async () => {
    const r = await recoversAllAcrossCut(wsTo(broker.wsPort),
      async (sub) => assert.equal(await adminCloseSession(broker, ADMIN, sub.session), 1));
    console.log(`admin close: cut at ${r.hadAtCut}, resubscribed at ${r.sentAtResubscribe} sent`);
  });

  it('recovers all 1,000 after a proxy drops the connection', async () => {
    const accepted = proxy.accepted;
    const r = await recoversAllAcrossCut(wsTo(proxy.port),
      async () => assert.equal(proxy.cut(), 1, 'one connection through the proxy was cut'));
    assert.equal(proxy.accepted - accepted, 2, 'the subscriber reconnected through the proxy');
    console.log(`proxy drop: cut at ${r.hadAtCut}, resubscribed at ${r.sentAtResubscribe} sent`);
  });

  it('recovers all 1,000 over SockJS (xhr-streaming) after an admin close', async () => {
    const url = `http://127.0.0.1:${broker.wsPort}/sockjs`;
    await recoversAllAcrossCut(() => new SockJS(url, null, { transports: ['xhr-streaming'] }),
      async (sub) => assert.equal(await adminCloseSession(broker, ADMIN, sub.session), 1));
  });

  it('recovers each concrete topic of a wildcard subscription', async () => {
    const id = unique('w');
    const topics = [`/topic/wild.${id}a`, `/topic/wild.${id}b`];
    // Only this test's topics match: the pattern is this test's own (/topic/wild.*).
    const sub = recoveringSubscriber('/topic/wild.*', wsTo(broker.wsPort));
    assert.equal(await sub.receipts.next(WAIT_MS), null);
    const publisher = await connectedClient(broker.wsUrl, login(WRITER));
    clients.push(publisher);
    const send = async (from, to) => {
      for (let i = from; i <= to; i++) {
        for (const t of topics) publisher.publish({ destination: t, body: String(i) });
        if (i % 5 === 0) await new Promise((r) => setTimeout(r, 20));
      }
    };
    await send(1, 50);
    await waitUntil('both topics seen', () => sub.messages.length >= 100, WAIT_MS);
    assert.equal(await adminCloseSession(broker, ADMIN, sub.session), 1);
    await send(51, 150); // partly while the subscriber is away
    const recovered = await sub.receipts.next(WAIT_MS);
    await send(151, 200);
    for (const t of topics) await publishConfirmed(publisher, { destination: t, body: 'end' });
    await waitUntil('both markers',
      () => sub.messages.filter((m) => m.body === 'end').length === 2, WAIT_MS);
    assert.equal(recovered, true, 'RECEIPT x-recovered:true');
    for (const t of topics) {
      const mine = sub.messages.filter((m) => m.headers.destination === t);
      assert.deepEqual(mine.map((m) => m.body), [...numbers(200), 'end'],
        `${t}: all, in order, once`);
      assert.deepEqual(offsetsOf(positionsOf(mine)), numbers(201).map(Number));
    }
    await shutdown(publisher);
    await shutdown(sub.client);
  });

  it('reports x-recovered:false when the history no longer reaches back', async () => {
    const dest = `/topic/short.${unique('far')}`; // max_messages = 10
    const sub = recoveringSubscriber(dest, wsTo(proxy.port));
    assert.equal(await sub.receipts.next(WAIT_MS), null);
    const publisher = await connectedClient(broker.wsUrl, login(WRITER));
    clients.push(publisher);
    const send = (body) => publishConfirmed(publisher, { destination: dest, body });
    for (let i = 1; i <= 3; i++) await send(`${i}`);
    await waitUntil('3 messages', () => sub.messages.length === 3, WAIT_MS);
    proxy.cut({ down: true }); // a long outage: reconnects fail until up()
    for (let i = 4; i <= 40; i++) await send(`${i}`);
    proxy.up();
    assert.equal(await sub.receipts.next(WAIT_MS), false, 'RECEIPT x-recovered:false');
    await send('live');
    await waitUntil('the live message', () => sub.messages.some((m) => m.body === 'live'), WAIT_MS);
    // Still subscribed, live only: nothing from history when it cannot be complete (reload).
    assert.deepEqual(sub.messages.map((m) => m.body), ['1', '2', '3', 'live']);
    await shutdown(publisher);
    await shutdown(sub.client);
  });

  it('reports x-recovered:false on a topic without history and on a queue', async () => {
    const client = await connectedClient(broker.wsUrl, login(READER));
    clients.push(client);
    for (const dest of [`/topic/${unique('plain')}`, `/queue/${unique('plain')}`]) {
      const id = unique('plain-receipt');
      const receipt = receiptFor(client, id);
      client.subscribe(dest, () => {}, { receipt: id, 'x-recover-from': 'abcd1234:5' });
      assert.equal((await receipt).headers['x-recovered'], 'false', dest);
    }
    await shutdown(client);
  });

  it('stamps its own x-position over one a sender put on the SEND', async () => {
    const dest = `/topic/recovery.${unique('forged')}`;
    const sub = recoveringSubscriber(dest, wsTo(broker.wsPort));
    assert.equal(await sub.receipts.next(WAIT_MS), null);
    const publisher = await connectedClient(broker.wsUrl, login(WRITER));
    clients.push(publisher);
    await publishConfirmed(publisher,
      { destination: dest, body: 'x', headers: { 'x-position': 'forged:99' } });
    await waitUntil('the message', () => sub.messages.length === 1, WAIT_MS);
    const position = sub.messages[0].headers['x-position'];
    assert.match(position, /^[^:]+:1$/, `the broker's position, offset 1: ${position}`);
    assert.ok(!position.startsWith('forged'), position);
    await shutdown(publisher);
    await shutdown(sub.client);
  });

  it('reports x-recovered:false after a restart (new epoch)', async () => {
    const dest = `/topic/recovery.${unique('epoch')}`;
    const sub = recoveringSubscriber(dest, wsTo(broker.wsPort));
    assert.equal(await sub.receipts.next(WAIT_MS), null);
    let publisher = await connectedClient(broker.wsUrl, login(WRITER));
    await publishConfirmed(publisher, { destination: dest, body: 'before' });
    await waitUntil('a message', () => sub.messages.length === 1, WAIT_MS);
    await shutdown(publisher);
    await broker.restart(); // in-memory history: the epoch changes
    assert.equal(await sub.receipts.next(WAIT_MS), false, 'RECEIPT x-recovered:false');
    publisher = await connectedClient(broker.wsUrl, login(WRITER));
    clients.push(publisher);
    await publishConfirmed(publisher, { destination: dest, body: 'after' });
    await waitUntil('the live message', () => sub.messages.length === 2, WAIT_MS);
    const [a, b] = sub.messages.map((m) => m.headers['x-position']);
    assert.notEqual(a.split(':')[0], b.split(':')[0], `epoch changed: ${a} then ${b}`);
    assert.equal(b.split(':')[1], '1', 'a new history starts at offset 1');
    await shutdown(publisher);
    await shutdown(sub.client);
  });
});
