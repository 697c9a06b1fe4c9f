// Canvas drawing: the time view (a min/max envelope per pixel column) and
// the spectrum view. Called at most once per animation frame.

import { spectrum } from "./fft.js";

const LABEL_BAND = 18; // CSS pixels under the lanes for the x-axis labels

// Colors are read from the page's CSS custom properties.
export function readColors(el) {
  const cs = getComputedStyle(el);
  const v = (name) => cs.getPropertyValue(name).trim();
  return {
    bg: v("--plot-bg"), grid: v("--plot-grid"), text: v("--plot-text"),
    traces: [v("--trace-1"), v("--trace-2"), v("--trace-3"), v("--trace-4")],
  };
}

// Scale holds one channel's vertical range, smoothed so that autoscale does
// not jitter: it grows at once and shrinks only when the data fills less
// than half of it.
export class Scale {
  constructor() {
    this.auto = true;
    this.min = -1;
    this.max = 1;
    this.fixedMin = -1;
    this.fixedMax = 1;
  }

  fit(lo, hi) {
    if (!this.auto) return [this.fixedMin, this.fixedMax];
    if (!(lo <= hi)) return [this.min, this.max];
    if (lo === hi) {
      const d = Math.max(1, Math.abs(lo) * 0.1);
      lo -= d;
      hi += d;
    }
    const pad = (hi - lo) * 0.06;
    lo -= pad;
    hi += pad;
    const inside = lo >= this.min && hi <= this.max;
    if (!inside || hi - lo < 0.5 * (this.max - this.min)) {
      this.min = lo;
      this.max = hi;
    }
    return [this.min, this.max];
  }
}

// Layout of lanes on a canvas, in device pixels.
function lanes(canvas, n, dpr) {
  const band = Math.round(LABEL_BAND * dpr);
  const h = (canvas.height - band) / Math.max(1, n);
  return { w: canvas.width, band, h, y: (c) => Math.round(c * h) };
}

function fmt(v) {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-2)) return v.toExponential(2);
  return a >= 100 ? v.toFixed(0) : v.toPrecision(3);
}

function fmtTime(s) {
  const a = Math.abs(s);
  if (a === 0) return "0";
  return a < 1 ? `${+(s * 1000).toPrecision(3)} ms` : `${+s.toPrecision(3)} s`;
}

function grid(ctx, L, n, colors, dpr, xLabels) {
  ctx.fillStyle = colors.bg;
  ctx.fillRect(0, 0, L.w, L.h * n + L.band);
  ctx.fillStyle = colors.grid;
  for (let i = 0; i <= 10; i++) ctx.fillRect(Math.min(L.w - 1, Math.round((i * L.w) / 10)), 0, 1, L.h * n);
  for (let c = 0; c <= n; c++) ctx.fillRect(0, Math.min(L.y(c), L.h * n - 1), L.w, 1);
  for (let c = 0; c < n; c++) ctx.fillRect(0, L.y(c) + Math.round(L.h / 2), L.w, 1);
  ctx.fillStyle = colors.text;
  ctx.font = `${Math.round(11 * dpr)}px system-ui, sans-serif`;
  ctx.textBaseline = "top";
  for (let i = 0; i <= 10; i += 2) {
    const x = (i * L.w) / 10;
    ctx.textAlign = i === 0 ? "left" : i === 10 ? "right" : "center";
    ctx.fillText(xLabels(i / 10), x, L.h * n + 3 * dpr);
  }
}

// label draws text with a translucent plate behind it, so it stays
// readable over a dense trace.
function label(ctx, text, x, y, align, base, colors, dpr) {
  ctx.textAlign = align;
  ctx.textBaseline = base;
  const w = ctx.measureText(text).width, h = 14 * dpr, pad = 2 * dpr;
  const x0 = align === "right" ? x - w : x, y0 = base === "bottom" ? y - h : y;
  const fill = ctx.fillStyle;
  ctx.globalAlpha = 0.8;
  ctx.fillStyle = colors.bg;
  ctx.fillRect(x0 - pad, y0 - pad, w + 2 * pad, h + pad);
  ctx.globalAlpha = 1;
  ctx.fillStyle = fill;
  ctx.fillText(text, x, y);
}

function laneLabels(ctx, L, c, title, lo, hi, colors, dpr) {
  const y0 = L.y(c), pad = 4 * dpr;
  ctx.fillStyle = colors.traces[c % colors.traces.length];
  ctx.font = `600 ${Math.round(12 * dpr)}px system-ui, sans-serif`;
  label(ctx, title, pad, y0 + pad, "left", "top", colors, dpr);
  ctx.fillStyle = colors.text;
  ctx.font = `${Math.round(11 * dpr)}px system-ui, sans-serif`;
  label(ctx, fmt(hi), L.w - pad, y0 + pad, "right", "top", colors, dpr);
  label(ctx, fmt(lo), L.w - pad, y0 + L.h - pad, "right", "bottom", colors, dpr);
}

