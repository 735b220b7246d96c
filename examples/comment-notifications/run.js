'use strict';
// `node run.js` (what start.sh runs): starts stompbox and the app, prints the URL, and on
// Ctrl-C stops both. STOMPBOX_BIN names the broker binary; APP_PORT / BROKER_WS_PORT pick ports.

const { startStack } = require('./lib/stack');

async function main() {
  const stompboxBin = process.env.STOMPBOX_BIN;
  if (!stompboxBin) throw new Error('set STOMPBOX_BIN to the stompbox binary (start.sh does)');
  const stack = await startStack({
    stompboxBin,
    wsPort: Number(process.env.BROKER_WS_PORT || 15674),
    appPort: Number(process.env.APP_PORT || 3000),
    onOutput: (name, text) => {
      for (const line of text.trimEnd().split('\n')) console.log(`[${name}] ${line}`);
    },
  });
  console.log(`\n  Open ${stack.appUrl} (try two browser windows: one as alice, one as carol)`);
  console.log(`  stompbox: ${stack.brokerUrl}   Ctrl-C stops both.\n`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // A child that dies on its own takes the demo down with it, rather than half-running.
  for (const child of stack.processes) {
    child.exited.then(() => {
      if (stopping) return;
      stopping = true;
      console.error(`${child.label} exited (${JSON.stringify(child.exitInfo)}); stopping`);
      stack.stop().then(() => process.exit(1));
    });
  }
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
