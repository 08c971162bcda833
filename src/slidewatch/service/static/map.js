// The slidewatch web map: every AOI (an overview), one AOI's runs over its imagery and change,
// its alerts (newest first), a popup per landslide with review buttons, "run now", downloads.
// Plain scripts (no build step: api.js, landslide.js, then this one, sharing one scope); they
// talk only to this server's API. window.slidewatch exposes the map and the current state for
// tests and for the curious. Deep link: /?aoi=…&run=…&landslide=…
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

// " · model NAME" on the first run of each model version (the run's stats.model), as
// `monitor history` marks where the version changed (docs/learning.md).
function modelMarks(runs) {
  const marks = new Map();
  let shown = null;
  runs.slice().sort((a, b) => a.id - b.id).forEach((run) => {
    const model = run.stats && run.stats.model;
    if (model && model.hash && model.hash !== shown) {
      marks.set(run.id, ` · model ${model.name || String(model.hash).slice(0, 12)}`);
      shown = model.hash;
    }
  });
  return marks;
}

function renderRuns() {
  const list = $("runs");
  list.replaceChildren();
  const marks = modelMarks(state.allRuns);
  state.allRuns.slice().sort((a, b) => b.id - a.id).forEach((run) => {
    const item = document.createElement("li");
    item.className = `run ${run.state}`;
    item.dataset.runId = String(run.id);
    item.textContent = `#${run.id} ${run.acquisition_date || "–"} ${run.state}` +
      (run.reason ? `: ${run.reason}` : "") + (marks.get(run.id) || "");
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