// colMin and colMax hold each pixel column's range for drawColumns, kept
// between redraws and grown by columns.
let colMin = new Float32Array(0);
let colMax = new Float32Array(0);

function columns(n) {
  if (colMin.length < n) {
    colMin = new Float32Array(n);
    colMax = new Float32Array(n);
  }
}

// envelope fills lo/hi per column for samples [start, start+n) of track;
// NaN marks a column without data. Returns [min, max] over all columns.
function envelope(track, start, n, cols) {
  columns(cols);
  const lo = colMin, hi = colMax, r = [0, 0];
  let mn = Infinity, mx = -Infinity;
  const spp = n / cols;
  if (spp < 1) return interpolate(track, start, spp, cols);
  for (let x = 0; x < cols; x++) {
    const s0 = start + Math.floor(x * spp);
    const s1 = Math.max(s0 + 1, start + Math.floor((x + 1) * spp));
    if (track.range(s0, s1, r)) {
      lo[x] = r[0];
      hi[x] = r[1];
      if (r[0] < mn) mn = r[0];
      if (r[1] > mx) mx = r[1];
    } else {
      lo[x] = hi[x] = NaN;
    }
  }
  return [mn, mx];
}

// interpolate fills lo/hi per column when there are fewer samples than
// columns: the range of the straight lines between samples across the
// column, so drawing the columns traces the polyline through the samples.
function interpolate(track, start, spp, cols) {
  const lo = colMin, hi = colMax;
  let mn = Infinity, mx = -Infinity;
  const v = (t) => {
    const i = Math.floor(t), a = track.at(start + i), b = track.at(start + i + 1);
    return b === b ? a + (b - a) * (t - i) : a;
  };
  for (let x = 0; x < cols; x++) {
    const t0 = x * spp - 0.5, t1 = (x + 1) * spp - 0.5; // samples sit at column centres
    let l = Math.min(v(t0), v(t1)), h = Math.max(v(t0), v(t1));
    const k = Math.ceil(t0);
    if (k < t1) {
      const s = track.at(start + k);
      if (s < l) l = s;
      if (s > h) h = s;
    }
    lo[x] = l;
    hi[x] = h;
    if (l < mn) mn = l;
    if (h > mx) mx = h;
  }
  return [mn, mx];
}

// drawTime draws every track over the last windowS seconds.
// view: {tracks, rate, windowS, scales, titles, colors, dpr}
export function drawTime(ctx, canvas, view) {
  const n = view.tracks.length;
  const L = lanes(canvas, n, view.dpr);
  grid(ctx, L, n, view.colors, view.dpr, (f) => fmtTime(-(1 - f) * view.windowS));
  const N = Math.max(2, Math.round(view.windowS * view.rate));
  for (let c = 0; c < n; c++) {
    const tr = view.tracks[c];
    const start = tr.total - N;
    const color = view.colors.traces[c % view.colors.traces.length];
    const [lo, hi] = drawEnvelope(ctx, L, c, tr, start, N, view.scales[c], color, view.dpr);
    laneLabels(ctx, L, c, view.titles[c], lo, hi, view.colors, view.dpr);
  }
}

function yMap(L, c, lo, hi) {
  const top = L.y(c) + 1, h = L.h - 2;
  return (v) => top + (1 - (v - lo) / (hi - lo)) * h;
}

// The trace layer: traces are written as pixels into an ImageData (exact
// colors, no antialiasing, cost proportional to the pixels painted), put on
// a scratch canvas and composited over the grid with one drawImage per lane.
const layer = { canvas: null, ctx: null, img: null, u32: null };

function layerFor(w, h) {
  if (!layer.canvas) {
    layer.canvas = document.createElement("canvas");
    layer.ctx = layer.canvas.getContext("2d");
  }
  if (!layer.img || layer.img.width !== w || layer.img.height !== h) {
    layer.canvas.width = w;
    layer.canvas.height = h;
    layer.img = layer.ctx.createImageData(w, h);
    layer.u32 = new Uint32Array(layer.img.data.buffer);
  }
  layer.u32.fill(0);
  return layer;
}

