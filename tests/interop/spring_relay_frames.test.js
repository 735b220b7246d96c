'use strict';
// Replays, byte for byte, what Spring's StompBrokerRelayMessageHandler (spring-messaging 6)
// writes to its relay over TCP, as StompEncoder lays it out (headers in insertion order,
// content-length last on SEND, passcode in clear):
//  - the shared "system" session: CONNECT accept-version:1.1,1.2 / login / passcode /
//    heart-beat:10000,10000, no host header unless a virtual host is configured;
//  - one session per browser client: its CONNECT with login/passcode replaced by the
//    clientLogin/clientPasscode;
//  - a browser SUBSCRIBE to /user/queue/notifications as the UserDestinationMessageHandler
//    forwards it: destination /queue/notifications-user{wsSessionId} plus simpOrigDestination;
//  - convertAndSendToUser(...) from the app: a SEND on the system session with
//    simpOrigDestination first, then destination, content-type and content-length;
//  - bare "\n" heart-beats from the system session.
// Spring gives up when CONNECTED takes over 60 s (MAX_TIME_TO_CONNECTED_FRAME) and relies on
// simpOrigDestination coming back unchanged on the MESSAGE to rewrite it for the browser.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startBroker } = require('./lib/broker');
const { RawStompConnection } = require('./lib/rawstomp');

const SPRING_CONNECTED_TIMEOUT_MS = 60000;

/** The CONNECT the relay sends for the system session and (same headers) per client. */
function springConnect(conn) {
  conn.send('CONNECT', [
    ['accept-version', '1.1,1.2'],
    ['login', 'guest'],
    ['passcode', 'guest'],
    ['heart-beat', '10000,10000'],
  ]);
}

async function springSession(broker, name) {
  const conn = new RawStompConnection(name);
  await conn.connect(broker.host, broker.tcpPort);
  springConnect(conn);
  const connected = await conn.expect('CONNECTED', SPRING_CONNECTED_TIMEOUT_MS);
  return { conn, connected };
}

describe('Spring StompBrokerRelay frames over TCP', () => {
  let broker;
  const conns = [];
  before(async () => { broker = await startBroker(); });
  after(async () => {
    for (const c of conns) c.destroy();
    if (broker) await broker.stop();
  });

  it('accepts the system session CONNECT (no host) with heart-beats', async () => {
    const { conn, connected } = await springSession(broker, 'system');
    conns.push(conn);
    assert.equal(connected.headers.version, '1.2', 'highest common version of 1.1,1.2');
    const hb = connected.headers['heart-beat'];
    assert.match(hb || '', /^\d+,\d+$/, 'CONNECTED has a heart-beat header Spring can parse');
  });

  it('routes a user message: SUBSCRIBE then SEND on a never-used queue, simpOrigDestination kept',
    async () => {
      const wsSessionId = crypto.randomUUID(); // StandardWebSocketSession ids are UUIDs
      const queue = `/queue/notifications-user${wsSessionId}`;
      const system = await springSession(broker, 'system');
      const client = await springSession(broker, 'client-session');
      conns.push(system.conn, client.conn);

      client.conn.send('SUBSCRIBE', [
        ['id', 'sub-0'],
        ['destination', queue],
        ['simpOrigDestination', '/user/queue/notifications'],
        ['receipt', 'sub-0-receipt'], // the browser asked for it; the relay forwards it
      ]);
      const receipt = await client.conn.expect('RECEIPT');
      assert.equal(receipt.headers['receipt-id'], 'sub-0-receipt');

      system.conn.write(Buffer.from('\n')); // the relay's write-inactivity heart-beat
      const json = JSON.stringify({ text: 'You have 1 new notification', n: 1 });
      system.conn.send('SEND', [
        ['simpOrigDestination', '/user/queue/notifications'],
        ['destination', queue],
        ['content-type', 'application/json'],
        ['content-length', String(Buffer.byteLength(json))],
      ], json);

      const msg = await client.conn.expect('MESSAGE');
      assert.equal(msg.headers.destination, queue);
      assert.equal(msg.headers.subscription, 'sub-0');
      assert.ok(msg.headers['message-id'], 'MESSAGE has a message-id');
      assert.equal(msg.headers.simpOrigDestination, '/user/queue/notifications');
      assert.equal(msg.headers['content-type'], 'application/json');
      assert.equal(msg.body.toString(), json);
    });

  it('answers the relayed browser DISCONNECT with a RECEIPT, system session unaffected',
    async () => {
      const system = await springSession(broker, 'system');
      const client = await springSession(broker, 'client-session');
      conns.push(system.conn, client.conn);
      const topic = '/topic/greetings';
      client.conn.send('SUBSCRIBE', [['id', 'sub-1'], ['destination', topic], ['receipt', 'r1']]);
      await client.conn.expect('RECEIPT');
      client.conn.send('DISCONNECT', [['receipt', 'close-2']]);
      const bye = await client.conn.expect('RECEIPT');
      assert.equal(bye.headers['receipt-id'], 'close-2');
      await client.conn.closed; // the broker closes after the DISCONNECT receipt

      const other = await springSession(broker, 'client-session-2');
      conns.push(other.conn);
      other.conn.send('SUBSCRIBE', [['id', 'sub-0'], ['destination', topic], ['receipt', 'r2']]);
      await other.conn.expect('RECEIPT');
      system.conn.send('SEND', [
        ['destination', topic],
        ['content-type', 'text/plain;charset=UTF-8'],
        ['content-length', '5'],
      ], 'hello');
      const msg = await other.conn.expect('MESSAGE');
      assert.equal(msg.body.toString(), 'hello');
      assert.equal(msg.headers['content-type'], 'text/plain;charset=UTF-8');
    });
});
