/** Generated files: root-relative path (no leading slash) → content. Insertion order is stable. */
export type FileSet = Map<string, FileEntry>;

export interface FileEntry {
  content: string;
  /** Octal mode the file gets on a node, e.g. '0600'. */
  mode: string;
  owner: string;
}
