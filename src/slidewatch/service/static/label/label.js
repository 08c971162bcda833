// slidewatch labeling page: plain JavaScript and one canvas, no libraries, no network but
// the page's own API. The mask operations and their exact pixel rules are in mask-tools.js.
"use strict";

const config = JSON.parse(document.getElementById("label-config").textContent);
const $ = (id) => document.getElementById(id);
const canvas = $("canvas");
const ctx = canvas.getContext("2d");
const MAX_UNDO = 200;
const grid = () => ({ mask: S.mask, width: S.width, height: S.height });

const S = {
  dataset: config.dataset, rows: [], key: null, meta: null, mask: null, suggestion: null,
  width: 0, height: 0, margin: 0, zoom: 4, tool: "brush", size: 5, opacity: 0.5,
  showMask: true, showSuggestion: false, undo: [], redo: [], polygon: [], drawing: false, source: null,
  last: null, version: 0, fromSuggestion: false, view: null, patchView: null,
  activeMs: 0, since: null, pointer: null, conflict: null, dirty: false,
};
window.labeler = S; // for tests and the console

function api(path) { return `${config.api}/${encodeURIComponent(S.dataset)}/${path}`; }
function keyPath(key) { return key.split("/").map(encodeURIComponent).join("/"); }

async function getJSON(url, options) {
  const res = await fetch(url, options);
  const body = await res.json().catch(() => ({}));
  if (!res.ok && res.status !== 409) {
    const err = new Error(body.detail || `${res.status} ${res.statusText}`);
    err.status = res.status;
    throw err;
  }
  return { status: res.status, body };
}

function banner(text, kind) { const b = $("banner"); b.textContent = text; b.className = kind || ""; }

// ---- the patch list --------------------------------------------------------------------
async function loadList() {
  const order = $("order").value;
  const { body } = await getJSON(`${api("patches")}?order=${order}`);
  S.rows = body.patches;
  const p = body.progress;
  $("progress-bar").style.width = `${p.total ? (100 * p.done) / p.total : 0}%`;
  $("progress-text").textContent = `${p.done} / ${p.total} done` + (p.errors ? ` · ${p.errors} unreadable` : "");
  renderList();
}

function renderList() {
  const filter = $("filter").value;
  const q = $("search").value.trim().toLowerCase();
  const list = $("patch-list");
  list.textContent = "";
  for (const row of S.rows) {
    if (filter !== "all" && row.state !== filter) continue;
    if (q && !row.key.toLowerCase().includes(q)) continue;
    const li = document.createElement("li");
    li.dataset.key = row.key;
    li.title = row.error || row.key;
    if (row.key === S.key) li.className = "current";
    const name = document.createElement("span");
    name.textContent = row.key + (row.uncertainty !== undefined ? ` (${row.uncertainty.toFixed(3)})` : "");
    const st = document.createElement("span");
    st.className = `state ${row.state}`;
    st.textContent = row.state.replace("_", " ");
    li.append(name, st);
    li.addEventListener("click", () => openPatch(row.key));
    list.append(li);
  }
}

// ---- opening a patch ---------------------------------------------------------------------
function loadImage(url) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error(`could not load ${url}`));
    img.src = url;
  });
}

