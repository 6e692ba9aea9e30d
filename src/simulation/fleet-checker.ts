import type { ProgressRecord, RecentOutcome } from '../model/progress-record.js';
import type { FleetScenario } from './fleet-scenario.js';
import type { FleetLog, RunRecord } from './fleet-events.js';
import { SAMPLE_MS } from './fleet-events.js';

/** The invariants the fleet checker asserts (PRODUCT §4, docs/ARCHITECTURE.md "Invariants"). */
export type Invariant =
  /** (a) two runs of one item overlapped, and the earlier one's session was still alive (or it ran on past its lease). */
  | 'no-overlap'
  /** (b) a scheduled fire of an enabled item neither ran nor was recorded as missed or skipped; or a fire interrupted by a lost owner was not run again. */
  | 'no-lost-fire'
  /** (c) a handler was entered on a session the server had ended, or without its member's ledger holding the run. */
  | 'no-start-after-lease-loss'
  /** (d) a run's fencing token was not above the one before it on the same item. */
  | 'fencing-grows'
  /** (e) an assignment was written by a session that was not the named leader's live member. */
  | 'deposed-leader-write'
  /** (g) a run was begun (put in flight in a ledger) by a member the item's assignment did not name as its owner at that zxid, or not on its member's session (the leader fences a member it moves items from). */
  | 'begin-by-owner'
  /**
   * (h) a ledger (run protocol v2: what says a run is held) was written by a session neither its
   * member's nor the operator's, put an item in flight that another live member's ledger has in
   * flight, or claimed an item begun at an instant past the item's `lastScheduled`; or a gone
   * member's current entries and the item's record disagree.
   */
  | 'ledger-holds-runs'
  /**
   * (i) a fire instant of an item was accounted for twice in what the workers recorded (the run
   * history): two notes of missed or skipped fires covering it, or a note and a run of it. Runs of
   * one fire (an interrupted fire run again) and triggers are not counted against each other; an
   * item removed and made again is a new item.
   */
  | 'fire-recorded-once'
  /**
   * (j) a takeover's reads of the members' ledgers (made before its read of the item's record)
   * contradicted it: a gone member's run in flight that the record did not carry (or the other way round), or a claim
   * past the record's frontier and birth (`model/ledger-view.ts`, `takeoverDisagreement`). A round
   * during which the item's owner changed is not held to it (its reads may straddle another
   * owner's begin, which the member's fenced begin cannot follow).
   */
  | 'takeover-reads-ledgers';

export interface Violation {
  invariant: Invariant;
  /** Virtual ms at which it shows. */
  atMs: number;
  message: string;
}

/** An item as it stands at the server at the end. */
export interface FinalItem {
  job: string;
  item: number;
  /** Wall ms its node was created (ZooKeeper's ctime). */
  bornWallMs: number;
  progress: ProgressRecord;
  history: RecentOutcome[];
}

export interface CheckInput {
  scenario: FleetScenario;
  log: FleetLog;
  final: FinalItem[];
  /** Wall ms at virtual time 0 (no wall step is made for every process, so wall = start + virtual). */
  startWallMs: number;
  /** Virtual ms at which the simulation stopped. */
  endMs: number;
}

/** A run that outlived its session may go on until its process is thawed plus one watchdog tick and this. */
export const STOP_MARGIN_MS = 300;
/** An enable reaches the owner's scheduler within this (leader's write, the owner's cache, prepare lead). */
export const ENABLE_PROPAGATION_MS = 1000;

/** A fire neither run nor recorded at the end that is still pending (see `lostFires`), not lost. */
export interface PendingFire {
  job: string;
  item: number;
  /** Its cron instant (wall ms). */
  fireMs: number;
}

/** Checks the fleet invariants over what the simulation recorded; returns every violation found. */
export function checkFleet(input: CheckInput): Violation[] {
  return checkFleetFully(input).violations;
}

/** `checkFleet`, with the fires (b) took as pending at the end: after their item's frontier, behind runs that went on past the cutoff. */
export function checkFleetFully(input: CheckInput): { violations: Violation[]; pending: PendingFire[] } {
  const lost = lostFires(input);
  const violations = [...checkOverlap(input), ...checkStarts(input), ...checkFencing(input), ...checkIncidents(input), ...lost.violations, ...checkInterrupted(input), ...checkRecordedOnce(input)].sort((a, b) => a.atMs - b.atMs);
  return { violations, pending: lost.pending };
}

