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

const colMin = { a: new Float32Array(0) };
const colMax = { a: new Float32Array(0) };

// envelope fills lo/hi per column for samples [start, start+n) of track;
// NaN marks a column without data. Returns [min, max] over all columns.
function envelope(track, start, n, cols) {
  if (colMin.a.length < cols) {
    colMin.a = new Float32Array(cols);
    colMax.a = new Float32Array(cols);
  }
  const lo = colMin.a, hi = colMax.a, r = [0, 0];
  let mn = Infinity, mx = -Infinity;
  const spp = n / cols;
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
    let lo, hi;
    if (N < L.w) [lo, hi] = drawLine(ctx, L, c, tr, start, N, view.scales[c], color, view.dpr);
    else [lo, hi] = drawEnvelope(ctx, L, c, tr, start, N, view.scales[c], color);
    laneLabels(ctx, L, c, view.titles[c], lo, hi, view.colors, view.dpr);
  }
}

function yMap(L, c, lo, hi) {
  const top = L.y(c) + 1, h = L.h - 2;
  return (v) => top + (1 - (v - lo) / (hi - lo)) * h;
}

function drawEnvelope(ctx, L, c, tr, start, N, scale, color) {
  const cols = L.w;
  const [mn, mx] = envelope(tr, start, N, cols);
  const [lo, hi] = scale.fit(mn, mx);
  const y = yMap(L, c, lo, hi), top = L.y(c), bot = top + L.h;
  const a = colMin.a, b = colMax.a;
  ctx.fillStyle = color;
  let pLo = NaN, pHi = NaN;
  for (let x = 0; x < cols; x++) {
    let l = a[x], h = b[x];
    if (l !== l) {
      pLo = pHi = NaN;
      continue;
    }
    if (pHi === pHi) { // join to the previous column
      if (l > pHi) l = pHi;
      if (h < pLo) h = pLo;
    }
    pLo = a[x];
    pHi = b[x];
    const y0 = Math.max(top, Math.min(bot, y(h))), y1 = Math.max(top, Math.min(bot, y(l)));
    ctx.fillRect(x, Math.floor(y0), 1, Math.max(1, Math.ceil(y1 - y0)));
  }
  return [lo, hi];
}

function drawLine(ctx, L, c, tr, start, N, scale, color, dpr) {
  let mn = Infinity, mx = -Infinity;
  for (let i = start; i < start + N; i++) {
    const v = tr.at(i);
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  const [lo, hi] = scale.fit(mn, mx);
  const y = yMap(L, c, lo, hi), top = L.y(c);
  ctx.save();
  ctx.beginPath();
  ctx.rect(0, top, L.w, L.h);
  ctx.clip();
  ctx.strokeStyle = color;
  ctx.lineWidth = 2 * dpr; // wide enough that a flat stretch covers one whole pixel row
  ctx.beginPath();
  let pen = false;
  for (let i = 0; i < N; i++) {
    const v = tr.at(start + i);
    if (v !== v) {
      pen = false;
      continue;
    }
    const x = ((i + 0.5) / N) * L.w;
    if (pen) ctx.lineTo(x, y(v));
    else ctx.moveTo(x, y(v));
    pen = true;
  }
  ctx.stroke();
  ctx.restore();
  return [lo, hi];
}

// fftSize is the transform length for a track: a power of two, 256..16384,
// no longer than the samples held.
export function fftSize(track) {
  const held = track.total - track.rawFrom();
  let n = 16384;
  while (n > 256 && n > held) n /= 2;
  return n;
}

// drawSpectrum draws the amplitude spectrum (dB) of each track's newest
// samples, 0 to rate/2 on a linear frequency axis.
export function drawSpectrum(ctx, canvas, view) {
  const n = view.tracks.length;
  const L = lanes(canvas, n, view.dpr);
  const nyq = view.rate / 2;
  grid(ctx, L, n, view.colors, view.dpr, (f) => fmtHz(f * nyq));
  for (let c = 0; c < n; c++) {
    const tr = view.tracks[c];
    const size = fftSize(tr);
    const db = spectrum(tr.copy(tr.total - size, tr.total));
    let peak = -Infinity;
    for (let i = 1; i < db.length; i++) if (db[i] > peak) peak = db[i];
    const hi = Math.ceil((peak + 5) / 10) * 10, lo = hi - 100;
    const y = yMap(L, c, lo, hi);
    ctx.fillStyle = view.colors.traces[c % view.colors.traces.length];
    const bins = db.length - 1, top = L.y(c) + 1, bot = L.y(c) + L.h - 1;
    let prev = NaN;
    for (let x = 0; x < L.w; x++) {
      const b0 = Math.floor((x * bins) / L.w), b1 = Math.max(b0 + 1, Math.floor(((x + 1) * bins) / L.w));
      let m = -Infinity;
      for (let b = b0; b < b1; b++) if (db[b] > m) m = db[b];
      const yy = Math.round(Math.min(bot, Math.max(top, y(m))));
      const y0 = prev === prev ? Math.min(prev, yy) : yy, y1 = prev === prev ? Math.max(prev, yy) : yy;
      ctx.fillRect(x, y0, 1, y1 - y0 + Math.max(1, Math.round(view.dpr))); // joined to the previous column
      prev = yy;
    }
    laneLabels(ctx, L, c, `${view.titles[c]} · ${size}-point FFT, dB`, lo, hi, view.colors, view.dpr);
  }
}

function fmtHz(f) {
  return f >= 1000 ? `${+(f / 1000).toPrecision(3)} kHz` : `${Math.round(f)} Hz`;
}
