// @ts-check
// The live view's DOM wiring. The page shows serve's channels (one per
// device): an overview of all of them (#/), one channel (#NAME) or several
// on one time axis (#NAME+NAME). Each channel shown is a Stream (stream.js,
// the state without the DOM) fed by its own Connection; this module shows
// that state, draws it once per animation frame when something changed,
// picks the resolution each stream is asked for (envelopes for long
// windows, every sample for short ones, the spectrum and the CSV), and
// handles the controls. window.wsbridge is the first plotted channel's
// state, window.wsbridgeView the view's, for tests and the curious.

import { fetchJSON, setToken, token } from "./conn.js";
import { Chan } from "./chan.js";
import { Overview } from "./overview.js";
import { autoWindow, NARROW_PX, resolution, Stream, WINDOWS } from "./stream.js";
import { Track } from "./ring.js";
import { drawSpectrum, drawTime, fmtPeak, fmtTime, readColors } from "./plot.js";
import { Cursor } from "./cursor.js";
import { fmtValue, Scale } from "./scale.js";
import { toCSV } from "./csv.js";
import { Recorder } from "./record.js";
import { $, el, fmtCount, fmtRate } from "./ui.js";

/** @typedef {import("./stream.js").State} State */
/** @typedef {import("./overview.js").Summary} Summary */

let colors = readColors(document.documentElement);

/**
 * The view's state, for tests: what is shown and the overview's cards.
 * @type {{mode: string, channels: string[], all: string[], streams: Record<string, State>,
 *   cards: import("./overview.js").CardState[]}}
 */
const V = { mode: "", channels: [], all: [], streams: {}, cards: [] };
/** @type {Window & {wsbridge?: State, wsbridgeView?: typeof V}} */ (window).wsbridgeView = V;

const overview = new Overview({
  note, colors: () => colors, refused: () => refused(),
  connected: (ok) => {
    $("conn").textContent = ok ? "connected" : "reconnecting…";
    $("conn").dataset.state = ok ? "connected" : "reconnecting";
  },
}, V.cards);

// ---- routing ----------------------------------------------------------------

/**
 * parseHash reads the channels to plot from the address: #NAME or
 * #NAME+NAME; #/ (or nothing, with several channels) is the overview.
 */