/**
 * (b, continued) A fire interrupted by a lost owner is run again (PRODUCT §4.2): every fire whose
 * runs were all cut short by their process's death or lease loss must have a later run that ended
 * (any outcome), or be recorded as poisoned (`maxFailovers`) — unless its job has failover off
 * (then the takeover records it as failed), its item was made anew since, or it still runs at the end.
 */
function checkInterrupted(input: CheckInput): Violation[] {
  const { scenario, log, final, startWallMs, endMs } = input;
  const out: Violation[] = [];
  const cutoffMs = endMs - (scenario.sessionTimeoutMs * 2 + Math.max(...scenario.jobs.map((j) => j.periodS * 1000 + j.maxRunMs)) + 4000);
  const byFire = new Map<string, RunRecord[]>();
  for (const r of log.runs) {
    const k = `${key(r.job, r.item)}@${r.fireMs}`;
    let list = byFire.get(k);
    if (!list) byFire.set(k, (list = []));
    list.push(r);
  }
  const poisoned = new Set(log.started.filter((s) => s.poisoned).map((s) => `${key(s.job, s.item)}@${s.fireMs}`));
  for (const [k, runs] of byFire) {
    const first = runs[0]!;
    if (!runs.every((r) => r.interrupted) || poisoned.has(k) || first.startMs > cutoffMs) continue;
    const spec = scenario.jobs.find((j) => j.definition.name === first.job);
    const item = final.find((f) => f.job === first.job && f.item === first.item);
    if (!spec?.definition.failover || !item || item.bornWallMs - startWallMs > first.startMs) continue;
    out.push({ invariant: 'no-lost-fire', atMs: runs[runs.length - 1]!.endMs ?? first.startMs, message: `${k.replace(/@\d+$/, '')}: fire ${iso(first.fireMs)} was cut short by the loss of its owner (${runs.map((r) => r.process).join(', ')}) and never run again` });
  }
  return out;
}

const key = (job: string, item: number): string => `${job}#${item}`;
const iso = (wallMs: number): string => new Date(wallMs).toISOString();

function forcedRemovals(input: CheckInput, job: string, item: number): number[] {
  return input.log.operator.filter((o) => o.force && !o.error && o.job === job && o.removed?.includes(item)).map((o) => o.atMs);
}

/** (a) No two runs of one item overlap, unless the earlier one's session had ended at the server first and it stopped in time. */
function checkOverlap(input: CheckInput): Violation[] {
  const { log } = input;
  const out: Violation[] = [];
  const byItem = new Map<string, RunRecord[]>();
  for (const r of log.runs) {
    const k = key(r.job, r.item);
    let list = byItem.get(k);
    if (!list) byItem.set(k, (list = []));
    list.push(r);
  }
  for (const [k, runs] of byItem) {
    runs.sort((a, b) => a.startMs - b.startMs);
    for (let j = 1; j < runs.length; j++) {
      const b = runs[j]!;
      for (let i = 0; i < j; i++) {
        const a = runs[i]!;
        if ((a.endMs ?? Number.POSITIVE_INFINITY) <= b.startMs) continue;
        if (forcedRemovals(input, a.job, a.item).some((t) => t >= a.startMs && t <= b.startMs)) continue;
        // The earlier run was taken from its member's ledger by an operator's forced operation (after
        // the run's begin, before the later one started): --force lets such runs go on (docs/ZKCTL.md).
        // Told by zxid, as the operator's request may have begun before the run did.
        if (log.forcedDeletes.some((d) => d.job === a.job && d.item === a.item && d.zxid > a.token && d.atMs <= b.startMs)) continue;
        const ended = log.sessionEnds.get(a.session);
        if (ended && ended.atMs <= b.startMs && a.endMs !== undefined && a.endMs <= stopDeadline(input, a.process, ended.atMs)) continue;
        out.push({
          invariant: 'no-overlap',
          atMs: b.startMs,
          message: `${k}: run of fire ${iso(b.fireMs)} on ${b.process} (session ${b.session.toString(16)}, token ${b.token}) started at ${b.startMs} ms while the run of fire ${iso(a.fireMs)} on ${a.process} (session ${a.session.toString(16)}, token ${a.token}) still worked (${a.startMs}..${a.endMs ?? 'end'} ms); its session ${ended ? `ended at ${ended.atMs} ms` : 'was still alive'}`,
        });
      }
    }
  }
  return out;
}

