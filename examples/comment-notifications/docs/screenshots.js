'use strict';
// Retakes the README's screenshots: `STOMPBOX_BIN=/path/to/stompbox node docs/screenshots.js`.
// Same steps as the browser test, with pictures instead of assertions.

const path = require('node:path');
const { startStack } = require('../lib/stack');
const b = require('../test/browser');

const VIEWPORT = { width: 900, height: 620 };
const shot = (page, name) => page.screenshot({ path: path.join(__dirname, `${name}.png`) });

async function takeScreenshots(appUrl, browser) {
  const context = () => browser.newContext({ viewport: VIEWPORT });
  const [alice, carol] = [await context(), await context()];
  let bob = await context();

  const start = await alice.newPage();
  await start.goto(appUrl);
  await shot(start, 'sign-in');
  await start.close();

  const aliceTabs = [await b.signIn(alice, appUrl, 'alice'), await b.openTab(alice, appUrl)];
  await b.signIn(bob, appUrl, 'bob');
  const carolPage = await b.signIn(carol, appUrl, 'carol');
  await b.comment(carolPage, 1, 'Great idea, count me in');
  await shot(carolPage, 'carol-comments');
  for (const tab of aliceTabs) await b.waitForNotification(tab, 'Great idea');
  await shot(aliceTabs[1], 'alice-notified');

  await bob.close();
  await b.comment(carolPage, 2, 'Which client did you use?');
  bob = await context();
  const bobAgain = await b.signIn(bob, appUrl, 'bob');
  await b.waitForNotification(bobAgain, 'Which client');
  await shot(bobAgain, 'bob-back-online');
}

async function main() {
  const stack = await startStack({ stompboxBin: process.env.STOMPBOX_BIN });
  let browser;
  try {
    browser = await b.launchBrowser();
    await takeScreenshots(stack.appUrl, browser);
  } finally {
    if (browser) await browser.close();
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
