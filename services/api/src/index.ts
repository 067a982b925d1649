export { type ApiDeps, buildServer, startApi } from './server.js';
