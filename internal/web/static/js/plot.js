// @ts-check
// Canvas drawing: the time view (a min/max envelope per pixel column) and
// the spectrum view. Called at most once per animation frame.

import { columnLevels, peak, readAt, spectrum } from "./fft.js";
import { fmtValue, Scale } from "./scale.js";

const LABEL_BAND = 18; // CSS pixels under the lanes for the x-axis labels

/**
 * The plot's colors, from the page's CSS custom properties.
 * @typedef {{bg: string, grid: string, text: string, traces: string[]}} Colors
 */

/**
 * What the view draws, and what a draw reports back (ranges, labels,
 * peaks, readout: one entry per lane).
 * @typedef {object} View
 * @property {import("./ring.js").Series[]} tracks
 * @property {number} rate the default rate of a lane
 * @property {number[]} [rates] each lane's rate, when lanes differ (channels plotted together)
 * @property {number} windowS
 * @property {Scale[]} scales
 * @property {string[]} titles
 * @property {Colors} colors
 * @property {number} dpr
 * @property {number | null} cursor the pointer's x in canvas pixels, or null
 * @property {number} [snap] spectrum: columns either side of the cursor in which a peak is read
 * @property {[number, number][]} ranges out: each lane's vertical range
 * @property {[string, string][]} labels out: the range as the axis prints it
 * @property {(import("./fft.js").Peak | null)[]} peaks out, spectrum: each lane's highest peak
 * @property {string[]} readout out: each lane's value under the cursor ("" without one)
 * @property {number[]} [blank] out: each lane's pixel columns without a sample (holes, not held yet)
 */

/**
 * readColors reads the plot's colors from el's computed style.
 * @param {Element} el
 * @returns {Colors}
 */
export function readColors(el) {
  const cs = getComputedStyle(el);
  const v = (/** @type {string} */ name) => cs.getPropertyValue(name).trim();
  return {
    bg: v("--plot-bg"), grid: v("--plot-grid"), text: v("--plot-text"),
    traces: [v("--trace-1"), v("--trace-2"), v("--trace-3"), v("--trace-4")],
  };
}

/**
 * The lanes of a canvas, in device pixels.
 * @typedef {{w: number, band: number, h: number, y: (c: number) => number}} Lanes
 */

/**
 * @param {HTMLCanvasElement} canvas
 * @param {number} n
 * @param {number} dpr
 * @returns {Lanes}
 */
function lanes(canvas, n, dpr) {
  const band = Math.round(LABEL_BAND * dpr);
  const h = (canvas.height - band) / Math.max(1, n);
  return { w: canvas.width, band, h, y: (c) => Math.round(c * h) };
}

/** @param {number} s */
export function fmtTime(s) {
  const a = Math.abs(s);
  if (a === 0) return "0";
  return a < 1 ? `${+(s * 1000).toPrecision(3)} ms` : `${+s.toPrecision(3)} s`;
}

/** @param {number} f */
function fmtHz(f) {
  return f >= 1000 ? `${+(f / 1000).toPrecision(3)} kHz` : `${Math.round(f)} Hz`;
}

/**
 * fmtHzFine prints a frequency read from the spectrum to 0.1 Hz (a peak
 * is refined to a few thousandths of a bin, 0.01 Hz at 48 kHz in 16384
 * points): 440.0 Hz, 1.3200 kHz.
 * @param {number} f
 */
export function fmtHzFine(f) {
  return f >= 1000 ? `${(f / 1000).toFixed(4)} kHz` : `${f.toFixed(1)} Hz`;
}

/** @param {number} db */
export function fmtDB(db) {
  return `${db.toFixed(1).replace("-", "\u2212")} dB`;
}

/**
 * fmtPeak prints a peak's frequency and level.
 * @param {{hz: number, db: number}} p
 */
export function fmtPeak(p) {
  return `${fmtHzFine(p.hz)} at ${fmtDB(p.db)}`;
}

/**
 * @param {CanvasRenderingContext2D} ctx
 * @param {Lanes} L
 * @param {number} n
 * @param {View} view
 * @param {(f: number) => string} xLabels the label at fraction f of the width
 */
