'use strict';
// What the recovery tests (recovery.test.js in Node, browser_recovery.test.js in Chromium) share:
// their users (an admin for the console's close), the broker config with its [[history]] tables,
// and the checks on `x-position`.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { writeUsersFile } = require('./admin');

const ADMIN = { name: 'root', password: 'root-pw', roles: ['admin'] };
const READER = { name: 'reader', password: 'reader-pw', roles: ['user'] };
const WRITER = { name: 'writer', password: 'writer-pw', roles: ['user'] };

/** stompjs Client config logging in as `user`. */
const login = (user) => ({ connectHeaders: { login: user.name, passcode: user.password } });

/** ["1", ..., "n"]: the bodies the publisher sends. */
const numbers = (n) => Array.from({ length: n }, (_, i) => String(i + 1));

/**
 * Writes `dir`/stompbox.toml (and users.toml): logins from the users file, history on
 * /topic/recovery.* and /topic/wild.* (2,000 messages) and /topic/short.* (10), `extra` TOML
 * appended; returns its path.
 */
function writeRecoveryConfig(dir, extra = '') {
  writeUsersFile(dir, [ADMIN, READER, WRITER]);
  const config = path.join(dir, 'stompbox.toml');
  const history = (pattern, max) =>
    `[[history]]\npattern = "${pattern}"\nmax_messages = ${max}\nmax_age_seconds = 300\n`;
  fs.writeFileSync(config, [`[auth]\nusers_file = "users.toml"\n`, extra,
    history('/topic/recovery.*', 2000), history('/topic/short.*', 10),
    history('/topic/wild.*', 2000)].join('\n'));
  return config;
}

/** The offsets of `positions` ("EPOCH:OFFSET" each), checked to be there and on one epoch. */
function offsetsOf(positions) {
  assert.ok(positions.every(Boolean), 'every MESSAGE carries x-position');
  const epochs = new Set(positions.map((p) => p.slice(0, p.lastIndexOf(':'))));
  assert.equal(epochs.size, 1, `one epoch: ${[...epochs]}`);
  return positions.map((p) => Number(p.slice(p.lastIndexOf(':') + 1)));
}

module.exports = { ADMIN, READER, WRITER, login, numbers, writeRecoveryConfig, offsetsOf };
