import { Document } from 'yaml';
import { CLOUD_CONFIG_HEADER } from '../facts/alphabets.js';

/**
 * Serializes a cloud-config object: `#cloud-config`, then `# comment`, then the YAML body
 * (literal blocks for multi-line strings, no line folding). Deterministic for equal input.
 */
export function cloudConfigText(comment: string, body: object): string {
  const doc = new Document(body);
  doc.commentBefore = ` ${comment}`;
  const text = doc.toString({ lineWidth: 0, blockQuote: 'literal' });
  return `${CLOUD_CONFIG_HEADER}\n${text}`;
}
