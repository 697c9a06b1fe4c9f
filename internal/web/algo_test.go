package web

import (
	"testing"
)

// TestPageAlgorithms runs the page's own FFT, ring and CSV code in the
// browser against brute-force references and reports every mismatch.
func TestPageAlgorithms(t *testing.T) {
	tb := newTab(t)
	srv := startServe(t, simOpts{Signal: "sine", Rate: 8000, Channels: 1})
	tb.open(srv.URL)
	var problems []string
	tb.eval(`(async () => {
	  const { fft, spectrum } = await import("/js/fft.js");
	  const { Track, BUCKET } = await import("/js/ring.js");
	  const { toCSV } = await import("/js/csv.js");
	  const bad = [];
	  let seed = 1;
	  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;

	  // FFT against a naive DFT.
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
	      if (Math.abs(sr - re[k]) > 1e-6 * n || Math.abs(si - im[k]) > 1e-6 * n) { bad.push("fft n=" + n + " bin " + k); break; }
	    }
	  }
	  // A sine of amplitude 1000 at bin 100 of 4096 peaks there at about 60 dB.
	  const x = Float32Array.from({ length: 4096 }, (_, i) => 1000 * Math.sin((2 * Math.PI * 100 * i) / 4096));
	  const db = spectrum(x);
	  let peak = 0;
	  for (let i = 1; i < db.length; i++) if (db[i] > db[peak]) peak = i;
	  if (peak !== 100 || Math.abs(db[100] - 60) > 0.5) bad.push("spectrum peak at bin " + peak + " with " + db[peak].toFixed(2) + " dB, want bin 100 at 60 dB");

	  // Track.range against brute force, across ring wrap-around and holes.
	  const tr = new Track(100, 1); // rings: 1024 raw, 16 buckets of 64
	  const all = [];
	  const push = (vals) => { tr.push(Float32Array.from(vals), 0, 1, vals.length); all.push(...vals); };
	  for (let i = 0; i < 40; i++) push(Array.from({ length: 37 }, () => Math.round(rnd() * 1000)));
	  tr.hole(5); for (let i = 0; i < 5; i++) all.push(NaN);
	  for (let i = 0; i < 10; i++) push(Array.from({ length: 53 }, () => Math.round(rnd() * 1000)));
	  if (tr.total !== all.length) bad.push("total " + tr.total + " want " + all.length);
	  const out = [0, 0];
	  for (let k = 0; k < 300; k++) {
	    const s0 = tr.total - 1 - Math.floor(Math.abs(rnd()) * 1000), s1 = s0 + 1 + Math.floor(Math.abs(rnd()) * 300);
	    const got = tr.range(s0, Math.min(s1, tr.total), out);
	    let mn = Infinity, mx = -Infinity;
	    const lo = BUCKET * Math.floor(s0 / BUCKET); // buckets may widen the left edge to their boundary
	    for (let i = s0; i < Math.min(s1, tr.total); i++) { if (all[i] < mn) mn = all[i]; if (all[i] > mx) mx = all[i]; }
	    let wmn = mn, wmx = mx;
	    for (let i = lo; i < s0; i++) { if (all[i] < wmn) wmn = all[i]; if (all[i] > wmx) wmx = all[i]; }
	    if (mn > mx) { if (got) bad.push("range " + s0 + ".." + s1 + " of holes gave " + got); continue; }
	    if (!got || got[0] < wmn || got[0] > mn || got[1] > wmx || got[1] < mx) {
	      bad.push("range " + s0 + ".." + s1 + ": got " + (got && got.join(",")) + ", want " + mn + "," + mx);
	      if (bad.length > 5) break;
	    }
	  }
	  for (let i = tr.total - 1000; i < tr.total; i++) {
	    const v = tr.at(i);
	    if (!(v === all[i] || (v !== v && all[i] !== all[i]))) { bad.push("at " + i + " = " + v + " want " + all[i]); break; }
	  }
	  if (!Number.isNaN(tr.at(tr.total - 2000))) bad.push("at() returns a sample the raw ring no longer holds");

	  // CSV: the newest samples with device times stepping back from the last.
	  const t2 = new Track(1000, 1);
	  t2.push(Float32Array.from([1, 2, 3, 4]), 0, 1, 4);
	  const csv = toCSV([t2], 1000, 0.003, 5000, ["v (mV)"]).text;
	  if (csv !== "time_s,v (mV)\n0.003000,2\n0.004000,3\n0.005000,4\n") bad.push("csv " + JSON.stringify(csv));
	  return bad;
	})()`, &problems)
	for _, p := range problems {
		t.Error(p)
	}
	tb.noProblems()
}
