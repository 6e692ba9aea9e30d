import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The built UI (`dist/ui`, made by `npm run build`): found from this file in the sources
 * (src/console) and in the package (dist/src/console), or undefined when it was not built.
 */
export function uiDir(from = import.meta.dirname): string | undefined {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) {
      const ui = join(dir, 'dist', 'ui');
      return existsSync(join(ui, 'index.html')) ? ui : undefined;
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}
