import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { Resvg } from '@resvg/resvg-js';
import type { Chart } from './specs.js';
import { vegaTextWidth } from './textWidth.js';

// Text measured as chromium measures it, not by vega's estimate (node has no canvas). vega's types omit textMetrics.
(vega as unknown as { textMetrics: { width: typeof vegaTextWidth } }).textMetrics.width = vegaTextWidth;

/** Vega-Lite → Vega → SVG with vega's headless renderer (no browser, no canvas). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** SVG → PNG at 2× scale with resvg (no browser needed). */
export function svgToPng(svg: string): Buffer {
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: 2 },
    background: 'white',
    // sans-serif as chromium draws it here: the text widths the layout used are Liberation Sans's. (A default family
    // other than it overrides the generic one.) Characters it lacks come from the other system fonts.
    font: { loadSystemFonts: true, sansSerifFamily: 'Liberation Sans', defaultFontFamily: 'Liberation Sans' },
  });
  return resvg.render().asPng();
}

/**
 * Every chart as files beside its page: the Vega-Lite spec (.vl.json), the SVG and (with `png`) the PNG. Returns the
 * SVGs, which the page holds as its charts until the browser has drawn them live.
 */
export async function writeChartFiles(charts: Chart[], write: (name: string, content: string | Uint8Array) => void, png: boolean): Promise<string[]> {
  const svgs: string[] = [];
  for (const chart of charts) {
    write(`${chart.id}.vl.json`, JSON.stringify(chart.spec, null, 1));
    const svg = await renderSvg(chart.spec);
    write(`${chart.id}.svg`, svg);
    if (png) write(`${chart.id}.png`, svgToPng(svg));
    svgs.push(svg);
  }
  return svgs;
}
