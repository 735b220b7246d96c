'use strict';
// Helpers around the genuine @stomp/stompjs 7 client running over the `ws` package, as a
// Node application (or a browser) would use it against stompbox's /ws endpoint.

const { Client } = require('@stomp/stompjs');
const WebSocket = require('ws');
const { Inbox } = require('./inbox');

/** A stompjs Client for `url` (not yet active); `config` overrides the defaults below. */
function newClient(url, config = {}) {
  const log = [];
  const client = new Client({
    webSocketFactory: () => new WebSocket(url, client.stompVersions.protocolVersions()),
    connectHeaders: { login: 'alice', passcode: 'any' },
    reconnectDelay: 0,
    heartbeatIncoming: 0,
    heartbeatOutgoing: 0,
    debug: (line) => { log.push(line); },
    ...config,
  });
  client.log = log;
  client.errors = [];
  client.errorWatchers = new Set(); // pending receipt waits fail fast on an ERROR frame
  return client;
}

/** Activates `client` and resolves with the CONNECTED frame; rejects on ERROR or close. */
function activate(client) {
  return new Promise((resolve, reject) => {
    client.onConnect = (frame) => {
      client.onStompError = (f) => {
        client.errors.push(f);
        for (const fail of client.errorWatchers) fail(f);
      };
      resolve(frame);
    };
    client.onStompError = (frame) =>
      reject(new Error(`ERROR frame: ${frame.headers.message} ${frame.body}`));
    client.onWebSocketClose = (evt) =>
      reject(new Error(`WebSocket closed before CONNECTED (code ${evt.code})\n${client.log.join('\n')}`));
    client.activate();
  });
}

/** Connects a new client to `url` and resolves with it once CONNECTED. */
async function connectedClient(url, config = {}) {
  const client = newClient(url, config);
  client.connectedFrame = await activate(client);
  return client;
}

/** Resolves when the RECEIPT for `receiptId` arrives; call before sending the frame. */
function receiptFor(client, receiptId, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const done = () => { clearTimeout(timer); client.errorWatchers.delete(onError); };
    const onError = (f) => {
      done();
      reject(new Error(`ERROR instead of RECEIPT ${receiptId}: ${f.headers.message} / ${f.body}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no RECEIPT ${receiptId} within ${timeoutMs} ms; client log tail:\n` +
        client.log.slice(-4).join('\n')));
    }, timeoutMs);
    client.errorWatchers.add(onError);
    client.watchForReceipt(receiptId, (frame) => { done(); resolve(frame); });
  });
}

let receiptCounter = 0;

/** Subscribes with a receipt so the subscription is known to be live; returns {sub, inbox}. */
async function subscribeConfirmed(client, destination, headers = {}) {
  const inbox = new Inbox(`messages on ${destination}`);
  const receipt = `sub-receipt-${++receiptCounter}`;
  const confirmed = receiptFor(client, receipt);
  const sub = client.subscribe(destination, (msg) => inbox.push(msg), { ...headers, receipt });
  await confirmed;
  return { sub, inbox };
}

/** Publishes with a receipt and resolves once the broker has processed the SEND. */
async function publishConfirmed(client, params) {
  const receipt = `send-receipt-${++receiptCounter}`;
  const confirmed = receiptFor(client, receipt);
  client.publish({ ...params, headers: { ...(params.headers || {}), receipt } });
  await confirmed;
}

/** Deactivates `client` (DISCONNECT with receipt when connected) and waits for the close. */
async function shutdown(client) {
  if (!client) return;
  let timer;
  const stuck = new Promise((_, reject) => {
    timer = setTimeout(() => {
      client.forceDisconnect();
      reject(new Error('no RECEIPT for DISCONNECT / no close within 10 s'));
    }, 10000);
  });
  try {
    await Promise.race([client.deactivate(), stuck]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Publishes bodies "1".."count" to `destination` at a steady rate (`perTick` messages every
 * `tickMs`), the last one with a receipt; `state.sent` counts what was handed to the socket.
 */
async function publishSteadily(client, destination, count, state = {}, perTick = 5, tickMs = 20) {
  state.sent = 0;
  for (let i = 1; i <= count; i++) {
    if (i === count) await publishConfirmed(client, { destination, body: String(i) });
    else client.publish({ destination, body: String(i) });
    state.sent = i;
    if (i % perTick === 0) await new Promise((r) => setTimeout(r, tickMs));
  }
  return state;
}

module.exports = {
  newClient, activate, connectedClient, receiptFor, subscribeConfirmed, publishConfirmed, shutdown,
  publishSteadily,
};
