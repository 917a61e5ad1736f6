// Writes src/report/textWidths.ts: the width of each character of vega's default font ("sans-serif", normal and
// bold) as Debian's chromium draws it, so that charts drawn without a browser (the server's drawings, the report's
// SVG and PNG files) are laid out as the browser lays them out. Run: node scripts/measure-text.mjs
import { writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const ascii = Array.from({ length: 95 }, (_, k) => String.fromCharCode(32 + k)).join('');
const chars = ascii + 'λαβμσ±·—–…‘’“”×←→−≈≤≥²³°éèáàöüäßçñ';
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
});
const page = await browser.newPage();
const measured = await page.evaluate((chars) => {
  const context = document.createElement('canvas').getContext('2d');
  const widths = (font) => {
    context.font = font;
    return Array.from(chars, (c) => Math.round((context.measureText(c).width / 100) * 1e4) / 1e4);
  };
  return { normal: widths('100px sans-serif'), bold: widths('bold 100px sans-serif') };
}, chars);
const version = browser.version();
await browser.close();
const table = { chars, normal: measured.normal, bold: measured.bold };
writeFileSync(
  new URL('../src/report/textWidths.ts', import.meta.url),
  `// Written by scripts/measure-text.mjs (chromium ${version}): widths in em of vega's default font, "sans-serif".\n` +
    `export const SANS_SERIF_WIDTHS = ${JSON.stringify(table)};\n`,
);
console.log(`src/report/textWidths.ts: ${chars.length} characters`);
