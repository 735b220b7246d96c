'use strict';
// @stomp/stompjs 7 over sockjs-client 1.6 against stompbox's /sockjs endpoint, over the
// WebSocket transport and over the HTTP fallbacks (xhr-streaming, xhr-polling) that Spring's
// SockJS clients use behind proxies. Skipped while the broker does not serve /sockjs/info.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const SockJS = require('sockjs-client');
const { startBroker } = require('./lib/broker');
const { unique } = require('./lib/inbox');
const { connectedClient, subscribeConfirmed, shutdown } = require('./lib/stompjs7');

/** Resolves with the HTTP status and JSON body of GET url (null body when not JSON). */
function getJson(url) {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        let body = null;
        try { body = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, body });
      });
    }).on('error', reject);
  });
}

describe('stompjs 7 over SockJS', () => {
  let broker;
  let baseUrl;
  let served = false;
  before(async () => {
    broker = await startBroker();
    baseUrl = `http://${broker.host}:${broker.wsPort}/sockjs`;
    const info = await getJson(`${baseUrl}/info`);
    served = info.status === 200 && info.body !== null && 'websocket' in info.body;
  });
  after(async () => { if (broker) await broker.stop(); });

  for (const transports of [['websocket'], ['xhr-streaming'], ['xhr-polling']]) {
    it(`pub/sub over the ${transports[0]} transport`, async (t) => {
      if (!served) {
        t.skip('stompbox does not serve /sockjs/info yet');
        return;
      }
      const factory = () => new SockJS(baseUrl, null, { transports });
      const client = await connectedClient(null, { webSocketFactory: factory });
      try {
        assert.equal(client.connectedFrame.headers.version, '1.2');
        const dest = `/topic/${unique('sockjs')}`;
        const { inbox } = await subscribeConfirmed(client, dest);
        client.publish({ destination: dest, body: `via ${transports[0]}` });
        assert.equal((await inbox.next()).body, `via ${transports[0]}`);
      } finally {
        await shutdown(client);
      }
    });
  }
});
