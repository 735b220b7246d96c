'use strict';
// The legacy `stompjs` 2.3.3 client (jmesnil/stomp-websocket), still found in many older web
// apps: Stomp.over(WebSocket) with subprotocols v10.stomp/v11.stomp, CONNECT with
// accept-version:1.1,1.0 and no host header, 1.1-style ACK (message-id + subscription).

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const WebSocket = require('ws');
const { Stomp } = require('stompjs/lib/stomp.js');
const { startBroker } = require('./lib/broker');
const { Inbox, unique } = require('./lib/inbox');

// stomp.js only wires its timers to `window`; in Node they must be supplied (as its own
// stomp-node.js does).
Stomp.setInterval = (interval, f) => setInterval(f, interval);
Stomp.clearInterval = (id) => clearInterval(id);

/** Opens a WebSocket with the subprotocols stomp.js offers and resolves once CONNECTED. */
function legacyConnect(url, login = 'bob') {
  const ws = new WebSocket(url, ['v10.stomp', 'v11.stomp']);
  const client = Stomp.over(ws);
  client.log = [];
  client.debug = (line) => client.log.push(line);
  client.errors = new Inbox('ERROR frames / closes');
  return new Promise((resolve, reject) => {
    let connected = false;
    client.connect({ login, passcode: 'any' }, (frame) => {
      connected = true;
      resolve({ client, ws, frame });
    }, (err) => {
      if (!connected) reject(new Error(`connect failed: ${err.headers ? err.headers.message : err}`));
      else client.errors.push(err);
    });
  });
}

/** Subscribes and proves the subscription is live with a receipt (SUBSCRIBE receipt header). */
function subscribeConfirmed(client, destination, headers = {}) {
  const inbox = new Inbox(`messages on ${destination}`);
  const receipt = unique('sub');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no RECEIPT ${receipt}`)), 10000);
    client.onreceipt = (frame) => {
      if (frame.headers['receipt-id'] !== receipt) return;
      clearTimeout(timer);
      client.onreceipt = null;
      resolve({ sub, inbox });
    };
    const sub = client.subscribe(destination, (m) => inbox.push(m), { ...headers, receipt });
  });
}

/** Sends a frame through `send(headers)` with a receipt header and waits for that RECEIPT. */
function withReceipt(client, send) {
  const receipt = unique('r');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no RECEIPT ${receipt}`)), 10000);
    client.onreceipt = (frame) => {
      if (frame.headers['receipt-id'] !== receipt) return;
      clearTimeout(timer);
      client.onreceipt = null;
      resolve(frame);
    };
    send({ receipt });
  });
}

describe('legacy stompjs 2.3.3 over ws', () => {
  let broker;
  const sockets = [];
  const connect = async (login) => {
    const conn = await legacyConnect(broker.wsUrl, login);
    sockets.push(conn);
    return conn;
  };

  before(async () => { broker = await startBroker(); });
  after(async () => {
    for (const { client, ws } of sockets) {
      client._cleanUp();
      ws.terminate();
    }
    if (broker) await broker.stop();
  });

  it('connects as STOMP 1.1 over the v11.stomp subprotocol without a host header', async () => {
    const { client, ws, frame } = await connect();
    assert.equal(ws.protocol, 'v11.stomp');
    assert.equal(frame.command, 'CONNECTED');
    assert.equal(frame.headers.version, '1.1');
    assert.match(frame.headers['heart-beat'], /^\d+,\d+$/);
    assert.ok(client.connected);
    client.disconnect();
  });

  it('subscribes, sends and receives across two connections', async () => {
    const dest = `/topic/${unique('legacy')}`;
    const receiver = await connect('bob');
    const sender = await connect('carol');
    const { sub, inbox } = await subscribeConfirmed(receiver.client, dest);
    sender.client.send(dest, { 'x-app': 'legacy' }, 'hello from 2013');
    const msg = await inbox.next();
    assert.equal(msg.command, 'MESSAGE');
    assert.equal(msg.body, 'hello from 2013');
    assert.equal(msg.headers.destination, dest);
    assert.equal(msg.headers.subscription, sub.id);
    assert.ok(msg.headers['message-id']);
    assert.equal(msg.headers['x-app'], 'legacy');
    receiver.client.disconnect();
    sender.client.disconnect();
  });

  it('acknowledges in client mode with 1.1 ACK headers', async () => {
    const dest = `/queue/${unique('legacy-ack')}`;
    const { client } = await connect();
    const { inbox } = await subscribeConfirmed(client, dest, { ack: 'client' });
    await withReceipt(client, (h) => client.send(dest, h, 'ack me'));
    const msg = await inbox.next();
    assert.equal(msg.body, 'ack me');
    // frame.ack() sends ACK with message-id and subscription, as STOMP 1.1 defines it.
    const receipt = await withReceipt(client, (h) => msg.ack(h));
    assert.equal(receipt.command, 'RECEIPT');
    assert.equal(client.errors.size, 0, 'no ERROR frame for the 1.1 ACK');
    client.disconnect();
  });

  it('disconnects cleanly and the broker keeps serving other clients', async () => {
    const dest = `/topic/${unique('legacy-bye')}`;
    const leaving = await connect();
    const closed = new Promise((resolve) => leaving.ws.once('close', resolve));
    leaving.client.disconnect();
    await closed;
    assert.equal(leaving.ws.readyState, WebSocket.CLOSED);
    assert.equal(leaving.client.connected, false);

    const { client } = await connect();
    const { inbox } = await subscribeConfirmed(client, dest);
    client.send(dest, {}, 'still serving');
    assert.equal((await inbox.next()).body, 'still serving');
    client.disconnect();
  });
});
