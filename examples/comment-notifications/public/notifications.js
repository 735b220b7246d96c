// Runs in the signed-in user's page. Connects to stompbox with @stomp/stompjs (served by the app
// from node_modules as /vendor/stomp.umd.js), logs in with the user's JWT and subscribes to
// /user/queue/notifications: stompbox delivers there what the app sent to
// /user/<this user>/queue/notifications, to every open tab of the user, and what was stored
// while the user was offline. Each notification is acknowledged once it is on screen, so
// stompbox removes it from the user's queue; one that was never shown comes back next time.
// The same client follows every post's comment thread (public/threads.js: CommentThreads).
(function () {
  'use strict';

  const list = document.getElementById('notifications');
  const empty = document.getElementById('no-notifications');
  const status = document.getElementById('status');
  const shown = new Set(); // message-ids on screen: a redelivery after a reconnect shows once

  function setStatus(state, text) {
    status.dataset.state = state;
    status.textContent = text;
  }

  function parse(body) {
    try {
      return JSON.parse(body);
    } catch (err) {
      return { text: body };
    }
  }

  function show(message) {
    const id = message.headers['message-id'];
    if (!shown.has(id)) {
      shown.add(id);
      const notification = parse(message.body);
      const item = document.createElement('li');
      item.className = 'notification';
      item.textContent = notification.text;
      if (notification.comment) {
        const quote = document.createElement('q');
        quote.textContent = notification.comment;
        item.append(': ', quote);
      }
      if (notification.at) {
        const time = document.createElement('time');
        time.dateTime = notification.at;
        time.textContent = new Date(notification.at).toLocaleTimeString();
        item.append(' ', time);
      }
      list.prepend(item);
      empty.hidden = true;
    }
    message.ack(); // client-individual: only this one leaves the queue
  }

  const client = new StompJs.Client({
    brokerURL: document.body.dataset.brokerUrl,
    reconnectDelay: 2000,
    // A fresh token on every (re)connect: stompbox closes a session when its token expires.
    beforeConnect: async () => {
      try {
        const response = await fetch('/api/token', { credentials: 'same-origin' });
        if (response.status === 401) window.location.assign('/'); // signed out in another tab
        if (response.ok) client.connectHeaders = { passcode: (await response.json()).token };
      } catch (err) {
        console.warn('no token (app unreachable?); stompbox will refuse, then we retry', err);
      }
    },
    onConnect: () => {
      const receipt = `subscribed-${Date.now()}`;
      client.watchForReceipt(receipt, () => setStatus('live', 'live'));
      client.subscribe('/user/queue/notifications', show, { ack: 'client-individual', receipt });
      CommentThreads.subscribeAll(client);
    },
    onWebSocketClose: () => setStatus('offline', 'reconnecting…'),
    onStompError: (frame) => console.warn('stompbox refused:', frame.headers.message),
  });
  client.activate();
  window.addEventListener('pagehide', () => client.deactivate());

  // Comments are posted with fetch so this page (and its live connection) stays open; without
  // JavaScript the form still works as a plain POST.
  for (const form of document.querySelectorAll('.comment-form')) {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const response = await fetch(form.action, {
        method: 'POST',
        headers: { accept: 'application/json' },
        body: new URLSearchParams(new FormData(form)),
      });
      if (!response.ok) return;
      CommentThreads.showPosted((await response.json()).comment);
      form.reset();
    });
  }
}());
