// The `quiverdb/langchain` entry: a LangChain.js vector store over a QuiverDB collection. Loads
// @langchain/core (an optional peer dependency); `quiverdb` itself never imports this module.
export {
  type QuiverAddOptions,
  type QuiverDeleteParams,
  type QuiverSearchMode,
  QuiverVectorStore,
  type QuiverVectorStoreConfig,
} from './vector-store.js';
