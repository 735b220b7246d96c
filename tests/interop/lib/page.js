'use strict';
// A page in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core, nothing
// downloaded) served from its own origin, next to a real broker: browser.test.js and
// browser_recovery.test.js. The page (browser/index.html) loads the clients' browser bundles,
// lib/recovery.js (the recovery recipe) and browser/page.js.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { startBroker, HOST } = require('./broker');

const CHROMIUM = process.env.STOMPBOX_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
  '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync'];

// URL path → file: the page and the clients' own browser bundles.
const ROOT = path.join(__dirname, '..');
const MODULES = path.join(ROOT, 'node_modules');
const FILES = {
  '/': [path.join(ROOT, 'browser', 'index.html'), 'text/html; charset=utf-8'],
  '/page.js': [path.join(ROOT, 'browser', 'page.js'), 'text/javascript'],
  '/recovery.js': [path.join(__dirname, 'recovery.js'), 'text/javascript'],
  '/stomp.umd.js': [path.join(MODULES, '@stomp', 'stompjs', 'bundles', 'stomp.umd.js'),
    'text/javascript'],
  '/sockjs.js': [path.join(MODULES, 'sockjs-client', 'dist', 'sockjs.js'), 'text/javascript'],
};

/** Serves FILES on 127.0.0.1, a free port; resolves with the server once listening. */
function servePage() {
  const server = http.createServer((req, res) => {
    const file = FILES[new URL(req.url, 'http://x').pathname];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': file[1], 'Cache-Control': 'no-store' });
    res.end(fs.readFileSync(file[0]));
  });
  return new Promise((resolve) => server.listen(0, HOST, () => resolve(server)));
}

/**
 * A broker started with `brokerArgs(pageOrigin, dir)`, headless Chromium and the page served
 * from `http://${pageHost}:<free port>/`; `close()` stops all three.
 */
async function openPage(pageHost, brokerArgs) {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} not found (apt-get install chromium)`);
  const s = { consoleLines: [] };
  s.pageServer = await servePage();
  s.pageOrigin = `http://${pageHost}:${s.pageServer.address().port}`;
  s.userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stompbox-chromium-'));
  s.close = async () => {
    if (s.context) await s.context.close();
    if (s.broker) await s.broker.stop();
    await new Promise((r) => s.pageServer.close(r));
    fs.rmSync(s.userDataDir, { recursive: true, force: true });
  };
  try {
    s.broker = await startBroker(brokerArgs(s.pageOrigin, s.userDataDir));
    s.context = await chromium.launchPersistentContext(s.userDataDir, {
      executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
    });
    s.page = await s.context.newPage();
    s.page.on('console', (m) => s.consoleLines.push(`${m.type()}: ${m.text()}`));
    await s.page.goto(`${s.pageOrigin}/`);
  } catch (err) {
    await s.close();
    throw err;
  }
  return s;
}

module.exports = { openPage };
