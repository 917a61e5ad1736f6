#!/usr/bin/env node
// `regsweep --help`, `regsweep COMMAND --help` and `--version` are answered from pages written at build time
// (scripts/bundle.mjs); everything else loads the command line, bundled into one file. CommonJS (bin/package.json):
// Node starts a CommonJS entry sooner than an ES module.
'use strict';
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const args = process.argv.slice(2);
const dist = join(__dirname, '..', 'dist');
const askedForHelp = (args.length === 1 && /^(--help|-h|--version)$/.test(args[0])) || (args.length === 2 && /^(--help|-h)$/.test(args[1]));
let answered = false;
// yargs wraps at the terminal's width below 80 columns: only then is the live page different.
if (askedForHelp && !process.env.REGSWEEP_LIVE_HELP && !(process.stdout.isTTY && process.stdout.columns < 80)) {
  try {
    const { version, pages } = JSON.parse(readFileSync(join(dist, 'help.json'), 'utf8'));
    const page = args[0] === '--version' ? version : pages[args.length === 1 ? '' : args[0]];
    if (page !== undefined) {
      process.stdout.write(page);
      answered = true;
    }
  } catch {
    // Not built yet, or built by an older version: yargs answers.
  }
}
if (!answered) import(require('node:url').pathToFileURL(join(dist, 'cli', 'cli.js')).href).then((cli) => cli.main(args));
