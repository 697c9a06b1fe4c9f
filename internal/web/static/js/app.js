// The live view: wires the connection, the per-channel rings, the plot and
// the controls. window.wsbridge exposes counters for tests and curious users.

import { Connection } from "./conn.js";
import { checkPacket, parseData, parsePacket, TYPE_DATA } from "./packet.js";
import { Track } from "./ring.js";
import { drawSpectrum, drawTime, readColors, Scale } from "./plot.js";
import { toCSV } from "./csv.js";
import { Gaps } from "./gaps.js";

const WINDOWS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10];
const $ = (id) => document.getElementById(id);

// S is the page state; window.wsbridge is S itself, so tests read live values.
const S = {
  state: "connecting", deviceState: "", device: null, commands: false,
  frames: 0, samples: 0, bytes: 0, sps: 0, badPackets: 0, crcErrors: 0,
  gaps: 0, lostFrames: 0, gapsByReason: {}, restarts: 0,
  connects: 0, lastSeq: null, drawn: 0, paused: false, view: "time", windowS: 1,
  rate: 0, channels: 0, traceColors: [], background: "",
  wsURL: "", // the WebSocket URL in use, token elided
  drawMs: 0, // smoothed time of one redraw, ms
  ingestMs: 0, // total time spent decoding and storing frames, ms
  tail: (ch, n) => (tracks[ch] ? Array.from(tracks[ch].copy(tracks[ch].total - n, tracks[ch].total)) : []),
};
window.wsbridge = S;

let tracks = [];
let scales = [];
let titles = [];
let lastTimeUs = 0; // device time of the newest ingested sample
let pausedSamples = 0; // sample instants that arrived (or went missing) while paused
let dirty = true;
let colors = readColors(document.documentElement);
const gaps = new Gaps(S, (n) => hole(n), note);

const conn = new Connection({
  state: onState,
  binary: onBinary,
  text: onText,
  note,
  since: () => gaps.since(),
  prefill,
  opening: (url) => (S.wsURL = url),
});

// ---- ingest ---------------------------------------------------------------

function onBinary(buf) {
  const t0 = performance.now();
  ingest(buf);
  S.ingestMs += performance.now() - t0;
}

function ingest(buf) {
  S.bytes += buf.byteLength;
  let f;
  try {
    if (checkPacket(buf) !== TYPE_DATA) return onPacket(parsePacket(buf));
    f = parseData(buf);
  } catch (e) {
    S.badPackets++;
    if (e.kind === "crc") S.crcErrors++;
    if (S.badPackets <= 5 || S.badPackets % 100 === 0) note(`bad packet #${S.badPackets}: ${e.message}`, true);
    return;
  }
  if (f.rate !== S.rate || f.channels !== S.channels) layout(f.rate, f.channels);
  gaps.frame(f.seq, f.count);
  S.frames++;
  S.samples += f.count;
  if (S.paused) {
    pausedSamples += f.count;
    return;
  }
  for (let c = 0; c < f.channels; c++) tracks[c].push(f.samples, c, f.channels, f.count);
  lastTimeUs = f.tUs + ((f.count - 1) * 1e6) / f.rate;
  dirty = true;
}

// prefill picks the seq to start from on the first connection: enough of
// serve's history (/api/info) to fill the current window, or null for live.
function prefill(info) {
  const h = info.history || {};
  const d = info.device || {};
  const rate = info.rate || d.rate, per = d.frame_samples || Math.ceil((rate || 0) / 100);
  if (!h.frames || !rate || !per || typeof info.seq !== "number") return null;
  const held = (info.seq - h.first_seq + 0x100000000) % 0x100000000;
  const need = Math.min(held, Math.ceil((S.windowS * rate) / per));
  return need > 0 ? (info.seq - need + 0x100000000) % 0x100000000 : null;
}

// onPacket handles non-data packets, should serve ever send them as binary.
function onPacket(p) {
  if (p.type === "info") onText({ type: "info", device: p });
  else if (p.type === "log") onText({ type: "log", text: p.text });
  else if (p.type === "reply") onText({ type: "reply", ok: p.ok, text: p.text });
}

// hole breaks the trace by n samples (a gap), keeping the time axis exact.
function hole(n) {
  if (S.paused) pausedSamples += n;
  else for (const t of tracks) t.hole(n);
}

