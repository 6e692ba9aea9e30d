type Replacements<T> = {
  [K in keyof T]?: T[K] extends (...args: infer A) => infer R ? (original: T[K], ...args: A) => R : never;
};

/**
 * `target` with some of its methods replaced (to count, delay or fail calls): each replacement is
 * handed the original method, bound to `target`, and the call's arguments; every other method is
 * the target's own, bound to it.
 */
export function intercept<T extends object>(target: T, replacements: Replacements<T>): T {
  const replaced = replacements as Record<PropertyKey, ((original: unknown, ...args: unknown[]) => unknown) | undefined>;
  return new Proxy(target, {
    get(t, key, receiver) {
      const value = Reflect.get(t, key, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const original = (value as (...args: unknown[]) => unknown).bind(t);
      const replacement = replaced[key];
      return replacement ? (...args: unknown[]) => replacement(original, ...args) : original;
    },
  });
}
