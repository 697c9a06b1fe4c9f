// @ts-check
// Per-channel sample history for the plot. Each Track keeps two rings:
// the raw samples (Float32Array) and a min/max per BUCKET consecutive
// samples. Ingest costs O(1) per sample; drawing a column costs at most
// BUCKET raw reads or a few bucket reads, so the redraw cost depends on the
// canvas width, not on the sample rate. NaN marks a hole (gap or pause).

/** @typedef {Track | EnvTrack} Series what a lane is drawn from: samples, or envelope points */

export const BUCKET = 64;
export const MAX_WINDOW_S = 10;
const MAX_RAW = 1 << 20;
const MAX_BUCKETS = 1 << 18;

// Scratch shared by every Track (the page is single-threaded): the [min,
// max] accumulator of range, called once per pixel column per redraw, and
// the NaN samples hole pushes.
const RANGE_ACC = [Infinity, -Infinity];
const NANS = new Float32Array(65536).fill(NaN);

/** @param {number} n */
function pow2AtLeast(n) {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export class Track {
  /**
   * rate sizes the rings to hold MAX_WINDOW_S seconds, within memory caps.
   * @param {number} rate samples per second
   * @param {number} channels the stream's channel count (more than 4 get smaller rings)
   */
  constructor(rate, channels) {
    const want = Math.max(1024, Math.ceil(rate * MAX_WINDOW_S));
    const rawCap = Math.min(pow2AtLeast(want), channels > 4 ? MAX_RAW / 4 : MAX_RAW);
    const bCap = Math.min(pow2AtLeast(Math.ceil(want / BUCKET)), MAX_BUCKETS);
    this.raw = new Float32Array(rawCap).fill(NaN);
    this.rawMask = rawCap - 1;
    this.bmin = new Float32Array(bCap).fill(Infinity);
    this.bmax = new Float32Array(bCap).fill(-Infinity);
    this.bMask = bCap - 1;
    this.total = 0; // samples ever written: the next sample's index
    this.accMin = Infinity;
    this.accMax = -Infinity;
  }

  /**
   * resized returns a Track sized for another rate holding the same
   * samples at the same indices (as far as its raw ring reaches).
   * @param {number} rate
   * @param {number} channels
   */
  resized(rate, channels) {
    const t = new Track(rate, channels), from = Math.max(this.rawFrom(), this.total - t.raw.length);
    if (from > 0) t.hole(from);
    t.push(this.copy(from, this.total), 0, 1, this.total - from);
    return t;
  }

  // rawFrom is the oldest index the raw ring still holds.
  rawFrom() {
    return Math.max(0, this.total - this.raw.length);
  }

  // bucketFrom is the oldest index the bucket ring still covers.
  bucketFrom() {
    const full = Math.floor(this.total / BUCKET);
    return Math.max(0, (full - this.bmin.length) * BUCKET);
  }

  /**
   * push appends count samples taken from src at off, off+stride, ...
   * @param {ArrayLike<number>} src
   * @param {number} off
   * @param {number} stride
   * @param {number} count
   */
  push(src, off, stride, count) {
    const raw = this.raw, mask = this.rawMask;
    let t = this.total, mn = this.accMin, mx = this.accMax;
    for (let i = 0, j = off; i < count; i++, j += stride) {
      const v = src[j];
      raw[t & mask] = v;
      if (v < mn) mn = v;
      if (v > mx) mx = v;
      t++;
      if (t % BUCKET === 0) {
        const b = (t / BUCKET - 1) & this.bMask;
        this.bmin[b] = mn;
        this.bmax[b] = mx;
        mn = Infinity;
        mx = -Infinity;
      }
    }
    this.total = t;
    this.accMin = mn;
    this.accMax = mx;
  }

  /**
   * hole appends n NaN samples to break the trace: the raw ring gets at most
   * one ring's worth of NaN, the bucket ring is cleared over the rest.
   * @param {number} n
   */
  hole(n) {
    const k = Math.min(n, this.raw.length);
    for (let left = k; left > 0; left -= NANS.length) this.push(NANS, 0, 1, Math.min(left, NANS.length));
    if (n === k) return;
    const first = Math.floor(this.total / BUCKET);
    const last = Math.floor((this.total + n - k) / BUCKET);
    for (let b = first; b <= last && b - first <= this.bMask; b++) {
      this.bmin[b & this.bMask] = Infinity;
      this.bmax[b & this.bMask] = -Infinity;
    }
    this.total += n - k;
    this.accMin = Infinity;
    this.accMax = -Infinity;
  }

  /**
   * at returns sample index i, or NaN if the ring no longer holds it.
   * @param {number} i
   */
  at(i) {
    if (i < this.rawFrom() || i >= this.total) return NaN;
    return this.raw[i & this.rawMask];
  }

  /**
   * range returns [min, max] over indices [s0, s1) in out, NaN-free, or null
   * if no sample there is held. Wide spans read the whole buckets inside
   * them and the raw samples at both edges, so the result is exact; only a
   * left edge older than the raw ring is read from its (wider) bucket.
   * @param {number} s0
   * @param {number} s1
   * @param {number[]} out
   * @returns {number[] | null}
   */
  range(s0, s1, out) {
    s1 = Math.min(s1, this.total);
    const rf = this.rawFrom();
    const acc = RANGE_ACC;
    acc[0] = Infinity;
    acc[1] = -Infinity;
    if (s1 - s0 < 2 * BUCKET && s0 >= rf) {
      this.scanRaw(s0, s1, acc);
    } else {
      const firstHeld = Math.ceil(this.bucketFrom() / BUCKET);
      let b0 = Math.max(Math.ceil(s0 / BUCKET), firstHeld);
      const b1 = Math.max(b0, Math.floor(s1 / BUCKET));
      if (s0 < rf && b0 > firstHeld && s0 < b0 * BUCKET) b0--; // edge older than the raw ring
      else this.scanRaw(Math.max(s0, rf), Math.min(s1, b0 * BUCKET), acc);
      this.scanBuckets(b0, b1, acc);
      this.scanRaw(Math.max(b1 * BUCKET, rf, s0), s1, acc);
    }
    if (acc[0] > acc[1]) return null;
    out[0] = acc[0];
    out[1] = acc[1];
    return out;
  }

  /**
   * @param {number} s0
   * @param {number} s1
   * @param {number[]} acc [min, max] so far
   */
  scanRaw(s0, s1, acc) {
    let mn = acc[0], mx = acc[1];
    for (let i = Math.max(s0, this.rawFrom()); i < s1; i++) {
      const v = this.raw[i & this.rawMask];
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    acc[0] = mn;
    acc[1] = mx;
  }

  /**
   * scanBuckets folds whole buckets [b0, b1) (indices in bucket units).
   * @param {number} b0
   * @param {number} b1
   * @param {number[]} acc [min, max] so far
   */
  scanBuckets(b0, b1, acc) {
    let mn = acc[0], mx = acc[1];
    for (let b = b0; b < b1; b++) {
      const k = b & this.bMask;
      if (this.bmin[k] < mn) mn = this.bmin[k];
      if (this.bmax[k] > mx) mx = this.bmax[k];
    }
    acc[0] = mn;
    acc[1] = mx;
  }

  /**
   * copy returns the raw samples [s0, s1) (NaN where not held), in out if
   * given (its length s1 - s0).
   * @param {number} s0
   * @param {number} s1
   * @param {Float32Array} [out]
   */
  copy(s0, s1, out = new Float32Array(Math.max(0, s1 - s0))) {
    const from = this.rawFrom(), to = this.total, raw = this.raw, mask = this.rawMask;
    for (let i = s0; i < s1; i++) {
      let v = NaN; // an if: the ?: form boxed every sample in V8 (measured)
      if (i >= from && i < to) v = raw[i & mask];
      out[i - s0] = v;
    }
    return out;
  }
}

const MAX_POINTS = 1 << 16;

/**
 * EnvTrack is a channel's history as envelope points: each the min and max
 * of up to n consecutive sample instants, placed by sample index like a
 * Track's samples, so the plot reads both alike (range over indices). It
 * holds no samples (copy gives NaN): the spectrum and the CSV need a Track.
 */
export class EnvTrack {
  /**
   * @param {number} rate samples per second, sizing the ring for MAX_WINDOW_S
   * @param {number} n sample instants per point
   */
  constructor(rate, n) {
    this.n = n;
    const cap = Math.min(MAX_POINTS, pow2AtLeast(Math.max(64, Math.ceil((rate * MAX_WINDOW_S) / n) + 2)));
    this.mask = cap - 1;
    this.start = new Float64Array(cap); // first index covered by point k
    this.end = new Float64Array(cap); // one past the last
    this.min = new Float32Array(cap);
    this.max = new Float32Array(cap);
    this.count = 0; // points ever written
    this.total = 0; // sample instants ever covered (or skipped by holes)
    this.open = false; // the last point is partial and the next envelope may continue it
  }

  /**
   * resized: the points stay as they are (the ring is sized in points).
   * @param {number} _rate
   * @param {number} _channels
   */
  resized(_rate, _channels) {
    return this;
  }

  /** rawFrom: an EnvTrack holds no raw samples. */
  rawFrom() {
    return this.total;
  }

  /**
   * push appends channel c of an envelope (points x channels x (min, max),
   * point-major). join says it continues the previous one (next frame, no
   * gap between), so a partial first point merges into the last one.
   * @param {import("./packet.js").Envelope} e
   * @param {number} c
   * @param {boolean} join
   */
  push(e, c, join) {
    const v = e.values, stride = 2 * e.channels, base = this.total;
    for (let k = 0; k < e.points; k++) {
      const from = base + Math.max(0, k * e.n - e.phase), to = base + Math.min(e.samples, (k + 1) * e.n - e.phase);
      const lo = v[k * stride + 2 * c], hi = v[k * stride + 2 * c + 1];
      if (k === 0 && join && this.open && e.phase > 0 && this.count > 0) {
        const j = (this.count - 1) & this.mask;
        if (lo < this.min[j] || this.min[j] !== this.min[j]) this.min[j] = lo;
        if (hi > this.max[j] || this.max[j] !== this.max[j]) this.max[j] = hi;
        this.end[j] = to;
        continue;
      }
      const j = this.count++ & this.mask;
      this.start[j] = from;
      this.end[j] = to;
      this.min[j] = lo;
      this.max[j] = hi;
    }
    this.total = base + e.samples;
    this.open = (e.phase + e.samples) % e.n !== 0;
  }

  /**
   * hole skips n sample instants (a gap): no point covers them.
   * @param {number} n
   */
  hole(n) {
    this.total += n;
    this.open = false;
  }

  /**
   * first returns the oldest point held that ends after index s, or
   * this.count if none.
   * @param {number} s
   */
  first(s) {
    let lo = Math.max(0, this.count - this.mask - 1), hi = this.count;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (this.end[m & this.mask] > s) hi = m;
      else lo = m + 1;
    }
    return lo;
  }

  /**
   * range returns in out the [min, max] of the points that cover any of
   * the indices [s0, s1), or null if none does.
   * @param {number} s0
   * @param {number} s1
   * @param {number[]} out
   * @returns {number[] | null}
   */
  range(s0, s1, out) {
    let mn = Infinity, mx = -Infinity;
    for (let k = this.first(s0); k < this.count; k++) {
      const j = k & this.mask;
      if (this.start[j] >= s1) break;
      if (this.min[j] < mn) mn = this.min[j];
      if (this.max[j] > mx) mx = this.max[j];
    }
    if (!(mn <= mx)) return null;
    out[0] = mn;
    out[1] = mx;
    return out;
  }

  /**
   * at returns the middle of the point covering index i, or NaN.
   * @param {number} i
   */
  at(i) {
    const k = this.first(i);
    if (k >= this.count) return NaN;
    const j = k & this.mask;
    return this.start[j] <= i ? (this.min[j] + this.max[j]) / 2 : NaN;
  }

  /**
   * copy gives NaN for [s0, s1): an envelope holds no samples.
   * @param {number} s0
   * @param {number} s1
   * @param {Float32Array} [out]
   */
  copy(s0, s1, out = new Float32Array(Math.max(0, s1 - s0))) {
    return out.fill(NaN);
  }
}
