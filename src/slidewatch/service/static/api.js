// The web map's talk with this server: JSON reads (each prefetched answer used once), writes
// with the API key (asked once, kept in the page only), problem texts, and small helpers.
"use strict";

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

function area(m2) {
  return m2 == null ? "?" : `${Math.round(m2).toLocaleString("en")} m²`;
}

// Newest acquisition first, then the largest landslide.
function alertOrder(a, b) {
  const da = a.acquisition_date || "", db = b.acquisition_date || "";
  if (da !== db) return da < db ? 1 : -1;
  return (b.area_m2 || 0) - (a.area_m2 || 0);
}
