// @ts-check
// CSV export of the visible window: one row per sample instant, device
// time in seconds, then one column per channel. Holes (gaps, pauses) are
// empty cells.

/** @param {string} s */
function quote(s) {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * toCSV renders the last windowS seconds that the raw rings still hold.
 * lastTimeUs is the device time of the newest sample.
 * @param {import("./ring.js").Series[]} tracks
 * @param {number} rate
 * @param {number} windowS
 * @param {number} lastTimeUs
 * @param {string[]} titles one per track
 * @returns {{text: string, rows: number}}
 */
export function toCSV(tracks, rate, windowS, lastTimeUs, titles) {
  const end = tracks[0].total;
  let start = end - Math.round(windowS * rate);
  for (const t of tracks) start = Math.max(start, t.rawFrom());
  const cols = tracks.map((t) => t.copy(start, end));
  const lines = ["time_s," + titles.map(quote).join(",")];
  const row = new Array(tracks.length + 1);
  for (let i = 0; i < end - start; i++) {
    row[0] = (lastTimeUs / 1e6 - (end - 1 - start - i) / rate).toFixed(6);
    for (let c = 0; c < cols.length; c++) {
      const v = cols[c][i];
      row[c + 1] = v === v ? String(v) : "";
    }
    lines.push(row.join(","));
  }
  return { text: lines.join("\n") + "\n", rows: end - start };
}
