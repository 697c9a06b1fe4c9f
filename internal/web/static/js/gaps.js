// @ts-check
// Gap and restart accounting. Frames carry a u32 seq within an epoch (an
// opaque id that changes whenever serve's count starts over: a new serve
// process, a device that restarted). serve announces losses it knows about
// with gap messages (reason device, history or slow_client), each just
// before the frame that reveals it. Lost frames are counted from the seq
// stream alone, when a jump reveals them, so the counters always agree with
// the frames received; a message only names the reason. A jump that a gap
// message explains counts as one gap per message, under its reason; a jump
// nothing explains counts as "unannounced" until a message explains it.
// A change of epoch is a restart: counted once, whichever message reveals
// it first (the hello of a resume, or a restart status).

const WRAP = 0x100000000;

/**
 * The counters Gaps keeps, fields of the page state.
 * @typedef {object} Counters
 * @property {number} gaps
 * @property {number} lostFrames
 * @property {Record<string, number>} gapsByReason
 * @property {number} restarts
 * @property {number | null} firstSeq the first seq of this count accounted for (received, or counted lost)
 * @property {number | null} lastSeq
 * @property {string} epoch the current count's epoch ("" before the first, or from a server without epochs)
 */

/**
 * A gap message (wsproto.Gap).
 * @typedef {object} GapMessage
 * @property {number} from
 * @property {number} to
 * @property {number | string} count
 * @property {string} reason
 * @property {string} [epoch]
 */

/**
 * The fields of a hello (wsproto.Hello) that decide a resume.
 * @typedef {object} HelloSeqs
 * @property {number} seq the seq of the next live frame
 * @property {number} start_seq the first seq this connection receives
 * @property {string} [epoch]
 */

/** @typedef {{from: number, to: number}} Range */
/** @typedef {Range & {count: number, reason: string}} Announced */

/**
 * within reports whether seq lies in from..to (inclusive, modulo 2^32).
 * @param {number} seq
 * @param {number} from
 * @param {number} to
 */
function within(seq, from, to) {
  return (seq - from + WRAP) % WRAP <= (to - from + WRAP) % WRAP;
}

/**
 * @param {Range} a
 * @param {Range} b
 */
function overlaps(a, b) {
  return within(a.from, b.from, b.to) || within(b.from, a.from, a.to);
}

/**
 * before reports whether seq a comes before b (modulo 2^32, within 2^31).
 * @param {number} a
 * @param {number} b
 */
function before(a, b) {
  const d = (b - a + WRAP) % WRAP;
  return d > 0 && d < WRAP / 2;
}

export class Gaps {
  /**
   * @param {Counters} S receives the counters
   * @param {(n: number) => void} hole breaks the trace by n samples
   * @param {(text: string, error?: boolean) => void} note logs a line
   */
  constructor(S, hole, note) {
    this.S = S;
    this.hole = hole;
    this.note = note;
    /** @type {number | null} the seq the next frame should carry */
    this.expect = null;
    /** @type {Announced[]} gap messages whose jump has not come yet */
    this.announced = [];
    /** @type {Range[]} jumps not (yet) explained by a message */
    this.unexplained = [];
    /** @type {{from: string, to: string, lastSeq: number | null, seq: number | null}[]} the newest restarts */
    this.history = [];
    /** @type {number | null} while frames counted before are fetched again (rewind), the seq where new ones start */
    this.recount = null;
  }

  /**
   * since is where to resume after a reconnect: the next seq and its epoch,
   * or null for live.
   * @returns {{seq: number, epoch: string} | null}
   */
  since() {
    return this.expect === null ? null : { seq: this.expect, epoch: this.S.epoch };
  }

  /**
   * rewind makes the next frames start at seq again, before the frames
   * already counted (to fetch the window again at another resolution):
   * frames up to the one expected now are stored again but not counted
   * again, and their gaps are not either.
   * @param {number} seq
   */
  rewind(seq) {
    if (this.expect === null || !before(seq, this.expect)) return;
    this.recount = this.recount ?? this.expect;
    this.expect = seq;
    this.announced = [];
  }

