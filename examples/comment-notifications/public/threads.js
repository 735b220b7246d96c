// Runs in the signed-in user's page, on the stomp.js client of notifications.js. Each post's
// comment thread is the topic /topic/comments/<post id>, which keeps history in stompbox
// ([[history]] in lib/stack.js; docs/recovery.md): the page remembers the last `x-position` it
// saw per thread, and when stomp.js reconnects it subscribes again with `x-recover-from`, so
// stompbox first sends the comments posted while the page was offline, then the live ones.
// When it cannot (RECEIPT `x-recovered:false`: the history no longer reaches back, or stompbox
// restarted) and on a thread's first subscribe (the page was rendered a moment earlier), the
// page reloads the thread from the app instead. Comments are shown once each, ordered by id.
window.CommentThreads = (function () {
  'use strict';

  const lastPosition = new Map(); // thread topic -> "EPOCH:OFFSET" of the last comment seen
  let receipts = 0;

  const topicOf = (post) => `/topic/comments/${post.dataset.postId}`;
  const listOf = (post) => post.querySelector('.comments');
  const postById = (id) => document.getElementById(`post-${id}`);

  /** Shows `comment` ({id, author, text}) in `post`'s list unless it is there already. */
  function show(post, comment) {
    const list = listOf(post);
    if (list.querySelector(`[data-comment-id="${comment.id}"]`)) return;
    const item = document.createElement('li');
    item.dataset.commentId = comment.id;
    const author = document.createElement('b');
    author.textContent = comment.author;
    item.append(author, `: ${comment.text}`);
    const later = [...list.children].find((li) => Number(li.dataset.commentId) > comment.id);
    list.insertBefore(item, later || null);
  }

  /** Fetches the whole thread from the app and shows what the page does not have. */
  async function reload(post) {
    const response = await fetch(`/posts/${post.dataset.postId}/comments`,
      { credentials: 'same-origin' });
    if (!response.ok) return;
    for (const comment of (await response.json()).comments) show(post, comment);
  }

  function subscribe(client, post) {
    const topic = topicOf(post);
    const receipt = `thread-${post.dataset.postId}-${++receipts}`;
    const from = lastPosition.get(topic);
    const headers = from ? { receipt, 'x-recover-from': from } : { receipt };
    client.watchForReceipt(receipt, (frame) => {
      const recovered = frame.headers['x-recovered'];
      if (from) post.dataset.recovered = recovered; // the last recovery's answer (read by the test)
      if (recovered !== 'true') reload(post);
    });
    client.subscribe(topic, (message) => {
      const position = message.headers['x-position'];
      if (position) lastPosition.set(topic, position);
      show(post, JSON.parse(message.body));
    }, headers);
  }

  return {
    /** Subscribes to every post's thread; call from onConnect (first connect and reconnects). */
    subscribeAll(client) {
      for (const post of document.querySelectorAll('.post')) subscribe(client, post);
    },
    /** Shows a comment this page just posted (it also comes back on the thread topic). */
    showPosted(comment) {
      const post = postById(comment.postId);
      if (post) show(post, comment);
    },
  };
}());