function grid(ctx, L, n, view, xLabels) {
  const { colors, dpr } = view;
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

/**
 * label draws text with a translucent plate behind it, so it stays
 * readable over a dense trace.
 * @param {CanvasRenderingContext2D} ctx
 * @param {string} text
 * @param {number} x
 * @param {number} y
 * @param {CanvasTextAlign} align
 * @param {CanvasTextBaseline} base
 * @param {Colors} colors
 * @param {number} dpr
 */
function label(ctx, text, x, y, align, base, colors, dpr) {
  ctx.textAlign = align;
  ctx.textBaseline = base;
  const w = ctx.measureText(text).width, h = 14 * dpr, pad = 2 * dpr;
  const x0 = align === "right" ? x - w : align === "center" ? x - w / 2 : x, y0 = base === "bottom" ? y - h : y;
  const fill = ctx.fillStyle;
  ctx.globalAlpha = 0.8;
  ctx.fillStyle = colors.bg;
  ctx.fillRect(x0 - pad, y0 - pad, w + 2 * pad, h + pad);
  ctx.globalAlpha = 1;
  ctx.fillStyle = fill;
  ctx.fillText(text, x, y);
}

/**
 * laneLabels draws the lane's title at its top left and its range at the
 * right: hi at the top, lo at the bottom.
 * @param {CanvasRenderingContext2D} ctx
 * @param {Lanes} L
 * @param {number} c
 * @param {string} title
 * @param {[string, string]} range lo, hi as printed
 * @param {View} view
 */
function laneLabels(ctx, L, c, title, range, view) {
  const { colors, dpr } = view, y0 = L.y(c), pad = 4 * dpr;
  ctx.fillStyle = colors.traces[c % colors.traces.length];
  ctx.font = `600 ${Math.round(12 * dpr)}px system-ui, sans-serif`;
  label(ctx, title, pad, y0 + pad, "left", "top", colors, dpr);
  ctx.fillStyle = colors.text;
  ctx.font = `${Math.round(11 * dpr)}px system-ui, sans-serif`;
  label(ctx, range[1], L.w - pad, y0 + pad, "right", "top", colors, dpr);
  label(ctx, range[0], L.w - pad, y0 + L.h - pad, "right", "bottom", colors, dpr);
}

// colMin and colMax hold each pixel column's range for drawColumns, kept
// between redraws and grown by columns.
let colMin = new Float32Array(0);
let colMax = new Float32Array(0);

/** @param {number} n */
function columns(n) {
  if (colMin.length < n) {
    colMin = new Float32Array(n);
    colMax = new Float32Array(n);
  }
}

/**
 * envelope fills colMin/colMax per column for samples [start, start+n) of
 * track; NaN marks a column without data. Returns [min, max] over all
 * columns.
 * @param {import("./ring.js").Series} track
 * @param {number} start
 * @param {number} n
 * @param {number} cols
 * @returns {[number, number]}
 */
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

/**
 * interpolate fills colMin/colMax per column when there are fewer samples
 * than columns: the range of the straight lines between samples across the
 * column, so drawing the columns traces the polyline through the samples.
 * @param {import("./ring.js").Series} track
 * @param {number} start
 * @param {number} spp samples per pixel column (< 1)
 * @param {number} cols
 * @returns {[number, number]}
 */
function interpolate(track, start, spp, cols) {
  const lo = colMin, hi = colMax;
  let mn = Infinity, mx = -Infinity;
  const v = (/** @type {number} */ t) => {
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

/**
 * drawTime draws every track over the last windowS seconds.
 * @param {CanvasRenderingContext2D} ctx
 * @param {HTMLCanvasElement} canvas
 * @param {View} view
 */
export function drawTime(ctx, canvas, view) {
  const n = view.tracks.length;
  const L = lanes(canvas, n, view.dpr);
  grid(ctx, L, n, view, (f) => fmtTime(-(1 - f) * view.windowS));
  for (let c = 0; c < n; c++) {
    const N = Math.max(2, Math.round(view.windowS * laneRate(view, c)));
    const tr = view.tracks[c];
    const start = tr.total - N;
    const color = view.colors.traces[c % view.colors.traces.length];
    const [mn, mx] = envelope(tr, start, N, L.w);
    const [lo, hi] = view.scales[c].fit(mn, mx);
    drawColumns(ctx, L, c, yMap(L, c, lo, hi), color, view.dpr);
    if (view.blank) view.blank[c] = blankColumns(L.w);
    report(view, c, lo, hi);
    laneLabels(ctx, L, c, view.titles[c], view.labels[c], view);
    view.readout[c] = "";
    if (view.cursor !== null) view.readout[c] = timeReadout(tr, start, N, L.w, view);
  }
  cursorLine(ctx, L, n, view);
}

/**
 * blankColumns counts the columns of the last envelope without data.
 * @param {number} cols
 */
function blankColumns(cols) {
  let n = 0;
  for (let x = 0; x < cols; x++) if (colMin[x] !== colMin[x]) n++;
  return n;
}

/**
 * laneRate is lane c's rate.
 * @param {View} view
 * @param {number} c
 */
function laneRate(view, c) {
  return (view.rates && view.rates[c]) || view.rate;
}

/**
 * report records lane c's range, and the range as printed, in view.
 * @param {View} view
 * @param {number} c
 * @param {number} lo
 * @param {number} hi
 */
function report(view, c, lo, hi) {
  view.ranges[c] = [lo, hi];
  view.labels[c] = [fmtValue(lo), fmtValue(hi)];
  view.ranges.length = view.labels.length = view.readout.length = view.peaks.length = view.tracks.length;
  if (view.blank) view.blank.length = view.tracks.length;
}

/**
 * timeReadout is the time and the samples' range in the cursor's column.
 * @param {import("./ring.js").Series} tr
 * @param {number} start
 * @param {number} N
 * @param {number} cols
 * @param {View} view
 */
function timeReadout(tr, start, N, cols, view) {
  const x = /** @type {number} */ (view.cursor);
  const spp = N / cols;
  const s0 = start + Math.floor(x * spp), s1 = Math.max(s0 + 1, start + Math.floor((x + 1) * spp));
  const t = fmtTime(-(1 - (x + 0.5) / cols) * view.windowS);
  const r = tr.range(s0, s1, [0, 0]);
  if (!r) return `${t}: no data`;
  return r[0] === r[1] ? `${t}: ${fmtValue(r[0])}` : `${t}: ${fmtValue(r[0])} to ${fmtValue(r[1])}`;
}

/**
 * cursorLine draws a vertical line at the cursor across every lane.
 * @param {CanvasRenderingContext2D} ctx
 * @param {Lanes} L
 * @param {number} n
 * @param {View} view
 */
function cursorLine(ctx, L, n, view) {
  if (view.cursor === null) return;
  ctx.fillStyle = view.colors.text;
  ctx.globalAlpha = 0.6;
  ctx.fillRect(Math.round(view.cursor), 0, Math.max(1, Math.round(view.dpr)), L.h * n);
  ctx.globalAlpha = 1;
  ctx.font = `${Math.round(11 * view.dpr)}px system-ui, sans-serif`;
  const right = view.cursor > L.w / 2, x = view.cursor + (right ? -6 : 6) * view.dpr;
  for (let c = 0; c < n; c++) {
    if (!view.readout[c]) continue;
    ctx.fillStyle = view.colors.text;
    label(ctx, view.readout[c], x, L.y(c) + L.h / 2 + 4 * view.dpr, right ? "right" : "left", "top", view.colors, view.dpr);
  }
}

/**
 * @param {Lanes} L
 * @param {number} c
 * @param {number} lo
 * @param {number} hi
 */
function yMap(L, c, lo, hi) {
  const top = L.y(c) + 1, h = L.h - 2;
  return (/** @type {number} */ v) => top + (1 - (v - lo) / (hi - lo)) * h;
}

// The trace layer: traces are written as pixels into an ImageData (exact
// colors, no antialiasing, cost proportional to the pixels painted), put on
// a scratch canvas and composited over the grid with one drawImage per lane.
/** @type {{canvas: HTMLCanvasElement | null, ctx: CanvasRenderingContext2D | null, img: ImageData | null, u32: Uint32Array}} */
const layer = { canvas: null, ctx: null, img: null, u32: new Uint32Array(0) };

/**
 * layerFor returns the scratch layer sized w x h, cleared.
 * @param {number} w
 * @param {number} h
 */
function layerFor(w, h) {
  if (!layer.canvas || !layer.ctx) {
    layer.canvas = document.createElement("canvas");
    layer.ctx = /** @type {CanvasRenderingContext2D} */ (layer.canvas.getContext("2d"));
  }
  if (!layer.img || layer.img.width !== w || layer.img.height !== h) {
    layer.canvas.width = w;
    layer.canvas.height = h;
    layer.img = layer.ctx.createImageData(w, h);
    layer.u32 = new Uint32Array(layer.img.data.buffer);
  }
  layer.u32.fill(0);
  return { canvas: layer.canvas, ctx: layer.ctx, img: layer.img, u32: layer.u32 };
}

// rgba32 converts a CSS color to the pixel value of an ImageData's Uint32 view.
/** @type {Map<string, number>} */
const rgbaCache = new Map();
/** @param {string} color */
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

/**
 * drawColumns draws each column's range (colMin/colMax, NaN = none) in lane
 * c as a vertical run of pixels, joined to its neighbour so that steep edges
 * stay continuous.
 * @param {CanvasRenderingContext2D} ctx
 * @param {Lanes} L
 * @param {number} c
 * @param {(v: number) => number} y
 * @param {string} color
 * @param {number} dpr
 */
function drawColumns(ctx, L, c, y, color, dpr) {
  const cols = L.w, top = L.y(c), h = L.y(c + 1) - top;
  if (!(cols > 0 && h > 0)) return;
  const px = rgba32(color);
  const lay = layerFor(cols, h), u32 = lay.u32;
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
  lay.ctx.putImageData(lay.img, 0, 0);
  ctx.drawImage(lay.canvas, 0, top);
}

/**
 * fftSize is the transform length for a track: a power of two, 256..16384,
 * no longer than the samples held.
 * @param {import("./ring.js").Series} track
 */
export function fftSize(track) {
  const held = track.total - track.rawFrom();
  let n = 16384;
  while (n > 256 && n > held) n /= 2;
  return n;
}

// spec holds the samples of one lane and the spectrum of each, reused
// across redraws while the FFT size stays; the spectra stay for the cursor.
/** @type {{x: Float32Array, db: Float32Array[]}} */
const spec = { x: new Float32Array(0), db: [] };

/**
 * drawSpectrum draws the amplitude spectrum (dB) of each track's newest
 * samples, 0 to rate/2 on a linear frequency axis, marks each lane's
 * highest peak and reads it out with its frequency and level, and reads
 * the spectrum at the cursor (see readAt in fft.js), marking the point
 * read.
 * @param {CanvasRenderingContext2D} ctx
 * @param {HTMLCanvasElement} canvas
 * @param {View} view
 */
export function drawSpectrum(ctx, canvas, view) {
  const n = view.tracks.length;
  const L = lanes(canvas, n, view.dpr);
  let nyq = 0; // one frequency axis: 0 to the highest lane's half rate
  for (let c = 0; c < n; c++) nyq = Math.max(nyq, laneRate(view, c) / 2);
  grid(ctx, L, n, view, (f) => fmtHz(f * nyq));
  columns(L.w);
  for (let c = 0; c < n; c++) {
    const tr = view.tracks[c], rate = laneRate(view, c), w = Math.max(1, Math.round((L.w * rate) / 2 / nyq));
    const size = fftSize(tr);
    if (spec.x.length !== size) spec.x = new Float32Array(size);
    if (!spec.db[c] || spec.db[c].length !== size / 2 + 1) spec.db[c] = new Float32Array(size / 2 + 1);
    const db = spectrum(tr.copy(tr.total - size, tr.total, spec.x), spec.db[c]);
    const pk = peak(db, rate);
    const top = pk ? pk.db : -100;
    const hi = Math.ceil((top + 5) / 10) * 10, lo = hi - 100;
    const y = yMap(L, c, lo, hi);
    columnLevels(db, w, colMin, lo);
    colMin.fill(NaN, w, L.w);
    for (let x = 0; x < L.w; x++) colMax[x] = colMin[x];
    const color = view.colors.traces[c % view.colors.traces.length];
    drawColumns(ctx, L, c, y, color, view.dpr);
    if (view.blank) view.blank[c] = blankColumns(L.w);
    report(view, c, lo, hi);
    view.labels[c] = [fmtDB(lo), fmtDB(hi)];
    view.peaks[c] = pk;
    if (pk) peakMark(ctx, L, c, (pk.hz / nyq) * L.w, y(pk.db), view);
    const pkText = pk ? ` · peak ${fmtPeak(pk)}` : "";
    laneLabels(ctx, L, c, `${view.titles[c]} · ${size}-point FFT (${fmtHzFine(rate / size)} bins)${pkText}`, view.labels[c], view);
    view.readout[c] = "";
    if (view.cursor !== null && view.cursor >= w) {
      view.readout[c] = `${fmtHzFine(((view.cursor + 0.5) / L.w) * nyq)}: above half the rate`;
    } else if (view.cursor !== null) {
      const r = readAt(db, rate, view.cursor, w, view.snap || 0);
      view.readout[c] = `${fmtHzFine(r.hz)}: ${fmtDB(r.db)}${r.peak ? " (peak)" : ""}`;
      readMark(ctx, r.x + 0.5, Math.max(L.y(c), Math.min(L.y(c + 1), y(r.db))), view);
    }
  }
  cursorLine(ctx, L, n, view);
}

/**
 * readMark rings the point of the spectrum the cursor reads.
 * @param {CanvasRenderingContext2D} ctx
 * @param {number} x
 * @param {number} y
 * @param {View} view
 */
function readMark(ctx, x, y, view) {
  ctx.strokeStyle = view.colors.text;
  ctx.lineWidth = Math.max(1, view.dpr);
  ctx.beginPath();
  ctx.arc(x, y, 4 * view.dpr, 0, 2 * Math.PI);
  ctx.stroke();
}

/**
 * peakMark draws a small triangle above the peak at (x, y).
 * @param {CanvasRenderingContext2D} ctx
 * @param {Lanes} L
 * @param {number} c
 * @param {number} x
 * @param {number} y
 * @param {View} view
 */
function peakMark(ctx, L, c, x, y, view) {
  const s = 5 * view.dpr, tip = Math.max(L.y(c) + s + 1, y - 3 * view.dpr);
  ctx.fillStyle = view.colors.text;
  ctx.beginPath();
  ctx.moveTo(x, tip);
  ctx.lineTo(x - s, tip - s);
  ctx.lineTo(x + s, tip - s);
  ctx.closePath();
  ctx.fill();
}

/**
 * drawSpark draws a small trace of a track's last windowS seconds filling
 * the canvas: no grid, no labels (the overview's live traces).
 * @param {CanvasRenderingContext2D} ctx
 * @param {HTMLCanvasElement} canvas
 * @param {import("./ring.js").Series} tr
 * @param {number} rate
 * @param {number} windowS
 * @param {Scale} scale
 * @param {Colors} colors
 * @param {string} color
 * @returns {[number, number]} the range drawn
 */
export function drawSpark(ctx, canvas, tr, rate, windowS, scale, colors, color) {
  const L = { w: canvas.width, band: 0, h: canvas.height, y: (/** @type {number} */ c) => Math.round(c * canvas.height) };
  ctx.fillStyle = colors.bg;
  ctx.fillRect(0, 0, L.w, L.h);
  const N = Math.max(2, Math.round(windowS * rate));
  const [mn, mx] = envelope(tr, tr.total - N, N, L.w);
  const [lo, hi] = scale.fit(mn, mx);
  drawColumns(ctx, L, 0, yMap(L, 0, lo, hi), color, 1);
  return [lo, hi];
}
