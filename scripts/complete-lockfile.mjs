// Adds package-lock.json entries for platform-specific optional packages (biome's and rollup's
// prebuilt binaries for other systems) that a registry mirror does not serve. Without them
// `npm ci` rejects the lock as out of sync; with their os/cpu/libc recorded, npm skips them on
// other platforms and fetches nothing. Run it after `npm install` changes the lock:
//   node scripts/complete-lockfile.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const systems = ['android', 'darwin', 'linux', 'win32', 'freebsd', 'openbsd', 'netbsd', 'sunos', 'aix', 'openharmony'];
const cpus = ['arm64', 'x64', 'arm', 'ia32', 'loong64', 'ppc64', 'riscv64', 's390x', 'mips64el'];

function platformOf(name) {
  const base = `-${name.split('/').pop()}-`;
  const os = systems.find((system) => base.includes(`-${system}-`));
  let cpu = cpus.find((candidate) => base.includes(`-${candidate}-`));
  if (base.includes('eabihf')) cpu = 'arm';
  const libc = base.includes('musl') ? 'musl' : os === 'linux' ? 'glibc' : undefined;
  return { os, cpu, libc };
}

let added = 0;
for (const entry of Object.values(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (lock.packages[key]) continue;
    const { os, cpu, libc } = platformOf(name);
    if (!os || !cpu) {
      console.warn(`cannot tell the platform of ${name}; left out`);
      continue;
    }
    lock.packages[key] = {
      version,
      cpu: [cpu],
      ...(entry.dev ? { dev: true } : {}),
      ...(entry.license ? { license: entry.license } : {}),
      ...(libc ? { libc: [libc] } : {}),
      optional: true,
      os: [os],
    };
    added++;
  }
}
const [root, ...rest] = Object.entries(lock.packages);
lock.packages = Object.fromEntries([root, ...rest.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${added} lock entries`);
