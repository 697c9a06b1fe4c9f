import { test } from "node:test";
import assert from "node:assert/strict";
import { fft, peak, spectrum } from "../static/js/fft.js";

test("fft equals a naive DFT", () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  for (const n of [2, 8, 64, 1024]) {
    const re = Float64Array.from({ length: n }, rnd), im = Float64Array.from({ length: n }, rnd);
    const r0 = re.slice(), i0 = im.slice();
    fft(re, im);
    for (let k = 0; k < n; k++) {
      let sr = 0, si = 0;
      for (let j = 0; j < n; j++) {
        const a = (-2 * Math.PI * j * k) / n;
        sr += r0[j] * Math.cos(a) - i0[j] * Math.sin(a);
        si += r0[j] * Math.sin(a) + i0[j] * Math.cos(a);
      }
      assert.ok(Math.abs(sr - re[k]) < 1e-6 * n && Math.abs(si - im[k]) < 1e-6 * n, `n=${n} bin ${k}`);
    }
  }
  assert.throws(() => fft(new Float64Array(6), new Float64Array(6)), /not a power of two/);
});

/**
 * sine returns n samples of amplitude a at hz, sampled at rate.
 * @param {number} n
 * @param {number} a
 * @param {number} hz
 * @param {number} rate
 */
function sine(n, a, hz, rate) {
  return Float32Array.from({ length: n }, (_, i) => a * Math.sin((2 * Math.PI * hz * i) / rate));
}

test("a sine of amplitude 1000 on bin 100 peaks there at 60 dB", () => {
  const db = spectrum(sine(4096, 1000, 100, 4096));
  const p = peak(db, 4096);
  assert.ok(p);
  assert.equal(p.bin, 100);
  assert.ok(Math.abs(p.hz - 100) < 0.01, `peak at ${p.hz} Hz`);
  assert.ok(Math.abs(p.db - 60) < 0.1, `peak level ${p.db} dB`);
});

test("peak refines a tone between bins: 440 Hz at 48 kHz in 16384 points", () => {
  const rate = 48000, db = spectrum(sine(16384, 1000, 440, rate));
  const p = peak(db, rate);
  assert.ok(p);
  assert.ok(Math.abs(p.hz - 440) < 0.1 * (rate / 16384), `peak at ${p.hz} Hz, bins are ${rate / 16384} Hz`);
  assert.ok(Math.abs(p.db - 60) < 0.5, `peak level ${p.db} dB, want 60 within 0.5`);
});

test("the mean is removed and NaN counts as the mean", () => {
  const x = sine(1024, 100, 64, 1024).map((v) => v + 5000);
  x[10] = NaN;
  const db = spectrum(x);
  assert.ok(db[0] < db[64] - 60, `DC ${db[0]} dB against the tone's ${db[64]} dB`);
  const p = peak(db, 1024);
  assert.ok(p && p.bin === 64);
});
