// The slidewatch web map: every AOI (an overview), one AOI's runs over its imagery and change,
// its alerts (newest first), a popup per landslide with review buttons, "run now", downloads.
// Plain script (no build step); talks only to this server's API. window.slidewatch exposes the
// map and the current state for tests and for the curious. Deep link: /?aoi=…&run=…&landslide=…
"use strict";

const LANDSLIDE = "rgb(230, 40, 20)";
const REJECTED = "rgb(140, 140, 140)";
const config = JSON.parse(document.body.dataset.config || "{}");
const state = { aois: null, aoi: null, runs: [], allRuns: [], run: null, alerts: [],
  detections: null, key: null, popup: null };
const $ = (id) => document.getElementById(id);

const style = { version: 8, sources: {}, layers: [
  { id: "background", type: "background", paint: { "background-color": "#20242a" } },
] };
if (config.basemap) {
  style.sources.basemap = { type: "raster", tiles: [config.basemap], tileSize: 256 };
  style.layers.push({ id: "basemap", type: "raster", source: "basemap" });
}
const map = new maplibregl.Map({ container: "map", style, center: [0, 0], zoom: 1,
  attributionControl: false, fadeDuration: 0 });
map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
map.addControl(new maplibregl.ScaleControl());

const prefetched = new Map();  // url -> promise, each used once

