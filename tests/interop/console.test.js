'use strict';
// The web console (docs/console.md) in a real browser: headless Chromium (Debian's
// /usr/bin/chromium through playwright-core) loads the page stompbox serves at / of its metrics
// listener, and a raw STOMP client opened here must show up there, its numbers must move while
// we publish, a non-admin's Close must get 403 and an admin's Close must end the client.
// STOMPBOX_CONSOLE_SCREENSHOTS=<dir> also saves screenshots there (docs/console/ is made so).

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { startBroker, HOST } = require('./lib/broker');
const { RawStompConnection } = require('./lib/rawstomp');
const { sleep } = require('./lib/inbox');
const { hashOf } = require('./lib/admin');

const CHROMIUM = process.env.STOMPBOX_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
  '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync'];
const SHOTS = process.env.STOMPBOX_CONSOLE_SCREENSHOTS;
const WAIT_MS = 15000;
const MARKUP = '/topic/<b>bold</b>';

/** The next frame that is not one of the MESSAGEs the publisher sent to `c`. */
async function nextNotMessage(c) {
  for (;;) {
    const frame = await c.frames.next(WAIT_MS);
    if (frame.command !== 'MESSAGE') return frame;
  }
}

async function stompClient(port, name, login, passcode) {
  const c = new RawStompConnection(name);
  await c.connect(HOST, port);
  c.send('CONNECT', [['accept-version', '1.2'], ['host', 'localhost'], ['login', login],
    ['passcode', passcode], ['heart-beat', '0,0']]);
  await c.expect('CONNECTED', WAIT_MS);
  return c;
}

