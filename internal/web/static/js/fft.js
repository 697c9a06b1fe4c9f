// @ts-check
// A small in-place iterative radix-2 FFT and a magnitude spectrum helper.

/**
 * @typedef {object} Tables
 * @property {Float64Array} cos
 * @property {Float64Array} sin
 * @property {Uint32Array} rev bit-reversed indices
 * @property {Float64Array} hann
 * @property {Float64Array} re spectrum's scratch
 * @property {Float64Array} im spectrum's scratch
 */

/** @type {Map<number, Tables>} */
const cache = new Map();

/**
 * @param {number} n a power of two
 * @returns {Tables}
 */
function tables(n) {
  let t = cache.get(n);
  if (t) return t;
  const bits = Math.log2(n);
  t = {
    cos: new Float64Array(n / 2), sin: new Float64Array(n / 2), rev: new Uint32Array(n), hann: new Float64Array(n),
    re: new Float64Array(n), im: new Float64Array(n),
  };
  for (let i = 0; i < n / 2; i++) {
    t.cos[i] = Math.cos((2 * Math.PI * i) / n);
    t.sin[i] = -Math.sin((2 * Math.PI * i) / n);
  }
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    t.rev[i] = r;
    t.hann[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
  }
  cache.set(n, t);
  return t;
}

/**
 * fft transforms re and im (length a power of two) in place.
 * @param {Float64Array} re
 * @param {Float64Array} im
 */
export function fft(re, im) {
  const n = re.length;
  if (n & (n - 1)) throw new Error(`fft length ${n} is not a power of two`);
  const t = tables(n);
  for (let i = 0; i < n; i++) {
    const j = t.rev[i];
    if (j > i) {
      let v = re[i];
      re[i] = re[j];
      re[j] = v;
      v = im[i];
      im[i] = im[j];
      im[j] = v;
    }
  }
  for (let size = 2; size <= n; size *= 2) {
    const half = size / 2, step = n / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < half; k++) {
        const c = t.cos[k * step], s = t.sin[k * step];
        const a = start + k, b = a + half;
        const xr = re[b] * c - im[b] * s;
        const xi = re[b] * s + im[b] * c;
        re[b] = re[a] - xr;
        im[b] = im[a] - xi;
        re[a] += xr;
        im[a] += xi;
      }
    }
  }
}

// spectrum returns the single-sided amplitude spectrum in dB (n/2+1 bins,
// written into out if given) of the samples x (length n, a power of two)
// after removing the (window-weighted) mean and applying a Hann window. NaN
// samples count as the mean. The transform runs in scratch arrays kept per
// length, so a redraw allocates nothing (the page is single-threaded).
/**
 * @param {ArrayLike<number>} x
 * @param {Float32Array} [out]
 * @returns {Float32Array}
 */
export function spectrum(x, out = new Float32Array(x.length / 2 + 1)) {
  const n = x.length;
  const t = tables(n);
  let sum = 0, wk = 0; // the window-weighted mean: removing it empties the DC bin
  for (let i = 0; i < n; i++) if (x[i] === x[i]) { sum += x[i] * t.hann[i]; wk += t.hann[i]; }
  const mean = wk ? sum / wk : 0;
  const re = t.re, im = t.im.fill(0);
  let wsum = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i] === x[i] ? x[i] - mean : 0;
    re[i] = v * t.hann[i];
    wsum += t.hann[i];
  }
  fft(re, im);
  for (let i = 0; i <= n / 2; i++) {
    const amp = (Math.sqrt(re[i] * re[i] + im[i] * im[i]) * (i === 0 || i === n / 2 ? 1 : 2)) / wsum;
    out[i] = 20 * Math.log10(amp + 1e-12);
  }
  return out;
}

/**
 * @typedef {object} Peak
 * @property {number} bin the highest bin (1 .. n/2; DC is left out)
 * @property {number} hz its frequency, refined between bins
 * @property {number} db its level, refined between bins
 */

/**
 * peak finds the highest bin of a spectrum in dB (n/2+1 bins of an n-point
 * transform at rate) above DC, refined by a parabola through it and its
 * neighbours: for a Hann window this puts a pure tone's frequency within a
 * few hundredths of a bin and its level within about 0.3 dB.
 * @param {ArrayLike<number>} db
 * @param {number} rate
 * @returns {Peak | null} null when every bin is NaN
 */
export function peak(db, rate) {
  let k = -1, best = -Infinity;
  for (let i = 1; i < db.length; i++) {
    if (db[i] > best) {
      best = db[i];
      k = i;
    }
  }
  if (k < 0) return null;
  const n = 2 * (db.length - 1);
  let p = 0, level = best;
  if (k + 1 < db.length) {
    const a = db[k - 1], c = db[k + 1], d = a - 2 * best + c;
    if (d < 0) {
      p = (0.5 * (a - c)) / d;
      level = best - 0.25 * (a - c) * p;
    }
  }
  return { bin: k, hz: ((k + p) * rate) / n, db: level };
}
