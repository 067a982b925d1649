export {
  type AuthContext,
  admitRoles,
  authOf,
  authPlugin,
  hasRole,
  makePublic,
  type RoleKind,
  requireRole,
} from './auth/plugin.js';
export { hashToken, type Role, RoleSchema, type TokenRecord, TokenStore, teamOf } from './auth/tokens.js';
export type { ApiContext } from './context.js';
export { type AlertFilter, type AlertPage, queryAlerts } from './domain/alert-query.js';
export { readCatalog } from './domain/catalog-view.js';
export { listProblems, type ProblemDelivery, type ProblemState, replayOne } from './domain/deliveries.js';
export { buildTestAlert, sendTestAlert, TEST_FEED_ID, type TestSend } from './domain/test-alert.js';
export { ApiError, ErrorBodySchema } from './http/errors.js';
export { type ApiDeps, buildServer, startApi } from './server.js';
