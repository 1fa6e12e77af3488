// The timeline page's markup, style and script. The script reads the runs'
// JSON from <script id="runs"> and draws, per run, one row per shard: an
// inline SVG whose x axis is seconds (viewBox), so the browser scales it and
// no layout is computed in script; each row's markup is built as one string,
// which keeps 10,000 bars to a fraction of a second. The list of units (the
// keyboard's way in) is built when it is first opened.
#include "page.hpp"

namespace shardrun::timeline_page {

const char* const kHead = R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
)";

const char* const kStyle = R"(
body { font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 16px; color: #1d1d1f; background: #fff; }
h1 { font-size: 18px; margin: 0 0 4px; }
h2 { font-size: 15px; margin: 18px 0 4px; }
.stats { margin: 2px 0; color: #333; }
.stats b { font-weight: 600; }
.problems { color: #b00020; margin: 2px 0; }
.legend { display: flex; flex-wrap: wrap; gap: 10px; margin: 8px 0; font-size: 12px; }
.legend span::before { content: ""; display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -2px; background: var(--c); border-radius: 2px; }
.rows { border-top: 1px solid #ddd; }
.row { display: flex; align-items: center; height: 34px; border-bottom: 1px solid #eee; }
.rowlabel { width: 86px; flex: none; font-size: 12px; color: #444; white-space: nowrap; }
.lane { flex: 1; height: 30px; display: block; }
.axis { position: relative; height: 18px; margin-left: 86px; font-size: 11px; color: #666; }
.axis span { position: absolute; transform: translateX(-50%); white-space: nowrap; }
.axis span::before { content: ""; position: absolute; left: 50%; top: -4px; height: 4px; border-left: 1px solid #999; }
rect.bar { stroke: #fff; stroke-width: 0.5px; vector-effect: non-scaling-stroke; }
rect.r-passed { fill: #2e9e5b; } rect.r-failed { fill: #d93f3f; } rect.r-error { fill: #8b2fc9; }
rect.r-timeout { fill: #e8871e; } rect.r-interrupted { fill: #8a8a8a; } rect.r-split { fill: #4a7fc1; }
rect.crit { stroke: #111; stroke-width: 1.5px; }
rect.thin { stroke: none; }
rect.critmark { fill: #111; }
rect.span { opacity: 0.9; } rect.s-resource { fill: #a8cbe8; } rect.s-setup { fill: #f3d58a; }
rect.s-teardown { fill: #c9b8e8; } rect.s-release { fill: #dcdcdc; }
rect.o-failed, rect.o-interrupted, rect.o-died, rect.o-pending { fill: #f4a6a6; stroke: #b00020; stroke-width: 1px; vector-effect: non-scaling-stroke; }
rect.died { fill: #b00020; }
rect.hl { stroke: #000; stroke-width: 3px; }
#tip { position: fixed; z-index: 10; max-width: 460px; padding: 6px 8px; background: #222; color: #fff; border-radius: 4px; font-size: 12px; pointer-events: none; white-space: pre-wrap; word-break: break-all; }
#tip[hidden] { display: none; }
details { margin-top: 16px; }
summary { cursor: pointer; font-weight: 600; }
table { border-collapse: collapse; font-size: 12px; margin-top: 6px; }
th, td { text-align: left; padding: 2px 8px; border-bottom: 1px solid #eee; white-space: nowrap; }
td.log { font-family: ui-monospace, monospace; font-size: 11px; }
tr:focus { outline: 2px solid #1a73e8; background: #eef4fd; }
)";

const char* const kBody = R"(<h1>shardrun timeline</h1>
<div id="view"></div>
<details id="list"><summary>All units: label, shard, result, tests, predicted and actual time, exit status, log</summary><table id="units"></table></details>
<div id="tip" role="tooltip" hidden></div>)";

const char* const kScript = R"(
(function () {
'use strict';
var runs = JSON.parse(document.getElementById('runs').textContent);
var COLORS = [['passed', '#2e9e5b'], ['failed', '#d93f3f'], ['error', '#8b2fc9'], ['timeout', '#e8871e'],
  ['interrupted', '#8a8a8a'], ['split', '#4a7fc1'], ['resource', '#a8cbe8'], ['setup', '#f3d58a'],
  ['teardown', '#c9b8e8'], ['release', '#dcdcdc'], ['failed span', '#f4a6a6'], ['critical path', '#111']];
function esc(s) {
  return String(s).replace(/[&<>"]/g, function (c) {
    return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c];
  });
}
function secs(s) {
  if (s === null || s === undefined) return '-';
  if (s < 60) return s.toFixed(s < 10 ? 2 : 1) + 's';
  var m = Math.floor(s / 60), r = Math.round(s - 60 * m);
  if (m < 60) return m + 'm' + (r < 10 ? '0' : '') + r + 's';
  return Math.floor(m / 60) + 'h' + String(m % 60).padStart(2, '0') + 'm';
}
function spanEnd(p) { return Math.max(p.end || 0, p.released || 0, p.died || 0, p.start || 0); }
function runEnd(r) {
  var m = r.elapsed || 0;
  r.units.forEach(function (u) { if (u.shard >= 0 && u.end > m) m = u.end; });
  r.shard_spans.forEach(function (s) { s.spans.forEach(function (p) { m = Math.max(m, spanEnd(p)); }); });
  return m;
}
var scale = 0.001;
runs.forEach(function (r) { scale = Math.max(scale, runEnd(r)); });
var minWidth = scale / 4000;  // a bar stays visible however short
// Bars under 4 px get no outline: at thousands of units the outlines would
// be all one sees. (Measured once, at the first drawing.)
var pxPerSecond = Math.max(200, document.getElementById('view').clientWidth - 86) / scale;
function rect(cls, x, w, y, h, attrs) {
  return '<rect class="' + cls + '" x="' + x + '" y="' + y + '" width="' + Math.max(w, minWidth) +
    '" height="' + h + '"' + (attrs || '') + '></rect>';
}
function spansMarkup(ri, shard, spans) {
  var out = '', tearEnd = null, released = 0;
  spans.forEach(function (p, i) {
    if (p.kind === 'units') return;
    var end = p.end === null || p.end === undefined ? spanEnd(p) : p.end;
    var attrs = ' data-s="' + ri + ':' + shard + ':' + i + '"';
    out += rect('span s-' + p.kind + ' o-' + p.outcome, p.start, end - p.start, 2, 20, attrs);
    if (p.kind === 'teardown') tearEnd = end;
    if (p.released) released = Math.max(released, p.released);
    if (p.died) out += rect('died', p.died, scale / 800, 0, 24, attrs);
  });
  if (tearEnd !== null && released > tearEnd)
    out += rect('span s-release', tearEnd, released - tearEnd, 2, 20, ' data-s="' + ri + ':' + shard + ':r"');
  return out;
}
function renderRun(r, ri) {
  var crit = {};
  r.critical.units.forEach(function (id) { crit[id] = true; });
  var lanes = [];
  for (var s = 0; s < r.shards; s++) lanes.push('');
  r.shard_spans.forEach(function (s) {
    if (s.shard < r.shards) lanes[s.shard] += spansMarkup(ri, s.shard, s.spans);
  });
  var ran = 0;
  r.units.forEach(function (u, i) {
    if (u.shard < 0 || u.shard >= r.shards) return;
    ran++;
    var onPath = r.critical.shard === u.shard && crit[u.id];
    var wide = (u.end - u.start) * pxPerSecond >= 4;
    lanes[u.shard] += rect('bar r-' + esc(u.result) + (wide ? '' : ' thin') + (onPath && wide ? ' crit' : ''),
      u.start, u.end - u.start, 4, 16,
      ' data-u="' + ri + ':' + i + '" data-label="' + esc(u.label) + '" data-result="' + esc(u.result) + '"');
    if (onPath) lanes[u.shard] += rect('critmark', u.start, u.end - u.start, 21, 3);
  });
  var t = r.totals || {}, b = r.balance || {};
  var html = '<section class="run" data-run="' + ri + '"><h2>' + esc(r.suite) + ' — run ' + esc(r.run_id) + '</h2>';
  html += '<div class="stats">' + r.units.length + ' units (' + ran + ' ran) on <b>' + r.shards + '</b> shards · tests <b>' +
    (t.tests || 0) + '</b>, failures <b>' + (t.failures || 0) + '</b>, errors <b>' + (t.errors || 0) +
    '</b>, skipped ' + (t.skipped || 0) + ', flaky ' + (t.flaky || 0) + ' · elapsed ' + secs(r.elapsed) +
    ' · exit ' + r.exit_code + '</div>';
  html += '<div class="stats">balance: makespan <b>' + secs(b.makespan) + '</b> vs lower bound <b>' + secs(b.lower_bound) +
    '</b> = max(sum ' + secs(b.sum) + ' / ' + r.shards + ' shards, longest ' + secs(b.longest) + '): <b>' +
    (b.ratio || 0).toFixed(2) + '</b>' + (r.critical.shard >= 0 ? ' · critical path: shard ' + r.critical.shard + ', ' +
    r.critical.units.length + ' units back to back, ending at ' + secs(r.critical.end) : '') + '</div>';
  (r.problems || []).forEach(function (p) { html += '<div class="problems">problem: ' + esc(p) + '</div>'; });
  html += '<div class="rows">';
  var view = '0 0 ' + scale + ' 24';
  lanes.forEach(function (markup, s) {
    html += '<div class="row" data-run="' + ri + '" data-shard="' + s + '"><div class="rowlabel">shard ' + s +
      '</div><svg class="lane" viewBox="' + view + '" preserveAspectRatio="none" aria-label="shard ' + s + '">' +
      markup + '</svg></div>';
  });
  return html + '</div></section>';
}
function axis() {
  var step = Math.pow(10, Math.floor(Math.log10(scale / 8)));
  [2, 5, 10].some(function (f) { if (scale / step <= 10) return true; step = step / (f === 2 ? 1 : f === 5 ? 2 : 5) * f; return false; });
  var html = '<div class="axis">';
  for (var x = 0; x <= scale + 1e-9; x += step)
    html += '<span style="left:' + (100 * x / scale) + '%">' + secs(x) + '</span>';
  return html + '</div>';
}
var legend = '<div class="legend">' + COLORS.map(function (c) {
  return '<span style="--c:' + c[1] + '">' + c[0] + '</span>';
}).join('') + '</div>';
var parts = [legend];
runs.forEach(function (r, ri) { parts.push(renderRun(r, ri)); });
parts.push(axis());
document.getElementById('view').innerHTML = parts.join('');

var tip = document.getElementById('tip');
function unitText(r, u) {
  var tests = u.ntests ? u.ntests + ' test ids' + (u.tests.length ? ': ' + u.tests.join(', ') + (u.ntests > u.tests.length ? ', …' : '') : '') : 'no test ids';
  return u.label + ' (' + u.entry + ')  ' + u.result + '\n' + 'shard ' + u.shard + ', ' + secs(u.start) + ' to ' + secs(u.end) +
    '\npredicted ' + secs(u.predicted) + ', actual ' + secs(u.actual) + '\n' + tests + '\ntestcases ' + u.testcases +
    ', failing ' + u.failures + '\nexit: ' + (u.status || '-') + '\nlog: ' + (u.log || '-') + (u.note ? '\n' + u.note : '');
}
function spanText(r, key) {
  var k = key.split(':'), s = r.shard_spans.filter(function (x) { return String(x.shard) === k[1]; })[0];
  if (k[2] === 'r') return 'shard ' + k[1] + ': resources released';
  var p = s.spans[+k[2]];
  return 'shard ' + k[1] + ': ' + p.kind + (p.name ? ' ' + p.name : '') + '  ' + p.outcome + '\n' + secs(p.start) + ' to ' +
    (p.end === null ? '(never ended)' : secs(p.end)) + (p.commands !== undefined ? ', ' + p.commands + ' commands' : '') +
    (p.died ? '\ndied at ' + secs(p.died) : '') + (p.released ? '\nreleased at ' + secs(p.released) : '') +
    (p.error ? '\n' + p.error : '');
}
function describe(el) {
  if (el.dataset.u) { var k = el.dataset.u.split(':'), r = runs[+k[0]]; return unitText(r, r.units[+k[1]]); }
  if (el.dataset.s) return spanText(runs[+el.dataset.s.split(':')[0]], el.dataset.s);
  return '';
}
function show(text, x, y) {
  tip.textContent = text;
  tip.hidden = false;
  var w = tip.offsetWidth, h = tip.offsetHeight;
  tip.style.left = Math.max(4, Math.min(x + 12, window.innerWidth - w - 4)) + 'px';
  tip.style.top = Math.max(4, Math.min(y + 12, window.innerHeight - h - 4)) + 'px';
}
var view = document.getElementById('view');
view.addEventListener('mousemove', function (e) {
  var el = e.target.closest('[data-u],[data-s]');
  if (el) show(describe(el), e.clientX, e.clientY); else tip.hidden = true;
});
view.addEventListener('mouseleave', function () { tip.hidden = true; });

var list = document.getElementById('list'), built = false, lit = null;
function buildList() {
  var rows = ['<thead><tr><th>run</th><th>shard</th><th>unit</th><th>result</th><th>tests</th><th>predicted</th><th>actual</th><th>exit</th><th>log</th></tr></thead><tbody>'];
  runs.forEach(function (r, ri) {
    r.units.forEach(function (u, i) {
      rows.push('<tr tabindex="0" data-u="' + ri + ':' + i + '"><td>' + esc(r.run_id) + '</td><td>' + (u.shard < 0 ? '-' : u.shard) +
        '</td><td>' + esc(u.label) + '</td><td>' + esc(u.result) + '</td><td>' + u.ntests + '</td><td>' + secs(u.predicted) +
        '</td><td>' + secs(u.actual) + '</td><td>' + esc(u.status || '-') + '</td><td class="log">' + esc(u.log || '-') + '</td></tr>');
    });
  });
  document.getElementById('units').innerHTML = rows.join('') + '</tbody>';
  built = true;
}
list.addEventListener('toggle', function () { if (list.open && !built) buildList(); });
document.getElementById('units').addEventListener('focusin', function (e) {
  var tr = e.target.closest('tr[data-u]');
  if (!tr) return;
  if (lit) lit.classList.remove('hl');
  lit = view.querySelector('rect[data-u="' + tr.dataset.u + '"]');
  var box = (lit || tr).getBoundingClientRect();
  if (lit) lit.classList.add('hl');
  var tb = tr.getBoundingClientRect();
  show(describe(tr), tb.left + 40, tb.bottom);
});
document.getElementById('units').addEventListener('focusout', function () { tip.hidden = true; });
window.timelineRendered = performance.now();
document.body.dataset.rendered = String(window.timelineRendered);
})();
)";

}  // namespace shardrun::timeline_page
