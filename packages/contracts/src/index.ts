export * from './alert.js';
export * from './classification.js';
export * from './errors.js';
export * from './feed.js';
export * from './issues.js';
export * from './jobs.js';
export * from './subscription.js';
export * from './taxonomy.js';
