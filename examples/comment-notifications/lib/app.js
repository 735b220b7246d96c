'use strict';
// The web app: sign-in, posts, comments. Every comment is SENT as JSON to the post's thread topic
// /topic/comments/<post id>, which keeps history (lib/stack.js: [[history]]): open pages show it
// at once and a page that was offline for a moment recovers what it missed
// (public/threads.js). Commenting on someone else's post also SENDs a JSON notification to
// /user/<author>/queue/notifications through the publisher connection; the author's pages
// receive it on their /user/queue/notifications subscription (public/notifications.js).

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { USERS } = require('./posts');
const pages = require('./pages');

const MAX_BODY_BYTES = 16 * 1024;
const STATIC_FILES = {
  '/vendor/stomp.umd.js': path.join(__dirname, '..', 'node_modules', '@stomp', 'stompjs',
    'bundles', 'stomp.umd.js'),
  '/static/notifications.js': path.join(__dirname, '..', 'public', 'notifications.js'),
  '/static/threads.js': path.join(__dirname, '..', 'public', 'threads.js'),
  '/static/style.css': path.join(__dirname, '..', 'public', 'style.css'),
};
const CONTENT_TYPES = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

function send(res, status, type, body, headers = {}) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
  res.end(body);
}

const sendJson = (res, status, value) =>
  send(res, status, 'application/json', JSON.stringify(value));

const redirect = (res, location, headers = {}) =>
  send(res, 303, 'text/plain', `See ${location}`, { location, ...headers });

/** The signed-in user from the `user` cookie (a demo: a real app uses its own session). */
function currentUser(req) {
  const cookies = new URLSearchParams((req.headers.cookie || '').replace(/;\s*/g, '&'));
  const name = cookies.get('user');
  return USERS.includes(name) ? name : null;
}

/** The form fields of a urlencoded request body. */
function readForm(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      body += chunk;
      if (body.length > MAX_BODY_BYTES) {
        reject(Object.assign(new Error('body too large'), { status: 413 }));
        req.destroy();
      }
    });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

function serveFile(res, file) {
  fs.readFile(file, (err, data) => {
    if (err) return send(res, 404, 'text/plain', 'not found');
    return send(res, 200, CONTENT_TYPES[path.extname(file)] || 'application/octet-stream', data);
  });
}

/** Notification for the post's author; the page shows `text`, the rest is for richer UIs. */
function notificationFor(post, commenter, text) {
  return {
    text: `${commenter} commented on your post "${post.title}"`,
    postId: post.id,
    commenter,
    comment: text,
    at: new Date().toISOString(),
  };
}

/** The thread topic of post `postId`: every comment on the post is sent there. */
const threadTopic = (postId) => `/topic/comments/${postId}`;

/** A comment as pages get it, on the thread topic and from GET /posts/<id>/comments. */
const publicComment = (c) => ({ id: c.id, postId: c.postId, author: c.author, text: c.text });

/**
 * Creates the HTTP server.
 * @param {object} deps
 * @param {import('./posts').PostStore} deps.posts
 * @param {{publish(destination: string, body: object): Promise<void>}} deps.publisher
 * @param {(user: string) => string} deps.userToken signs the JWT a user's page connects with
 * @param {string} deps.brokerUrl the WebSocket URL browsers connect to
 */
function createApp({ posts, publisher, userToken, brokerUrl, log = console }) {
  async function addComment(req, res, user, postId) {
    const text = ((await readForm(req)).get('text') || '').trim();
    const post = posts.find(postId);
    if (!post) return send(res, 404, 'text/plain', 'no such post');
    if (!text) return send(res, 400, 'text/plain', 'empty comment');
    const added = posts.addComment(postId, user, text);
    try {
      // Resolves on stompbox's RECEIPT: in the thread's history, and on every open page.
      await publisher.publish(threadTopic(postId), publicComment(added));
    } catch (err) {
      log.error(`comment ${added.id} to ${threadTopic(postId)} failed: ${err.message}`);
    }
    let notified = false;
    if (post.author !== user) {
      try {
        // Resolves on stompbox's RECEIPT: stored for the author even if they are offline.
        await publisher.publish(`/user/${post.author}/queue/notifications`,
          notificationFor(post, user, text));
        notified = true;
      } catch (err) {
        log.error(`notification to ${post.author} failed: ${err.message}`);
      }
    }
    if ((req.headers.accept || '').includes('application/json')) {
      return sendJson(res, 201, { comment: publicComment(added), notified });
    }
    return redirect(res, `/posts#post-${postId}`);
  }

  async function route(req, res) {
    const url = new URL(req.url, 'http://app.invalid');
    const user = currentUser(req);
    const key = `${req.method} ${url.pathname}`;
    const html = (body) => send(res, 200, 'text/html; charset=utf-8', body);
    if (req.method === 'GET' && STATIC_FILES[url.pathname]) {
      return serveFile(res, STATIC_FILES[url.pathname]);
    }
    if (key === 'GET /') return user ? redirect(res, '/posts') : html(pages.signInPage());
    if (key === 'POST /signin') {
      const name = (await readForm(req)).get('name');
      if (!USERS.includes(name)) return send(res, 400, 'text/plain', 'unknown user');
      const cookie = `user=${name}; Path=/; HttpOnly; SameSite=Lax`;
      return redirect(res, '/posts', { 'set-cookie': cookie });
    }
    if (key === 'POST /signout') {
      return redirect(res, '/', { 'set-cookie': 'user=; Path=/; Max-Age=0' });
    }
    if (!user) {
      if (url.pathname.startsWith('/api/')) return sendJson(res, 401, { error: 'sign in first' });
      return redirect(res, '/');
    }
    if (key === 'GET /posts') return html(pages.postsPage(user, posts.all(), brokerUrl));
    if (key === 'GET /api/token') return sendJson(res, 200, { token: userToken(user) });
    const comment = /^\/posts\/(\d+)\/comments$/.exec(url.pathname);
    if (req.method === 'POST' && comment) return addComment(req, res, user, Number(comment[1]));
    if (req.method === 'GET' && comment) {
      // The whole thread: what a page reloads when its recovery was incomplete.
      const post = posts.find(Number(comment[1]));
      if (!post) return send(res, 404, 'text/plain', 'no such post');
      return sendJson(res, 200, { comments: post.comments.map(publicComment) });
    }
    return send(res, 404, 'text/plain', 'not found');
  }

  return http.createServer((req, res) => {
    route(req, res).catch((err) => {
      log.error(`${req.method} ${req.url}: ${err.message}`);
      if (res.headersSent) return;
      send(res, err.status || 500, 'text/plain', err.status ? err.message : 'server error');
    });
  });
}

module.exports = { createApp, threadTopic };
