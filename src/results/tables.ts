/** The tables `export --table` writes. */
export const EXPORT_TABLES = ['trials', 'summary', 'selections', 'coefficients', 'folds', 'predictions'] as const;
export type ExportTable = (typeof EXPORT_TABLES)[number];
