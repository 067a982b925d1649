/**
 * The seeded PRNG (mulberry32) the routing bench already uses for its populations, so a bench or
 * chaos run's data can be reproduced from its seed with the same generator.
 */
export { seededRng } from '@regwatch/notifier';
