export * from './api.js';
export * from './congestion.js';
export * from './errors.js';
export * from './messages.js';
export * from './network.js';
export * from './reading.js';
export * from './topics.js';
export * from './validation.js';
