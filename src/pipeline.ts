import { type Diagnostic, hasErrors, sortDiagnostics } from './diagnostics.js';
import type { LbInput, Model } from './model.js';
import { normalize } from './normalize.js';
import { correlate, parseSource, type ParsedSource } from './parse.js';
import { checkRules } from './rules.js';
import { checkSchema, KEY_CODES } from './schema-check.js';

export interface CompileResult {
  /** Present when there are no errors. */
  model?: Model;
  input?: LbInput;
  diagnostics: Diagnostic[];
  source: ParsedSource;
}

/**
 * The whole front half of lbbake: YAML text → parse → schema → normalize → semantic rules.
 * Pure and synchronous. Each stage reports all its problems; the run stops between stages.
 * `model` is set only when no stage found an error.
 */
export function compile(text: string): CompileResult {
  const source = parseSource(text);
  const finish = (diags: Diagnostic[], extra: Partial<CompileResult> = {}): CompileResult => ({
    diagnostics: sortDiagnostics(correlate(source, diags, KEY_CODES)),
    source,
    ...extra,
  });
  if (hasErrors(source.diagnostics)) return finish(source.diagnostics);
  const schemaDiags = checkSchema(source.data ?? null);
  if (hasErrors(schemaDiags)) return finish([...source.diagnostics, ...schemaDiags]);
  const input = source.data as LbInput;
  const model = normalize(input);
  const diags = [...source.diagnostics, ...checkRules(input, model)];
  return finish(diags, hasErrors(diags) ? { input } : { input, model });
}
