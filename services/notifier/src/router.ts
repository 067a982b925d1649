/**
 * `@regwatch/notifier/router`: only the routing of alerts to delivery jobs, for the classifier, which
 * routes each alert in the job that made it. Kept apart from the package's main entry so the
 * classifier does not load the delivery side (SMTP, HTTP client, renderers).
 */

export { retryScheduleOf } from './delivery/retry.js';
export {
  type AlertRouter,
  type AlertRouterDeps,
  createAlertRouter,
  QUEUED_MARK_SECONDS,
} from './notify/alert-router.js';
export type { RouteOutcome } from './notify/route-alert.js';
