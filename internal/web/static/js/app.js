// @ts-check
// The live view's DOM wiring: the connection feeds a Stream (stream.js, the
// page's state without the DOM); this module shows that state, draws it
// once per animation frame when something changed, and handles the
// controls. window.wsbridge is the Stream's state, for tests and the
// curious.

import { Connection } from "./conn.js";
import { autoWindow, Stream, WINDOWS } from "./stream.js";
import { drawSpectrum, drawTime, fmtTime, readColors } from "./plot.js";
import { fmtValue, Scale } from "./scale.js";
import { toCSV } from "./csv.js";

/**
 * el returns the element with this id, checked to be of the given type.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
function el(id, type) {
  const e = document.getElementById(id);
  if (!(e instanceof type)) throw new Error(`#${id} is missing or not a ${type.name}`);
  return e;
}

/** @param {string} id */
const $ = (id) => el(id, HTMLElement);

const stream = new Stream({ note, layout, changed: () => (dirty ||= !S.paused) });
const S = stream.S;
/** @type {Window & {wsbridge?: import("./stream.js").State}} */ (window).wsbridge = S;

/** @type {Scale[]} */
let scales = [];
/** @type {string[]} */
let titles = [];
let dirty = true;
let colors = readColors(document.documentElement);
/** @type {number | null} */
let cursor = null; // the pointer's x over the plot, in canvas pixels

const conn = new Connection({
  state: onState,
  binary: (buf) => stream.binary(buf),
  text: (m) => stream.text(m),
  note,
  since: () => stream.since(),
  prefill: (info) => {
    const s = stream.prefill(info);
    showWindow();
    return s;
  },
  opening: (url) => (S.wsURL = url),
});

// layout follows a new channel count or rate (or new channel names).
function layout() {
  scales = Array.from({ length: S.channels }, (_, c) => scales[c] || new Scale());
  channelControls();
  showWindow();
  sizeCanvas();
}

// ---- the view -------------------------------------------------------------

const canvas = el("plot", HTMLCanvasElement);
const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d", { alpha: false }));

function sizeCanvas() {
  const dpr = window.devicePixelRatio || 1;
  const n = Math.max(1, S.channels);
  const cssH = Math.round(Math.max(220, Math.min(n * 170, window.innerHeight * 0.7)) + 18);
  canvas.style.height = `${cssH}px`;
  canvas.width = Math.max(1, Math.round(canvas.clientWidth * dpr));
  canvas.height = Math.round(cssH * dpr);
  dirty = true;
}

/** @type {string[]} */
const readout = [];

function draw() {
  const t0 = performance.now();
  const view = {
    tracks: stream.tracks, rate: S.rate, windowS: S.windowS, scales, titles, colors, dpr: window.devicePixelRatio || 1,
    cursor, ranges: S.ranges, labels: S.axisLabels, peaks: S.peaks, readout,
  };
  if (!stream.tracks.length) {
    ctx.fillStyle = colors.bg;
    ctx.fillRect(0, 0, canvas.width, canvas.height);
  } else if (S.view === "spectrum") drawSpectrum(ctx, canvas, view);
  else drawTime(ctx, canvas, view);
  S.drawn++;
  S.drawMs = 0.9 * S.drawMs + 0.1 * (performance.now() - t0);
  showRanges();
  showReadout();
}

function tick() {
  requestAnimationFrame(tick);
  if (!dirty) return;
  dirty = false;
  draw();
}

// showRanges keeps the disabled Min/Max boxes of autoscaled channels showing
// the range just drawn, as the axis prints it.
function showRanges() {
  if (S.view !== "time") return;
  document.querySelectorAll("#channels .chan").forEach((row, c) => {
    const sc = scales[c], lab = S.axisLabels[c];
    if (!sc || !sc.auto || !lab) return;
    const [mn, mx] = inputs(row);
    if (mn.value !== lab[0]) mn.value = lab[0];
    if (mx.value !== lab[1]) mx.value = lab[1];
  });
}

