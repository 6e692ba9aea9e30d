/** One operation of a multi (`ZkTransaction` collects them, `multi-size.ts` measures them). */
export type ZkOp =
  | { type: 'create'; path: string; data?: Buffer; mode: 'persistent' | 'ephemeral' }
  | { type: 'check'; path: string; version: number }
  | { type: 'setData'; path: string; data: Buffer; version: number }
  | { type: 'remove'; path: string; version: number };