// rgba32 converts a CSS color to the pixel value of an ImageData's Uint32 view.
const rgbaCache = new Map();
function rgba32(color) {
  let v = rgbaCache.get(color);
  if (v !== undefined) return v;
  const probe = layerFor(1, 1).ctx;
  probe.clearRect(0, 0, 1, 1);
  probe.fillStyle = color;
  probe.fillRect(0, 0, 1, 1);
  v = new Uint32Array(probe.getImageData(0, 0, 1, 1).data.buffer)[0];
  layer.img = null; // layerFor(1, 1) resized the scratch canvas
  rgbaCache.set(color, v);
  return v;
}

// drawEnvelope draws the min/max envelope of samples [start, start+N).
function drawEnvelope(ctx, L, c, tr, start, N, scale, color, dpr) {
  const [mn, mx] = envelope(tr, start, N, L.w);
  const [lo, hi] = scale.fit(mn, mx);
  drawColumns(ctx, L, c, yMap(L, c, lo, hi), color, dpr);
  return [lo, hi];
}

// drawColumns draws each column's range (colMin/colMax, NaN = none) in lane
// c as a vertical run of pixels, joined to its neighbour so that steep edges
// stay continuous.
function drawColumns(ctx, L, c, y, color, dpr) {
  const cols = L.w, top = L.y(c), h = L.y(c + 1) - top;
  const px = rgba32(color);
  const { u32 } = layerFor(cols, h);
  const a = colMin, b = colMax, pen = Math.max(1, Math.round(1.5 * dpr)); // line thickness
  let pLo = NaN, pHi = NaN;
  for (let x = 0; x < cols; x++) {
    let l = a[x], hv = b[x];
    if (l !== l) {
      pLo = pHi = NaN;
      continue;
    }
    if (pHi === pHi) { // join to the previous column
      if (l > pHi) l = pHi;
      if (hv < pLo) hv = pLo;
    }
    pLo = a[x];
    pHi = b[x];
    const y0 = Math.max(0, Math.floor(y(hv) - top - pen / 2));
    const y1 = Math.min(h - 1, Math.ceil(y(l) - top + pen / 2) - 1);
    for (let yy = y0, i = y0 * cols + x; yy <= y1; yy++, i += cols) u32[i] = px;
  }
  layer.ctx.putImageData(layer.img, 0, 0);
  ctx.drawImage(layer.canvas, 0, top);
}

// fftSize is the transform length for a track: a power of two, 256..16384,
// no longer than the samples held.
export function fftSize(track) {
  const held = track.total - track.rawFrom();
  let n = 16384;
  while (n > 256 && n > held) n /= 2;
  return n;
}

// spec holds the samples and the spectrum of one lane, reused across lanes
// and redraws while the FFT size stays.
const spec = { x: new Float32Array(0), db: new Float32Array(0) };

// drawSpectrum draws the amplitude spectrum (dB) of each track's newest
// samples, 0 to rate/2 on a linear frequency axis.
export function drawSpectrum(ctx, canvas, view) {
  const n = view.tracks.length;
  const L = lanes(canvas, n, view.dpr);
  const nyq = view.rate / 2;
  grid(ctx, L, n, view.colors, view.dpr, (f) => fmtHz(f * nyq));
  columns(L.w);
  for (let c = 0; c < n; c++) {
    const tr = view.tracks[c];
    const size = fftSize(tr);
    if (spec.x.length !== size) {
      spec.x = new Float32Array(size);
      spec.db = new Float32Array(size / 2 + 1);
    }
    const db = spectrum(tr.copy(tr.total - size, tr.total, spec.x), spec.db);
    let peak = -Infinity;
    for (let i = 1; i < db.length; i++) if (db[i] > peak) peak = db[i];
    const hi = Math.ceil((peak + 5) / 10) * 10, lo = hi - 100;
    const y = yMap(L, c, lo, hi);
    const bins = db.length - 1;
    for (let x = 0; x < L.w; x++) {
      const b0 = Math.floor((x * bins) / L.w), b1 = Math.max(b0 + 1, Math.floor(((x + 1) * bins) / L.w));
      let m = -Infinity;
      for (let b = b0; b < b1; b++) if (db[b] > m) m = db[b];
      colMin[x] = colMax[x] = Math.max(lo, m);
    }
    drawColumns(ctx, L, c, y, view.colors.traces[c % view.colors.traces.length], view.dpr);
    laneLabels(ctx, L, c, `${view.titles[c]} · ${size}-point FFT, dB`, lo, hi, view.colors, view.dpr);
  }
}

function fmtHz(f) {
  return f >= 1000 ? `${+(f / 1000).toPrecision(3)} kHz` : `${Math.round(f)} Hz`;
}