async function openPatch(key) {
  pauseClock();
  S.key = key; S.polygon = []; S.undo = []; S.redo = []; S.conflict = null; $("conflict").hidden = true;
  renderList();
  try {
    const { body: meta } = await getJSON(api(`patch/${keyPath(key)}`));
    S.meta = meta; S.width = meta.width; S.height = meta.height;
    const combos = $("combo");
    const previous = combos.value;
    combos.textContent = "";
    meta.combinations.forEach((c, i) => {
      const o = document.createElement("option");
      o.value = c.name; o.textContent = `${i + 1}. ${c.title}`; combos.append(o);
    });
    if (meta.combinations.some((c) => c.name === previous)) combos.value = previous;
    $("context").disabled = !meta.context.available;
    const { body: m } = await getJSON(api(`mask/${keyPath(key)}`));
    S.mask = decodeMask(m.mask); S.version = m.version; S.fromSuggestion = m.source === "suggestion";
    S.source = m.source;
    S.suggestion = null;
    if (meta.model) {
      const { body: sug } = await getJSON(api(`suggestion/${keyPath(key)}`)).catch((e) => ({ body: { error: e.message } }));
      S.suggestion = sug.mask ? { mask: decodeMask(sug.mask), threshold: sug.threshold } : null;
    }
    await loadViews();
    const ctxNote = meta.context.available ? `context from ${meta.context.scene}` : `patch shown alone: ${meta.context.reason}`;
    $("info").textContent = `${key} · ${meta.width}×${meta.height} · bands ${meta.bands.join(",")} · ${meta.state} v${meta.version} · ${ctxNote}`;
    if (S.fromSuggestion) banner(`SUGGESTION from the model (threshold ${S.suggestion ? S.suggestion.threshold : "?"}): not saved yet`, "suggestion");
    else banner(m.source === "draft" ? "draft (in progress)" : "", "");
    if (m.problem) banner(`stored mask not used: ${m.problem}`, "error");
    showStartControls();
    S.activeMs = 0; S.dirty = false; startClock();
  } catch (err) {
    S.meta = null; S.mask = null; draw();
    banner(`${key}: ${err.message}`, "error");
    loadList();
  }
}

async function loadViews() {
  const combo = $("combo").value;
  const low = $("low").value, high = $("high").value;
  const withContext = $("context").checked && S.meta.context.available;
  const base = `${api(`view/${combo}/${keyPath(S.key)}`)}?low=${low}&high=${high}`;
  S.patchView = await loadImage(base);
  S.view = withContext ? await loadImage(`${base}&context=true`) : null;
  S.margin = withContext ? S.meta.context.margin_px : 0;
  const pre = S.meta.pre && S.meta.pre.available;
  $("pre-figure").hidden = !pre;
  if (pre) $("pre-view").src = `${base}&pre=true`;
  fitZoom();
}

function fitZoom(delta) {
  const pre = S.meta && S.meta.pre && S.meta.pre.available;
  const side = Math.max(S.width, S.height) + 2 * S.margin + (pre ? S.width : 0);  // both fit
  if (delta) S.zoom = Math.max(1, Math.min(16, S.zoom + delta));
  else S.zoom = Math.max(1, Math.floor(768 / side));
  canvas.width = (S.width + 2 * S.margin) * S.zoom;
  canvas.height = (S.height + 2 * S.margin) * S.zoom;
  $("pre-view").width = S.width * S.zoom;  // the patch before, at the drawing's scale
  draw();
}

// ---- drawing the canvas ------------------------------------------------------------------
function overlay(mask, rgba, outlineOnly) {
  const img = new ImageData(S.width, S.height);
  for (let r = 0; r < S.height; r++) {
    for (let c = 0; c < S.width; c++) {
      const i = r * S.width + c;
      if (!mask[i]) continue;
      if (outlineOnly) {
        const inner = r > 0 && r < S.height - 1 && c > 0 && c < S.width - 1 &&
          mask[i - 1] && mask[i + 1] && mask[i - S.width] && mask[i + S.width];
        if (inner) continue;
      }
      img.data.set(rgba, 4 * i);
    }
  }
  return createImageBitmap(img);
}

async function draw() {
  ctx.imageSmoothingEnabled = false;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!S.mask || !S.patchView) return;
  const z = S.zoom, m = S.margin;
  if (S.view) {
    ctx.drawImage(S.view, 0, 0, canvas.width, canvas.height);
    ctx.fillStyle = "rgba(0,0,0,0.55)"; // the surroundings dimmed
    ctx.fillRect(0, 0, canvas.width, canvas.height);
  }
  ctx.drawImage(S.patchView, m * z, m * z, S.width * z, S.height * z);
  const layers = [];
  if (S.showMask) layers.push([await overlay(S.mask, [255, 40, 40, 255], false), S.opacity]);
  if (S.showSuggestion && S.suggestion) layers.push([await overlay(S.suggestion.mask, [0, 230, 255, 255], true), 1]);
  for (const [bitmap, alpha] of layers) {
    ctx.globalAlpha = alpha;
    ctx.drawImage(bitmap, m * z, m * z, S.width * z, S.height * z);
  }
  ctx.globalAlpha = 1;
  if (S.view) { ctx.strokeStyle = "#ffd400"; ctx.lineWidth = 2; ctx.strokeRect(m * z - 1, m * z - 1, S.width * z + 2, S.height * z + 2); }
  if (S.polygon.length) {
    ctx.strokeStyle = "#fff"; ctx.lineWidth = 1.5; ctx.beginPath();
    S.polygon.forEach(([x, y], i) => (i ? ctx.lineTo : ctx.moveTo).call(ctx, (x + m) * z, (y + m) * z));
    if (S.pointer) ctx.lineTo((S.pointer[0] + m) * z, (S.pointer[1] + m) * z);
    ctx.stroke();
  }
}

