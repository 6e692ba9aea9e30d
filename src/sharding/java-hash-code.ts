/**
 * Java's `String.hashCode()`: `h = 31 * h + c` over the UTF-16 code units of `s`, wrapping to a
 * 32-bit signed integer. Same value as the JVM, so the `odevity` and `round-robin` strategies
 * place items exactly like ElasticJob's. Examples: `''` → 0, `'a'` → 97, `'hello'` → 99162322.
 */
export function javaHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) {
    h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  }
  return h;
}
