export * from './createClient.js';
export * from './BoardSession.js';
export * from './helpers.js';
export * from './Lane.js';
export * from './images.js';
export * from './guests.js';