function parseHash() {
  const h = decodeURIComponent(location.hash.replace(/^#/, ""));
  if (h === "/" || h === "") return { overview: h === "/", names: [] };
  return { overview: false, names: h.split("+").filter(Boolean) };
}

let routing = 0;
async function route() {
  const my = ++routing;
  const r = await fetchJSON("/api/channels");
  if (my !== routing) return;
  if (r.status === 401) return refused();
  if (r.status !== 200 || !r.body) {
    onState("reconnecting", {});
    $("banner-text").textContent = `Cannot read /api/channels (${r.status || "no answer"}). Trying again…`;
    setTimeout(route, 2000);
    return;
  }
  /** @type {Summary[]} */
  const list = r.body.channels || [];
  V.all = list.map((c) => c.name);
  $("nav").hidden = list.length < 2;
  const want = parseHash();
  const unknown = want.names.filter((n) => !V.all.includes(n));
  for (const n of unknown) note(`no channel "${n}" on this server; its channels: ${V.all.join(", ") || "none yet"}`, "error");
  let names = want.names.filter((n) => V.all.includes(n));
  if (!names.length && !want.overview && list.length === 1) names = [list[0].name];
  if (names.length) showPlot(names);
  else showOverview(list);
}

/** closeAll ends every connection of the view being left. */
function closeAll() {
  for (const c of plot.chans) c.close();
  plot.chans = [];
  overview.close();
  V.streams = {};
}

// ---- the plot view: one channel, or several on one time axis -----------------

const plot = {
  /** @type {Chan[]} */
  chans: [],
  /** @type {State} the first channel's state: the view's own fields live there */
  P: new Stream({ note: () => {}, layout: () => {}, changed: () => {} }).S,
  dirty: true,
  /** @type {string[]} */
  titles: [],
  /** @type {string[]} */
  readout: [],
};

/** @param {string[]} names */
function showPlot(names) {
  if (V.mode === "plot" && names.join("+") === V.channels.join("+")) return;
  const keep = plot.P;
  closeAll();
  V.mode = "plot";
  V.channels = names;
  $("overview").hidden = true;
  $("plot-view").hidden = false;
  $("nav-here").textContent = ` › ${names.join(" + ")}`;
  document.title = `${names.join(" + ")} · wsbridge live view`;
  plot.chans = names.map((name) => new Chan(name, {
    layout: layout, changed: () => (plot.dirty ||= !plot.P.paused), state: onState, prefill: prefillResolution,
    note: names.length > 1 ? (t, k) => note(`${name}: ${t}`, k) : note,
  }));
  plot.P = plot.chans[0].S;
  for (const k of /** @type {(keyof State)[]} */ (["paused", "view", "windowS", "windowAuto", "narrow", "traceColors", "background", "state"])) {
    /** @type {any} */ (plot.P)[k] = keep[k];
  }
  /** @type {Window & {wsbridge?: State}} */ (window).wsbridge = plot.P;
  for (const c of plot.chans) V.streams[c.name] = c.S;
  recorder.show(names.length === 1 ? names[0] : null); // one channel's view records it
  layout();
  setView(plot.P.view);
  showWindow();
  render();
  for (const c of plot.chans) c.conn.connect();
}

/**
 * prefillResolution picks the first connection's resolution from the
 * channel's rate in /api/info, before it opens.
 * @param {Chan} c
 * @param {import("./stream.js").APIInfo} info
 */
function prefillResolution(c, info) {
  if (c === plot.chans[0] && plot.P.windowAuto) plot.P.windowS = autoWindow(info.rate || 0, plot.P.narrow);
  return plot.P.view === "spectrum" ? 0 : resolution(info.rate || 0, plot.P.windowS, canvas.width);
}

/**
 * lanes lists what the plot draws: every channel of every stream shown.
 */
function lanes() {
  /** @type {{c: Chan, i: number}[]} */
  const out = [];
  for (const c of plot.chans) for (let i = 0; i < c.stream.tracks.length; i++) out.push({ c, i });
  return out;
}

// layout follows a new channel count or rate (or new channel names).
function layout() {
  for (const c of plot.chans) c.scales = Array.from({ length: c.S.channels }, (_, i) => c.scales[i] || new Scale());
  if (plot.chans.length && plot.P.windowAuto) plot.P.windowS = autoWindow(plot.P.rate, plot.P.narrow);
  channelControls();
  showWindow();
  sizeCanvas();
  tune();
}

/**
 * tune asks each stream for the resolution the view needs: every sample
 * for the spectrum and short windows, envelopes for long ones.
 * @param {boolean} [now]
 */
function tune(now = false) {
  const P = plot.P, spectrum = P.view === "spectrum";
  for (const c of plot.chans) {
    const rate = c.S.rate || P.rate, want = spectrum ? 0 : resolution(rate, P.windowS, canvas.width);
    c.want(want, Math.max(P.windowS * rate, spectrum ? 16384 : 0), now);
  }
}

const canvas = el("plot", HTMLCanvasElement);
const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d", { alpha: false }));
const cursor = new Cursor(canvas, () => (plot.dirty = true)); // pointer, touch or keys over the plot

function sizeCanvas() {
  const dpr = window.devicePixelRatio || 1;
  const n = Math.max(1, lanes().length);
  const cssH = Math.round(Math.max(220, Math.min(n * 170, window.innerHeight * 0.7)) + 18);
  canvas.style.height = `${cssH}px`;
  const w = Math.max(1, Math.round(canvas.clientWidth * dpr)), h = Math.round(cssH * dpr);
  if (canvas.width !== w || canvas.height !== h) [canvas.width, canvas.height] = [w, h]; // setting them clears the canvas
  plot.dirty = true;
  const narrow = canvas.clientWidth < NARROW_PX; // a phone: the automatic window holds fewer instants
  if (narrow !== plot.P.narrow) {
    plot.P.narrow = narrow;
    if (plot.P.windowAuto) setWindow("auto");
  }
}

function draw() {
  const t0 = performance.now(), P = plot.P, L = lanes();
  const view = {
    tracks: L.map(({ c, i }) => c.stream.tracks[i]), rates: L.map(({ c }) => c.S.rate), rate: P.rate, windowS: P.windowS,
    scales: L.map(({ c, i }) => c.scales[i]), titles: plot.titles, colors, dpr: window.devicePixelRatio || 1,
    cursor: cursor.x, snap: cursor.snap, ranges: P.ranges, labels: P.axisLabels, peaks: P.peaks, readout: plot.readout, blank: P.blank,
  };
  if (!L.length) {
    ctx.fillStyle = colors.bg;
    ctx.fillRect(0, 0, canvas.width, canvas.height);
  } else if (P.view === "spectrum") drawSpectrum(ctx, canvas, view);
  else drawTime(ctx, canvas, view);
  P.drawn++;
  P.drawMs = 0.9 * P.drawMs + 0.1 * (performance.now() - t0);
  showRanges();
  showReadout();
}

function tick() {
  requestAnimationFrame(tick);
  if (V.mode === "overview") return overview.draw();
  if (!plot.dirty) return;
  plot.dirty = false;
  draw();
}

// showRanges keeps the disabled Min/Max boxes of autoscaled channels showing
// the range just drawn, as the axis prints it.
function showRanges() {
  if (plot.P.view !== "time") return;
  const L = lanes();
  document.querySelectorAll("#channels .chan").forEach((row, k) => {
    const sc = L[k] && L[k].c.scales[L[k].i], lab = plot.P.axisLabels[k];
    if (!sc || !sc.auto || !lab) return;
    const [mn, mx] = inputs(row);
    if (mn.value !== lab[0]) mn.value = lab[0];
    if (mx.value !== lab[1]) mx.value = lab[1];
  });
}

// showReadout writes each lane's peak (spectrum) and the value under the
// cursor below the plot.
function showReadout() {
  const P = plot.P, parts = [];
  for (let k = 0; k < plot.titles.length; k++) {
    const bits = [];
    const pk = P.view === "spectrum" ? P.peaks[k] : null;
    if (pk) bits.push(`peak ${fmtPeak(pk)}`);
    if (cursor.x !== null && plot.readout[k]) bits.push(`cursor ${plot.readout[k]}`);
    if (bits.length) parts.push(`${plot.titles[k]}: ${bits.join(", ")}`);
  }
  const text = parts.join(" · ");
  if (text !== P.cursor) $("readout").textContent = P.cursor = text;
}

// ---- controls ------------------------------------------------------------------

/**
 * laneTitle is a lane's title: the channel's name and unit from the device
 * info, after the stream's name when several are plotted.
 * @param {Chan} c
 * @param {number} i
 */
function laneTitle(c, i) {
  const ci = (c.S.device && c.S.device.channel_info && c.S.device.channel_info[i]) || { name: "", unit: "" };
  const name = ci.name || `ch${i + 1}`, t = ci.unit ? `${name} (${ci.unit})` : name;
  return plot.chans.length > 1 ? `${c.name} · ${t}` : t;
}

function channelControls() {
  const fs = $("channels");
  fs.replaceChildren(Object.assign(document.createElement("legend"), { textContent: "Channels" }));
  plot.titles = [];
  lanes().forEach(({ c, i }, k) => {
    plot.titles.push(laneTitle(c, i));
    fs.append(channelRow(c.scales[i], k, plot.titles[k]));
  });
  plot.dirty = true;
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
 * @param {Scale} sc
 * @param {number} k the lane's index
 * @param {string} title
 */
function channelRow(sc, k, title) {
  const row = document.createElement("div");
  row.className = "chan";
  row.innerHTML = `<span class="name"><span class="swatch"></span><span></span></span>
    <label><input type="checkbox" data-k="auto"> Autoscale</label>
    <label>Min <input type="number" step="any" data-k="min"></label>
    <label>Max <input type="number" step="any" data-k="max"></label>`;
  /** @type {HTMLElement} */ (row.querySelector(".name span:last-child")).textContent = title;
  /** @type {HTMLElement} */ (row.querySelector(".swatch")).style.background = colors.traces[k % colors.traces.length];
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
    plot.dirty = true;
  };
  const fixed = () => {
    const a = parseFloat(mn.value), b = parseFloat(mx.value);
    const ok = a < b;
    if (ok) [sc.fixedMin, sc.fixedMax, mn.value, mx.value] = [a, b, fmtValue(a), fmtValue(b)]; // as the axis prints them
    for (const e of [mn, mx]) e.setAttribute("aria-invalid", String(!ok));
    plot.dirty = true;
  };
  mn.onchange = mx.onchange = fixed;
  return row;
}

/** @param {boolean} p */
function setPaused(p) {
  for (const c of plot.chans) c.stream.setPaused(p);
  plot.P.paused = p;
  $("pause").textContent = p ? "Resume" : "Pause";
  $("pause").setAttribute("aria-pressed", String(p));
  plot.dirty = true;
  render();
}

/** @param {string} v */
function setView(v) {
  plot.P.view = v;
  $("spectrum").setAttribute("aria-pressed", String(v === "spectrum"));
  el("channels", HTMLFieldSetElement).disabled = v === "spectrum"; // Min/Max are the time view's; the spectrum's range follows its peak
  $("plot-caption").textContent = v === "spectrum"
    ? "Amplitude spectrum of the newest samples (Hann window), 0 Hz to half the sample rate; ▼ marks each channel's highest peak."
    : "Newest samples at the right; each pixel column shows the minimum and maximum of its samples.";
  plot.dirty = true;
  tune(true);
}

/**
 * setWindow picks the time window: seconds, or "auto" (from the rate).
 * @param {string} v
 */
function setWindow(v) {
  const P = plot.P;
  P.windowAuto = v === "auto";
  P.windowS = P.windowAuto ? autoWindow(P.rate, P.narrow) : parseFloat(v);
  showWindow();
  plot.dirty = true;
  tune();
}

// showWindow shows the window in use in its select; the automatic choice
// names the span it picked.
function showWindow() {
  const sel = el("window", HTMLSelectElement);
  sel.options[0].textContent = `Auto (${fmtTime(plot.P.windowS)})`;
  sel.value = plot.P.windowAuto ? "auto" : String(plot.P.windowS);
}

/** @param {number} d */
function stepWindow(d) {
  const i = WINDOWS.indexOf(plot.P.windowS);
  setWindow(String(WINDOWS[Math.max(0, Math.min(WINDOWS.length - 1, i + d))]));
}

/**
 * everySample resolves once c holds every sample of its window: at once in
 * full resolution, else after switching and fetching the window again.
 * @param {Chan} c
 * @returns {Promise<void>}
 */
function everySample(c) {
  if (!c.conn.envelope) return Promise.resolve();
  const target = c.S.lastSeq;
  c.hold = true;
  c.want(0, plot.P.windowS * c.S.rate, true);
  return new Promise((done) => {
    const t0 = performance.now();
    const check = () => {
      // Samples again, and a frame newer than the last one before the
      // switch: the replay of the window is complete (frames come in order).
      const caught = c.stream.tracks[0] instanceof Track && c.S.lastSeq !== null && target !== null &&
        c.S.lastSeq !== target && (c.S.lastSeq - target + 0x100000000) % 0x100000000 < 0x80000000;
      if (caught || performance.now() - t0 > 10000) done();
      else setTimeout(check, 50);
    };
    check();
  });
}

async function download() {
  if (!plot.chans.some((c) => c.stream.tracks.length)) return note("nothing to download yet", "error");
  for (const c of plot.chans) {
    if (!c.stream.tracks.length) continue;
    await everySample(c);
    const titles = c.stream.tracks.map((_, i) => laneTitle(c, i).replace(`${c.name} · `, ""));
    const { text, rows } = toCSV(/** @type {import("./ring.js").Track[]} */ (c.stream.tracks), c.S.rate, plot.P.windowS, c.stream.lastTimeUs, titles);
    c.hold = false;
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
    const name = `${c.name}-${(c.S.device && c.S.device.name) || "wsbridge"}`.replace(/[^\w.-]+/g, "_");
    a.download = `${name}-${new Date().toISOString().replace(/[:.]/g, "-")}.csv`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    note(`${plot.chans.length > 1 ? c.name + ": " : ""}downloaded ${rows} rows`);
  }
  tune();
}

function wire() {
  $("pause").onclick = () => setPaused(!plot.P.paused);
  $("spectrum").onclick = () => setView(plot.P.view === "spectrum" ? "time" : "spectrum");
  el("window", HTMLSelectElement).onchange = (e) => setWindow(/** @type {HTMLSelectElement} */ (e.target).value);
  $("csv").onclick = download;
  $("retry").onclick = () => {
    for (const c of plot.chans) c.conn.retryNow();
    overview.retry();
  };
  const tokenInput = el("token-input", HTMLInputElement), commandInput = el("command-input", HTMLInputElement);
  $("token-form").onsubmit = (e) => {
    e.preventDefault();
    const t = tokenInput.value.trim();
    if (!t) return;
    $("token-form").hidden = true;
    tokenInput.value = "";
    setToken(t);
    if (!V.mode) return route();
    for (const c of plot.chans) c.conn.retryToken();
    overview.retry();
  };
  $("command-form").onsubmit = (e) => {
    e.preventDefault();
    const line = commandInput.value.trim();
    if (line && plot.chans.length === 1 && plot.chans[0].conn.send({ type: "command", line })) note(`sent: ${line}`);
  };
  $("plot-together").onclick = () => {
    const names = [...document.querySelectorAll("#cards input[type=checkbox]:checked")].map((e) => /** @type {HTMLInputElement} */ (e).value);
    if (names.length) location.hash = names.join("+");
  };
  document.addEventListener("keydown", onKey);
  new ResizeObserver(() => {
    sizeCanvas();
    tune();
  }).observe(canvas);
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", recolor);
  window.addEventListener("hashchange", route);
}

/** @param {KeyboardEvent} e */
function onKey(e) {
  if (e.ctrlKey || e.metaKey || e.altKey || V.mode !== "plot") return;
  const t = e.target instanceof Element ? e.target : null;
  const inField = t && t.closest("input, select, textarea, [contenteditable]");
  const activates = t && t.closest("button, a, summary");
  if (inField) return; // typing, or choosing an option
  if (e.key === " " && !activates) setPaused(!plot.P.paused); // on a button, Space presses it
  else if (e.key === " ") return;
  else if (e.key === "f" || e.key === "F") setView(plot.P.view === "spectrum" ? "time" : "spectrum");
  else if (e.key === "[") stepWindow(-1);
  else if (e.key === "]") stepWindow(1);
  else return;
  e.preventDefault();
}

function recolor() {
  colors = readColors(document.documentElement);
  plot.P.traceColors = colors.traces;
  plot.P.background = colors.bg;
  channelControls();
  overview.dirty = true;
}

// ---- the overview ----------------------------------------------------------------

/** @param {Summary[]} list */
function showOverview(list) {
  if (V.mode !== "overview") {
    closeAll();
    V.mode = "overview";
    V.channels = [];
    $("plot-view").hidden = true;
    $("overview").hidden = false;
    recorder.show(null);
    $("nav-here").textContent = "";
    $("banner").hidden = true;
    document.title = "wsbridge live view";
  }
  overview.show(list);
}

// ---- status display ---------------------------------------------------------

/**
 * onState shows a connection's state (the first plotted channel's, or the
 * worst of several: token, then reconnecting, connecting, connected).
 * @param {string} state
 * @param {{attempt?: number, delay?: number, rejected?: boolean}} d
 */
function onState(state, d) {
  if (V.mode !== "plot") return;
  const order = ["token", "reconnecting", "connecting", "connected"];
  const worst = plot.chans.map((c) => c.S.state).sort((a, b) => order.indexOf(a) - order.indexOf(b))[0] || state;
  const badge = $("conn");
  badge.dataset.state = worst;
  badge.textContent = { connecting: "connecting…", connected: "connected", reconnecting: "reconnecting…", token: "token needed" }[worst] || worst;
  $("banner").hidden = worst !== "reconnecting";
  const since = plot.chans[0] ? plot.chans[0].stream.since() : null;
  const why = plot.chans.some((c) => c.S.stopping) ? "Serve shut down" : "Connection lost";
  if (state === "reconnecting" && d.delay !== undefined) {
    $("banner-text").textContent = `${why}. Reconnecting in ${(d.delay / 1000).toFixed(1)} s (attempt ${d.attempt}); ` +
      (since ? `frames missed meanwhile are replayed from seq ${since.seq}.` : "it starts with the newest frames.");
  } else if (state === "reconnecting") {
    $("banner-text").textContent = `${why}. Reconnecting now (attempt ${d.attempt})…`;
  }
  if (state === "token") askToken(!!d.rejected);
}

// refused asks for a token after a 401: the tab's token, if any, is wrong.
function refused() {
  const had = !!token();
  if (had) setToken("");
  V.mode = "";
  askToken(had);
}

/** @param {boolean} rejected */
function askToken(rejected) {
  plot.P.state = "token";
  $("conn").dataset.state = "token";
  $("conn").textContent = "token needed";
  $("token-why").textContent = rejected
    ? "The token was refused. Enter the token serve was started with (--token or WSBRIDGE_TOKEN)."
    : "This server needs an access token (serve runs with --token). It is kept for this tab only.";
  $("token-form").hidden = false;
  el("token-input", HTMLInputElement).focus();
}

/**
 * show sets an element's text and its "bad" class.
 * @param {Element} e
 * @param {string} text
 * @param {boolean} [bad]
 * @param {string} [title]
 */
function show(e, text, bad = false, title) {
  if (e.textContent !== text) e.textContent = text;
  e.className = bad ? "bad" : "";
  if (title !== undefined && e instanceof HTMLElement) e.title = title;
}

/**
 * stats are the figures shown for a channel, in the meta list (one
 * channel) or in a table row (several).
 * @param {State} S
 */
function stats(S) {
  const d = S.device;
  const rate = S.rate ? (S.rateMeasured ? `≈ ${fmtRate(S.rate)} (measuring)` : fmtRate(S.rate)) : "measuring…";
  const restarts = S.restartLog().map((r) => `epoch ${r.from || "?"} ended at seq ${r.lastSeq ?? "?"}, epoch ${r.to || "?"} from seq ${r.seq ?? "?"}`);
  /** @type {[string, string, boolean, string?][]} key, text, bad, title */
  return [
    ["device", d ? `${d.name || "unnamed"}${d.firmware ? " · fw " + d.firmware : ""}` : "–", false],
    ["state", S.deviceState || "–", S.deviceState === "down"],
    ["rate", S.channels ? `${rate} × ${S.channels} ch${d ? " " + d.sample_type : ""}` : "–", false],
    ["sps", S.paused ? `${fmtRate(S.sps)} (plot paused)` : fmtRate(S.sps), false],
    ["frames", fmtCount(S.frames), false],
    ["gaps", fmtCount(S.gaps), S.gaps > 0, Object.entries(S.gapsByReason).map(([k, v]) => `${k}: ${v}`).join(", ")],
    ["lost", fmtCount(S.lostFrames), S.lostFrames > 0],
    ["restarts", fmtCount(S.restarts), S.restarts > 0, [`epoch ${S.epoch || "–"} now`, ...restarts].join("\n")],
    ["bad", fmtCount(S.badPackets), S.badPackets > 0],
  ];
}

function render() {
  if (V.mode !== "plot") return;
  const several = plot.chans.length > 1;
  $("meta").hidden = several;
  $("chan-table").hidden = !several;
  if (!several && plot.chans[0]) {
    for (const [k, text, bad, title] of stats(plot.chans[0].S)) show($(`m-${k}`), text, bad, title);
  }
  if (several) {
    const body = $("chan-rows");
    if (body.children.length !== plot.chans.length) {
      body.replaceChildren(...plot.chans.map((c) => {
        const tr = document.createElement("tr");
        tr.dataset.name = c.name;
        const a = document.createElement("a");
        a.href = `#${encodeURIComponent(c.name)}`;
        a.textContent = c.name;
        const th = document.createElement("th");
        th.scope = "row";
        th.append(a);
        tr.append(th, ...stats(c.S).map(([k]) => {
          const td = document.createElement("td");
          td.dataset.k = k;
          return td;
        }));
        return tr;
      }));
    }
    plot.chans.forEach((c, i) => {
      const row = body.children[i];
      for (const [k, text, bad, title] of stats(c.S)) {
        const td = row.querySelector(`[data-k="${k}"]`);
        if (td) show(td, text, bad, title);
      }
    });
  }
  $("command-form").hidden = !(plot.chans.length === 1 && plot.chans[0].S.commands);
}

let prev = { t: performance.now(), samples: /** @type {Record<string, number>} */ ({}) };
function measure() {
  const now = performance.now();
  for (const c of plot.chans) {
    c.S.sps = ((c.S.samples - (prev.samples[c.name] ?? c.S.samples)) * 1000) / (now - prev.t);
    prev.samples[c.name] = c.S.samples;
  }
  prev.t = now;
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

/** @type {Window & {wsbridge?: State}} */ (window).wsbridge = plot.P;
const recorder = new Recorder({ note });
recolor();
wire();
setView("time");
showWindow();
sizeCanvas();
setInterval(measure, 1000);
requestAnimationFrame(tick);
route();
