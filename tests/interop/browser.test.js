'use strict';
// A real browser: headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core,
// nothing downloaded) runs @stomp/stompjs from a page served here on another origin, over the
// browser's own WebSocket and over SockJS forced to xhr-streaming (cross-origin, so CORS).

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { HOST } = require('./lib/broker');
const { unique } = require('./lib/inbox');
const { openPage } = require('./lib/page');

describe('Chromium with stompjs 7', () => {
  let s;
  let broker;
  let page;
  let consoleLines;

  before(async () => {
    // The page is on another origin: the broker must list it (websocket.allowed_origins), as a
    // web app served from its own host would be configured.
    s = await openPage(HOST, (pageOrigin, dir) => {
      const config = path.join(dir, 'stompbox.toml');
      fs.writeFileSync(config, `[websocket]\nallowed_origins = ["${pageOrigin}"]\n`);
      return ['--config', config];
    });
    ({ broker, page, consoleLines } = s);
  });

  after(async () => {
    if (s) await s.close();
  });

  /** Runs `fn` in the page; a failure carries the page's console output. */
  async function inPage(fn, args) {
    try {
      return await page.evaluate(fn, args);
    } catch (err) {
      err.message += `\n--- page console ---\n${consoleLines.join('\n')}`;
      throw err;
    }
  }

  it('talks STOMP over the browser WebSocket', async () => {
    const dest = `/topic/${unique('browser-ws')}`;
    const seen = await inPage(([url, d]) => window.stompOverWebSocket(url, d, 'h\u00e9llo ws'),
      [broker.wsUrl, dest]);
    assert.equal(seen.protocol, 'v12.stomp');
    assert.equal(seen.version, '1.2');
    assert.equal(seen.destination, dest);
    assert.equal(seen.body, 'h\u00e9llo ws');
  });

  it('talks STOMP over SockJS xhr-streaming from another origin', async () => {
    const dest = `/topic/${unique('browser-sockjs')}`;
    const url = `http://${HOST}:${broker.wsPort}/sockjs`;
    const seen = await inPage(([u, d]) => window.stompOverSockJS(u, 'xhr-streaming', d,
      'h\u00e9llo \u2028 sockjs \ud83d\ude00'), [url, dest]);
    assert.equal(seen.transport, 'xhr-streaming');
    assert.equal(seen.version, '1.2');
    assert.equal(seen.destination, dest);
    assert.equal(seen.body, 'h\u00e9llo \u2028 sockjs \ud83d\ude00');
  });
});

// The genuine @stomp/stompjs browser suite's setting (issue #15): its page is served from another
// local port (here http://localhost:<port>) against a broker with default settings, which is
// development mode (no users) with no allowed_origins, and its heart-beat specs ask 1,000 ms.
describe('Chromium with stompjs 7 against a default development-mode broker', () => {
  let s;
  let broker;
  let page;
  let consoleLines;

  before(async () => {
    s = await openPage('localhost', () => []);
    ({ broker, page, consoleLines } = s);
  });

  after(async () => {
    if (s) await s.close();
  });

  it('connects from a page on another local port and gets 1,000 ms heart-beats', async () => {
    const dest = `/topic/${unique('browser-hb')}`;
    let seen;
    try {
      seen = await page.evaluate(([url, d]) => window.stompHeartBeats(url, d, 'beat', 3500),
        [broker.wsUrl, dest]);
    } catch (err) {
      err.message += `\n--- page console ---\n${consoleLines.join('\n')}` +
        `\n--- broker ---\n${broker.output.slice(-3000)}`;
      throw err;
    }
    console.log(`CONNECTED heart-beat:${seen.heartBeat}; server heart-beats at ${seen.pongs} ms`);
    assert.equal(seen.body, 'beat');
    assert.equal(seen.heartBeat, '1000,1000');
    // One a second for 3.5 s: 3 (bounds loose for a loaded machine), about a second apart.
    assert.ok(seen.pongs.length >= 2 && seen.pongs.length <= 5, `heart-beats at ${seen.pongs}`);
    const gaps = seen.pongs.slice(1).map((t, i) => t - seen.pongs[i]);
    assert.ok(gaps.every((g) => g >= 500 && g <= 2000), `heart-beats at ${seen.pongs}`);
  });
});
