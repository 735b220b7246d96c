'use strict';
// Starts the real stompbox binary for one test file: free ports picked here, readiness awaited
// by connecting to both listeners, stopped by pid (SIGTERM, then SIGKILL). A restart reuses the
// same ports so reconnecting clients find the broker again.

const { spawn } = require('node:child_process');
const net = require('node:net');

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 20000;
const STOP_GRACE_MS = 5000;

/** Returns a port that was free a moment ago: bind port 0, read it, release it. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves when a TCP connection to host:port succeeds; rejects after `timeoutMs`. */
async function waitForPort(port, timeoutMs, isAlive) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const sock = net.connect(port, HOST);
      sock.once('connect', () => { sock.destroy(); resolve(true); });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (!isAlive()) throw new Error(`stompbox exited before listening on ${port}`);
    if (Date.now() > deadline) throw new Error(`stompbox did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One broker process with fixed ports; `start`, `stop`, `restart`; output kept for failures. */
class Broker {
  constructor(tcpPort, wsPort, extraArgs = []) {
    this.extraArgs = extraArgs; // more stompbox flags, e.g. ['--config', file]
    this.tcpPort = tcpPort;
    this.wsPort = wsPort;
    this.host = HOST;
    this.wsUrl = `ws://${HOST}:${wsPort}/ws`;
    this.child = null;
    this.output = '';
  }

  async start() {
    const bin = process.env.STOMPBOX_BIN;
    if (!bin) throw new Error('STOMPBOX_BIN is not set (path of the stompbox binary)');
    const args = ['--tcp', `${HOST}:${this.tcpPort}`, '--ws', `${HOST}:${this.wsPort}`,
      '--threads', '2', '--log-level', process.env.STOMPBOX_LOG_LEVEL || 'info',
      // Nothing on disk, no fixed metrics port: tests run side by side.
      '--data-dir', ':memory:', '--metrics', `${HOST}:0`,
      ...this.extraArgs];
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.exited = new Promise((resolve) => child.once('exit', (code, sig) => {
      child.exitInfo = { code, sig };
      resolve();
    }));
    const keep = (chunk) => { this.output += chunk.toString(); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const alive = () => child.exitInfo === undefined;
    await waitForPort(this.tcpPort, READY_TIMEOUT_MS, alive);
    await waitForPort(this.wsPort, READY_TIMEOUT_MS, alive);
  }

  async stop() {
    const child = this.child;
    this.child = null;
    if (!child || child.exitInfo !== undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await child.exited;
    clearTimeout(timer);
    // A clean shutdown is status 0; in the sanitizer build a report at exit (a leak) is not.
    const { code, sig } = child.exitInfo;
    if (code !== 0) {
      throw new Error(`stompbox did not exit cleanly on SIGTERM (code ${code}, signal ${sig})` +
                      `\n--- stompbox output ---\n${this.output.slice(-6000)}`);
    }
  }

  /** Hard stop (SIGKILL), as when the broker host dies: clients see the socket drop. */
  async kill() {
    const child = this.child;
    this.child = null;
    if (!child || child.exitInfo !== undefined) return;
    child.kill('SIGKILL');
    await child.exited;
  }

  async restart() {
    await this.stop();
    await this.start();
  }
}

/** Picks two free ports and starts a broker on them, with `extraArgs` flags. */
async function startBroker(extraArgs = []) {
  const broker = new Broker(await freePort(), await freePort(), extraArgs);
  try {
    await broker.start();
  } catch (err) {
    await broker.stop().catch(() => {});  // the start failure is the one to report
    err.message += `\n--- stompbox output ---\n${broker.output}`;
    throw err;
  }
  return broker;
}

module.exports = { startBroker, freePort, Broker, HOST };
