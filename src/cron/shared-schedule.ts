import { CronSchedule } from './cron-schedule.js';

/**
 * Parsed schedules by time zone and cron, held weakly: the entry goes once no job holds its
 * schedule any more (a schedule changed by `zkctl apply` leaves nothing behind).
 */
const shared = new Map<string, WeakRef<CronSchedule>>();
const forget = new FinalizationRegistry<string>((key) => {
  if (shared.get(key)?.deref() === undefined) shared.delete(key);
});

/**
 * The one `CronSchedule` of `cron` in `timeZone` that everyone asking for it at the same time
 * shares. A parsed schedule (cron-parser's expression, two luxon dates with their locale caches)
 * takes about 3 KB; a fleet has thousands of jobs and few distinct schedules. Sharing is safe:
 * every answer of a `CronSchedule` is the canonical one whatever was asked of it before (its
 * cursor only saves a restart of the walk when asked about its own last answer).
 * @throws ZkshardError as `CronSchedule.parse`.
 */
export function sharedSchedule(cron: string, timeZone = 'UTC'): CronSchedule {
  const key = `${timeZone}\n${cron}`;
  const known = shared.get(key)?.deref();
  if (known) return known;
  const schedule = CronSchedule.parse(cron, timeZone);
  shared.set(key, new WeakRef(schedule));
  forget.register(schedule, key);
  return schedule;
}
