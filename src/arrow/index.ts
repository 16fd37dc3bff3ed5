// Apache Arrow import and export for collections. Internal: the Collection methods upsertArrow,
// toArrow, toArrowTable and exportArrow delegate here. Never imports src/collection/ or storage/.
export {
  type AnnouncedSettings,
  type ExportedSettings,
  readSettings,
  settingsMetadata,
} from './collection-settings.js';
export { DEFAULT_ID_COLUMN, DEFAULT_VECTOR_COLUMN, SCHEMA_DIM, SCHEMA_METRIC } from './conventions.js';
export {
  type ArrowExportRecord,
  type ArrowExportSource,
  arrowTable,
  exportArrowFile,
  planExport,
  recordBatches,
} from './export-arrow.js';
export { batchesOf, ipcFormatOf, readIpcSchema, writeIpcFile } from './ipc-files.js';
export { type ArrowImportTarget, type ColumnBatch, upsertArrow } from './upsert-arrow.js';
