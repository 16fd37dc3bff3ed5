// Loads the optional peer engines (usearch, vectorlite, LanceDB) that the harness can measure beside
// QuiverDB. They are no dependency of QuiverDB: `npm install --prefix bench/peers` installs them into
// bench/peers/node_modules (apart from QuiverDB's own tree: LanceDB wants an older apache-arrow);
// a copy installed in the project's own node_modules is found too. Loaded only when asked for.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The folder whose package.json lists the peer engines. */
export const PEERS_DIRECTORY = join(import.meta.dirname, '..', 'peers');
/** The command that installs them, as the harness prints it. */
export const PEERS_INSTALL = 'npm install --prefix bench/peers';

/** Where a package resolves from: bench/peers first, then the project. Undefined when nowhere. */
export function resolvePeer(name: string): string | undefined {
  for (const from of [join(PEERS_DIRECTORY, 'package.json'), join(import.meta.dirname, '..', '..', 'package.json')]) {
    try {
      return createRequire(from).resolve(name);
    } catch {
      // not installed there
    }
  }
  return undefined;
}

/**
 * Imports a peer engine by package name.
 * @throws Error that says how to install it when it is not installed
 */
export async function importPeer<T>(name: string): Promise<T> {
  const resolved = resolvePeer(name);
  if (resolved === undefined) {
    throw new Error(
      `${name} is not installed; install the peer engines with \`${PEERS_INSTALL}\` (see bench/README.md)`,
    );
  }
  return (await import(pathToFileURL(resolved).href)) as T;
}