  /**
   * frame accounts for a data frame of count sample instants, or for an
   * envelope covering frames seq..last of count instants each on average.
   * It returns how many of the frames are new: frames counted before
   * (fetched again after a rewind) must not be counted again.
   * @param {number} seq
   * @param {number} count
   * @param {number} [last]
   * @returns {number}
   */
  frame(seq, count, last = seq) {
    const frames = ((last - seq + WRAP) % WRAP) + 1;
    const again = this.recount !== null && before(seq, this.recount);
    const fresh = again ? Math.max(0, frames - ((/** @type {number} */ (this.recount) - seq + WRAP) % WRAP)) : frames;
    if (this.recount !== null && !again) this.recount = null;
    if (this.expect !== null && seq !== this.expect) {
      const missed = (seq - this.expect + WRAP) % WRAP;
      if (missed < WRAP / 2) this.jump({ from: this.expect, to: (seq - 1 + WRAP) % WRAP }, missed, count, again);
      else this.backwards(seq);
    }
    if (this.S.lastSeq === null) this.S.firstSeq = this.expect ?? seq; // the first seq accounted for, received or lost
    this.expect = (last + 1) % WRAP;
    if (fresh || this.S.lastSeq === null) this.S.lastSeq = last;
    if (again && this.recount !== null && !before(this.expect, this.recount)) this.recount = null;
    return fresh;
  }

  /**
   * @param {Range} range
   * @param {number} missed
   * @param {number} count
   * @param {boolean} [again] a jump among frames fetched again: counted before
   */
  jump(range, missed, count, again = false) {
    this.hole(Math.min(missed * count, 1 << 26));
    if (again) {
      this.announced = this.announced.filter((g) => !overlaps(g, range));
      return;
    }
    this.S.lostFrames += missed;
    const mine = this.announced.filter((g) => overlaps(g, range));
    if (mine.length) {
      this.announced = this.announced.filter((g) => !overlaps(g, range));
      for (const g of mine) this.count(g.reason);
      return;
    }
    this.count("unannounced");
    this.unexplained.push(range);
    if (this.unexplained.length > 8) this.unexplained.shift();
    this.note(`gap: frames ${range.from}..${range.to} (${missed}) missing`, true);
  }

  // backwards is a seq that went back with no restart message: an old
  // server, or a device restart it did not see.
  /** @param {number} seq */
  backwards(seq) {
    const last = (/** @type {number} */ (this.expect) - 1 + WRAP) % WRAP;
    this.counted(this.S.epoch, last, seq);
    this.S.lastSeq = null; // a new count: firstSeq starts again, here
    this.expect = null;
    this.note(`seq went back from ${last} to ${seq}: the device or serve restarted`);
  }

  /**
   * message handles a gap message from serve.
   * @param {GapMessage} m
   */
  message(m) {
    if (m.epoch && this.S.epoch && m.epoch !== this.S.epoch) {
      // Frames of another count: no frame of ours will reveal them.
      this.S.lostFrames += Number(m.count);
      this.count(m.reason);
      this.note(`gap: frames ${m.from}..${m.to} (${m.count}) of epoch ${m.epoch} lost: ${m.reason}`, true);
      return;
    }
    if (this.recount !== null && before(m.from, this.recount)) {
      this.announced.push({ from: m.from, to: m.to, count: Number(m.count), reason: m.reason }); // counted before: the jump drops it
      return;
    }
    const i = this.unexplained.findIndex((u) => overlaps(u, m));
    if (i >= 0) {
      this.unexplained.splice(i, 1);
      const by = this.S.gapsByReason;
      by.unannounced--;
      by[m.reason] = (by[m.reason] || 0) + 1;
    } else if (!this.announced.some((g) => overlaps(g, m))) { // else a replay after a resume
      if (this.expect === null) this.expect = m.from; // lost before the first frame
      this.announced.push({ from: m.from, to: m.to, count: Number(m.count), reason: m.reason });
      if (this.announced.length > 16) this.announced.shift();
    }
    this.note(`gap: frames ${m.from}..${m.to} (${m.count}) lost: ${m.reason}`, true);
  }

