'use strict';
// A users file for the broker (hashes from `stompbox passwd`) and the console's admin close
// (docs/console.md: POST /api/v1/connections/{id}/close), a real server-side close of a client.

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { sleep } = require('./inbox');

const WAIT_MS = 15000;

/** `stompbox passwd` for `password`: the hash a users file holds. */
function hashOf(password) {
  return execFileSync(process.env.STOMPBOX_BIN, ['passwd'], { input: `${password}\n` })
    .toString().trim();
}

/** Writes `dir`/users.toml with `users` = [{name, password, roles}]; returns its path. */
function writeUsersFile(dir, users) {
  const file = path.join(dir, 'users.toml');
  fs.writeFileSync(file, users.map((u) => ['[[user]]', `name = "${u.name}"`,
    `password = "${hashOf(u.password)}"`, `roles = ${JSON.stringify(u.roles || [])}`, '']
    .join('\n')).join('\n'));
  return file;
}

/** The console's base URL (the broker's metrics listener, a free port: its start-up line). */
async function consoleUrl(broker) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const all = [...broker.output.matchAll(/metrics at (http:\/\/[0-9.]+:\d+)\/metrics/g)];
    if (all.length) return all[all.length - 1][1]; // the last start of the broker
    if (Date.now() > deadline) throw new Error(`no metrics line in:\n${broker.output}`);
    await sleep(50);
  }
}

/**
 * Closes, as administrator `admin` ({name, password}), the connection of STOMP session `session`
 * (CONNECTED's `session` header); resolves with the number closed (each answered 202).
 */
async function adminCloseSession(broker, admin, session) {
  const base = await consoleUrl(broker);
  const listed = await (await fetch(`${base}/api/v1/connections`)).json();
  const ids = listed.connections.filter((c) => c.session === session).map((c) => c.id);
  const auth = `Basic ${Buffer.from(`${admin.name}:${admin.password}`).toString('base64')}`;
  for (const id of ids) {
    const res = await fetch(`${base}/api/v1/connections/${id}/close`,
      { method: 'POST', headers: { authorization: auth } });
    if (res.status !== 202) throw new Error(`close ${id}: HTTP ${res.status} ${await res.text()}`);
  }
  return ids.length;
}

module.exports = { hashOf, writeUsersFile, consoleUrl, adminCloseSession };
