// Builds QuiverDB's Node-API addon for this machine into prebuilds/<platform>-<arch>/ with
// prebuildify (the layout src/native-loader.ts and node-gyp-build read): one binary per platform
// serves every Node >= 20 and every Electron, so installing the package needs no compiler.
//   node scripts/prebuild.mjs                 this platform (npm pack runs it as prepack)
//   node scripts/prebuild.mjs --arch arm64    cross-build on Linux; set CC, CXX and --strip-bin
//                                             (e.g. CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++
//                                              node scripts/prebuild.mjs --arch arm64 --strip-bin aarch64-linux-gnu-strip)
//   node scripts/prebuild.mjs --clean         remove prebuilds/ (postpack runs it, so a later build/Release
//                                             is not shadowed by a stale prebuild in a checkout)
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);

if (args.includes('--clean')) {
  rmSync(join(root, 'prebuilds'), { recursive: true, force: true });
  process.exit(0);
}

// Linux binaries are tagged glibc or musl (Alpine) so both can sit in prebuilds/linux-x64/.
const libcTag = process.platform === 'linux' ? ['--tag-libc'] : [];
// Node-API binaries do not depend on the Node version they are built with: build against the
// running Node, whose headers node-gyp already has, rather than download the newest release's.
const target = args.includes('--target') || args.includes('-t') ? [] : ['--target', process.versions.node];
// The running Node's own headers, when its installation has them, spare node-gyp a download.
const prefix = join(dirname(process.execPath), '..');
const localHeaders = existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? { npm_config_nodedir: prefix } : {};
const prebuildify = join(root, 'node_modules', 'prebuildify', 'bin.js');
const result = spawnSync(process.execPath, [prebuildify, '--napi', '--strip', ...libcTag, ...target, ...args], {
  cwd: root,
  stdio: 'inherit',
  env: { ...localHeaders, ...process.env, JOBS: process.env.JOBS ?? '2' },
});
// prebuildify moves the binary out of build/Release; put a copy back so this checkout keeps loading it.
if (result.status === 0 && !args.includes('--arch')) {
  const folder = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  const built = readdirSync(folder).find((file) => file.endsWith('.node'));
  if (built !== undefined) copyFileSync(join(folder, built), join(root, 'build', 'Release', 'quiver_native.node'));
}
process.exit(result.status ?? 1);
