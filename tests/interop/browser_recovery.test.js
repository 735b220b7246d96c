'use strict';
// Topic recovery (docs/recovery.md) in headless Chromium: the page runs @stomp/stompjs 7 with the
// recipe (lib/recovery.js, browser/page.js startRecoveringSubscriber) over the browser's own
// WebSocket; here a publisher sends 1,000 messages at a steady rate while the page's connection
// is cut, by the server (the console's admin close) or by a TCP proxy between the page and the
// broker. The page must end with all 1,000, in order, exactly once, after RECEIPT
// x-recovered:true.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { unique, waitUntil } = require('./lib/inbox');
const { openPage } = require('./lib/page');
const { startProxy } = require('./lib/proxy');
const { adminCloseSession } = require('./lib/admin');
const {
  ADMIN, READER, WRITER, login, numbers, offsetsOf, writeRecoveryConfig,
} = require('./lib/recovery_fixture');
const {
  connectedClient, publishConfirmed, publishSteadily, shutdown,
} = require('./lib/stompjs7');

const COUNT = 1000;
const CUT_AFTER = 300;
const WAIT_MS = 30000;

describe('Chromium with stompjs 7 recovers topic messages across a cut', () => {
  let s;
  let proxy;

  before(async () => {
    // The page is on another origin: the broker lists it, as for a web app on its own host.
    s = await openPage('127.0.0.1', (pageOrigin, dir) => ['--config', writeRecoveryConfig(dir,
      `[websocket]\nallowed_origins = ["${pageOrigin}"]\n`)]);
    proxy = await startProxy(s.broker.wsPort);
  });

  after(async () => {
    if (proxy) await proxy.close();
    if (s) await s.close();
  });

  /** Runs `fn(args)` in the page; a failure carries the page's console and stomp.js log. */
  async function inPage(fn, args) {
    try {
      return await s.page.evaluate(fn, args);
    } catch (err) {
      err.message += `\n--- page console ---\n${s.consoleLines.join('\n')}`;
      throw err;
    }
  }

  const pageState = () => inPage(() => {
    const st = window.recovery.state;
    return { count: st.messages.length, receipts: st.receipts, sessions: st.sessions,
      last: st.messages.length ? st.messages[st.messages.length - 1].body : null };
  });

  /** The 1,000-message run with the page's subscriber on `url`, cut by `cut(state)`. */
  async function recoversAllAcrossCut(url, cut) {
    const dest = `/topic/recovery.${unique('page')}`;
    await inPage(([u, d, name, pw]) => window.startRecoveringSubscriber(u, d, name, pw),
      [url, dest, READER.name, READER.password]);
    await waitUntil('the first RECEIPT', async () => (await pageState()).receipts.length === 1,
      WAIT_MS);
    const publisher = await connectedClient(s.broker.wsUrl, login(WRITER));
    try {
      const progress = {};
      const publishing = publishSteadily(publisher, dest, COUNT, progress);
      let state;
      await waitUntil('the page has its first messages',
        async () => (state = await pageState()).count >= CUT_AFTER, WAIT_MS);
      await cut(state);
      await waitUntil('the RECEIPT of the resubscribe',
        async () => (state = await pageState()).receipts.length === 2, WAIT_MS);
      const sentAtResubscribe = progress.sent;
      await publishing;
      await publishConfirmed(publisher, { destination: dest, body: 'end' });
      await waitUntil('the marker', async () => (await pageState()).last === 'end', WAIT_MS);

      const seen = await inPage(() => window.recovery.state.messages);
      assert.deepEqual(state.receipts, [null, true], 'RECEIPTs: none asked, then x-recovered:true');
      assert.equal(state.sessions.length, 2, 'one reconnect');
      assert.ok(sentAtResubscribe > CUT_AFTER, `${sentAtResubscribe} sent at resubscribe`);
      assert.deepEqual(seen.map((m) => m.body), [...numbers(COUNT), 'end'],
        'all 1,000, in order, exactly once');
      assert.deepEqual(offsetsOf(seen.map((m) => m.position)), numbers(COUNT + 1).map(Number));
    } finally {
      await inPage(() => window.recovery.stop());
      await shutdown(publisher);
    }
  }

  it('recovers all 1,000 after the server closes the connection (admin close)', async () => {
    await recoversAllAcrossCut(s.broker.wsUrl, async (state) => {
      assert.equal(await adminCloseSession(s.broker, ADMIN, state.sessions[0]), 1);
    });
  });

  it('recovers all 1,000 after a proxy drops the connection', async () => {
    await recoversAllAcrossCut(`ws://127.0.0.1:${proxy.port}/ws`, async () => {
      assert.equal(proxy.cut(), 1, 'the page\'s connection through the proxy was cut');
    });
  });
});
