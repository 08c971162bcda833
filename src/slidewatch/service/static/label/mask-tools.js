// The mask operations of the labeling page, on a grid {mask: Uint8Array, width, height}.
// Pixel rules (also in docs/labeling.md, checked by the browser test):
//  - a pointer position maps to the pixel (floor(x / zoom) - margin, floor(y / zoom) - margin);
//  - brush/eraser of diameter s paints every pixel (r, c) with
//    (r - r0)^2 + (c - c0)^2 <= ((s - 1) / 2)^2 around each stamped pixel (r0, c0);
//  - between two successive pointer pixels (c0, r0) -> (c1, r1) the stamps are at
//    t = 0..n, n = max(|c1 - c0|, |r1 - r0|): (c0 + floor((c1 - c0) * t / n + 0.5),
//    r0 + floor((r1 - r0) * t / n + 0.5));
//  - a polygon's vertices are the pointer positions in pixel units (x / zoom - margin);
//    it fills the pixels whose centre (c + 0.5, r + 0.5) is inside (even-odd rule, an edge
//    counts for a row when y0 <= y < y1 or y1 <= y < y0, a pixel when xa <= c + 0.5 < xb).
"use strict";

// base64 of the H×W bytes, as the API sends masks
function decodeMask(b64) {
  const raw = atob(b64);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}
function encodeMask(mask) {
  let s = "";
  for (let i = 0; i < mask.length; i += 8192) s += String.fromCharCode.apply(null, mask.subarray(i, i + 8192));
  return btoa(s);
}

function stamp(g, r0, c0, size, value) {
  const R = (size - 1) / 2, k = Math.ceil(R);
  for (let dr = -k; dr <= k; dr++) {
    for (let dc = -k; dc <= k; dc++) {
      if (dr * dr + dc * dc > R * R) continue;
      const r = r0 + dr, c = c0 + dc;
      if (r >= 0 && r < g.height && c >= 0 && c < g.width) g.mask[r * g.width + c] = value;
    }
  }
}

function strokeLine(g, from, to, size, value) {
  const dc = to[0] - from[0], dr = to[1] - from[1];
  const n = Math.max(Math.abs(dc), Math.abs(dr));
  if (n === 0) { stamp(g, to[1], to[0], size, value); return; }
  for (let t = 0; t <= n; t++) {
    stamp(g, from[1] + Math.floor((dr * t) / n + 0.5), from[0] + Math.floor((dc * t) / n + 0.5), size, value);
  }
}

function fillPolygon(g, points, value) {
  for (let r = 0; r < g.height; r++) {
    const y = r + 0.5, xs = [];
    for (let i = 0; i < points.length; i++) {
      const [x0, y0] = points[i], [x1, y1] = points[(i + 1) % points.length];
      if ((y0 <= y && y < y1) || (y1 <= y && y < y0)) xs.push(x0 + ((y - y0) * (x1 - x0)) / (y1 - y0));
    }
    xs.sort((a, b) => a - b);
    for (let j = 0; j + 1 < xs.length; j += 2) {
      const first = Math.max(0, Math.ceil(xs[j] - 0.5)), end = Math.min(g.width, Math.ceil(xs[j + 1] - 0.5));
      for (let c = first; c < end; c++) g.mask[r * g.width + c] = value;
    }
  }
}

function floodFill(g, r0, c0, value) {
  const w = g.width, h = g.height, from = g.mask[r0 * w + c0];
  if (from === value) return false;
  const stack = [r0 * w + c0];
  while (stack.length) {
    const i = stack.pop();
    if (g.mask[i] !== from) continue;
    g.mask[i] = value;
    const r = Math.floor(i / w), c = i % w;
    if (r > 0) stack.push(i - w);
    if (r < h - 1) stack.push(i + w);
    if (c > 0) stack.push(i - 1);
    if (c < w - 1) stack.push(i + 1);
  }
  return true;
}
