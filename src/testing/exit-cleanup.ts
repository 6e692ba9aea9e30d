/**
 * Last-resort cleanup when the Node process exits without closing what it started (a test that
 * forgot `close()`, `process.exit()` in a CLI, an uncaught exception). Runs synchronously from
 * `process.on('exit')`: first every `kill` action, then every `cleanup` action (removing temp dirs).
 * A Node process killed by a signal runs no 'exit' handler; children are covered for that case by
 * the parent-death signal set when they are spawned (see `ZooKeeperProcess`).
 */
type Action = () => void;

const actions = { kill: new Set<Action>(), cleanup: new Set<Action>() };
let installed = false;

function runAll(): void {
  for (const phase of [actions.kill, actions.cleanup]) {
    for (const action of phase) {
      try {
        action();
      } catch {
        // Best effort: the process is exiting; nothing can be reported anyway.
      }
    }
    phase.clear();
  }
}

/** Registers a synchronous action to run on process exit; returns a function that unregisters it. */
export function onProcessExit(action: Action, phase: 'kill' | 'cleanup' = 'kill'): () => void {
  if (!installed) {
    installed = true;
    process.on('exit', runAll);
  }
  actions[phase].add(action);
  return () => {
    actions[phase].delete(action);
  };
}
