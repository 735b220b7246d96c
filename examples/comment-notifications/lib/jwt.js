'use strict';
// HS256 JSON Web Tokens with node's crypto: the app signs one per signed-in user (role "user")
// and one for its own publisher connection (role "publisher"). stompbox checks them with the
// same secret, issuer and audience (its [jwt] table).

const crypto = require('node:crypto');

const base64url = (data) => Buffer.from(data).toString('base64url');

/**
 * Signs `claims` (plus iss, aud, iat, exp) with `secret`.
 * @param {{secret: string, issuer: string, audience: string, ttlSeconds: number}} options
 */
function signToken(claims, { secret, issuer, audience, ttlSeconds }) {
  const now = Math.floor(Date.now() / 1000);
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = base64url(JSON.stringify({
    ...claims, iss: issuer, aud: audience, iat: now, exp: now + ttlSeconds,
  }));
  const signature = crypto.createHmac('sha256', secret).update(`${header}.${payload}`)
    .digest('base64url');
  return `${header}.${payload}.${signature}`;
}

module.exports = { signToken };