/** When a run whose session ended at `endedMs` must have stopped: then, or once its frozen process was thawed (or died). */
function stopDeadline(input: CheckInput, process: string, endedMs: number): number {
  let frozenSince: number | undefined;
  for (const e of input.log.processes) {
    if (e.process !== process) continue;
    if (e.atMs > endedMs) {
      // Frozen when its session ended: it stops once thawed, or dies frozen (a crash).
      if (frozenSince !== undefined && e.kind !== 'frozen') return e.atMs + STOP_MARGIN_MS;
      break;
    }
    if (e.kind === 'frozen') frozenSince = e.atMs;
    else if (e.kind === 'thawed') frozenSince = undefined;
  }
  return endedMs + STOP_MARGIN_MS;
}

/** (c) A handler is entered only on a session the server still has, its member's ledger holding the run. */
function checkStarts(input: CheckInput): Violation[] {
  const out: Violation[] = [];
  for (const r of input.log.runs) {
    if (!r.sessionLive) {
      out.push({ invariant: 'no-start-after-lease-loss', atMs: r.startMs, message: `${key(r.job, r.item)}: run of fire ${iso(r.fireMs)} attempt ${r.attempt} entered on ${r.process} at ${r.startMs} ms, but the server had already ended its session ${r.session.toString(16)}` });
    } else if (!r.held && !forcedRemovals(input, r.job, r.item).some((t) => t <= r.startMs)) {
      out.push({ invariant: 'no-start-after-lease-loss', atMs: r.startMs, message: `${key(r.job, r.item)}: run of fire ${iso(r.fireMs)} attempt ${r.attempt} entered on ${r.process} at ${r.startMs} ms without its member's ledger holding it` });
    }
  }
  return out;
}

/** (d) Every run of an item carries a larger fencing token than the runs begun before it (in the order their handlers were entered). */
function checkFencing(input: CheckInput): Violation[] {
  const out: Violation[] = [];
  const last = new Map<string, { token: bigint; process: string; fireMs: number }>();
  // Told in the order the executors went on from the entries: a process that froze right after
  // entering tells it on waking, after runs begun later elsewhere (a stable sort keeps the rest).
  const byEntry = [...input.log.started].sort((a, b) => a.atMs - b.atMs);
  for (const s of byEntry) {
    if (s.poisoned) continue;
    const k = key(s.job, s.item);
    const prev = last.get(k);
    if (prev && s.token <= prev.token) {
      out.push({ invariant: 'fencing-grows', atMs: s.atMs, message: `${k}: fire ${iso(s.fireMs)} began on ${s.process} with token ${s.token}, not above the token ${prev.token} of fire ${iso(prev.fireMs)} begun before on ${prev.process}` });
    }
    if (!prev || s.token > prev.token) last.set(k, { token: s.token, process: s.process, fireMs: s.fireMs });
  }
  return out;
}

/** (e), (g), (h): what the server saw applied. */
function checkIncidents(input: CheckInput): Violation[] {
  return input.log.incidents.map((i): Violation => {
    switch (i.kind) {
      case 'assignment-write':
        return { invariant: 'deposed-leader-write', atMs: i.atMs, message: `${i.path} written at zxid ${i.zxid}: ${i.detail}` };
      case 'begin-not-owner':
        return { invariant: 'begin-by-owner', atMs: i.atMs, message: `${i.path} written at zxid ${i.zxid}: ${i.detail}` };
      case 'ledger-mismatch':
        return { invariant: 'ledger-holds-runs', atMs: i.atMs, message: `${i.path} at zxid ${i.zxid}: ${i.detail}` };
      case 'ledger-disagreement':
        return { invariant: 'takeover-reads-ledgers', atMs: i.atMs, message: `${i.process} taking over ${i.job}#${i.item}: ${i.detail}` };
    }
  });
}

/**
 * (i) What the workers hand their recorder accounts for each scheduled instant of an item at most
 * once: a note of missed or skipped fires covers its `fires` instants back from its latest; a run
 * (any attempt, any outcome) covers its fire. The history stores one row per fire from these.
 */
