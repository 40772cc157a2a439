import { join } from 'node:path';
import type { Argv } from 'yargs';
import { notReplaceable, replaceTree } from '../../io/packer-output.js';
import { packerProject, type Profile, PROFILES } from '../../render/packer/project.js';
import { checkDrift, extraFiles } from '../../io/drift.js';
import { type Common, type Io, loadModel, printJson, reportDrift } from '../common.js';
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
  const loaded = loadModel(a, io);
  if (typeof loaded === 'number') return loaded;
  const m = loaded.model;
  const dir = a.o ?? join(io.cwd, 'output', m.name, 'packer');
  const profiles = a.profile === 'both' ? PROFILES : [a.profile];
  const files = packerProject(m, { profiles });
  if (a.check) {
    // the project holds no secrets (the image gets placeholders), so it compares as is
    const want = new Map([...files].map(([k, f]) => [k, f.content]));
    const { drifts, notes } = checkDrift(want, dir);
    return reportDrift(a, io, loaded, [...drifts, ...extraFiles(dir, want)], notes);
  }
  const refused = notReplaceable(dir);
  if (refused) throw new UsageError(refused);
  const written = replaceTree(dir, files);
  if (a.json) printJson(a, io, loaded.diagnostics, { wrote: written });
  else {
    const first = profiles.includes('modern') ? 'modern' : '1.6';
    io.stderr(
      `wrote a Packer project (${files.size} files; profile${profiles.length > 1 ? 's' : ''} ${profiles.join(', ')}) under ${dir}\n` +
        `next: ${first === 'modern' ? `packer init ${join(dir, first)} && ` : ''}packer build -only=qemu.lb ${join(dir, first)}\n`,
    );
  }
  return EXIT.OK;
}
