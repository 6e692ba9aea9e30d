// The bench's CPU-bound job handler: busy-loops `busyMs` (job parameter "busyMs=N") without
// yielding to its event loop, like a handler that parses, compresses or hashes in one go.
export default function cpuBound(ctx) {
  const until = Date.now() + Number(/busyMs=(\d+)/.exec(ctx.jobParameter)?.[1] ?? 0);
  while (Date.now() < until);
}