function onText(m) {
  switch (m.type) {
    case "hello": return onHello(m);
    case "status": return onStatus(m);
    case "gap": return gaps.message(m);
    case "info": return setDevice(m.device);
    case "log": return note(`device: ${m.text}`);
    case "reply": return note(`reply (${m.ok ? "ok" : "error"}): ${m.text}`, !m.ok);
    case "error": return note(`server: ${m.message} (${m.code})`, true);
  }
  note(`unknown message type ${JSON.stringify(m.type)}`);
}

function onHello(m) {
  S.connects++;
  S.commands = !!m.commands;
  $("command-form").hidden = !S.commands;
  S.deviceState = m.device_state || "";
  if (m.device) setDevice(m.device);
  else if (m.rate && m.channels) layout(m.rate, m.channels);
  gaps.hello(m);
  note(`connected to ${m.server || "wsbridge"}, ${m.format || "binary"} frames from seq ${m.start_seq}`);
  render();
}

function onStatus(m) {
  if (m.state === "restart") gaps.restart(m.seq); // seq numbering restarted; the device is up
  else S.deviceState = m.state;
  note(`device ${m.state}${m.reason ? ": " + m.reason : ""}`, m.state === "down");
  render();
}

function setDevice(d) {
  S.device = d;
  if (d.rate !== S.rate || d.channels !== S.channels) layout(d.rate, d.channels);
  else channelControls();
  render();
}

// layout (re)allocates one track per channel for a new rate or channel count.
function layout(rate, channels) {
  S.rate = rate;
  S.channels = channels;
  tracks = Array.from({ length: channels }, () => new Track(rate, channels));
  scales = Array.from({ length: channels }, (_, c) => scales[c] || new Scale());
  channelControls();
  sizeCanvas();
}

// ---- the view -------------------------------------------------------------

const canvas = $("plot");
const ctx = canvas.getContext("2d", { alpha: false });

function sizeCanvas() {
  const dpr = window.devicePixelRatio || 1;
  const n = Math.max(1, S.channels);
  const cssH = Math.round(Math.min(Math.max(220, n * 170), window.innerHeight * 0.7) + 18);
  canvas.style.height = `${cssH}px`;
  canvas.width = Math.max(1, Math.round(canvas.clientWidth * dpr));
  canvas.height = Math.round(cssH * dpr);
  dirty = true;
}

function draw() {
  const t0 = performance.now();
  const view = {
    tracks, rate: S.rate, windowS: S.windowS, scales, titles, colors, dpr: window.devicePixelRatio || 1,
  };
  if (!tracks.length) {
    ctx.fillStyle = colors.bg;
    ctx.fillRect(0, 0, canvas.width, canvas.height);
  } else if (S.view === "spectrum") drawSpectrum(ctx, canvas, view);
  else drawTime(ctx, canvas, view);
  S.drawn++;
  S.drawMs = 0.9 * S.drawMs + 0.1 * (performance.now() - t0);
}

function tick() {
  requestAnimationFrame(tick);
  if (!dirty) return;
  dirty = false;
  draw();
}

// ---- controls -------------------------------------------------------------

function channelName(c) {
  const ci = (S.device && S.device.channel_info && S.device.channel_info[c]) || {};
  return { name: ci.name || `ch${c + 1}`, unit: ci.unit || "" };
}

function channelControls() {
  const fs = $("channels");
  fs.replaceChildren(Object.assign(document.createElement("legend"), { textContent: "Channels" }));
  titles = [];
  for (let c = 0; c < S.channels; c++) {
    const { name, unit } = channelName(c);
    titles.push(unit ? `${name} (${unit})` : name);
    fs.append(channelRow(c, titles[c]));
  }
  dirty = true;
}

