'use strict';
// A raw STOMP-over-TCP peer: writes exactly the bytes a test gives it and parses what comes
// back (frames by NUL or content-length, bare EOLs counted as heart-beats). Used to replay
// frames of clients we cannot run here, such as Spring's StompBrokerRelayMessageHandler.

const net = require('node:net');
const { Inbox } = require('./inbox');

const NUL = 0x00;
const LF = 0x0a;
const CR = 0x0d;

/** STOMP 1.2 header value unescaping (not applied to CONNECT/CONNECTED). */
function unescapeValue(value) {
  return value.replace(/\\([rnc\\])/g, (_, c) => ({ r: '\r', n: '\n', c: ':', '\\': '\\' }[c]));
}

/** Builds the bytes of one frame; `headers` is an array of [name, value] kept in order. */
function encodeFrame(command, headers = [], body = '') {
  const head = [command, ...headers.map(([k, v]) => `${k}:${v}`)].join('\n');
  return Buffer.concat([Buffer.from(`${head}\n\n`), Buffer.from(body), Buffer.from([NUL])]);
}

/** Incremental parser: `feed(bytes)` emits frames via onFrame and heart-beats via onBeat. */
class FrameReader {
  constructor(onFrame, onBeat) {
    this.buf = Buffer.alloc(0);
    this.onFrame = onFrame;
    this.onBeat = onBeat;
  }

  feed(chunk) {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      while (this.buf.length > 0 && (this.buf[0] === LF || this.buf[0] === CR)) {
        if (this.buf[0] === LF) this.onBeat();
        this.buf = this.buf.subarray(1);
      }
      const frame = this.parseOne();
      if (!frame) return;
      this.onFrame(frame);
    }
  }

  parseOne() {
    const end = this.buf.indexOf('\n\n');
    const crEnd = this.buf.indexOf('\r\n\r\n');
    const useCr = crEnd >= 0 && (end < 0 || crEnd < end);
    const headEnd = useCr ? crEnd : end;
    if (headEnd < 0) return null;
    const lines = this.buf.subarray(0, headEnd).toString('utf8').split(/\r?\n/);
    const command = lines.shift();
    const headers = {};
    const headerList = [];
    const escaped = command !== 'CONNECTED';
    for (const line of lines) {
      const i = line.indexOf(':');
      const name = escaped ? unescapeValue(line.slice(0, i)) : line.slice(0, i);
      const value = escaped ? unescapeValue(line.slice(i + 1)) : line.slice(i + 1);
      headerList.push([name, value]);
      if (!(name in headers)) headers[name] = value; // first occurrence wins (STOMP 1.2)
    }
    const bodyStart = headEnd + (useCr ? 4 : 2);
    let bodyEnd;
    if (headers['content-length'] !== undefined) {
      bodyEnd = bodyStart + Number(headers['content-length']);
      if (this.buf.length < bodyEnd + 1) return null;
      if (this.buf[bodyEnd] !== NUL) throw new Error(`${command}: no NUL after content-length body`);
    } else {
      bodyEnd = this.buf.indexOf(NUL, bodyStart);
      if (bodyEnd < 0) return null;
    }
    const body = Buffer.from(this.buf.subarray(bodyStart, bodyEnd));
    this.buf = this.buf.subarray(bodyEnd + 1);
    return { command, headers, headerList, body };
  }
}

/** One TCP connection to the broker with an Inbox of received frames. */
class RawStompConnection {
  constructor(name) {
    this.name = name;
    this.frames = new Inbox(`${name}: frames`);
    this.heartbeats = 0;
    this.closed = new Promise((resolve) => { this.onClosed = resolve; });
  }

  connect(host, port) {
    return new Promise((resolve, reject) => {
      const reader = new FrameReader((f) => this.frames.push(f), () => { this.heartbeats++; });
      this.socket = net.connect(port, host, resolve);
      this.socket.once('error', reject);
      this.socket.on('data', (chunk) => reader.feed(chunk));
      this.socket.on('close', () => this.onClosed());
    });
  }

  write(bytes) {
    this.socket.write(bytes);
  }

  send(command, headers, body) {
    this.write(encodeFrame(command, headers, body));
  }

  /** Next frame; fails with the frame's content if it is not `command`. */
  async expect(command, timeoutMs) {
    const frame = await this.frames.next(timeoutMs);
    if (frame.command !== command) {
      throw new Error(`${this.name}: expected ${command}, got ${frame.command} ` +
        `${JSON.stringify(frame.headers)} ${frame.body.toString()}`);
    }
    return frame;
  }

  destroy() {
    if (this.socket) this.socket.destroy();
  }
}

module.exports = { RawStompConnection, FrameReader, encodeFrame };
