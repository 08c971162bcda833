// The slidewatch web map: AOIs, a run's landslides over its imagery, a slider over runs, alerts.
// Plain script (no build step); talks only to this server's API. window.slidewatch exposes the
// map and the current state for tests and for the curious.
"use strict";

const LANDSLIDE = "rgb(230, 40, 20)";
const config = JSON.parse(document.body.dataset.config || "{}");
const state = { aois: null, aoi: null, runs: [], run: null };

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

async function getJSON(url) {
  if (prefetched.has(url)) {
    const promise = prefetched.get(url);
    prefetched.delete(url);
    return promise;
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

function prefetch(url) {
  const promise = getJSON(url);
  prefetched.set(url, promise);
  return promise;
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
  map.addLayer({ id: "detections-fill", type: "fill", source: "detections",
    paint: { "fill-color": LANDSLIDE, "fill-opacity": 1.0 } });
  map.addLayer({ id: "detections-change", type: "line", source: "detections",
    filter: ["in", ["get", "change"], ["literal", ["new", "grown"]]],
    paint: { "line-width": 3,
      "line-color": ["match", ["get", "change"], "new", "#ffe600", "grown", "#00e5ff", "#ffffff"] } });
  map.addLayer({ id: "aois-line", type: "line", source: "aois",
    paint: { "line-color": "#ffffff", "line-width": 2, "line-dasharray": [2, 2] } });
}

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

async function showRun(index) {
  const run = state.runs[index];
  state.run = run;
  document.body.dataset.state = "loading";
  document.getElementById("run-label").textContent =
    run ? `${run.acquisition_date || "?"} (#${run.id}, ${index + 1}/${state.runs.length})` : "none";
  setRaster("rgb", "rgb", run, "detections-fill", document.getElementById("show-rgb").checked);
  setRaster("probability", "probability", run, "detections-fill",
    document.getElementById("show-probability").checked);
  const detections = run ? await getJSON(`/runs/${run.id}/detections`) : EMPTY;
  if (state.run !== run) return;  // the slider moved on meanwhile
  state.detections = detections;
  map.getSource("detections").setData(detections);
  // landslides per change kind as the server counts them (the same numbers as
  // `monitor history`); gone and unknown landslides have no polygon in this run
  const kinds = (run && run.counts) || {};
  document.getElementById("counts").textContent = `${detections.features.length} landslides` +
    Object.entries(kinds).filter(([, n]) => n > 0).map(([k, n]) => `, ${n} ${k}`).join("");
  document.body.dataset.runId = run ? String(run.id) : "";
  document.body.dataset.features = String(detections.features.length);
  map.once("idle", () => {
    document.body.dataset.state = "idle";
    document.body.dataset.idleMs = String(Math.round(performance.now()));
  });
  map.triggerRepaint();
}

async function showAlerts(name) {
  const list = document.getElementById("alerts");
  list.replaceChildren();
  const alerts = await getJSON(`/alerts?aoi=${encodeURIComponent(name)}&since=1970-01-01T00:00:00Z`);
  alerts.slice().reverse().forEach((alert) => {
    const item = document.createElement("li");
    const p = alert.payload || {};
    const area = p.area_m2 ?? (p.landslide && p.landslide.area_m2);
    item.textContent = `${alert.created_at.slice(0, 10)} run #${alert.run_id}` +
      (area ? `: ${Math.round(area)} m²` : "");
    item.onclick = () => {
      const index = state.runs.findIndex((r) => r.id === alert.run_id);
      if (index >= 0) { document.getElementById("run").value = String(index); showRun(index); }
    };
    list.appendChild(item);
  });
}

async function selectAoi(name) {
  const feature = state.aois.features.find((f) => f.id === name);
  state.aoi = feature;
  const runs = await getJSON(`/aois/${encodeURIComponent(name)}/runs`);
  state.runs = runs.filter((r) => r.state === "done").reverse();  // oldest first on the slider
  const slider = document.getElementById("run");
  slider.max = String(Math.max(0, state.runs.length - 1));
  slider.value = slider.max;
  slider.disabled = state.runs.length < 2;
  if (feature) map.fitBounds(bboxOf(feature), { padding: 30, animate: false });
  await Promise.all([showRun(state.runs.length - 1), showAlerts(name)]);
}

function popupHtml(p) {
  const run = state.run || {};
  const rows = [
    ["area", `${Math.round(p.area_m2).toLocaleString("en")} m²`],
    ["mean probability", Number(p.mean_probability).toFixed(2)],
    ["change", p.change && p.change !== "null" ? p.change : "–"],
    ["first seen", p.first_seen || "?"],
    ["last seen", p.last_seen || "?"],
    ["scenes", (run.scene_ids || []).join("<br>") || "?"],
    ["dates", (run.scene_dates || []).join(", ") || run.acquisition_date || "?"],
  ];
  return `<table class="popup">${rows.map(([k, v]) => `<tr><td>${k}</td><td>${v}</td></tr>`).join("")}</table>`;
}

map.on("click", "detections-fill", (event) => {
  const feature = event.features && event.features[0];
  if (!feature) return;
  new maplibregl.Popup({ maxWidth: "360px" }).setLngLat(event.lngLat).setHTML(popupHtml(feature.properties)).addTo(map);
});
map.on("mouseenter", "detections-fill", () => { map.getCanvas().style.cursor = "pointer"; });
map.on("mouseleave", "detections-fill", () => { map.getCanvas().style.cursor = ""; });

document.getElementById("run").addEventListener("input", (e) => showRun(Number(e.target.value)));
document.getElementById("show-rgb").addEventListener("change", (e) => toggle("rgb", e.target.checked));
document.getElementById("show-probability").addEventListener("change",
  (e) => toggle("probability", e.target.checked));
document.getElementById("show-landslides").addEventListener("change", (e) => {
  toggle("detections-fill", e.target.checked); toggle("detections-change", e.target.checked);
});
document.getElementById("aoi").addEventListener("change", (e) => selectAoi(e.target.value));

// The first AOI's runs and latest detections load while MapLibre and its style start.
const aoisRequest = getJSON("/aois");
aoisRequest.then(async (aois) => {
  if (!aois.features.length) return;
  const runs = await prefetch(`/aois/${encodeURIComponent(aois.features[0].id)}/runs`);
  const done = runs.filter((r) => r.state === "done");
  if (done.length) prefetch(`/runs/${done[0].id}/detections`);
}).catch(() => {});
const ready = new Promise((resolve) => map.on("load", resolve)).then(async () => {
  state.aois = await aoisRequest;
  addOverlayLayers();
  const select = document.getElementById("aoi");
  state.aois.features.forEach((f) => select.add(new Option(f.id, f.id)));
  if (state.aois.features.length) await selectAoi(state.aois.features[0].id);
  else document.body.dataset.state = "idle";
});

window.slidewatch = { map, state, ready, showRun };