// ---- editing -----------------------------------------------------------------------------
function snapshot() {
  S.undo.push(S.mask.slice()); if (S.undo.length > MAX_UNDO) S.undo.shift();
  S.redo = []; S.dirty = true;
}
function undo() { if (S.undo.length) { S.redo.push(S.mask); S.mask = S.undo.pop(); draw(); } }
function redo() { if (S.redo.length) { S.undo.push(S.mask); S.mask = S.redo.pop(); draw(); } }

function position(ev) {
  const rect = canvas.getBoundingClientRect();
  const x = (ev.clientX - rect.left) / S.zoom - S.margin, y = (ev.clientY - rect.top) / S.zoom - S.margin;
  return { x, y, cell: [Math.floor(x), Math.floor(y)] };
}

function closePolygon() {
  if (S.polygon.length >= 3) { snapshot(); fillPolygon(grid(), S.polygon, 1); }
  S.polygon = []; draw();
}

canvas.addEventListener("pointerdown", (ev) => {
  if (!S.mask || ev.button !== 0) return;
  const p = position(ev);
  if (S.tool === "brush" || S.tool === "eraser") {
    canvas.setPointerCapture(ev.pointerId);
    snapshot(); S.drawing = true; S.last = p.cell;
    strokeLine(grid(), p.cell, p.cell, S.size, S.tool === "brush" ? 1 : 0); draw();
  } else if (S.tool === "fill") {
    const [c, r] = p.cell;
    if (r >= 0 && r < S.height && c >= 0 && c < S.width) {
      const before = S.mask.slice();
      if (floodFill(grid(), r, c, ev.shiftKey ? 0 : 1)) { S.undo.push(before); S.redo = []; S.dirty = true; }
      draw();
    }
  } else if (S.tool === "polygon") {
    const first = S.polygon[0];
    if (S.polygon.length >= 3 && Math.hypot(p.x - first[0], p.y - first[1]) < 1.5) closePolygon();
    else { S.polygon.push([p.x, p.y]); draw(); }
  }
});
canvas.addEventListener("pointermove", (ev) => {
  // every position the pointer passed, also those the browser merged into this event
  const merged = ev.getCoalescedEvents ? ev.getCoalescedEvents() : [];
  for (const e of merged.length ? merged : [ev]) {
    const p = position(e);
    S.pointer = [p.x, p.y];
    if (S.drawing) { strokeLine(grid(), S.last, p.cell, S.size, S.tool === "brush" ? 1 : 0); S.last = p.cell; }
  }
  if (S.drawing || S.polygon.length) draw();
});
const endStroke = () => { S.drawing = false; S.last = null; };
canvas.addEventListener("pointerup", endStroke);
canvas.addEventListener("pointercancel", endStroke);
canvas.addEventListener("dblclick", () => { if (S.tool === "polygon") closePolygon(); });

// ---- time spent: only while the page is visible ----------------------------------------
function startClock() { S.since = document.hidden ? null : performance.now(); }
function pauseClock() { if (S.since !== null) { S.activeMs += performance.now() - S.since; S.since = null; } }
document.addEventListener("visibilitychange", () => (document.hidden ? pauseClock() : startClock()));
function secondsSpent() { pauseClock(); startClock(); return S.activeMs / 1000; }

