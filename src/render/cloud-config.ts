import { Document, isMap, isSeq } from 'yaml';
import { CLOUD_CONFIG_HEADER } from '../facts/alphabets.js';

/**
 * Serializes a cloud-config object: `#cloud-config`, then `# comment`, then the YAML body
 * (literal blocks for multi-line strings, no line folding, one line per runcmd command). `notes` puts a comment above the
 * write_files entry of that path. Deterministic for equal input.
 */
export function cloudConfigText(comment: string, body: object, notes: Record<string, string> = {}): string {
  const doc = new Document(body);
  doc.commentBefore = ` ${comment}`;
  const files = isMap(doc.contents) ? doc.contents.get('write_files') : undefined;
  if (isSeq(files)) {
    for (const item of files.items) {
      if (!isMap(item)) continue;
      const path = item.get('path');
      if (typeof path === 'string' && notes[path] !== undefined) item.commentBefore = notes[path].split('\n').map((l) => ` ${l}`).join('\n');
    }
  }
  // each command on one line: - [systemctl, start, lbbake-agent.service]
  const runcmd = isMap(doc.contents) ? doc.contents.get('runcmd') : undefined;
  if (isSeq(runcmd)) for (const cmd of runcmd.items) if (isSeq(cmd)) cmd.flow = true;
  const text = doc.toString({ lineWidth: 0, blockQuote: 'literal' });
  return `${CLOUD_CONFIG_HEADER}\n${text}`;
}