  /**
   * hello checks a resume. Another epoch than ours is a restart (serve
   * follows with a restart status, which is then not counted again). A
   * start behind the seq we asked for means the count started over too
   * (a server without epochs, or one that would replay frames we have).
   * @param {HelloSeqs} m
   */
  hello(m) {
    const epoch = m.epoch || "";
    if (this.expect !== null && epoch && this.S.epoch && epoch !== this.S.epoch) {
      this.restart(null, epoch, `serve's count started over`, m.start_seq);
    } else if (this.expect !== null && before(m.start_seq, this.expect)) {
      this.restart(null, epoch, `serve resumed at seq ${m.start_seq}, behind the ${this.expect} asked for`, m.start_seq);
    }
    this.S.epoch = epoch;
  }

  /**
   * stopping handles serve's last message before it shuts down: seq is the
   * seq its count (epoch) would have sent next. Frames from the one
   * expected up to it will never come: one gap, reason serve_stopped.
   * Returns how many frames that was.
   * @param {number} seq
   * @param {string} [epoch]
   */
  stopping(seq, epoch = "") {
    if (this.expect === null || (epoch && this.S.epoch && epoch !== this.S.epoch) || !before(this.expect, seq)) return 0;
    const missed = (seq - this.expect + WRAP) % WRAP;
    this.S.lostFrames += missed;
    this.count("serve_stopped");
    this.hole(1);
    this.note(`gap: frames ${this.expect}..${(seq - 1 + WRAP) % WRAP} (${missed}) lost: serve_stopped`, true);
    this.expect = seq;
    return missed;
  }

  /**
   * restart starts a new count: a restart status (seq is the first seq of
   * the new count, epoch its epoch) or a restart the hello revealed (seq
   * null, from the first seq the connection gets). A restart to the epoch
   * already current was counted when it became current and only sets
   * where the count starts.
   * @param {number | null} seq
   * @param {string} [epoch]
   * @param {string} [why] logged
   * @param {number} [from] the first seq to come, when seq is null
   */
  restart(seq, epoch = "", why = "the device restarted its count", from) {
    const known = epoch !== "" && epoch === this.S.epoch && this.expect === null;
    if (!known && this.S.lastSeq !== null) {
      const last = this.S.lastSeq;
      this.counted(epoch, last, seq ?? from ?? null);
      this.note(`restart: ${why}; epoch ${this.S.epoch || "?"} ended at seq ${last}, ` +
        `epoch ${epoch || "?"} goes on from seq ${seq ?? from ?? "?"}`);
    }
    if (epoch) this.S.epoch = epoch;
    this.expect = seq;
    this.recount = null;
    this.S.lastSeq = null;
  }

  /**
   * counted records one restart: announced gaps of the old count are lost
   * for good, and the trace gets a break.
   * @param {string} to the new epoch
   * @param {number | null} lastSeq the old count's last seq received
   * @param {number | null} seq the new count's first seq
   */
  counted(to, lastSeq, seq) {
    this.S.restarts++;
    this.recount = null;
    this.history.push({ from: this.S.epoch, to, lastSeq, seq });
    if (this.history.length > 8) this.history.shift();
    this.flush();
    this.unexplained = [];
    this.hole(1);
  }

  // flush counts announced gaps whose revealing frame will never come: the
  // seq numbering restarted.
  flush() {
    for (const g of this.announced) {
      this.S.lostFrames += g.count;
      this.count(g.reason);
    }
    this.announced = [];
  }

  /** @param {string} reason */
  count(reason) {
    this.S.gaps++;
    this.S.gapsByReason[reason] = (this.S.gapsByReason[reason] || 0) + 1;
  }
}
