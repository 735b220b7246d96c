'use strict';
// Runs inside Chromium. One STOMP conversation with @stomp/stompjs (UMD bundle: global
// StompJs): CONNECT, SUBSCRIBE with a receipt, SEND, the MESSAGE back, DISCONNECT. Over the
// browser's own WebSocket, or over SockJS (global SockJS) forced to one transport.

/** Resolves with what the conversation saw; rejects on ERROR, early close or after 15 s. */
function conversation(socketConfig, destination, body) {
  return new Promise((resolve, reject) => {
    const log = [];
    let done = false;
    const fail = (why) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      client.deactivate();
      reject(new Error(`${why}\n${log.join('\n')}`));
    };
    const timer = setTimeout(() => fail('no MESSAGE within 15 s'), 15000);
    const client = new StompJs.Client({
      ...socketConfig,
      connectHeaders: { login: 'alice', passcode: 'any' },
      reconnectDelay: 0,
      heartbeatIncoming: 0,
      heartbeatOutgoing: 0,
      debug: (line) => log.push(line),
    });
    client.onStompError = (f) => fail(`ERROR frame: ${f.headers.message}`);
    client.onWebSocketClose = (e) => fail(`socket closed before the MESSAGE (code ${e.code})`);
    client.onConnect = (connected) => {
      client.watchForReceipt('sub-1', () => client.publish({ destination, body }));
      client.subscribe(destination, (msg) => {
        done = true;
        clearTimeout(timer);
        const seen = {
          version: connected.headers.version,
          destination: msg.headers.destination,
          body: msg.body,
        };
        client.deactivate().then(() => resolve(seen));
      }, { receipt: 'sub-1' });
    };
    client.activate();
  });
}

/** STOMP over the browser's WebSocket to `url` (ws://host:port/ws). */
window.stompOverWebSocket = async (url, destination, body) => {
  let socket;
  const seen = await conversation({
    webSocketFactory: () => {
      socket = new WebSocket(url, ['v12.stomp', 'v11.stomp', 'v10.stomp']);
      return socket;
    },
  }, destination, body);
  return { ...seen, protocol: socket.protocol };
};

/** STOMP over SockJS at `url` (http://host:port/sockjs) using only `transport`. */
window.stompOverSockJS = async (url, transport, destination, body) => {
  let used = null; // SockJS forgets its transport on close: note it on open
  const seen = await conversation({
    webSocketFactory: () => {
      const sock = new SockJS(url, null, { transports: [transport] });
      sock.addEventListener('open', () => { used = sock.transport; });
      return sock;
    },
  }, destination, body);
  return { ...seen, transport: used };
};

/**
 * The stomp.js browser suite's heart-beat scenario: a client asking 1,000 ms heart-beats both
 * ways (over the browser's WebSocket to `url`) connects, receives its own message, then stays
 * `watchMs` connected. Resolves with CONNECTED's heart-beat header, the MESSAGE body and the
 * times (ms after the MESSAGE) at which server heart-beats (stomp.js logs `<<< PONG`) came.
 */
window.stompHeartBeats = (url, destination, body, watchMs) => new Promise((resolve, reject) => {
  const log = [];
  const pongs = [];
  let done = false;
  let start = null;
  const fail = (why) => {
    if (done) return;
    done = true;
    client.deactivate();
    reject(new Error(`${why}\n${log.join('\n')}`));
  };
  const timer = setTimeout(() => fail('no MESSAGE within 15 s'), 15000);
  const client = new StompJs.Client({
    webSocketFactory: () => new WebSocket(url, ['v12.stomp', 'v11.stomp', 'v10.stomp']),
    connectHeaders: { login: 'alice', passcode: 'any' },
    reconnectDelay: 0,
    heartbeatIncoming: 1000,
    heartbeatOutgoing: 1000,
    debug: (line) => {
      log.push(line);
      if (line === '<<< PONG' && start !== null) pongs.push(Math.round(performance.now() - start));
    },
  });
  client.onStompError = (f) => fail(`ERROR frame: ${f.headers.message}`);
  client.onWebSocketClose = (e) => fail(`socket closed (code ${e.code})`);
  client.onConnect = (connected) => {
    client.watchForReceipt('sub-1', () => client.publish({ destination, body }));
    client.subscribe(destination, (msg) => {
      clearTimeout(timer);
      start = performance.now();
      setTimeout(() => {
        if (done) return;
        done = true;
        client.onWebSocketClose = () => {};
        client.deactivate().then(() => resolve({
          heartBeat: connected.headers['heart-beat'], body: msg.body, pongs,
        }));
      }, watchMs);
    }, { receipt: 'sub-1' });
  };
  client.activate();
});

/**
 * The recovery recipe (docs/recovery.md, lib/recovery.js as global StompRecovery) in the page: a
 * stomp.js client over the browser's WebSocket to `url` that reconnects (300 ms) and resubscribes
 * to `destination` with `x-recover-from`. Its progress is in `window.recovery.state`: MESSAGEs
 * (body, destination, x-position), each SUBSCRIBE RECEIPT's x-recovered (null: none asked) and
 * the CONNECTED session ids.
 */
window.startRecoveringSubscriber = (url, destination, login, passcode) => {
  const state = { messages: [], receipts: [], sessions: [], log: [] };
  const subscription = new StompRecovery.RecoveringSubscription(destination, (m) => {
    state.messages.push({ body: m.body, destination: m.headers.destination,
      position: m.headers['x-position'] });
  }, (recovered) => state.receipts.push(recovered));
  const client = new StompJs.Client({
    webSocketFactory: () => new WebSocket(url, ['v12.stomp', 'v11.stomp', 'v10.stomp']),
    connectHeaders: { login, passcode },
    reconnectDelay: 300,
    heartbeatIncoming: 0,
    heartbeatOutgoing: 0,
    debug: (line) => { if (state.log.length < 200) state.log.push(line.slice(0, 200)); },
    onConnect: (frame) => {
      state.sessions.push(frame.headers.session);
      subscription.subscribe(client);
    },
  });
  client.activate();
  window.recovery = { state, stop: () => client.deactivate() };
};
