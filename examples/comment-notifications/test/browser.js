'use strict';
// Browser helpers shared by the browser test and docs/screenshots.js: Debian's chromium driven
// headless by playwright-core, and the few things a user does on the demo's pages.

const fs = require('node:fs');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const WAIT_MS = 20000;

/**
 * Launches chromium. Playwright gives every launch a fresh temporary profile (user-data-dir)
 * and deletes it on close.
 */
async function launchBrowser() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (or set CHROMIUM_BIN)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Signs `name` in from the start page in `context` (its own cookie jar, like a separate browser)
 * and resolves with the posts page once its notification subscription is live.
 */
async function signIn(context, appUrl, name) {
  const page = await context.newPage();
  await page.goto(appUrl);
  await page.click(`button[name="name"][value="${name}"]`);
  await page.waitForURL(/\/posts/);
  await waitLive(page);
  return page;
}

/** Another tab of an already signed-in user. */
async function openTab(context, appUrl) {
  const page = await context.newPage();
  await page.goto(new URL('/posts', appUrl).href);
  await waitLive(page);
  return page;
}

/** Waits until the page's SUBSCRIBE to /user/queue/notifications got its RECEIPT. */
async function waitLive(page) {
  await page.locator('#status[data-state="live"]').waitFor({ timeout: WAIT_MS });
}

/** Comments on post `postId` from `page` and waits until the comment is on the page. */
async function comment(page, postId, text) {
  const post = page.locator(`#post-${postId}`);
  await post.locator('input[name="text"]').fill(text);
  await post.locator('button[type="submit"]').click();
  await post.locator('.comments li', { hasText: text }).waitFor({ timeout: WAIT_MS });
}

/** Waits until a notification containing `text` is shown on `page`. */
async function waitForNotification(page, text) {
  await page.locator('#notifications li', { hasText: text }).waitFor({ timeout: WAIT_MS });
}

/** Waits until post `postId` on `page` shows a comment containing `text`. */
async function waitForComment(page, postId, text) {
  await page.locator(`#post-${postId} .comments li`, { hasText: text })
    .waitFor({ timeout: WAIT_MS });
}

/** The comments shown under post `postId` on `page`, oldest first ("author: text"). */
function comments(page, postId) {
  return page.locator(`#post-${postId} .comments li`).allTextContents();
}

/** Waits until the page has lost its connection to stompbox (stomp.js reconnects). */
async function waitOffline(page) {
  await page.locator('#status[data-state="offline"]').waitFor({ timeout: WAIT_MS });
}

/** The notifications shown on `page`, newest first. */
function notifications(page) {
  return page.locator('#notifications li').allTextContents();
}

module.exports = { launchBrowser, signIn, openTab, waitLive, comment, waitForNotification,
  notifications, waitForComment, comments, waitOffline };
