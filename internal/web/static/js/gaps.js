// Gap accounting. Frames carry a u32 seq; serve announces losses it knows
// about with gap messages (reason device, history or slow_client), each just
// before the frame that reveals it. Lost frames are counted from the seq
// stream alone, when a jump reveals them, so the counters always agree with
// the frames received; a message only names the reason. A jump that a gap
// message explains counts as one gap per message, under its reason; a jump
// nothing explains counts as "unannounced" until a message explains it.

const WRAP = 0x100000000;

// within reports whether seq lies in from..to (inclusive, modulo 2^32).
function within(seq, from, to) {
  return (seq - from + WRAP) % WRAP <= (to - from + WRAP) % WRAP;
}

function overlaps(a, b) {
  return within(a.from, b.from, b.to) || within(b.from, a.from, a.to);
}

export class Gaps {
  // S receives the counters (gaps, lostFrames, gapsByReason, restarts,
  // firstSeq, lastSeq); hole(n) breaks the trace by n samples; note(text) logs.
  constructor(S, hole, note) {
    this.S = S;
    this.hole = hole;
    this.note = note;
    this.expect = null; // the seq the next frame should carry
    this.announced = []; // gap messages whose jump has not come yet
    this.unexplained = []; // jumps not (yet) explained by a message
  }

  // since is the seq to resume from after a reconnect, or null for live.
  since() {
    return this.expect;
  }

  frame(seq, count) {
    if (this.expect !== null && seq !== this.expect) {
      const missed = (seq - this.expect + WRAP) % WRAP;
      if (missed < WRAP / 2) this.jump({ from: this.expect, to: (seq - 1 + WRAP) % WRAP }, missed, count);
      else this.backwards(seq);
    }
    if (this.S.lastSeq === null) this.S.firstSeq = seq;
    this.expect = (seq + 1) % WRAP;
    this.S.lastSeq = seq;
  }

  jump(range, missed, count) {
    this.hole(Math.min(missed * count, 1 << 26));
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

  backwards(seq) {
    this.S.restarts++;
    this.flush();
    this.hole(1);
    this.note(`seq went back from ${(this.expect - 1 + WRAP) % WRAP} to ${seq}: the device or serve restarted`);
  }

  // message handles a gap message from serve.
  message(m) {
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

  // hello checks a resume: a server whose next seq is behind ours restarted
  // (a new seq space), so the next frame starts a fresh sequence.
  hello(m) {
    if (this.expect === null) return;
    const behind = (this.expect - m.seq + WRAP) % WRAP;
    if (behind > 0 && behind < WRAP / 2 && m.start_seq !== this.expect) {
      this.note(`serve restarted: seq continues at ${m.start_seq} instead of ${this.expect}`);
      this.restart();
    }
  }

  // restart forgets the expected seq (status "restart" or a new serve).
  restart() {
    if (this.expect === null) return;
    this.S.restarts++;
    this.flush();
    this.expect = null;
    this.S.lastSeq = null;
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

  count(reason) {
    this.S.gaps++;
    this.S.gapsByReason[reason] = (this.S.gapsByReason[reason] || 0) + 1;
  }
}
