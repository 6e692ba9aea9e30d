import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SandboxError } from '../../errors/sandbox-error.js';

/**
 * The compiled entry module of a sandbox (`sandbox-child.js`), next to this file. When the
 * sources run untranspiled (vitest), a thread or process cannot load TypeScript: the entry is
 * then taken from `dist/` (`npm run build`).
 */
export function sandboxEntry(): URL {
  const sibling = new URL('./sandbox-child.js', import.meta.url);
  const path = fileURLToPath(sibling);
  if (existsSync(path)) return sibling;
  const at = path.lastIndexOf('/src/');
  const built = at < 0 ? undefined : `${path.slice(0, at)}/dist${path.slice(at)}`;
  if (built !== undefined && existsSync(built)) return pathToFileURL(built);
  throw new SandboxError('SANDBOX_ENTRY_MISSING', `sandbox entry not found: ${path}${built ? ` nor ${built}` : ''} (run npm run build)`);
}
