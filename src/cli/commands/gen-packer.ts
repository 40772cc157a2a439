import { join } from 'node:path';
import type { Argv } from 'yargs';
import { replaceable, replaceTree } from '../../io/packer-output.js';
import { packerProject, type Profile, PROFILES } from '../../render/packer/project.js';
import { checkDrift, extraFiles } from '../../io/drift.js';
import { type Common, type Io, loadModel, reportDrift } from '../common.js';
import { EXIT, UsageError } from '../../diagnostics/errors.js';

export const builder = (y: Argv) =>
  y
    .positional('file', { type: 'string', demandOption: true })
    .option('o', { alias: 'output', type: 'string', describe: 'output directory (replaced as a whole)' })
    .option('profile', {
      type: 'string',
      choices: ['modern', '1.6', 'both'] as const,
      default: 'both',
      describe: 'Packer profile: modern (>= 1.7, required_plugins), 1.6 (Packer 1.6.x), or both (DIR/modern and DIR/1.6)',
    })
    .option('check', { type: 'boolean', default: false, describe: 'write nothing; exit 1 with a diff if DIR differs from what lb.yaml generates (for CI)' });

export function handler(a: Common & { o?: string; profile: Profile | 'both'; check: boolean }, io: Io): number {
  const m = loadModel(a, io);
  if (typeof m === 'number') return m;
  const dir = a.o ?? join(io.cwd, 'output', m.name, 'packer');
  if (a.check) {
    const profiles = a.profile === 'both' ? PROFILES : [a.profile];
    const files = packerProject(m, { profiles });
    const want = new Map([...files].map(([k, f]) => [k, f.content]));
    return reportDrift([...checkDrift(want, dir), ...extraFiles(dir, want)], io);
  }
  if (!replaceable(dir)) {
    throw new UsageError(`${dir} exists and was not written by gen-packer; pick an empty or new directory with -o`);
  }
  const profiles = a.profile === 'both' ? PROFILES : [a.profile];
  const files = packerProject(m, { profiles });
  replaceTree(dir, files);
  if (!a.json) {
    const first = profiles.includes('modern') ? 'modern' : '1.6';
    io.stderr(
      `wrote a Packer project (${files.size} files; profile${profiles.length > 1 ? 's' : ''} ${profiles.join(', ')}) under ${dir}\n` +
        `next: ${first === 'modern' ? `packer init ${join(dir, first)} && ` : ''}packer build -only=qemu.lb ${join(dir, first)}\n`,
    );
  }
  return EXIT.OK;
}
