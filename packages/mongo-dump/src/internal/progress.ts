/** Progress of a dump or load, one event per finished step; `done` of `total` steps of the phase. */
export interface MongoProgress {
  phase: 'schema' | 'documents' | 'collections' | 'indexes' | 'views';
  database: string;
  collection?: string;
  done: number;
  total: number;
}
