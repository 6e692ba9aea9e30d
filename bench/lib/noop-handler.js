// The bench's empty job handler: what a run costs apart from the handler's own work.
export default function noop() {}
