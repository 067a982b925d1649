export {
  bullPrefix,
  type ClusterNode,
  type ConnectionRole,
  createRedis,
  DEFAULT_REDIS_URL,
  duplicateRedis,
  isCluster,
  masterNodes,
  parseClusterNodes,
  type RedisTarget,
  scanKeys,
  stateKey,
  waitForRedis,
} from './connection.js';
export {
  createShapeGate,
  type Heartbeat,
  JOB_SHAPES,
  JOB_SHAPES_READ,
  readHeartbeats,
  type ShapeGate,
  startHeartbeat,
} from './heartbeat.js';
export { closeAll, onShutdown } from './lifecycle.js';
export { countJobs, createQueue, DEFAULT_JOB_OPTIONS } from './queues.js';
export { type GuardVerdict, judgeRedisSettings, type RedisSettings, readRedisSettings } from './redis-guard.js';
export { defaultBackoff, type JobDefinition, startWorker, toProcessor, type WorkerHandle } from './runner.js';
export { isNoScript, runScript, TickPipeline, tickPipelineOf } from './tick-pipeline.js';