function escapeHtml(value) {
  return String(value ?? "").replace(/[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

async function problemText(response) {
  try {
    const body = await response.json();
    return body.detail || body.title || `HTTP ${response.status}`;
  } catch { return `HTTP ${response.status}`; }
}

async function getJSON(url) {
  if (prefetched.has(url)) {
    const promise = prefetched.get(url);
    prefetched.delete(url);
    return promise;
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${await problemText(response)}`);
  return response.json();
}

function prefetch(url) {
  const promise = getJSON(url);
  prefetched.set(url, promise);
  return promise;
}

// Writes ask for the API key once; it stays in this page (never stored).
async function send(method, url, body) {
  for (let attempt = 0; attempt < 2; attempt++) {
    if (!state.key) {
      state.key = window.prompt("API key (asked once, kept in this page only)") || null;
      if (!state.key) throw new Error("no API key given");
    }
    const response = await fetch(url, { method, body: body ? JSON.stringify(body) : undefined,
      headers: { "X-API-Key": state.key, "Content-Type": "application/json" } });
    if (response.status === 401 || response.status === 403) {
      const text = await problemText(response);
      state.key = null;
      if (attempt === 1) throw new Error(text);
      continue;
    }
    if (!response.ok) throw new Error(await problemText(response));
    return response.json();
  }
  throw new Error("not allowed");
}

function bboxOf(geojson) {
  let b = [Infinity, Infinity, -Infinity, -Infinity];
  const visit = (c) => {
    if (typeof c[0] === "number") {
      b = [Math.min(b[0], c[0]), Math.min(b[1], c[1]), Math.max(b[2], c[0]), Math.max(b[3], c[1])];
    } else c.forEach(visit);
  };
  const features = geojson.features || [geojson];
  features.forEach((f) => f.geometry && visit(f.geometry.coordinates));
  return b;
}

const EMPTY = { type: "FeatureCollection", features: [] };

function addOverlayLayers() {
  map.addSource("aois", { type: "geojson", data: state.aois });
  // Landslides are small: a coarse tile pyramid and a thin buffer keep 10,000 polygons cheap.
  map.addSource("detections", { type: "geojson", data: EMPTY, maxzoom: 15, buffer: 16,
    tolerance: 0.5 });
  // possible: a dashed white halo; confirmed: a solid one. Drawn under the fill, so only
  // their outer half shows and every landslide's inside keeps its colour, however small.
  map.addLayer({ id: "detections-possible", type: "line", source: "detections",
    filter: ["==", ["get", "confidence"], "possible"],
    paint: { "line-width": 3, "line-color": "#ffffff", "line-dasharray": [1.5, 1] } });
  map.addLayer({ id: "detections-confirmed", type: "line", source: "detections",
    filter: ["==", ["get", "confidence"], "confirmed"],
    paint: { "line-width": 3, "line-color": "#ffffff" } });
  map.addLayer({ id: "detections-fill", type: "fill", source: "detections",
    paint: { "fill-color": ["match", ["get", "confidence"], "rejected", REJECTED, LANDSLIDE],
      "fill-opacity": 1.0 } });
  map.addLayer({ id: "detections-change", type: "line", source: "detections",
    filter: ["in", ["get", "change"], ["literal", ["new", "grown"]]],
    paint: { "line-width": 3, "line-offset": -1.5,
      "line-color": ["match", ["get", "change"], "new", "#ffe600", "grown", "#00e5ff", "#ffffff"] } });
  map.addLayer({ id: "aois-line", type: "line", source: "aois",
    paint: { "line-color": "#ffffff", "line-width": 2, "line-dasharray": [2, 2] } });
}

const DETECTION_LAYERS = ["detections-possible", "detections-confirmed", "detections-fill",
  "detections-change"];

function setRaster(id, layer, run, before, visible) {
  if (map.getLayer(id)) map.removeLayer(id);
  if (map.getSource(id)) map.removeSource(id);
  if (!run || !run.layers.includes(layer) || !run.bounds) return;
  map.addSource(id, { type: "raster", tileSize: 256, bounds: run.bounds, maxzoom: run.maxzoom,
    tiles: [`${location.origin}/tiles/${run.id}/${layer}/{z}/{x}/{y}.png`] });
  map.addLayer({ id, type: "raster", source: id,
    layout: { visibility: visible ? "visible" : "none" } }, before);
}

function toggle(id, on) {
  if (map.getLayer(id)) map.setLayoutProperty(id, "visibility", on ? "visible" : "none");
}

function setUrl() {
  const params = new URLSearchParams();
  if (state.aoi) params.set("aoi", state.aoi.id);
  if (state.aoi && state.run) params.set("run", String(state.run.id));
  if (state.landslide) params.set("landslide", String(state.landslide));
  const query = params.toString();
  history.replaceState(null, "", query ? `/?${query}` : "/");
}

function showDownloads(run) {
  const box = $("downloads");
  box.replaceChildren();
  const links = (run && run.links && run.links.products) || {};
  const names = Object.keys(links);
  if (!names.length) return;
  box.append("Download: ");
  names.forEach((name, i) => {
    const a = document.createElement("a");
    a.href = links[name];
    a.textContent = name;
    a.setAttribute("download", "");
    box.append(a);
    if (i < names.length - 1) box.append(" · ");
  });
}

async function showRun(index) {
  const run = state.runs[index];
  state.run = run;
  state.landslide = null;
  if (state.popup) state.popup.remove();
  document.body.dataset.state = "loading";
  $("run-label").textContent =
    run ? `${run.acquisition_date || "?"} (#${run.id}, ${index + 1}/${state.runs.length})` : "none";
  const below = "detections-possible";  // the lowest of the landslide layers
  setRaster("rgb", "rgb", run, below, $("show-rgb").checked);
  setRaster("change", "change", run, below, $("show-change").checked);
  setRaster("probability", "probability", run, below, $("show-probability").checked);
  showDownloads(run);
  const detections = run ? await getJSON(`/runs/${run.id}/detections`) : EMPTY;
  if (state.run !== run) return;  // the slider moved on meanwhile
  state.detections = detections;
  map.getSource("detections").setData(detections);
  // landslides per change kind as the server counts them (the same numbers as
  // `monitor history`); gone and unknown landslides have no polygon in this run
  const kinds = (run && run.counts) || {};
  $("counts").textContent = `${detections.features.length} landslides` +
    Object.entries(kinds).filter(([, n]) => n > 0).map(([k, n]) => `, ${n} ${k}`).join("");
  document.body.dataset.runId = run ? String(run.id) : "";
  document.body.dataset.features = String(detections.features.length);
  setUrl();
  await idle();
}

function idle() {
  return new Promise((resolve) => {
    map.once("idle", () => {
      document.body.dataset.state = "idle";
      document.body.dataset.idleMs = String(Math.round(performance.now()));
      resolve();
    });
    map.triggerRepaint();
  });
}

function area(m2) {
  return m2 == null ? "?" : `${Math.round(m2).toLocaleString("en")} m²`;
}

// Newest acquisition first, then the largest landslide.
function alertOrder(a, b) {
  const da = a.acquisition_date || "", db = b.acquisition_date || "";
  if (da !== db) return da < db ? 1 : -1;
  return (b.area_m2 || 0) - (a.area_m2 || 0);
}

async function showAlerts(name) {
  const alerts = await getJSON(`/alerts?aoi=${encodeURIComponent(name)}&since=1970-01-01T00:00:00Z`);
  state.alerts = alerts.slice().sort(alertOrder);
  renderAlerts();
}

function renderAlerts() {
  const list = $("alerts");
  list.replaceChildren();
  state.alerts.forEach((alert) => {
    const item = document.createElement("li");
    const sure = alert.landslide_confidence || alert.confidence;
    item.dataset.landslide = String(alert.landslide_id);
    item.dataset.confidence = sure;
    item.className = `alert ${sure}`;
    const failed = (alert.deliveries || []).filter((d) => d.state !== "delivered");
    item.innerHTML = `<b>${escapeHtml(alert.acquisition_date || "?")}</b> ` +
      `<span class="kind ${escapeHtml(alert.kind)}">${escapeHtml(alert.kind)}</span> ` +
      `<span class="conf">${escapeHtml(sure)}</span> ${escapeHtml(area(alert.area_m2))}` +
      failed.map((d) => `<br><span class="small warn">${escapeHtml(d.channel)} ` +
        `${escapeHtml(d.state)}${d.last_error ? ": " + escapeHtml(d.last_error) : ""}</span>`).join("");
    item.onclick = () => openLandslide(alert.landslide_id, alert.run_id);
    list.appendChild(item);
  });
}

function renderRuns() {
  const list = $("runs");
  list.replaceChildren();
  state.allRuns.slice().sort((a, b) => b.id - a.id).forEach((run) => {
    const item = document.createElement("li");
    item.className = `run ${run.state}`;
    item.dataset.runId = String(run.id);
    item.textContent = `#${run.id} ${run.acquisition_date || "–"} ${run.state}` +
      (run.reason ? `: ${run.reason}` : "");
    list.appendChild(item);
  });
}

async function loadRuns(name) {
  const runs = await getJSON(`/aois/${encodeURIComponent(name)}/runs`);
  state.allRuns = runs;
  state.runs = runs.filter((r) => r.state === "done").reverse();  // oldest first on the slider
  const slider = $("run");
  slider.max = String(Math.max(0, state.runs.length - 1));
  slider.disabled = state.runs.length < 2;
  renderRuns();
}

async function selectAoi(name, runId) {
  $("overview").hidden = true;
  $("aoi-view").hidden = false;
  $("aoi").value = name;
  const feature = state.aois.features.find((f) => f.id === name);
  state.aoi = feature;
  await loadRuns(name);
  let index = state.runs.length - 1;
  if (runId != null) {
    const found = state.runs.findIndex((r) => r.id === runId);
    if (found >= 0) index = found;
  }
  $("run").value = String(index);
  if (feature) map.fitBounds(bboxOf(feature), { padding: 30, animate: false });
  await Promise.all([showRun(index), showAlerts(name)]);
}

function showOverview() {
  if (state.popup) state.popup.remove();
  state.landslide = null;
  state.aoi = null;
  state.run = null;
  state.runs = [];
  $("aoi").value = "";
  $("overview").hidden = false;
  $("aoi-view").hidden = true;
  ["rgb", "change", "probability"].forEach((id) => setRaster(id, id, null));
  map.getSource("detections").setData(EMPTY);
  document.body.dataset.runId = "";
  const list = $("aoi-list");
  list.replaceChildren();
  state.aois.features.forEach((f) => {
    const item = document.createElement("li");
    const p = f.properties || {};
    item.innerHTML = `<a href="/?aoi=${encodeURIComponent(f.id)}">${escapeHtml(f.id)}</a>` +
      ` <span class="small">every ${escapeHtml(p.cadence_days)} d` +
      `${p.active === false ? ", paused" : ""}</span><br><span class="small latest"></span>`;
    item.querySelector("a").onclick = (e) => { e.preventDefault(); selectAoi(f.id); };
    list.appendChild(item);
    // its latest run, said in one line
    getJSON(`/aois/${encodeURIComponent(f.id)}/runs`).then((runs) => {
      const last = runs.slice().sort((a, b) => b.id - a.id)[0];
      const counts = (last && last.counts) || {};
      item.querySelector(".latest").textContent = !last ? "no run yet" :
        `last run ${last.acquisition_date || "–"} ${last.state}` +
        (last.state === "done" ? `, ${counts.new || 0} new, ${counts.grown || 0} grown` : "") +
        (last.reason ? `: ${last.reason}` : "");
    }).catch(() => {});
  });
  if (state.aois.features.length) map.fitBounds(bboxOf(state.aois), { padding: 40, animate: false });
  setUrl();
  return idle();
}

function popupHtml(p, detail) {
  const run = state.run || {};
  const sure = (detail && detail.confidence) || p.confidence || "?";
  const looks = (detail && detail.looks) || p.looks;
  const attrs = (detail && detail.attributes) || {};
  const number = (v, digits, unit) => (v == null ? "–" : `${Number(v).toFixed(digits)}${unit}`);
  const rows = [
    ["landslide", `#${p.landslide_id}`],
    ["confidence", `<b class="conf ${escapeHtml(sure)}">${escapeHtml(sure)}</b>` +
      (looks ? ` (${escapeHtml(looks)} look${looks > 1 ? "s" : ""})` : "")],
    ["area", area(p.area_m2)],
    ["mean probability", Number(p.mean_probability).toFixed(2)],
    ["change", p.change && p.change !== "null" ? escapeHtml(p.change) : "–"],
    ["slope", number(attrs.mean_slope_deg, 0, "°")],
    ["vegetation change", number(attrs.vegetation_change, 2, "")],
    ["elevation", number(attrs.elevation_m, 0, " m")],
    ["first seen", escapeHtml(p.first_seen || "?")],
    ["last seen", escapeHtml(p.last_seen || "?")],
    ["scenes", (run.scene_ids || []).map(escapeHtml).join("<br>") || "?"],
    ["dates", escapeHtml((run.scene_dates || []).join(", ") || run.acquisition_date || "?")],
  ];
  const reviews = (detail && detail.reviews) || [];
  if (reviews.length) {
    const last = reviews[reviews.length - 1];
    rows.push(["review", `${escapeHtml(last.verdict)} by ${escapeHtml(last.reviewer)} ` +
      `${escapeHtml(String(last.at).slice(0, 10))}` +
      (last.note ? `: ${escapeHtml(last.note)}` : "") +
      (reviews.length > 1 ? ` (${reviews.length} verdicts)` : "")]);
  }
  return `<table class="popup">${rows.map(([k, v]) => `<tr><td>${k}</td><td>${v}</td></tr>`).join("")}</table>` +
    `<div class="review"><input class="note" type="text" maxlength="2000" placeholder="note (optional)">` +
    `<button type="button" class="confirm">Confirm</button>` +
    `<button type="button" class="reject">Reject</button><span class="review-msg small"></span></div>`;
}

async function review(landslideId, verdict, popup) {
  const box = popup.getElement();
  const msg = box.querySelector(".review-msg");
  const note = box.querySelector(".note").value.trim();
  msg.textContent = " saving…";
  try {
    await send("POST", `/landslides/${landslideId}/review`, note ? { verdict, note } : { verdict });
  } catch (err) {
    msg.textContent = ` ${err.message}`;
    return;
  }
  // the landslide's confidence changed: its polygon, the alert list and the popup show it
  const run = state.run;
  const [detections] = await Promise.all([
    getJSON(`/runs/${run.id}/detections`), state.aoi ? showAlerts(state.aoi.id) : null]);
  if (state.run === run) {
    state.detections = detections;
    map.getSource("detections").setData(detections);
  }
  await showPopup(landslideId);
  document.body.dataset.reviewed = String(landslideId);
}

async function showPopup(landslideId, lngLat) {
  const feature = (state.detections ? state.detections.features : [])
    .find((f) => f.properties.landslide_id === landslideId);
  if (!feature) return false;
  let detail = null;
  try { detail = await getJSON(`/landslides/${landslideId}`); } catch { detail = null; }
  if (state.popup) state.popup.remove();
  // opened from the list or a link: above the landslide, which stays in sight
  const b = bboxOf(feature);
  const where = lngLat || [(b[0] + b[2]) / 2, b[3]];
  const popup = new maplibregl.Popup({ maxWidth: "360px", anchor: lngLat ? undefined : "bottom" })
    .setLngLat(where)
    .setHTML(popupHtml(feature.properties, detail)).addTo(map);
  state.popup = popup;
  state.landslide = landslideId;
  popup.on("close", () => {
    if (state.popup === popup) { state.popup = null; state.landslide = null; setUrl(); }
  });
  const box = popup.getElement();
  box.querySelector(".confirm").onclick = () => review(landslideId, "confirmed", popup);
  box.querySelector(".reject").onclick = () => review(landslideId, "rejected", popup);
  document.querySelectorAll("#alerts li").forEach((li) =>
    li.classList.toggle("selected", li.dataset.landslide === String(landslideId)));
  setUrl();
  return true;
}

function centreOf(feature) {
  const b = bboxOf(feature);
  return [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2];
}

// A landslide from the alert list or a deep link: its run, a zoom onto it, its popup.
async function openLandslide(landslideId, runId) {
  if (runId != null && (!state.run || state.run.id !== runId)) {
    const index = state.runs.findIndex((r) => r.id === runId);
    if (index >= 0) { $("run").value = String(index); await showRun(index); }
  }
  const feature = (state.detections ? state.detections.features : [])
    .find((f) => f.properties.landslide_id === landslideId);
  if (!feature) return;
  // the landslide in the lower half of the map, its popup above it
  const b = bboxOf(feature);
  const span = Math.max(b[2] - b[0], b[3] - b[1], 0.002);
  const c = centreOf(feature);
  map.fitBounds([[c[0] - span, c[1] - span], [c[0] + span, c[1] + 3 * span]],
    { animate: false, maxZoom: 17 });
  await showPopup(landslideId);
  await idle();
}

// Run now: the key once, then the run's progress (its job) until it ends.
async function runNow() {
  const button = $("run-now");
  const progress = $("run-progress");
  if (!state.aoi) return;
  const name = state.aoi.id;
  button.disabled = true;
  try {
    const run = await send("POST", `/aois/${encodeURIComponent(name)}/runs`);
    progress.textContent = `run #${run.id} queued`;
    document.body.dataset.runNow = String(run.id);
    for (;;) {
      await new Promise((r) => setTimeout(r, 1000));
      const [now, job] = await Promise.all([getJSON(`/runs/${run.id}`),
        run.links.job ? getJSON(run.links.job).catch(() => null) : null]);
      const finished = ["done", "skipped", "failed"].includes(now.state);
      const step = !finished && job && job.message ? ` — ${job.message}` : "";
      const pct = !finished && job && job.progress != null ? ` ${job.progress}%` : "";
      progress.textContent = `run #${run.id} ${now.state}${pct}${step}` +
        (now.reason ? `: ${now.reason}` : "");
      progress.className = `small ${now.state}`;
      if (finished) break;
    }
    if (state.aoi && state.aoi.id === name) await selectAoi(name);
  } catch (err) {
    progress.textContent = err.message;
  } finally {
    button.disabled = false;
  }
}

map.on("click", "detections-fill", (event) => {
  const feature = event.features && event.features[0];
  if (!feature) return;
  showPopup(feature.properties.landslide_id, event.lngLat);
});
map.on("mouseenter", "detections-fill", () => { map.getCanvas().style.cursor = "pointer"; });
map.on("mouseleave", "detections-fill", () => { map.getCanvas().style.cursor = ""; });

$("run").addEventListener("input", (e) => showRun(Number(e.target.value)));
$("show-rgb").addEventListener("change", (e) => toggle("rgb", e.target.checked));
$("show-change").addEventListener("change", (e) => toggle("change", e.target.checked));
$("show-probability").addEventListener("change", (e) => toggle("probability", e.target.checked));
$("show-landslides").addEventListener("change", (e) => {
  DETECTION_LAYERS.forEach((id) => toggle(id, e.target.checked));
});
$("aoi").addEventListener("change", (e) => (e.target.value ? selectAoi(e.target.value) : showOverview()));
$("run-now").addEventListener("click", runNow);

// The first AOI's runs and latest detections load while MapLibre and its style start.
const asked = new URLSearchParams(location.search);
const aoisRequest = getJSON("/aois");
aoisRequest.then(async (aois) => {
  const first = asked.get("aoi") || (aois.features.length === 1 ? aois.features[0].id : null);
  if (!first || asked.get("run")) return;
  const runs = await prefetch(`/aois/${encodeURIComponent(first)}/runs`);
  const done = runs.filter((r) => r.state === "done");
  if (done.length) prefetch(`/runs/${done[0].id}/detections`);
}).catch(() => {});
const ready = new Promise((resolve) => map.on("load", resolve)).then(async () => {
  state.aois = await aoisRequest;
  addOverlayLayers();
  const select = $("aoi");
  state.aois.features.forEach((f) => select.add(new Option(f.id, f.id)));
  const name = asked.get("aoi");
  const known = state.aois.features.some((f) => f.id === name);
  // an overview of every AOI unless one is asked for (or there is only one)
  if (known) {
    const runId = asked.get("run") ? Number(asked.get("run")) : null;
    await selectAoi(name, runId);
    if (asked.get("landslide")) await openLandslide(Number(asked.get("landslide")), runId);
  } else if (state.aois.features.length === 1) {
    await selectAoi(state.aois.features[0].id);
  } else {
    await showOverview();
  }
});

window.slidewatch = { map, state, ready, showRun, openLandslide, selectAoi, alertOrder };
