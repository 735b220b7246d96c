'use strict';
// The example app on its own: `node server.js` with the settings below in the environment
// (run.js sets them all and starts stompbox too).
//
//   JWT_SECRET    the HS256 secret stompbox's [jwt] table holds (at least 32 bytes); required
//   JWT_ISSUER    `iss` of the tokens (default comment-notifications-example)
//   JWT_AUDIENCE  `aud` of the tokens (default stompbox)
//   BROKER_URL    stompbox's WebSocket URL, for browsers and this server (ws://127.0.0.1:15674/ws)
//   BROWSER_BROKER_URL  the URL browsers use when it differs (a proxy in front; default BROKER_URL)
//   APP_HOST, APP_PORT   where this app listens (127.0.0.1, 3000; port 0 picks a free one)

const { signToken } = require('./lib/jwt');
const { createApp } = require('./lib/app');
const { PostStore } = require('./lib/posts');
const { Publisher } = require('./lib/publisher');

const USER_TOKEN_TTL_SECONDS = 15 * 60; // pages fetch a fresh one on every reconnect
const PUBLISHER_TOKEN_TTL_SECONDS = 60 * 60;

function settingsFromEnv(env) {
  const secret = env.JWT_SECRET || '';
  if (Buffer.byteLength(secret) < 32) throw new Error('JWT_SECRET must hold at least 32 bytes');
  return {
    secret,
    issuer: env.JWT_ISSUER || 'comment-notifications-example',
    audience: env.JWT_AUDIENCE || 'stompbox',
    brokerUrl: env.BROKER_URL || 'ws://127.0.0.1:15674/ws',
    browserBrokerUrl: env.BROWSER_BROKER_URL || env.BROKER_URL || 'ws://127.0.0.1:15674/ws',
    host: env.APP_HOST || '127.0.0.1',
    port: Number(env.APP_PORT || 3000),
  };
}

function main() {
  const s = settingsFromEnv(process.env);
  const jwt = (ttlSeconds) =>
    ({ secret: s.secret, issuer: s.issuer, audience: s.audience, ttlSeconds });
  // Browsers get role "user": they may only read their own /user/queue/...; the app's own
  // connection gets role "publisher" to send to anyone's /user/{name}/queue/notifications.
  const userToken = (user) =>
    signToken({ sub: user, roles: ['user'] }, jwt(USER_TOKEN_TTL_SECONDS));
  const publisherToken = () =>
    signToken({ sub: 'comment-app', roles: ['publisher'] }, jwt(PUBLISHER_TOKEN_TTL_SECONDS));
  const publisher = new Publisher(s.brokerUrl, publisherToken);
  const server = createApp({
    posts: new PostStore(), publisher, userToken, brokerUrl: s.browserBrokerUrl,
  });

  publisher.start();
  server.listen(s.port, s.host, () => {
    const { port } = server.address();
    console.log(`comment-notifications listening on http://${s.host}:${port}/`);
  });
  const stop = async () => {
    server.close();
    server.closeAllConnections();
    await publisher.stop();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main();
