/**
 * vitest globalSetup: starts building the version matrix's Debian chroots (in parallel, in the
 * background) as soon as `npm test` starts, so a cold machine builds them while the other suites
 * run; the matrix suites (sorted last, see sequencer.ts) then find them built, or wait for the
 * build in progress (build-chroot.sh holds a lock per suite). Only when the run includes the
 * matrix, as root, with debootstrap; at low CPU and I/O priority. A build still running when the run ends is killed (its
 * process group; a half-built chroot is never marked done and is rebuilt next time).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { BUILD_SCRIPT, CHROOT_SUITES } from './matrix.js';

function runsMatrix(): boolean {
  // `vitest run [filters]`: no filter, or one naming the matrix
  const filters = process.argv.slice(2).filter((a, i, all) => !a.startsWith('-') && a !== 'run' && !(all[i - 1] ?? '').match(/^--(config|project|reporter|pool)$/));
  return filters.length === 0 || filters.some((f) => f.includes('matrix'));
}

export default function setup(): () => Promise<void> {
  const builds: ChildProcess[] = [];
  const haveDebootstrap = spawnSync('sh', ['-c', 'command -v debootstrap']).status === 0;
  if (process.getuid?.() === 0 && haveDebootstrap && runsMatrix()) {
    for (const suite of CHROOT_SUITES) {
      // niced: the live suites running meanwhile measure failovers
      const child = spawn('nice', ['-n', '15', 'ionice', '-c', '3', 'bash', BUILD_SCRIPT, suite], { detached: true, stdio: 'ignore' });
      child.on('error', () => undefined);
      builds.push(child);
    }
  }
  return async () => {
    for (const b of builds) {
      if (b.exitCode !== null || b.signalCode !== null || b.pid === undefined) continue;
      try {
        process.kill(-b.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
}
