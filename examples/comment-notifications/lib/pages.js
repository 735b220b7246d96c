'use strict';
// Server-rendered HTML of the demo: the sign-in page and the posts page. Every value that came
// from a user goes through escape().

const { USERS } = require('./posts');

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

function layout(title, body, bodyAttributes = '') {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<link rel="stylesheet" href="/static/style.css">
</head>
<body${bodyAttributes}>
${body}
</body>
</html>
`;
}

function signInPage() {
  const buttons = USERS.map((name) =>
    `<button type="submit" name="name" value="${name}">${name}</button>`).join('\n    ');
  return layout('Sign in', `<main class="signin">
  <h1>Comment notifications</h1>
  <p>A demo of stompbox pushing notifications to <code>/user/queue/notifications</code>.
  Pick who you are (no password: it is a demo).</p>
  <form method="post" action="/signin">
    ${buttons}
  </form>
</main>`);
}

function renderComment(c) {
  return `<li data-comment-id="${c.id}"><b>${escape(c.author)}</b>: ${escape(c.text)}</li>`;
}

function renderPost(post) {
  return `<article class="post" id="post-${post.id}" data-post-id="${post.id}">
    <h3>${escape(post.title)}</h3>
    <p class="byline">by ${escape(post.author)}</p>
    <ul class="comments">${post.comments.map(renderComment).join('')}</ul>
    <form class="comment-form" method="post" action="/posts/${post.id}/comments">
      <input name="text" required maxlength="500" placeholder="Write a comment"
        aria-label="Comment on ${escape(post.title)}">
      <button type="submit">Comment</button>
    </form>
  </article>`;
}

/** The page of a signed-in user: their live notifications, then every post with its comments. */
function postsPage(user, posts, brokerUrl) {
  const attributes = ` data-user="${escape(user)}" data-broker-url="${escape(brokerUrl)}"`;
  return layout(`Posts - ${user}`, `<header>
  <span>Signed in as <b id="me">${escape(user)}</b></span>
  <form method="post" action="/signout"><button type="submit">Sign out</button></form>
</header>
<main>
  <section class="notifications">
    <h2>Notifications <span id="status" data-state="connecting">connecting…</span></h2>
    <ul id="notifications"></ul>
    <p id="no-notifications">Nothing yet. When someone comments on your post, it shows here at
    once.</p>
  </section>
  <section class="posts">
    <h2>Posts</h2>
    ${posts.map(renderPost).join('\n    ')}
  </section>
</main>
<script src="/vendor/stomp.umd.js"></script>
<script src="/static/threads.js"></script>
<script src="/static/notifications.js"></script>`, attributes);
}

module.exports = { signInPage, postsPage, renderComment, escape };
