'use strict';
// The app's one persistent STOMP connection to stompbox, used to push notifications. It logs in
// with a token carrying role "publisher", the role stompbox requires for sending to another
// user's /user/{name}/queue/... destination. Every SEND asks for a RECEIPT: stompbox sends it
// once the message is stored, so a resolved publish() survives the author being offline.

const crypto = require('node:crypto');
const { Client } = require('@stomp/stompjs');
const WebSocket = require('ws');

const RECEIPT_TIMEOUT_MS = 10000;
const CONNECT_WAIT_MS = 10000;

class Publisher {
  /**
   * @param {string} url broker WebSocket URL, e.g. ws://127.0.0.1:15674/ws
   * @param {() => string} makeToken returns a fresh publisher JWT (called on every (re)connect)
   */
  constructor(url, makeToken, log = console) {
    this.log = log;
    this.waiters = new Set(); // callbacks failed when the connection breaks
    this.client = new Client({
      webSocketFactory: () => new WebSocket(url, this.client.stompVersions.protocolVersions()),
      reconnectDelay: 1000,
      beforeConnect: () => { this.client.connectHeaders = { passcode: makeToken() }; },
      onConnect: () => this.log.info('publisher connected to stompbox'),
      onStompError: (frame) => this.failAll(`ERROR from stompbox: ${frame.headers.message}`),
      onWebSocketClose: () => this.failAll('connection to stompbox closed'),
    });
  }

  start() {
    this.client.activate();
  }

  async stop() {
    await this.client.deactivate();
  }

  failAll(reason) {
    for (const fail of this.waiters) fail(new Error(reason));
  }

  /** Resolves once connected; rejects after `timeoutMs`. */
  async connected(timeoutMs = CONNECT_WAIT_MS) {
    const deadline = Date.now() + timeoutMs;
    while (!this.client.connected) {
      if (Date.now() > deadline) throw new Error('not connected to stompbox');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SENDs `body` (an object, as JSON) to `destination`; resolves on stompbox's RECEIPT. */
  async publish(destination, body) {
    await this.connected();
    const receipt = `r-${crypto.randomUUID()}`;
    const done = new Promise((resolve, reject) => {
      const finish = (err) => {
        clearTimeout(timer);
        this.waiters.delete(finish);
        if (err) reject(err); else resolve();
      };
      const timer = setTimeout(() => finish(new Error(`no RECEIPT for ${receipt}`)),
        RECEIPT_TIMEOUT_MS);
      this.waiters.add(finish);
      this.client.watchForReceipt(receipt, () => finish());
    });
    this.client.publish({
      destination,
      headers: { receipt, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return done;
  }
}

module.exports = { Publisher };