// ---- saving ------------------------------------------------------------------------------
async function save(state) {
  if (!S.mask) return;
  const annotator = $("annotator").value.trim();
  localStorage.setItem("slidewatch-annotator", annotator);
  const body = { mask: encodeMask(S.mask), height: S.height, width: S.width, base_version: S.version,
    annotator, seconds: secondsSpent(), from_suggestion: S.fromSuggestion, state };
  try {
    const res = await getJSON(api(`mask/${keyPath(S.key)}`), { method: "PUT",
      headers: writeHeaders(), body: JSON.stringify(body) });
    if (res.status === 409) return showConflict(res.body, state);
    S.version = res.body.version; S.dirty = false;
    banner(`saved ${state === "done" ? "as done" : "as draft"} (version ${S.version}, ${body.seconds.toFixed(0)} s)`, "saved");
    await loadList();
  } catch (err) { writeFailed(err, "save"); }
}

// A server that guards writes with an API key (slidewatch serve) answers 401/403: ask for it.
function writeHeaders() {
  const headers = { "Content-Type": "application/json" };
  const key = $("api-key").value.trim();
  if (key) headers["X-API-Key"] = key;
  return headers;
}
function writeFailed(err, what) {
  if (err.status === 401 || err.status === 403) {
    $("api-key").hidden = false; $("api-key").focus();
    banner(`${what} refused: this server needs an API key for saves; enter it and ${what} again`, "error");
  } else banner(`${what} failed: ${err.message}`, "error");
}

function showConflict(body, state) {
  S.conflict = { body, state };
  $("conflict-text").textContent = body.detail;
  $("conflict").hidden = false;
  banner("conflict: nothing was overwritten", "error");
}
$("conflict-theirs").addEventListener("click", () => {
  const cur = S.conflict.body.current;
  snapshot(); S.mask = decodeMask(cur.mask); S.version = cur.version; S.fromSuggestion = false;
  $("conflict").hidden = true; banner(`loaded version ${cur.version} by ${cur.annotator}`, ""); draw();
});
$("conflict-mine").addEventListener("click", () => {
  S.version = S.conflict.body.current.version; $("conflict").hidden = true; save(S.conflict.state);
});

async function skip() {
  const body = { base_version: S.version, annotator: $("annotator").value.trim(), seconds: secondsSpent() };
  try {
    const res = await getJSON(api(`skip/${keyPath(S.key)}`), { method: "POST",
      headers: writeHeaders(), body: JSON.stringify(body) });
    if (res.status === 409) return showConflict(res.body, "skip");
    S.version = res.body.version; await loadList(); step(1);
  } catch (err) { writeFailed(err, "skip"); }
}

function step(delta) {
  const keys = [...$("patch-list").children].map((li) => li.dataset.key);
  const i = keys.indexOf(S.key);
  const next = keys[i + delta];
  if (next) openPatch(next);
}

// ---- where a patch starts, and re-opening done patches ----------------------------------
function showStartControls() {
  const other = S.source === "suggestion" ? "mask" : "suggestion";
  const button = $("start-other");
  button.hidden = !S.meta || (other === "suggestion" && !S.meta.model);
  button.dataset.start = other;
  button.textContent = other === "mask" ? "Load stored mask" : "Start from suggestion";
  $("reopen").hidden = !S.meta || S.meta.state !== "done";
}

async function startFrom(start) {
  try {
    const { body: m } = await getJSON(`${api(`mask/${keyPath(S.key)}`)}?start_from=${start}`);
    snapshot(); S.mask = decodeMask(m.mask); S.source = m.source;
    S.fromSuggestion = m.source === "suggestion";
    banner(m.source === "suggestion" ? "SUGGESTION from the model: not saved yet"
      : `started from the ${m.source === "dataset" ? "stored" : m.source} mask`, m.source === "suggestion" ? "suggestion" : "");
    showStartControls(); draw();
  } catch (err) { banner(`could not load: ${err.message}`, "error"); }
}

async function reopen() {
  if (!S.meta || S.meta.state !== "done") return;
  const body = { base_version: S.version, annotator: $("annotator").value.trim() };
  try {
    const res = await getJSON(api(`reopen/${keyPath(S.key)}`), { method: "POST",
      headers: writeHeaders(), body: JSON.stringify(body) });
    if (res.status === 409) return showConflict(res.body, "in_progress");
    await loadList(); await openPatch(S.key);
    banner(`re-opened for review (version ${res.body.version}): save to finish it again`, "saved");
  } catch (err) { writeFailed(err, "re-open"); }
}