// showReadout writes each lane's peak (spectrum) and the value under the
// cursor below the plot.
function showReadout() {
  const parts = [];
  for (let c = 0; c < stream.tracks.length; c++) {
    const bits = [];
    const pk = S.view === "spectrum" ? S.peaks[c] : null;
    if (pk) bits.push(`peak ${pk.hz >= 1000 ? (pk.hz / 1000).toFixed(3) + " kHz" : pk.hz.toFixed(1) + " Hz"} at ${pk.db.toFixed(1)} dB`);
    if (cursor !== null && readout[c]) bits.push(`cursor ${readout[c]}`);
    if (bits.length) parts.push(`${titles[c]}: ${bits.join(", ")}`);
  }
  const text = parts.join(" · ");
  if (text !== S.cursor) $("readout").textContent = S.cursor = text;
}

// ---- controls -------------------------------------------------------------

/** @param {number} c */
function channelName(c) {
  const ci = (S.device && S.device.channel_info && S.device.channel_info[c]) || { name: "", unit: "" };
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

/**
 * inputs returns a channel row's Min and Max boxes and its Autoscale box.
 * @param {Element} row
 * @returns {[HTMLInputElement, HTMLInputElement, HTMLInputElement]}
 */
function inputs(row) {
  const get = (/** @type {string} */ k) => /** @type {HTMLInputElement} */ (row.querySelector(`[data-k="${k}"]`));
  return [get("min"), get("max"), get("auto")];
}

/**
 * @param {number} c
 * @param {string} title
 */
function channelRow(c, title) {
  const row = document.createElement("div");
  row.className = "chan";
  row.innerHTML = `<span class="name"><span class="swatch"></span><span></span></span>
    <label><input type="checkbox" data-k="auto"> Autoscale</label>
    <label>Min <input type="number" step="any" data-k="min"></label>
    <label>Max <input type="number" step="any" data-k="max"></label>`;
  /** @type {HTMLElement} */ (row.querySelector(".name span:last-child")).textContent = title;
  /** @type {HTMLElement} */ (row.querySelector(".swatch")).style.background = colors.traces[c % colors.traces.length];
  const sc = scales[c];
  const [mn, mx, auto] = inputs(row);
  auto.checked = sc.auto;
  const [lo, hi] = sc.range();
  mn.value = fmtValue(lo);
  mx.value = fmtValue(hi);
  mn.disabled = mx.disabled = sc.auto;
  mn.setAttribute("aria-label", `${title} minimum`);
  mx.setAttribute("aria-label", `${title} maximum`);
  auto.setAttribute("aria-label", `${title} autoscale`);
  auto.onchange = () => {
    sc.auto = auto.checked;
    if (!sc.auto) [sc.fixedMin, sc.fixedMax, mn.value, mx.value] = [sc.min, sc.max, fmtValue(sc.min), fmtValue(sc.max)];
    mn.disabled = mx.disabled = sc.auto;
    dirty = true;
  };
  const fixed = () => {
    const a = parseFloat(mn.value), b = parseFloat(mx.value);
    const ok = a < b;
    if (ok) [sc.fixedMin, sc.fixedMax] = [a, b];
    for (const e of [mn, mx]) e.setAttribute("aria-invalid", String(!ok));
    dirty = true;
  };
  mn.onchange = mx.onchange = fixed;
  return row;
}

/** @param {boolean} p */
function setPaused(p) {
  stream.setPaused(p);
  $("pause").textContent = p ? "Resume" : "Pause";
  $("pause").setAttribute("aria-pressed", String(p));
  dirty = true;
  render();
}

/** @param {string} v */
function setView(v) {
  S.view = v;
  $("spectrum").setAttribute("aria-pressed", String(v === "spectrum"));
  $("plot-caption").textContent = v === "spectrum"
    ? "Amplitude spectrum of the newest samples (Hann window), 0 Hz to half the sample rate; ▼ marks each channel's highest peak."
    : "Newest samples at the right; each pixel column shows the minimum and maximum of its samples.";
  dirty = true;
}

/**
 * setWindow picks the time window: seconds, or "auto" (from the rate).
 * @param {string} v
 */
function setWindow(v) {
  S.windowAuto = v === "auto";
  if (!S.windowAuto) S.windowS = parseFloat(v);
  else S.windowS = autoWindow(S.rate);
  showWindow();
  dirty = true;
}

// showWindow shows the window in use in its select; the automatic choice
// names the span it picked.
function showWindow() {
  const sel = el("window", HTMLSelectElement);
  sel.options[0].textContent = `Auto (${fmtTime(S.windowS)})`;
  sel.value = S.windowAuto ? "auto" : String(S.windowS);
}

/** @param {number} d */
function stepWindow(d) {
  const i = WINDOWS.indexOf(S.windowS);
  setWindow(String(WINDOWS[Math.max(0, Math.min(WINDOWS.length - 1, i + d))]));
}

function download() {
  if (!stream.tracks.length) return note("nothing to download yet", "error");
  const { text, rows } = toCSV(stream.tracks, S.rate, S.windowS, stream.lastTimeUs, titles);
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
  el("window", HTMLSelectElement).onchange = (e) => setWindow(/** @type {HTMLSelectElement} */ (e.target).value);
  $("csv").onclick = download;
  $("retry").onclick = () => conn.retryNow();
  const tokenInput = el("token-input", HTMLInputElement), commandInput = el("command-input", HTMLInputElement);
  $("token-form").onsubmit = (e) => {
    e.preventDefault();
    const t = tokenInput.value.trim();
    if (!t) return;
    $("token-form").hidden = true;
    tokenInput.value = "";
    conn.setToken(t);
  };
  $("command-form").onsubmit = (e) => {
    e.preventDefault();
    const line = commandInput.value.trim();
    if (line && conn.send({ type: "command", line })) note(`sent: ${line}`);
  };
  canvas.onpointermove = (e) => {
    cursor = Math.max(0, Math.min(canvas.width - 1, Math.floor((e.offsetX * canvas.width) / canvas.clientWidth)));
    dirty = true;
  };
  canvas.onpointerleave = () => {
    cursor = null;
    dirty = true;
  };
  document.addEventListener("keydown", onKey);
  new ResizeObserver(sizeCanvas).observe(canvas);
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", recolor);
}

/** @param {KeyboardEvent} e */
function onKey(e) {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target instanceof Element ? e.target : null;
  const inField = t && t.closest("input, select, textarea, [contenteditable]");
  const activates = t && t.closest("button, a, summary");
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

/**
 * @param {string} state
 * @param {{attempt?: number, delay?: number, rejected?: boolean}} d
 */
function onState(state, d) {
  S.state = state;
  const badge = $("conn");
  badge.dataset.state = state;
  badge.textContent = { connecting: "connecting…", connected: "connected", reconnecting: "reconnecting…", token: "token needed" }[state] || state;
  $("banner").hidden = state !== "reconnecting";
  const since = stream.since();
  if (state === "reconnecting" && d.delay !== undefined) {
    $("banner-text").textContent = `Connection lost. Reconnecting in ${(d.delay / 1000).toFixed(1)} s (attempt ${d.attempt}); ` +
      `frames missed meanwhile are replayed from seq ${since ? since.seq : "the newest"}.`;
  } else if (state === "reconnecting") {
    $("banner-text").textContent = `Connection lost. Reconnecting now (attempt ${d.attempt})…`;
  }
  if (state === "token") askToken(!!d.rejected);
}

/** @param {boolean} rejected */
function askToken(rejected) {
  $("token-why").textContent = rejected
    ? "The token was refused. Enter the token serve was started with (--token or WSBRIDGE_TOKEN)."
    : "This server needs an access token (serve runs with --token). It is kept for this tab only.";
  $("token-form").hidden = false;
  el("token-input", HTMLInputElement).focus();
}

/** @param {number} n */
function fmtCount(n) {
  return n.toLocaleString("en-US");
}

/** @param {number} r */
function fmtRate(r) {
  if (r >= 1e6) return `${+(r / 1e6).toPrecision(4)} MS/s`;
  if (r >= 1e3) return `${+(r / 1e3).toPrecision(4)} kS/s`;
  return `${Math.round(r)} S/s`;
}

/**
 * show sets an element's text and its "bad" class.
 * @param {string} id
 * @param {string} text
 * @param {boolean} [bad]
 * @param {string} [title]
 */
function show(id, text, bad = false, title) {
  const e = $(id);
  if (e.textContent !== text) e.textContent = text;
  e.className = bad ? "bad" : "";
  if (title !== undefined) e.title = title;
}

function render() {
  const d = S.device;
  show("m-device", d ? `${d.name || "unnamed"}${d.firmware ? " · fw " + d.firmware : ""}` : "–");
  show("m-state", S.deviceState || "–", S.deviceState === "down");
  const rate = S.rate ? (S.rateMeasured ? `≈ ${fmtRate(S.rate)} (measuring)` : fmtRate(S.rate)) : "measuring…";
  show("m-rate", S.channels ? `${rate} × ${S.channels} ch${d ? " " + d.sample_type : ""}` : "–");
  show("m-sps", S.paused ? `${fmtRate(S.sps)} (plot paused)` : fmtRate(S.sps));
  show("m-frames", fmtCount(S.frames));
  show("m-gaps", fmtCount(S.gaps), S.gaps > 0, Object.entries(S.gapsByReason).map(([k, v]) => `${k}: ${v}`).join(", "));
  show("m-lost", fmtCount(S.lostFrames), S.lostFrames > 0);
  const restarts = S.restartLog().map((r) => `epoch ${r.from || "?"} ended at seq ${r.lastSeq ?? "?"}, epoch ${r.to || "?"} from seq ${r.seq ?? "?"}`);
  show("m-restarts", fmtCount(S.restarts), S.restarts > 0, [`epoch ${S.epoch || "–"} now`, ...restarts].join("\n"));
  show("m-bad", fmtCount(S.badPackets), S.badPackets > 0);
  $("command-form").hidden = !S.commands;
}

let prev = { t: performance.now(), samples: 0 };
function measure() {
  const now = performance.now();
  S.sps = ((S.samples - prev.samples) * 1000) / (now - prev.t);
  prev = { t: now, samples: S.samples };
  render();
}

// note queues a line for the message list (newest last, at most MAX_NOTES);
// lines are added in batches, so a chatty device costs few layouts.
const MAX_NOTES = 200;
/** @type {HTMLLIElement[]} */
let pending = [];
let flushTimer = 0;

/**
 * @param {string} text
 * @param {"info" | "error" | "device"} [kind]
 */
function note(text, kind = "info") {
  const li = document.createElement("li");
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  if (kind !== "info") li.className = kind;
  pending.push(li);
  if (pending.length > MAX_NOTES) pending = pending.slice(-MAX_NOTES);
  if (!flushTimer) flushTimer = window.setTimeout(flushNotes, 100);
}

function flushNotes() {
  flushTimer = 0;
  const log = $("log");
  const stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
  log.append(...pending);
  pending = [];
  while (log.children.length > MAX_NOTES) log.children[0].remove();
  if (stick) log.scrollTop = log.scrollHeight;
  render();
}

recolor();
wire();
setView("time");
showWindow();
sizeCanvas();
render();
setInterval(measure, 1000);
requestAnimationFrame(tick);
conn.connect();
