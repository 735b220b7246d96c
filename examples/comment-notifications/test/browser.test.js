'use strict';
// The example end to end in a real browser: stompbox + the app, Debian's chromium headless.
// Users are separate browser contexts (own cookies, like separate browsers); alice has two tabs.
// Needs STOMPBOX_BIN (the stompbox binary) and /usr/bin/chromium. `node --test test/`
//
// Absence ("bob sees nothing") is checked after a later notification to the same page has
// arrived: stompbox delivers a user queue in order, so anything wrongly routed or duplicated
// before that point would already be on screen. No sleeps, no timing assertions.

const assert = require('node:assert/strict');
const { after, before, test } = require('node:test');
const { startStack } = require('../lib/stack');
const b = require('./browser');
const { Proxy } = require('./proxy');

// Seeded posts (lib/posts.js): 1 and 3 are alice's, 2 is bob's.
const ALICE_POST = { id: 1, title: 'Moving our pager alerts to STOMP' };
const ALICE_POST_2 = { id: 3, title: 'Lunch: the new ramen place?' };
const BOB_POST = { id: 2, title: 'Notes from the broker load test' };

/** What the author's page shows for `who` commenting `text` on `post`. */
const shownAs = (who, post, text) => `${who} commented on your post "${post.title}": ${text}`;

let stack;
let browser;
let proxy; // the pages reach stompbox through it, so a test can take them offline

before(async () => {
  const stompboxBin = process.env.STOMPBOX_BIN;
  assert.ok(stompboxBin, 'set STOMPBOX_BIN to the stompbox binary');
  proxy = await new Proxy().listen();
  stack = await startStack({ stompboxBin, browserBrokerUrl: `ws://127.0.0.1:${proxy.port}/ws` });
  proxy.targetPort = Number(new URL(stack.brokerUrl).port);
  browser = await b.launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (proxy) await proxy.close();
  if (stack) await stack.stop();
});

/** `page` shows exactly `expected` (newest first), each once. */
async function assertShows(page, expected, who) {
  const shown = await b.notifications(page);
  assert.equal(shown.length, expected.length, `${who} shows ${JSON.stringify(shown)}`);
  expected.forEach((text, i) => assert.ok(shown[i].startsWith(text),
    `${who}: item ${i} is "${shown[i]}", expected "${text}"`));
}

test('a comment notifies only the post author, in every tab, and on the next sign-in', async () => {
  const alice = await browser.newContext();
  const carol = await browser.newContext();
  let bob = await browser.newContext();
  const aliceTabs = [
    await b.signIn(alice, stack.appUrl, 'alice'),
    await b.openTab(alice, stack.appUrl),
  ];
  const bobPage = await b.signIn(bob, stack.appUrl, 'bob');
  const carolPage = await b.signIn(carol, stack.appUrl, 'carol');

  // Live: carol comments on alice's post; both of alice's tabs show it at once.
  const first = shownAs('carol', ALICE_POST, 'Great idea, count me in');
  await b.comment(carolPage, ALICE_POST.id, 'Great idea, count me in');
  for (const tab of aliceTabs) await b.waitForNotification(tab, first);
  // bob's page is still subscribed: a comment on his post arrives, and nothing before it.
  const bobLive = shownAs('carol', BOB_POST, 'Nice graphs');
  await b.comment(carolPage, BOB_POST.id, 'Nice graphs');
  await b.waitForNotification(bobPage, bobLive);
  await assertShows(bobPage, [bobLive], 'bob');

  // Offline: bob closes his browser; carol comments on bob's post; bob signs in again.
  await bob.close();
  const whileAway = shownAs('carol', BOB_POST, 'Which client did you use?');
  await b.comment(carolPage, BOB_POST.id, 'Which client did you use?');
  bob = await browser.newContext();
  const bobAgain = await b.signIn(bob, stack.appUrl, 'bob');
  await b.waitForNotification(bobAgain, whileAway);
  // One more, live, behind it in bob's queue: a duplicate of the stored one would come first.
  const afterReturn = shownAs('carol', BOB_POST, 'And how many connections?');
  await b.comment(carolPage, BOB_POST.id, 'And how many connections?');
  await b.waitForNotification(bobAgain, afterReturn);
  await assertShows(bobAgain, [afterReturn, whileAway], 'bob after signing in again');

  // Shown and acknowledged means gone: the next sign-in starts empty.
  await bob.close();
  bob = await browser.newContext();
  const bobThird = await b.signIn(bob, stack.appUrl, 'bob');
  const third = shownAs('carol', BOB_POST, 'Last one, promise');
  await b.comment(carolPage, BOB_POST.id, 'Last one, promise');
  await b.waitForNotification(bobThird, third);
  await assertShows(bobThird, [third], 'bob on his third sign-in');

  // alice never saw bob's notifications, nor her own comment; the commenter got nothing.
  await b.comment(aliceTabs[0], ALICE_POST_2.id, 'Tuesday works for me');
  const last = shownAs('carol', ALICE_POST_2, 'Tuesday too');
  await b.comment(carolPage, ALICE_POST_2.id, 'Tuesday too');
  for (const [i, tab] of aliceTabs.entries()) {
    await b.waitForNotification(tab, last);
    await assertShows(tab, [last, first], `alice's tab ${i + 1}`);
  }
  await assertShows(carolPage, [], 'carol');
  for (const context of [alice, bob, carol]) await context.close(); // no page left reconnecting
}, { timeout: 150000 });

