// ESM entry point of the Node package: `import { Store, simulate } from 'vap'`
// (or `import vap from 'vap'`). The CommonJS index.js is the single source.
import { createRequire } from 'node:module'

const vap = createRequire(import.meta.url)('./index.js')

export const {
  Session,
  Store,
  simulate,
  simulateAsync,
  loadDir,
  loadDirAsync,
  fromTables,
  Timeline,
  roomTimeline,
  roomTimelineAsync,
  estimateOffset,
  asofJoin,
  fold,
  builtinLexicon,
  lexiconCount,
  attribute,
  attributeAsync,
  defaultFactors,
  attributionTimeline,
  timelineFromColumns,
  Attribution,
  Decomposition,
  RoomModel,
  pelt,
  dynp,
  binseg,
  topMoments,
  momentEvents,
  setNumThreads,
  numThreads,
  version,
  __panicForTests,
  ERROR_CODES,
  TABLE_NAMES,
} = vap
export default vap
