'use strict';
// A queue of things that arrive asynchronously (frames, messages, receipts). `next()` waits for
// the next item; its timeout only guards against a hang and names what never came.

const DEFAULT_WAIT_MS = 10000;

/** FIFO of asynchronously pushed items with awaitable `next()`. */
class Inbox {
  constructor(name) {
    this.name = name;
    this.items = [];
    this.waiters = [];
  }

  push(item) {
    const waiter = this.waiters.shift();
    if (waiter) waiter(item);
    else this.items.push(item);
  }

  get size() {
    return this.items.length;
  }

  next(timeoutMs = DEFAULT_WAIT_MS) {
    if (this.items.length > 0) return Promise.resolve(this.items.shift());
    return new Promise((resolve, reject) => {
      const waiter = (item) => { clearTimeout(timer); resolve(item); };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${this.name}: nothing arrived within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }
}

/** Resolves after `ms` milliseconds. */
function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A short unique suffix so tests sharing one broker never share a destination. */
function unique(prefix) {
  unique.counter = (unique.counter || 0) + 1;
  return `${prefix}-${process.pid}-${unique.counter}-${Date.now().toString(36)}`;
}

/** Resolves once `predicate()` (sync or async) holds; rejects naming `what` after `timeoutMs`. */
async function waitUntil(what, predicate, timeoutMs = DEFAULT_WAIT_MS) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(20);
  }
}

module.exports = { Inbox, sleep, unique, waitUntil, DEFAULT_WAIT_MS };
