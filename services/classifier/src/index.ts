export { type ClassifyItemDeps, type ClassifyOutcome, classifyItem } from './classify/classify-item.js';
export { toAlert } from './classify/to-alert.js';
export { type ClassifierDeps, startClassifier } from './worker.js';
