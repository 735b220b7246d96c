'use strict';
// A TCP proxy between the browser pages and stompbox, so the test can take a page offline:
// `cut({ down: true })` destroys both sockets of every open connection (the page and stompbox
// each see the connection die) and destroys new ones at once until `up()`. `targetPort` may be
// set after `listen()` (the broker's port is known once the stack runs).

const net = require('node:net');

const HOST = '127.0.0.1';

class Proxy {
  constructor() {
    this.targetPort = null;
    this.pairs = new Set();
    this.down = false;
    this.server = net.createServer((client) => this.onAccept(client));
  }

  /** Resolves once listening on a free port of 127.0.0.1 (`this.port`). */
  listen() {
    return new Promise((resolve) => this.server.listen(0, HOST, () => {
      this.port = this.server.address().port;
      resolve(this);
    }));
  }

  onAccept(client) {
    if (this.down || !this.targetPort) {
      client.destroy();
      return;
    }
    const upstream = net.connect(this.targetPort, HOST);
    const pair = { client, upstream };
    this.pairs.add(pair);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
    };
    for (const socket of [client, upstream]) {
      socket.on('error', drop);
      socket.on('close', drop);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Destroys every open connection; with `down`, refuses new ones until `up()`. */
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

module.exports = { Proxy };
