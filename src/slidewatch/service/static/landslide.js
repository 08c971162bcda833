// One landslide on the web map: its popup (evidence, verdict, review buttons), a review and
// what it changes, opening it from the alert list or a deep link; and "run now".
"use strict";

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
