// @ts-check
// One channel's vertical range. Autoscale fits the data, smoothed so that
// it does not jitter (it grows at once and shrinks only when the data fills
// less than half of it), and snaps its ends to round numbers so that the
// axis labels and the Min/Max boxes show the same short values.

/**
 * niceStep returns the smallest 1, 2 or 5 times a power of ten that is at
 * least x (x > 0).
 * @param {number} x
 */
export function niceStep(x) {
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * p >= x * (1 - 1e-9)) return m * p;
  return 10 * p;
}

/**
 * fmtValue prints a range end the same way on the axis and in the boxes:
 * at most 6 significant digits, no trailing zeros, no exponent for the
 * values a plot meets.
 * @param {number} v
 */
export function fmtValue(v) {
  if (!Number.isFinite(v)) return "";
  const s = String(+v.toPrecision(6));
  return s === "-0" ? "0" : s;
}

/**
 * snap widens [lo, hi] outward to multiples of a round step (about a
 * twentieth of its span), rounding off float noise.
 * @param {number} lo
 * @param {number} hi
 * @returns {[number, number]}
 */
export function snap(lo, hi) {
  const step = niceStep((hi - lo) / 20);
  const round = (/** @type {number} */ v) => +(v * step === v * step ? v.toPrecision(12) : v);
  return [round(Math.floor(lo / step) * step), round(Math.ceil(hi / step) * step)];
}

export class Scale {
  constructor() {
    this.auto = true;
    this.min = -1;
    this.max = 1;
    this.fixedMin = -1;
    this.fixedMax = 1;
  }

  /**
   * fit returns the range to draw data spanning lo..hi with (NaN or an
   * empty span keep the current range).
   * @param {number} lo
   * @param {number} hi
   * @returns {[number, number]}
   */
  fit(lo, hi) {
    if (!this.auto) return [this.fixedMin, this.fixedMax];
    if (!(lo <= hi)) return [this.min, this.max];
    if (lo === hi) {
      const d = Math.max(1, Math.abs(lo) * 0.1);
      lo -= d;
      hi += d;
    }
    const pad = (hi - lo) * 0.05;
    const inside = lo >= this.min && hi <= this.max;
    if (!inside || hi - lo < 0.5 * (this.max - this.min)) [this.min, this.max] = snap(lo - pad, hi + pad);
    return [this.min, this.max];
  }

  /**
   * range is what fit last returned: the range in use.
   * @returns {[number, number]}
   */
  range() {
    return this.auto ? [this.min, this.max] : [this.fixedMin, this.fixedMax];
  }
}