test('a page offline for a moment shows the comments it missed once it reconnects', async () => {
  const alice = await browser.newContext();
  const carol = await browser.newContext();
  const alicePage = await b.signIn(alice, stack.appUrl, 'alice');
  const carolPage = await b.signIn(carol, stack.appUrl, 'carol');
  const before = await b.comments(alicePage, ALICE_POST.id); // rendered with the page

  // Live: carol's comment appears in alice's thread without a reload.
  await b.comment(carolPage, ALICE_POST.id, 'Before the tunnel');
  await b.waitForComment(alicePage, ALICE_POST.id, 'Before the tunnel');

  // Offline: the connection drops and stays down while carol comments twice on alice's post
  // and once on bob's (alice's page saw nothing on that thread yet: it reloads it).
  assert.ok(proxy.cut({ down: true }) >= 1, 'the pages\' connections were cut');
  await b.waitOffline(alicePage);
  const missed = ['In the tunnel, one', 'In the tunnel, two'];
  for (const text of missed) await b.comment(carolPage, ALICE_POST.id, text);
  await b.comment(carolPage, BOB_POST.id, 'Meanwhile on bob\'s post');
  proxy.up();

  // Back: stomp.js reconnects; the thread's SUBSCRIBE with x-recover-from gets both, in order.
  await b.waitLive(alicePage);
  await alicePage.locator(`#post-${ALICE_POST.id}[data-recovered="true"]`)
    .waitFor({ timeout: 20000 });
  await b.waitForComment(alicePage, ALICE_POST.id, missed[1]);
  assert.deepEqual(await b.comments(alicePage, ALICE_POST.id),
    [...before, 'carol: Before the tunnel', ...missed.map((t) => `carol: ${t}`)],
    'alice\'s thread: every comment once, in order');
  await b.waitForComment(alicePage, BOB_POST.id, 'Meanwhile on bob\'s post');
  const onBobsPost = await b.comments(alicePage, BOB_POST.id);
  assert.equal(onBobsPost.filter((t) => t.includes('Meanwhile')).length, 1, 'shown once');
  // Carol's own page shows her comments once each (posted by her page and back on the topic).
  const carolsThread = await b.comments(carolPage, ALICE_POST.id);
  assert.equal(new Set(carolsThread).size, carolsThread.length, `carol: ${carolsThread}`);
  await alice.close();
  await carol.close();
}, { timeout: 120000 });