function checkRecordedOnce(input: CheckInput): Violation[] {
  const { scenario, log, startWallMs } = input;
  const out: Violation[] = [];
  const periodOf = new Map(scenario.jobs.map((j) => [j.definition.name, j.periodS * 1000]));
  // An item removed and made again (a forced reshard and its undo) is a new item: its accounting
  // starts at its creation, whatever the one before it ran. A run belongs to the item node its
  // begin wrote (made before its token's zxid), a note to the one there when it was recorded.
  const births = new Map<string, Array<{ zxid: bigint; atMs: number }>>();
  for (const b of log.itemBirths) {
    const list = births.get(key(b.job, b.item));
    if (list) list.push(b);
    else births.set(key(b.job, b.item), [b]);
  }
  const incarnationOf = (r: (typeof log.recorded)[number]): number => {
    const list = births.get(key(r.job, r.item)) ?? [];
    const token = r.fencingToken === undefined ? undefined : BigInt(r.fencingToken);
    return list.filter((b) => (token === undefined ? b.atMs <= r.atMs : b.zxid < token)).length;
  };
  /** job#item/node@fireMs (node: which of the item's nodes, counted from 1) → what accounted for it first. */
  const seen = new Map<string, string>();
  const ranFires = new Set<string>();
  for (const r of log.recorded) {
    const periodMs = periodOf.get(r.job);
    if (periodMs === undefined || r.reason === 'trigger') continue;
    const latestMs = r.fireTime.getTime();
    const isNote = r.outcome === 'missed' || r.outcome === 'skipped';
    const what = `${isNote ? `${r.outcome} note of ${r.fires ?? 1} up to ${iso(latestMs)}` : `run attempt ${r.attempt} (${r.outcome})`} recorded by ${r.process} at ${iso(r.endedAt.getTime())}`;
    const count = isNote ? Math.min(r.fires ?? 1, 10_000) : 1;
    const incarnation = incarnationOf(r);
    for (let k = 0, t = latestMs; k < count; k++, t -= periodMs) {
      const fire = `${key(r.job, r.item)}/${incarnation}@${t}`;
      if (!isNote) {
        if (ranFires.has(fire)) continue;
        ranFires.add(fire);
      }
      const before = seen.get(fire);
      if (before === undefined) seen.set(fire, what);
      else out.push({ invariant: 'fire-recorded-once', atMs: r.endedAt.getTime() - startWallMs, message: `${key(r.job, r.item)}: fire ${iso(t)} recorded twice: ${before}; then ${what}` });
    }
  }
  return out;
}

/** Runs of one item closer than this are one busy stretch (retry backoff, a release and the next begin). */
export const BUSY_GAP_MS = 2500;

/**
 * (b) Every cron instant of an item, from its creation until the end (less the time the fleet
 * needs to settle), ran or was recorded as missed or skipped — unless the item was disabled (or
 * did not exist) at that instant. Fires while nobody owned the item are not excused: the next
 * owner's takeover must record them (planTakeover counts from the item's creation).
 *
 * A fire is still pending, not lost, when it comes after the item's frontier at the end (its
 * `lastScheduled`: no begin and no takeover can pass it without accounting for it), no scheduled
 * fire of the item begun after it (that begin was the one to record it), and the item ran without
 * a break from that fire — or from a run begun within the settle time after it — to the cutoff: a
 * fire skipped because the item still ran, or a catch-up queued behind the runs before it, is
 * recorded by the item's next begin or run, which a queue of long runs can put past the end (seeds
 * 49949, 60094, 66626: a re-run, catch-ups and a trigger retrying for 20 s and more). The settle
 * time bounds how soon an item is taken on, not how long it then keeps running.
 */
