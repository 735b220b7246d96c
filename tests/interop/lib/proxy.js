'use strict';
// A TCP proxy between a client and the broker, to drop connections at network level: `cut()`
// destroys both sockets of every open connection (the client and the broker each see the
// connection die, as when a train enters a tunnel); while `down` is set, new connections are
// destroyed as soon as they are accepted (an outage the client's reconnects keep hitting).

const net = require('node:net');
const { HOST } = require('./broker');

class Proxy {
  constructor(targetPort) {
    this.targetPort = targetPort;
    this.pairs = new Set();
    this.down = false;
    this.accepted = 0;
    this.server = net.createServer((client) => this.onAccept(client));
  }

  /** Resolves with the proxy once it listens on a free port of 127.0.0.1 (`this.port`). */
  listen() {
    return new Promise((resolve) => this.server.listen(0, HOST, () => {
      this.port = this.server.address().port;
      resolve(this);
    }));
  }

  onAccept(client) {
    if (this.down) {
      client.destroy();
      return;
    }
    this.accepted++;
    const upstream = net.connect(this.targetPort, HOST);
    const pair = { client, upstream };
    this.pairs.add(pair);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
    };
    for (const s of [client, upstream]) {
      s.on('error', drop);
      s.on('close', drop);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Destroys every open connection now; with `down`, refuses new ones until `up()`. */
  cut({ down = false } = {}) {
    this.down = down;
    const n = this.pairs.size;
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
    return n;
  }

  up() {
    this.down = false;
  }

  close() {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A proxy to `targetPort` on 127.0.0.1, listening. */
function startProxy(targetPort) {
  return new Proxy(targetPort).listen();
}

module.exports = { startProxy, Proxy };