function channelRow(c, title) {
  const row = document.createElement("div");
  row.className = "chan";
  const sw = `<span class="swatch" data-c="${c}"></span>`;
  row.innerHTML = `<span class="name">${sw}<span></span></span>
    <label><input type="checkbox" data-k="auto"> Autoscale</label>
    <label>Min <input type="number" step="any" data-k="min"></label>
    <label>Max <input type="number" step="any" data-k="max"></label>`;
  row.querySelector(".name span:last-child").textContent = title;
  row.querySelector(".swatch").style.background = colors.traces[c % colors.traces.length];
  const sc = scales[c];
  const [auto, mn, mx] = ["auto", "min", "max"].map((k) => row.querySelector(`[data-k="${k}"]`));
  auto.checked = sc.auto;
  mn.value = fmtInput(sc.auto ? sc.min : sc.fixedMin);
  mx.value = fmtInput(sc.auto ? sc.max : sc.fixedMax);
  mn.disabled = mx.disabled = sc.auto;
  mn.setAttribute("aria-label", `${title} minimum`);
  mx.setAttribute("aria-label", `${title} maximum`);
  auto.setAttribute("aria-label", `${title} autoscale`);
  auto.onchange = () => {
    sc.auto = auto.checked;
    if (!sc.auto) [sc.fixedMin, sc.fixedMax, mn.value, mx.value] = [sc.min, sc.max, fmtInput(sc.min), fmtInput(sc.max)];
    mn.disabled = mx.disabled = sc.auto;
    dirty = true;
  };
  const fixed = () => {
    const a = parseFloat(mn.value), b = parseFloat(mx.value);
    const ok = a < b;
    if (ok) [sc.fixedMin, sc.fixedMax] = [a, b];
    for (const el of [mn, mx]) el.setAttribute("aria-invalid", String(!ok));
    dirty = true;
  };
  mn.onchange = mx.onchange = fixed;
  return row;
}

function fmtInput(v) {
  return Number.isFinite(v) ? String(+v.toPrecision(6)) : "";
}

function setPaused(p) {
  S.paused = p;
  $("pause").textContent = p ? "Resume" : "Pause";
  $("pause").setAttribute("aria-pressed", String(p));
  if (!p) {
    hole(Math.max(1, pausedSamples)); // what was not stored, so times stay right
    pausedSamples = 0;
    dirty = true;
  }
  render();
}

function setView(v) {
  S.view = v;
  $("spectrum").setAttribute("aria-pressed", String(v === "spectrum"));
  $("plot-caption").textContent = v === "spectrum"
    ? "Amplitude spectrum of the newest samples (Hann window), 0 Hz to half the sample rate."
    : "Newest samples at the right; each pixel column shows the minimum and maximum of its samples.";
  dirty = true;
}

function setWindow(s) {
  S.windowS = s;
  $("window").value = String(s);
  dirty = true;
}

function stepWindow(d) {
  const i = WINDOWS.indexOf(S.windowS);
  setWindow(WINDOWS[Math.max(0, Math.min(WINDOWS.length - 1, i + d))]);
}

function download() {
  if (!tracks.length) return note("nothing to download yet", true);
  const { text, rows } = toCSV(tracks, S.rate, S.windowS, lastTimeUs, titles);
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
  const name = ((S.device && S.device.name) || "wsbridge").replace(/[^\w.-]+/g, "_");
  a.download = `${name}-${new Date().toISOString().replace(/[:.]/g, "-")}.csv`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  note(`downloaded ${rows} rows`);
}

function wire() {
  $("pause").onclick = () => setPaused(!S.paused);
  $("spectrum").onclick = () => setView(S.view === "spectrum" ? "time" : "spectrum");
  $("window").onchange = (e) => setWindow(parseFloat(e.target.value));
  $("csv").onclick = download;
  $("retry").onclick = () => conn.retryNow();
  $("token-form").onsubmit = (e) => {
    e.preventDefault();
    const t = $("token-input").value.trim();
    if (!t) return;
    $("token-form").hidden = true;
    $("token-input").value = "";
    conn.setToken(t);
  };
  $("command-form").onsubmit = (e) => {
    e.preventDefault();
    const line = $("command-input").value.trim();
    if (line && conn.send({ type: "command", line })) note(`sent: ${line}`);
  };
  document.addEventListener("keydown", onKey);
  new ResizeObserver(sizeCanvas).observe(canvas);
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", recolor);
}

function onKey(e) {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const inField = e.target.closest && e.target.closest("input, select, textarea, [contenteditable]");
  const activates = e.target.closest && e.target.closest("button, a, summary");
  if (inField) return; // typing, or choosing an option
  if (e.key === " " && !activates) setPaused(!S.paused); // on a button, Space presses it
  else if (e.key === " ") return;
  else if (e.key === "f" || e.key === "F") setView(S.view === "spectrum" ? "time" : "spectrum");
  else if (e.key === "[") stepWindow(-1);
  else if (e.key === "]") stepWindow(1);
  else return;
  e.preventDefault();
}

