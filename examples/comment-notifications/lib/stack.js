'use strict';
// Starts the whole demo: stompbox (with a [jwt] table holding a fresh secret, its data in a
// temporary directory) and the app (server.js) as two child processes, and stops both by pid.
// Used by run.js (start.sh) and by the browser test.

const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 20000;
const STOP_GRACE_MS = 5000;
const ISSUER = 'comment-notifications-example';
const AUDIENCE = 'stompbox';

/** A port that was free a moment ago (bind port 0, read it, release it). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * The broker's config file: WebSocket only, JWT logins checked with `secret`, upgrades allowed
 * from the app's pages (another port is another origin), no metrics listener (its fixed port
 * would clash with a second broker on the machine), history on the comment threads, and access
 * rules: only the app (role publisher) sends; pages read their own queue and the threads.
 */
function brokerConfig({ wsPort, appPort, secret }) {
  return `# Written by examples/comment-notifications/lib/stack.js
[websocket]
host = "${HOST}"
port = ${wsPort}
path = "/ws"
allowed_origins = ["http://127.0.0.1:${appPort}", "http://localhost:${appPort}"]

[tcp]
enabled = false

[metrics]
enabled = false

[jwt]
secret = "${secret}"
issuer = "${ISSUER}"
audience = "${AUDIENCE}"
user_claim = "sub"
roles_claim = "roles"

# Each post's comment thread /topic/comments/<id> keeps its last 1,000 comments for an hour: a
# page that reconnects asks for what it missed (x-recover-from, docs/recovery.md).
[[history]]
pattern = "/topic/comments/*"
max_messages = 1000
max_age_seconds = 3600

[[acl]]
who = "role:publisher"
destinations = ["/user/*/**", "/topic/comments/*"]
actions = ["send"]

[[acl]]
who = "*"
destinations = ["/user/{user}/**", "/topic/comments/*"]
actions = ["subscribe"]
`;
}

/** Spawns `command`; output is kept (for error messages) and passed to `onOutput`. */
function startProcess(name, command, args, options, onOutput) {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  child.label = name;
  child.output = '';
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    child.exitInfo = { code, signal };
    resolve();
  }));
  child.once('error', (err) => { child.output += `${err.message}\n`; });
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk) => {
      child.output += chunk;
      if (onOutput) onOutput(name, chunk.toString());
    });
  }
  return child;
}

/** Resolves when `test()` holds; rejects when `child` exits first or after the timeout. */
async function waitFor(child, what, test) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await test())) {
    if (child.exitInfo) throw new Error(`${child.label} exited before ${what}:\n${child.output}`);
    if (Date.now() > deadline) throw new Error(`${child.label}: no ${what}:\n${child.output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, HOST);
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/** SIGTERM, SIGKILL after a grace period; resolves once the process is gone. */
async function stopProcess(child) {
  if (!child || child.exitInfo || child.exitCode !== null || child.pid === undefined) return;
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => process.kill(child.pid, 'SIGKILL'), STOP_GRACE_MS);
  await child.exited;
  clearTimeout(timer);
}

/**
 * Starts stompbox and the app. Options: `stompboxBin` (path), `wsPort` / `appPort` (0 = a
 * free port), `browserBrokerUrl` (what pages connect to, when not the broker itself: a proxy),
 * `onOutput(name, text)`. Returns { appUrl, brokerUrl, dir, stop() }.
 */
async function startStack({
  stompboxBin, wsPort = 0, appPort = 0, browserBrokerUrl, onOutput,
} = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'comment-notifications-'));
  const stack = { dir, processes: [] };
  // Last resort when this process ends without stop() (an uncaught error, process.exit):
  // no broker or app is left behind holding its port.
  const killLeftovers = () => {
    for (const child of stack.processes) if (!child.exitInfo) child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killLeftovers);
  stack.stop = async () => {
    for (const child of [...stack.processes].reverse()) await stopProcess(child);
    process.removeListener('exit', killLeftovers);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const secret = crypto.randomBytes(32).toString('hex');
    const ws = wsPort || await freePort();
    const appPortChosen = appPort || await freePort(); // the broker's Origin list names it
    const configFile = path.join(dir, 'stompbox.toml');
    fs.writeFileSync(configFile, brokerConfig({ wsPort: ws, appPort: appPortChosen, secret }));
    const dataDir = path.join(dir, 'data');
    fs.mkdirSync(dataDir);
    const broker = startProcess('stompbox', stompboxBin,
      ['--config', configFile, '--data-dir', dataDir], {}, onOutput);
    stack.processes.push(broker);
    await waitFor(broker, `a listener on port ${ws}`, () => canConnect(ws));
    stack.brokerUrl = `ws://${HOST}:${ws}/ws`;

    const env = { ...process.env, JWT_SECRET: secret, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE,
      BROKER_URL: stack.brokerUrl, BROWSER_BROKER_URL: browserBrokerUrl || stack.brokerUrl,
      APP_HOST: HOST, APP_PORT: String(appPortChosen) };
    const app = startProcess('app', process.execPath, [path.join(__dirname, '..', 'server.js')],
      { env }, onOutput);
    stack.processes.push(app);
    await waitFor(app, 'listening line', () => /listening on (http:\S+)/.test(app.output));
    stack.appUrl = /listening on (http:\S+)/.exec(app.output)[1];
    return stack;
  } catch (err) {
    await stack.stop();
    throw err;
  }
}

module.exports = { startStack, freePort, stopProcess };
