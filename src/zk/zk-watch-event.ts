import zookeeper from 'node-zookeeper-client';

/** What a one-shot watch reports. */
export interface ZkWatchEvent {
  type: 'created' | 'deleted' | 'dataChanged' | 'childrenChanged';
  path: string;
}

/** Called once when the watched node changes (ZooKeeper watches are one-shot). */
export type ZkWatcher = (event: ZkWatchEvent) => void;

const TYPES: Record<number, ZkWatchEvent['type']> = {
  [zookeeper.Event.NODE_CREATED]: 'created',
  [zookeeper.Event.NODE_DELETED]: 'deleted',
  [zookeeper.Event.NODE_DATA_CHANGED]: 'dataChanged',
  [zookeeper.Event.NODE_CHILDREN_CHANGED]: 'childrenChanged',
};

/** Decodes the client library's Event. */
export function toWatchEvent(event: { getType(): number; getPath(): string }): ZkWatchEvent {
  return { type: TYPES[event.getType()] ?? 'dataChanged', path: event.getPath() };
}
