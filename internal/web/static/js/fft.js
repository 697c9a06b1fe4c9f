// @ts-check
// A small in-place iterative radix-2 FFT, the amplitude spectrum in dB,
// and what the spectrum view reads from it: the highest peak and the level
// under a pixel column, refined between bins.

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
    t.hann[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n); // periodic (DFT-even): refine is exact for it
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
 * @property {number} bin the bin the peak is in (1 .. n/2; DC is left out)
 * @property {number} hz its frequency, refined between bins
 * @property {number} db its level, refined between bins
 */

/**
 * peak finds the highest bin of a spectrum in dB (n/2+1 bins of an n-point
 * transform at rate) above DC and refines it (see refine).
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
  return k < 0 ? null : refine(db, k, rate);
}

/**
 * refine is the tone that bin k, a local maximum of a spectrum in dB made
 * with spectrum() (a periodic Hann window), and its higher neighbour are
 * the main lobe of: for a Hann window the ratio a of the neighbour's
 * amplitude to bin k's puts the tone d = (2a - 1) / (a + 1) bins from k,
 * and its amplitude is bin k's divided by the window's response at d,
 * sin(pi d) / (pi d (1 - d^2)) (Grandke, IEEE Trans. Instrum. Meas. 32,
 * 1983). For one tone this is exact but for the leakage of its mirror
 * image: within 0.004 bin and 0.02 dB from 10 bins up (jstest/fft.test.js
 * measures it), where a parabola through the three levels in dB misses
 * by up to 0.016 bin and 0.32 dB. A bin that is not a local maximum is
 * returned as it is (its own frequency and level).
 * @param {ArrayLike<number>} db
 * @param {number} k 1 .. n/2
 * @param {number} rate
 * @returns {Peak}
 */
export function refine(db, k, rate) {
  const n = 2 * (db.length - 1), c = db[k];
  const l = k > 1 ? db[k - 1] : -Infinity, r = k + 1 < db.length ? db[k + 1] : -Infinity;
  if (!(c >= l && c >= r)) return { bin: k, hz: (k * rate) / n, db: c }; // not a peak: nothing to refine
  const a = 10 ** ((Math.max(l, r) - c) / 20); // 0.5 (a tone on bin k) .. 1 (halfway)
  const d = Math.min(0.5, Math.max(0, (2 * a - 1) / (a + 1))); // clamped: noise, or a lobe that is no tone
  const g = d < 1e-6 ? 1 : Math.sin(Math.PI * d) / (Math.PI * d * (1 - d * d));
  return { bin: k, hz: ((k + (r >= l ? d : -d)) * rate) / n, db: c - 20 * Math.log10(g) };
}

/**
 * columnBins is the range of bins [b0, b1) drawn in pixel column x when
 * bins+1 bins (0 to half the rate) span w columns: the bins whose
 * frequency falls in the column, or the nearest one when the columns are
 * narrower than a bin.
 * @param {number} bins n/2
 * @param {number} x
 * @param {number} w
 * @returns {[number, number]}
 */
export function columnBins(bins, x, w) {
  const b0 = Math.ceil((x * bins) / w), b1 = Math.min(bins + 1, Math.ceil(((x + 1) * bins) / w));
  if (b0 < b1) return [b0, b1];
  const b = Math.min(bins, Math.round(((x + 0.5) * bins) / w));
  return [b, b + 1];
}

/**
 * columnLevels writes into out[0..w) the level drawn in each of w pixel
 * columns (see columnBins), at least floor. One call per lane and redraw:
 * a call per column would box every level it returns.
 * @param {ArrayLike<number>} db
 * @param {number} w
 * @param {Float32Array} out
 * @param {number} floor
 */
export function columnLevels(db, w, out, floor) {
  const bins = db.length - 1;
  for (let x = 0; x < w; x++) {
    let b0 = Math.ceil((x * bins) / w), b1 = Math.min(bins + 1, Math.ceil(((x + 1) * bins) / w));
    if (b0 >= b1) {
      b0 = Math.min(bins, Math.round(((x + 0.5) * bins) / w));
      b1 = b0 + 1;
    }
    let m = -Infinity;
    for (let b = b0; b < b1; b++) if (db[b] > m) m = db[b];
    out[x] = m < floor ? floor : m;
  }
}

/**
 * columnLevel is the level drawn in pixel column x of w: the highest of
 * the bins that fall into it.
 * @param {ArrayLike<number>} db
 * @param {number} x
 * @param {number} w
 */
export function columnLevel(db, x, w) {
  const [b0, b1] = columnBins(db.length - 1, x, w);
  let m = -Infinity;
  for (let b = b0; b < b1; b++) if (db[b] > m) m = db[b];
  return m;
}

/**
 * readAt is what the spectrum shows at pixel column x of w: the highest
 * bin drawn in that column, or a peak that stands out (a local maximum at
 * least SNAP_DB above that bin) drawn within snap columns of it, so that a
 * pointer near a narrow peak reads the peak. A bin that is a local maximum
 * is refined between bins (see refine); any other is read as it is, its
 * own frequency and level, so the reading is accurate to the bin. DC is
 * read only when no other bin is in the column.
 * @param {ArrayLike<number>} db
 * @param {number} rate
 * @param {number} x
 * @param {number} w
 * @param {number} [snap] columns either side to look in
 * @returns {Peak & {x: number, peak: boolean}} x: the column read
 */
export function readAt(db, rate, x, w, snap = 0) {
  const own = highest(db, x, x, x, w);
  const near = snap > 0 ? highest(db, Math.max(0, x - snap), Math.min(w - 1, x + snap), x, w) : own;
  const pick = near.k >= 0 && near.k !== own.k && isPeak(db, near.k) && !(db[near.k] - db[own.k] < SNAP_DB) ? near : own;
  if (pick.k < 0) {
    const bins = db.length - 1, [b0] = columnBins(bins, x, w);
    return { bin: b0, hz: (b0 * rate) / (2 * bins), db: db[b0], x, peak: false };
  }
  return { ...refine(db, pick.k, rate), x: pick.x, peak: isPeak(db, pick.k) };
}

/**
 * highest is the highest bin above DC drawn in columns x0..x1 of w (the
 * one nearer to column at between equals) and its column; k is -1 if
 * there is none.
 * @param {ArrayLike<number>} db
 * @param {number} x0
 * @param {number} x1
 * @param {number} at
 * @param {number} w
 */
function highest(db, x0, x1, at, w) {
  const bins = db.length - 1;
  let k = -1, best = -Infinity, bx = at;
  for (let c = x0; c <= x1; c++) {
    const [b0, b1] = columnBins(bins, c, w);
    for (let b = Math.max(1, b0); b < b1; b++) {
      if (db[b] > best || (db[b] === best && Math.abs(c - at) < Math.abs(bx - at))) {
        k = b;
        best = db[b];
        bx = c;
      }
    }
  }
  return { k, x: bx };
}

/** A peak near the cursor is read instead of the cursor's column when it stands this much (dB) above it. */
export const SNAP_DB = 10;

/**
 * isPeak says whether bin k is a local maximum.
 * @param {ArrayLike<number>} db
 * @param {number} k
 */
function isPeak(db, k) {
  return db[k] >= (k > 1 ? db[k - 1] : -Infinity) && db[k] >= (k + 1 < db.length ? db[k + 1] : -Infinity);
}
