// The live server's two pages: the database's sweeps, and one sweep drawn live (progress, tasks, charts). The chart
// libraries come from the server itself (/static/), never from a CDN.
import type { Sweep } from '../domain.js';
import { drawingScript, escapeHtml, pageHead } from '../report/html.js';
import type { LiveState } from './state.js';

/** The libraries' URLs on this server, in loading order. */
export const STATIC_LIBRARIES = ['vega.min.js', 'vega-lite.min.js', 'vega-embed.min.js'];

export function sweepListPage(location: string, sweeps: { sweep: Sweep; trialsDone: number }[]): string {
  const rows = sweeps
    .map(
      ({ sweep: s, trialsDone }) =>
        `<tr><td>${s.id}</td><td><a href="sweeps/${s.id}">${escapeHtml(s.name)}</a></td><td>${escapeHtml(s.modelKind)}</td><td>${escapeHtml(s.status)}</td><td>${trialsDone} of ${s.totalTrials}</td><td>${escapeHtml(s.createdAt)}</td></tr>`,
    )
    .join('\n');
  return `${pageHead(`regsweep: ${location}`)}
<h1>Sweeps in <code>${escapeHtml(location)}</code></h1>
<table id="sweeps">
<thead><tr><th>id</th><th>name</th><th>model</th><th>status</th><th>trials</th><th>created</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="6">no sweeps yet</td></tr>'}
</tbody>
</table>
<p class="caption">This page lists the sweeps when it loads; a sweep's page updates itself while the sweep runs.</p>
</body>
</html>
`;
}

/** What a page says once the database it served is gone (deleted, replaced or overwritten). */
export function gonePage(location: string, why: string): string {
  return `${pageHead(`regsweep: ${location}`)}
<h1>Sweeps in <code>${escapeHtml(location)}</code></h1>
<p id="connection" class="gone">${escapeHtml(why)}</p>
</body>
</html>
`;
}

