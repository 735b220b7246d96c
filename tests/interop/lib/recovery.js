'use strict';
// The client recipe of docs/recovery.md, as one small object both the Node tests (require) and
// the browser page (a <script>: global StompRecovery) use with @stomp/stompjs 7:
//   - remember the last `x-position` seen per destination (the MESSAGE's `destination` header
//     names the concrete topic, also under a wildcard subscription);
//   - on every (re)connect, in onConnect, SUBSCRIBE again with `x-recover-from` (the plain
//     `EPOCH:OFFSET` for a concrete topic, `DEST=EPOCH:OFFSET,...` for a wildcard) and a receipt;
//   - the RECEIPT's `x-recovered` says whether the missed messages came: `false` means reload.

(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory();
  else root.StompRecovery = factory();
}(typeof self !== 'undefined' ? self : this, () => {
  const isWildcard = (destination) => destination.split(/[/.]/).some((s) => s === '*' || s === '#');

  /**
   * A topic subscription that survives reconnects. Call `subscribe(client)` from the client's
   * onConnect. `onMessage(message)` sees every MESSAGE; `onReceipt(recovered, frame)` sees each
   * SUBSCRIBE's RECEIPT with `recovered` = true / false / null (nothing asked: first connect).
   */
  class RecoveringSubscription {
    constructor(destination, onMessage, onReceipt = () => {}) {
      this.destination = destination;
      this.onMessage = onMessage;
      this.onReceipt = onReceipt;
      this.lastPosition = {}; // concrete destination -> "EPOCH:OFFSET"
      this.subscribes = 0;
    }

    /** The `x-recover-from` value for the next SUBSCRIBE, or null when nothing was seen. */
    recoverFrom() {
      if (!isWildcard(this.destination)) return this.lastPosition[this.destination] || null;
      const entries = Object.entries(this.lastPosition).map(([d, p]) => `${d}=${p}`);
      return entries.length ? entries.join(',') : null;
    }

    subscribe(client) {
      const receipt = `recover-${this.destination}-${++this.subscribes}`;
      const from = this.recoverFrom();
      const headers = { receipt };
      if (from) headers['x-recover-from'] = from;
      client.watchForReceipt(receipt, (frame) => {
        const value = frame.headers['x-recovered'];
        this.onReceipt(value === undefined ? null : value === 'true', frame);
      });
      return client.subscribe(this.destination, (message) => {
        const position = message.headers['x-position'];
        if (position) this.lastPosition[message.headers.destination] = position;
        this.onMessage(message);
      }, headers);
    }
  }

  return { RecoveringSubscription, isWildcard };
}));