function lostFires(input: CheckInput): { violations: Violation[]; pending: PendingFire[] } {
  const { scenario, log, startWallMs, endMs } = input;
  const out: Violation[] = [];
  const pendingOut: PendingFire[] = [];
  const maxRunMs = Math.max(...scenario.jobs.map((j) => j.maxRunMs));
  const maxPeriodMs = Math.max(...scenario.jobs.map((j) => j.periodS * 1000));
  const settleMs = scenario.sessionTimeoutMs + 2 * maxPeriodMs + maxRunMs + 3000;
  const cutoffMs = endMs - settleMs;
  const ran = new Set<string>();
  const notes = new Map<string, Array<{ count: number; latestMs: number }>>();
  const addNote = (job: string, item: number, note: { count: number; latestMs: number }) => {
    const k = key(job, item);
    let list = notes.get(k);
    if (!list) notes.set(k, (list = []));
    list.push(note);
  };
  for (const s of log.started) {
    ran.add(`${key(s.job, s.item)}@${s.fireMs}`);
    if (s.missed) addNote(s.job, s.item, s.missed);
    if (s.skipped) addNote(s.job, s.item, s.skipped);
  }
  for (const n of log.notes) addNote(n.job, n.item, n);
  for (const f of input.final) {
    for (const h of f.history) {
      if (h.outcome !== 'missed' && h.outcome !== 'skipped') continue;
      const count = Number(/^(\d+)/.exec(h.error ?? '')?.[1] ?? 1);
      addNote(f.job, f.item, { count, latestMs: Date.parse(h.fireTime) });
    }
  }
  const samplesByJob = new Map<string, typeof log.samples>();
  for (const s of log.samples) {
    let list = samplesByJob.get(s.job);
    if (!list) samplesByJob.set(s.job, (list = []));
    list.push(s);
  }
  const busy = busyStretches(log.runs, endMs);
  const scheduledBegins = new Map<string, number>();
  for (const s of log.started) {
    if (s.reason !== 'schedule' && s.reason !== 'queued') continue;
    const k = key(s.job, s.item);
    scheduledBegins.set(k, Math.max(scheduledBegins.get(k) ?? -Infinity, s.fireMs));
  }
  for (const f of input.final) {
    const spec = scenario.jobs.find((j) => j.definition.name === f.job);
    if (!spec) continue;
    const periodMs = spec.periodS * 1000;
    const samples = samplesByJob.get(f.job) ?? [];
    const frontierMs = f.progress.lastScheduled === undefined ? -Infinity : Date.parse(f.progress.lastScheduled);
    const stretches = busy.get(key(f.job, f.item)) ?? [];
    const pending = (fireMs: number): boolean => {
      if (fireMs <= frontierMs || (scheduledBegins.get(key(f.job, f.item)) ?? -Infinity) > fireMs) return false;
      const at = fireMs - startWallMs;
      const stretch = stretches.find(([, to]) => to > at);
      return stretch !== undefined && stretch[0] <= at + settleMs && stretch[1] >= cutoffMs;
    };
    const covered = new Set<number>();
    for (const n of notes.get(key(f.job, f.item)) ?? []) {
      for (let k = 0, t = Math.floor(n.latestMs / periodMs) * periodMs; k < n.count && k < 10_000; k++, t -= periodMs) covered.add(t);
    }
    for (let fireMs = (Math.floor(f.bornWallMs / periodMs) + 1) * periodMs; fireMs - startWallMs <= cutoffMs; fireMs += periodMs) {
      if (ran.has(`${key(f.job, f.item)}@${fireMs}`) || covered.has(fireMs)) continue;
      const atMs = fireMs - startWallMs;
      // Excused only while the item was disabled or did not exist (an enable reaches the owner within ENABLE_PROPAGATION_MS).
      const excused = samples.some((s) => s.atMs >= atMs - ENABLE_PROPAGATION_MS && s.atMs <= atMs + SAMPLE_MS && (f.item >= s.shards || s.disabled.has(f.item)));
      if (excused) continue;
      if (pending(fireMs)) {
        pendingOut.push({ job: f.job, item: f.item, fireMs });
        continue;
      }
      out.push({ invariant: 'no-lost-fire', atMs, message: `${key(f.job, f.item)}: fire ${iso(fireMs)} neither ran nor was recorded as missed or skipped (item created ${iso(f.bornWallMs)}; lastScheduled ${f.progress.lastScheduled ?? 'none'})` });
    }
  }
  return { violations: out, pending: pendingOut };
}

/** Per item, the stretches of virtual time it ran without a break (runs closer than `BUSY_GAP_MS` joined; a run still going lasts to the end). */
function busyStretches(runs: readonly RunRecord[], endMs: number): Map<string, Array<[number, number]>> {
  const byItem = new Map<string, Array<[number, number]>>();
  for (const r of runs) {
    const k = key(r.job, r.item);
    let list = byItem.get(k);
    if (!list) byItem.set(k, (list = []));
    list.push([r.startMs, r.endMs ?? endMs]);
  }
  for (const [k, list] of byItem) {
    list.sort((a, b) => a[0] - b[0]);
    const joined: Array<[number, number]> = [];
    for (const [from, to] of list) {
      const last = joined[joined.length - 1];
      if (last && from <= last[1] + BUSY_GAP_MS) last[1] = Math.max(last[1], to);
      else joined.push([from, to]);
    }
    byItem.set(k, joined);
  }
  return byItem;
}