// ---- controls and keys -------------------------------------------------------------------
function setTool(tool) {
  S.tool = tool; S.polygon = [];
  document.querySelectorAll("#tools button").forEach((b) => b.classList.toggle("active", b.dataset.tool === tool));
  draw();
}
function setSize(size) { S.size = Math.max(1, Math.min(31, size)); $("size").value = S.size; $("size-text").textContent = S.size; }
document.querySelectorAll("#tools button").forEach((b) => b.addEventListener("click", () => setTool(b.dataset.tool)));
$("size").addEventListener("input", () => setSize(Number($("size").value)));
$("opacity").addEventListener("input", () => { S.opacity = Number($("opacity").value); draw(); });
$("show-suggestion").addEventListener("change", () => { S.showSuggestion = $("show-suggestion").checked; draw(); });
$("undo").addEventListener("click", undo);
$("redo").addEventListener("click", redo);
$("clear").addEventListener("click", () => { if (S.mask) { snapshot(); S.mask.fill(0); draw(); } });
$("save").addEventListener("click", () => save("done"));
$("draft").addEventListener("click", () => save("in_progress"));
$("skip").addEventListener("click", skip);
$("start-other").addEventListener("click", () => startFrom($("start-other").dataset.start));
$("reopen").addEventListener("click", reopen);
for (const id of ["combo", "low", "high", "context"]) $(id).addEventListener("change", () => S.meta && loadViews());
$("filter").addEventListener("change", renderList);
$("search").addEventListener("input", renderList);
$("order").addEventListener("change", () => loadList().catch((e) => banner(e.message, "error")));

document.addEventListener("keydown", (ev) => {
  if (ev.target.tagName === "INPUT" && ev.target.type !== "checkbox" && ev.target.type !== "range") return;
  const k = ev.key, ctrl = ev.ctrlKey || ev.metaKey;
  const actions = {
    b: () => setTool("brush"), e: () => setTool("eraser"), p: () => setTool("polygon"), f: () => setTool("fill"),
    "[": () => setSize(S.size - 2), "]": () => setSize(S.size + 2), m: () => { S.showMask = !S.showMask; draw(); },
    g: () => $("show-suggestion").click(), x: () => $("context").click(), "+": () => fitZoom(1), "-": () => fitZoom(-1),
    Enter: closePolygon, Escape: () => { S.polygon = []; draw(); }, s: () => save("done"), d: () => save("in_progress"),
    k: skip, r: reopen, n: () => step(1), ArrowRight: () => step(1), ArrowLeft: () => step(-1), C: () => $("clear").click(),
  };
  let act = null;
  if (ctrl && (k === "z" || k === "Z")) act = ev.shiftKey ? redo : undo;
  else if (ctrl && k === "y") act = redo;
  else if (ctrl && k === "s") act = () => save("done");
  else if (!ctrl && /^[1-9]$/.test(k)) act = () => { const o = $("combo").options[Number(k) - 1]; if (o) { $("combo").value = o.value; loadViews(); } };
  else if (!ctrl) act = actions[k] || null;
  if (act) { ev.preventDefault(); act(); }
});
window.addEventListener("beforeunload", (ev) => { if (S.dirty) ev.preventDefault(); });

async function start() {
  $("annotator").value = localStorage.getItem("slidewatch-annotator") || config.annotator || "";
  setTool("brush"); setSize(5);
  if (!S.dataset) {
    banner(config.datasets.length ? "choose a dataset" : "no dataset is registered", "error");
    for (const name of config.datasets) {
      const li = document.createElement("li"), a = document.createElement("a");
      a.href = `?dataset=${encodeURIComponent(name)}`; a.textContent = name; li.append(a);
      $("patch-list").append(li);
    }
    document.body.dataset.ready = "1";
    return;
  }
  $("dataset-name").textContent = S.dataset;
  try {
    await loadList();
    const first = S.rows.find((r) => r.state === "unlabeled" && !r.error) || S.rows.find((r) => !r.error);
    if (first) await openPatch(first.key);
  } catch (err) { banner(err.message, "error"); }
  document.body.dataset.ready = "1";
}
start();
