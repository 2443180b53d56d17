// Yoga keeps parsed documents (and parse errors) by their text, so that an operation sent again is
// parsed once. Its default caches hold 1,024 entries whatever their size: 1,024 distinct documents
// of 1 MB would keep a gigabyte. These keep at most 20 MB, each entry counted by the memory it
// holds (its text, and for a document about 320 bytes per token of its syntax tree), and none
// larger than an app's operation: a huge one is parsed again, or refused again at the token limit,
// which is as quick as looking it up.
import type { DocumentNode } from 'graphql';
import { LRUCache } from 'lru-cache';

const ENTRIES_MAX = 1024;
const DOCUMENTS_MAX_BYTES = 16 * 1024 * 1024;
const DOCUMENT_MAX_BYTES = 512 * 1024;
const ERRORS_MAX_BYTES = 4 * 1024 * 1024;
const ERROR_MAX_BYTES = 64 * 1024;
const BYTES_PER_TOKEN = 320;

/** The text's UTF-16 bytes, and the tree's tokens (graphql-js keeps them linked from the document). */
function documentBytes(document: DocumentNode, text: string): number {
  let tokens = 0;
  for (let token = document.loc?.startToken ?? null; token; token = token.next) tokens++;
  return 2 * text.length + BYTES_PER_TOKEN * tokens;
}

/** Yoga's parserAndValidationCache option: its document and parse-error caches, bounded in bytes. */
export function boundedParseCaches() {
  return {
    documentCache: new LRUCache<string, DocumentNode>({
      max: ENTRIES_MAX,
      maxSize: DOCUMENTS_MAX_BYTES,
      maxEntrySize: DOCUMENT_MAX_BYTES,
      sizeCalculation: documentBytes,
    }),
    errorCache: new LRUCache<string, object>({
      max: ENTRIES_MAX,
      maxSize: ERRORS_MAX_BYTES,
      maxEntrySize: ERROR_MAX_BYTES,
      sizeCalculation: (_error, text) => 2 * text.length + 1024,
    }),
  };
}