function recolor() {
  colors = readColors(document.documentElement);
  S.traceColors = colors.traces;
  S.background = colors.bg;
  channelControls();
}

// ---- status display ---------------------------------------------------------

function onState(state, d) {
  S.state = state;
  const badge = $("conn");
  badge.dataset.state = state;
  badge.textContent = { connecting: "connecting…", connected: "connected", reconnecting: "reconnecting…", token: "token needed" }[state];
  $("banner").hidden = state !== "reconnecting";
  if (state === "reconnecting" && d.delay !== undefined) {
    $("banner-text").textContent = `Connection lost. Reconnecting in ${(d.delay / 1000).toFixed(1)} s (attempt ${d.attempt}); frames missed meanwhile are replayed from seq ${gaps.since() ?? "the newest"}.`;
  } else if (state === "reconnecting") {
    $("banner-text").textContent = `Connection lost. Reconnecting now (attempt ${d.attempt})…`;
  }
  if (state === "token") askToken(d.rejected);
}

function askToken(rejected) {
  $("token-why").textContent = rejected
    ? "The token was refused. Enter the token serve was started with (--token or WSBRIDGE_TOKEN)."
    : "This server needs an access token (serve runs with --token). It is kept for this tab only.";
  $("token-form").hidden = false;
  $("token-input").focus();
}

function fmtCount(n) {
  return n.toLocaleString("en-US");
}

function fmtRate(r) {
  if (r >= 1e6) return `${+(r / 1e6).toPrecision(4)} MS/s`;
  if (r >= 1e3) return `${+(r / 1e3).toPrecision(4)} kS/s`;
  return `${Math.round(r)} S/s`;
}

function render() {
  const d = S.device;
  $("m-device").textContent = d ? `${d.name || "unnamed"}${d.firmware ? " · fw " + d.firmware : ""}` : "–";
  $("m-state").textContent = S.deviceState || "–";
  $("m-state").className = S.deviceState === "down" ? "bad" : "";
  $("m-rate").textContent = S.rate ? `${fmtRate(S.rate)} × ${S.channels} ch${d ? " " + d.sample_type : ""}` : "–";
  $("m-sps").textContent = S.paused ? `${fmtRate(S.sps)} (plot paused)` : fmtRate(S.sps);
  $("m-frames").textContent = fmtCount(S.frames);
  $("m-gaps").textContent = fmtCount(S.gaps);
  $("m-gaps").title = Object.entries(S.gapsByReason).map(([k, v]) => `${k}: ${v}`).join(", ");
  $("m-gaps").className = S.gaps ? "bad" : "";
  $("m-lost").textContent = fmtCount(S.lostFrames);
  $("m-lost").className = S.lostFrames ? "bad" : "";
  $("m-bad").textContent = fmtCount(S.badPackets);
  showAutoRanges();
}

// showAutoRanges keeps the disabled min/max inputs of autoscaled channels
// showing the range in use, so switching to fixed starts from it.
function showAutoRanges() {
  document.querySelectorAll("#channels .chan").forEach((row, c) => {
    const sc = scales[c];
    if (!sc || !sc.auto) return;
    row.querySelector('[data-k="min"]').value = fmtInput(sc.min);
    row.querySelector('[data-k="max"]').value = fmtInput(sc.max);
  });
}

let prev = { t: performance.now(), samples: 0 };
function measure() {
  const now = performance.now();
  S.sps = ((S.samples - prev.samples) * 1000) / (now - prev.t);
  prev = { t: now, samples: S.samples };
  render();
}

// note appends a line to the message list (newest last, at most 200).
function note(text, error = false) {
  const li = document.createElement("li");
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  if (error) li.className = "error";
  const log = $("log");
  log.append(li);
  while (log.children.length > 200) log.firstChild.remove();
  log.scrollTop = log.scrollHeight;
}

recolor();
wire();
setView("time");
sizeCanvas();
render();
setInterval(measure, 1000);
requestAnimationFrame(tick);
conn.connect();
