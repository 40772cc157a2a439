/**
 * vitest sequencer: vitest's own order, except that the version-matrix suites run last. Their
 * chroots are built in the background from the start of the run (global-setup.ts); run last, a
 * cold build overlaps the other suites instead of holding a worker while it waits.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

export default class MatrixLastSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const isMatrix = (f: TestSpecification) => /[\\/]test[\\/]matrix[\\/]/.test(f.moduleId);
    return [...sorted.filter((f) => !isMatrix(f)), ...sorted.filter(isMatrix)];
  }
}