describe('web console in Chromium', () => {
  let broker;
  let context;
  let page;
  let dir;
  let consoleUrl;
  let alice;
  let publisher;
  const pageErrors = [];

  before(async () => {
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} not found (apt-get install chromium)`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stompbox-console-'));
    fs.writeFileSync(path.join(dir, 'users.toml'), [
      '[[user]]', 'name = "root"', `password = "${hashOf('root-pw')}"`, 'roles = ["admin"]', '',
      '[[user]]', 'name = "alice"', `password = "${hashOf('alice-pw')}"`, 'roles = ["user"]', '',
      '[[user]]', 'name = "backend"', `password = "${hashOf('backend-pw')}"`,
      'roles = ["publisher"]', ''].join('\n'));
    const config = path.join(dir, 'stompbox.toml');
    fs.writeFileSync(config, '[auth]\nusers_file = "users.toml"\n');
    broker = await startBroker(['--config', config]);
    // The metrics listener is on a free port (127.0.0.1:0): its start-up line names it.
    const deadline = Date.now() + WAIT_MS;
    let m;
    while (!(m = /metrics at (http:\/\/[0-9.]+:\d+)\/metrics/.exec(broker.output))) {
      assert.ok(Date.now() < deadline, `no metrics line in:\n${broker.output}`);
      await sleep(50);
    }
    consoleUrl = m[1];
    context = await chromium.launchPersistentContext(dir, {
      executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 800 },
    });
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    // Script errors and CSP refusals ("Refused to ..."); HTTP errors (the 403 we provoke, no
    // favicon) are expected.
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) {
        pageErrors.push(msg.text());
      }
    });
    await page.goto(`${consoleUrl}/`);
  });

  after(async () => {
    if (alice) alice.destroy();
    if (publisher) publisher.destroy();
    if (context) await context.close();
    if (broker) await broker.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function shot(name) {
    if (!SHOTS) return;
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  }

  /** The rows of the connections table whose user cell is `user`. */
  function rowOf(user) {
    return page.locator('#conn-rows tr').filter({
      has: page.locator('td:nth-child(2)', { hasText: new RegExp(`^${user}$`) }),
    });
  }

  it('shows a connection the test opened', async () => {
    alice = await stompClient(broker.tcpPort, 'alice', 'alice', 'alice-pw');
    alice.send('SUBSCRIBE', [['id', '1'], ['destination', '/topic/console'], ['receipt', 's']]);
    await alice.expect('RECEIPT', WAIT_MS);
    // Markup in a peer-chosen name must show as text, never become an element.
    alice.send('SUBSCRIBE', [['id', '2'], ['destination', MARKUP], ['receipt', 's2']]);
    await alice.expect('RECEIPT', WAIT_MS);
    await page.click('#tabs button[data-tab="connections"]');
    const row = rowOf('alice');
    await row.waitFor({ timeout: WAIT_MS });
    const cells = await row.locator('td').allTextContents();
    assert.equal(cells[3], 'tcp');
    assert.match(cells[2], /^127\.0\.0\.1:\d+$/);
    assert.equal(cells[5], '2', 'two subscriptions');
    await shot('connections');
  });

  it('moves its numbers while the test publishes', async () => {
    publisher = await stompClient(broker.tcpPort, 'backend', 'backend', 'backend-pw');
    await page.click('#tabs button[data-tab="overview"]');
    const publishedBefore = parseInt(await page.textContent('#ov-published'), 10) || 0;
    let sent = 0;
    const stopAt = Date.now() + 7000;  // three polls and more
    while (Date.now() < stopAt) {
      for (let i = 0; i < 20; i++) {
        publisher.send('SEND', [['destination', '/topic/console']], `m${sent++}`);
      }
      await sleep(100);
    }
    // The rate card shows messages per second between two polls that saw the traffic.
    await page.waitForFunction(() => parseFloat(document.getElementById('ov-in-rate').textContent) > 0,
      null, { timeout: WAIT_MS });
    await page.waitForFunction((n) => parseInt(document.getElementById('ov-published').textContent, 10) >= n,
      publishedBefore + sent, { timeout: WAIT_MS });
    const chartPoints = await page.evaluate(() => document.querySelectorAll('#chart canvas').length);
    assert.equal(chartPoints, 1, 'uPlot drew its canvas');
    await shot('overview');
    await page.click('#tabs button[data-tab="destinations"]');
    const topic = page.locator('#dest-rows tr', { hasText: '/topic/console' });
    await topic.waitFor({ timeout: WAIT_MS });
    const cells = await topic.locator('td').allTextContents();
    assert.equal(cells[1], 'topic');
    assert.equal(cells[2], '1');
    assert.ok(parseInt(cells[5], 10) >= sent, `messages in ${cells[5]} >= ${sent}`);
    const markup = page.locator('#dest-rows td', { hasText: '<b>' });
    assert.equal(await markup.first().textContent(), MARKUP);
    assert.equal(await page.locator('#dest-rows b').count(), 0, 'no element made from data');
    await shot('destinations');
  });

  it('refuses a non-admin with 403', async () => {
    await page.click('#tabs button[data-tab="connections"]');
    await page.fill('#admin-login', 'alice');
    await page.fill('#admin-passcode', 'alice-pw');
    await rowOf('alice').locator('button').click();
    await page.waitForFunction(() => /403/.test(document.getElementById('notice').textContent),
      null, { timeout: WAIT_MS });
    // Still open: a RECEIPT comes back.
    alice.send('SEND', [['destination', '/topic/elsewhere'], ['receipt', 'still']], 'x');
    assert.equal((await nextNotMessage(alice)).command, 'RECEIPT');
  });

  it('lets an admin close the connection, and the client sees it closed', async () => {
    await page.fill('#admin-login', 'root');
    await page.fill('#admin-passcode', 'root-pw');
    await rowOf('alice').locator('button').click();
    const frame = await nextNotMessage(alice);
    assert.equal(frame.command, 'ERROR');
    assert.equal(frame.headers.message, 'closed by an administrator');
    await alice.closed;
    await page.waitForFunction(() => /done/.test(document.getElementById('notice').textContent),
      null, { timeout: WAIT_MS });
    await rowOf('alice').waitFor({ state: 'detached', timeout: WAIT_MS });
    await shot('closed');
    assert.match(broker.output, /console: admin "root" from 127\.0\.0\.1:\d+: close connection \d+/);
    assert.deepEqual(pageErrors, []);
  });
});