// The words of the progress line and the task lists, written by the server into the page and by the page's script
// (its copies below say the same) on each update.
const LIST_SHOWN = 8;
const groupWords = (t: { penalty: string; l1Ratio: number }) => (t.penalty === 'elasticnet' ? `elasticnet l1_ratio=${t.l1Ratio}` : t.penalty);
function durationWords(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return 'unknown';
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
function progressLine(state: LiveState): string {
  const p = state.progress;
  const rate = p.trialsPerSecond ? `${p.trialsPerSecond.toFixed(1)} trials/s · about ${durationWords(p.etaSeconds)} left` : 'rate not known yet';
  return `${p.done} of ${p.total} trials${state.sweep.status === 'running' ? ` · ${rate}` : ''}`;
}
const runningLine = (t: LiveState['running'][number]) => `task ${t.taskId}: ${groupWords(t)}, fold ${t.fold}${t.owner ? `, on ${t.owner}` : ''}${t.attempt > 1 ? `, attempt ${t.attempt}` : ''}`;
const failedLine = (t: LiveState['failed'][number]) => `task ${t.taskId} (${t.status}): ${groupWords(t)}, fold ${t.fold}: ${t.error}`;
function listItems(lines: string[]): string {
  const shown = lines.slice(0, LIST_SHOWN).map((l) => `<li>${escapeHtml(l)}</li>`);
  if (lines.length > LIST_SHOWN) shown.push(`<li>and ${lines.length - LIST_SHOWN} more</li>`);
  return shown.length ? shown.join('') : '<li>none</li>';
}

/**
 * A sweep's page: the state when it was served, with its charts already drawn (`drawn`: one SVG per chart, by the
 * server), then updates by Server-Sent Events (EventSource resumes with Last-Event-ID after a lost connection). After
 * the first paint the chart libraries load and each drawing is replaced by a live vega view (tooltips, changesets).
 * Updates are applied once per animation frame, the newest one winning; a chart whose spec is unchanged gets its rows
 * by a vega changeset, a new or changed one is drawn again. One long function: it is the page, HTML and its script in
 * one template string (the script's helpers are the page's own, not the server's).
 */
export function sweepPage(state: LiveState, drawn: string[] = []): string {
  const sections = state.charts
    .map(
      (c, k) => `<section id="section-${escapeHtml(c.id)}"><h2>${escapeHtml(c.title)}</h2><p class="caption">${escapeHtml(c.caption)}</p><p class="guide">${escapeHtml(c.guide)}</p>
<div class="chart" data-chart="${escapeHtml(c.id)}">${drawn[k] ?? ''}</div></section>`,
    )
    .join('\n');
  return `${pageHead(`regsweep: ${state.sweep.name} (live)`)}
<p><a href="../">all sweeps</a></p>
<h1>Sweep <code>${escapeHtml(state.sweep.name)}</code> <small id="status">(${escapeHtml(state.sweep.status)})</small></h1>
<p id="progress" data-trials-done="${state.progress.done}" data-trials-total="${state.progress.total}">${escapeHtml(progressLine(state))}</p>
<p id="connection" class="caption"></p>
<h2>Claimed tasks <small class="caption">(running, or queued in a worker pool)</small></h2>
<ul id="running">${listItems(state.running.map(runningLine))}</ul>
<h2>Failed or diverged</h2>
<ul id="failed">${listItems(state.failed.map(failedLine))}</ul>
<div id="notes">${state.notes.map((n) => `<p class="warning">${escapeHtml(n)}</p>`).join('')}</div>
<p id="no-charts" class="caption"${state.charts.length ? ' hidden' : ''}>No trial recorded yet: the charts appear with the first finished task, validation curves when the first validation fold completes.</p>
<div id="charts">
${sections}
</div>
<script>
(function () {
  var views = {};
  ${drawingScript()}
  // The libraries load after the first paint (the server's drawings are on screen by then), in order.
  var libraries = null;
  function loadLibraries() {
    libraries = libraries || new Promise(function (resolve, reject) {
      var files = ${JSON.stringify(STATIC_LIBRARIES)};
      files.forEach(function (file, k) {
        var script = document.createElement('script');
        script.src = '../static/' + file;
        script.async = false;
        // Text measured as the server measured it: a live view has the layout of the drawing it replaces.
        if (k === files.length - 1) script.onload = function () { useDrawingTextWidths(); resolve(); };
        script.onerror = function () { reject(new Error('cannot load ' + file)); };
        document.head.appendChild(script);
      });
    });
    return libraries;
  }
  var painted = afterFirstPaint();
  var pending = null;
  var scheduled = false;
  var drawing = Promise.resolve();
  function text(el, value) { el.textContent = value; }
  function group(t) { return t.penalty === 'elasticnet' ? 'elasticnet l1_ratio=' + t.l1Ratio : t.penalty; }
  function duration(s) {
    if (s === null || !isFinite(s)) return 'unknown';
    if (s < 90) return Math.round(s) + ' s';
    if (s < 5400) return Math.round(s / 60) + ' min';
    return (s / 3600).toFixed(1) + ' h';
  }
  var SHOWN = 8;
  function list(el, items, line) {
    var shown = items.slice(0, SHOWN).map(function (t) { var li = document.createElement('li'); li.textContent = line(t); return li; });
    if (items.length > SHOWN) shown.push(Object.assign(document.createElement('li'), { textContent: 'and ' + (items.length - SHOWN) + ' more' }));
    el.replaceChildren.apply(el, shown.length ? shown : [Object.assign(document.createElement('li'), { textContent: 'none' })]);
  }
  function chartElement(chart) {
    var section = document.getElementById('section-' + chart.id);
    if (!section) {
      section = document.createElement('section');
      section.id = 'section-' + chart.id;
      section.innerHTML = '<h2></h2><p class="caption"></p><p class="guide"></p><div class="chart"></div>';
      section.querySelector('.chart').setAttribute('data-chart', chart.id);
      document.getElementById('charts').appendChild(section);
    }
    text(section.querySelector('h2'), chart.title);
    text(section.querySelector('.caption'), chart.caption);
    text(section.querySelector('.guide'), chart.guide);
    return section.querySelector('.chart');
  }
  function drawChart(chart) {
    var key = JSON.stringify(chart.spec);
    var known = views[chart.id];
    if (known && known.key === key && !known.named) return Promise.resolve();
    if (known && known.key === key && known.named) {
      window.regsweepChangesets = (window.regsweepChangesets || 0) + 1;
      return known.view.change('rows', vega.changeset().remove(vega.truthy).insert(chart.rows)).runAsync();
    }
    var el = chartElement(chart);
    // Drawn aside and swapped in when done: the drawing it replaces (the server's, or the view before) stays until then.
    var fresh = document.createElement('div');
    // The rows go in by a changeset after the first draw, when the compiled spec kept the data source's name;
    // otherwise (Vega-Lite may fold a named source into another) the chart is drawn again with its rows inline.
    var named = chart.spec.data && chart.spec.data.name === 'rows';
    var spec = Object.assign({}, chart.spec);
    return vegaEmbed(fresh, spec, { actions: false, renderer: 'svg' }).then(function (result) {
      var view = result.view;
      try { view.data('rows'); } catch (e) { named = false; }
      if (named) return view.change('rows', vega.changeset().insert(chart.rows)).runAsync().then(function () { return view; });
      if (!(chart.spec.data && chart.spec.data.name === 'rows')) return view;
      view.finalize();
      return vegaEmbed(fresh, Object.assign({}, chart.spec, { data: { values: chart.rows } }), { actions: false, renderer: 'svg' }).then(function (r) { return r.view; });
    }).then(function (view) {
      el.replaceChildren(fresh);
      if (known && known.view !== view) known.view.finalize();
      views[chart.id] = { key: key, view: view, named: named };
    });
  }
  function apply(state) {
    var p = state.progress;
    var progress = document.getElementById('progress');
    progress.setAttribute('data-trials-done', String(p.done));
    progress.setAttribute('data-trials-total', String(p.total));
    text(progress, p.done + ' of ' + p.total + ' trials' + (state.sweep.status === 'running' ? ' · ' + (p.trialsPerSecond ? p.trialsPerSecond.toFixed(1) + ' trials/s · about ' + duration(p.etaSeconds) + ' left' : 'rate not known yet') : ''));
    text(document.getElementById('status'), '(' + state.sweep.status + ')');
    list(document.getElementById('running'), state.running, function (t) { return 'task ' + t.taskId + ': ' + group(t) + ', fold ' + t.fold + (t.owner ? ', on ' + t.owner : '') + (t.attempt > 1 ? ', attempt ' + t.attempt : ''); });
    list(document.getElementById('failed'), state.failed, function (t) { return 'task ' + t.taskId + ' (' + t.status + '): ' + group(t) + ', fold ' + t.fold + ': ' + t.error; });
    document.getElementById('no-charts').hidden = state.charts.length > 0;
    var notes = document.getElementById('notes');
    notes.replaceChildren.apply(notes, state.notes.map(function (n) { var el = document.createElement('p'); el.className = 'warning'; el.textContent = n; return el; }));
    // One chart after another, yielding between them, so that the page stays responsive while they are made live.
    return state.charts.reduce(function (previous, chart, k) {
      return previous.then(function () { return k === 0 ? null : new Promise(function (resolve) { setTimeout(resolve, 0); }); }).then(function () {
        return drawChart(chart);
      });
    }, painted.then(loadLibraries));
  }
  var live;
  window.regsweepCharts = new Promise(function (resolve) { live = resolve; });
  var applied = 0;
  function schedule(state) {
    pending = state;
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(function () {
      scheduled = false;
      var next = pending;
      pending = null;
      drawing = drawing.then(function () { return apply(next); }).then(function () {
        // The first state makes the charts live; the ones after it are updates.
        if (applied++ === 0) { window.regsweepLiveAt = performance.now(); live(); }
        else window.regsweepUpdates = (window.regsweepUpdates || 0) + 1;
      }, function (e) { text(document.getElementById('connection'), 'the charts cannot be drawn here: ' + e.message); });
    });
  }
  // The page's data comes by the event stream, opened after the first paint: a new connection is sent the state at
  // once (the page holds only its drawings, so that it is on screen sooner); a reconnection, whatever is newer.
  painted.then(function () {
    loadLibraries();
    var source = new EventSource('${state.sweep.id}/events');
    var connection = document.getElementById('connection');
    source.addEventListener('state', function (e) { text(connection, ''); schedule(JSON.parse(e.data)); });
    // The database was deleted, replaced or overwritten under the server: what is shown stays, marked as stale.
    source.addEventListener('gone', function (e) {
      source.close();
      text(connection, JSON.parse(e.data).message + ' (the page shows the sweep as it was)');
      connection.className = 'gone';
      text(document.getElementById('status'), '(no longer served)');
    });
    source.onerror = function () { if (source.readyState !== 2) text(connection, 'connection lost: reconnecting…'); };
  });
})();
</script>
</body>
</html>
`;
}
