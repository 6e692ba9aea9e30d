/** FNV-1a (32 bits) of a job's name: what spreads jobs over ledger parts and assignment groups. */
export function jobHash(job: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < job.length; i++) h = Math.imul(h ^ job.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
