export * from './createClient.js';
export * from './BoardSession.js';
