import { jsonEncoder, type Encoder } from '@trpc/server/adapters/ws';

const MARK = '\u0000inkboard-frame\u0000';

/**
 * tRPC's WebSocket adapter serializes every message for every subscriber. A board frame is the
 * same frozen object for all subscribers of a tick, so its JSON is made once and spliced into each
 * subscriber's small envelope.
 */
export function createFrameEncoder(): Encoder {
  const cache = new WeakMap<object, string>();
  return {
    encode(message) {
      const frame = (message as { result?: { data?: { data?: unknown } } } | null)?.result?.data?.data;
      if (frame === null || typeof frame !== 'object' || !Object.isFrozen(frame)) return jsonEncoder.encode(message);
      let json = cache.get(frame);
      if (json === undefined) {
        json = JSON.stringify(frame);
        cache.set(frame, json);
      }
      const body = json;
      return JSON.stringify(message, (_key, value: unknown) => (value === frame ? MARK : value)).replace(`"${JSON.stringify(MARK).slice(1, -1)}"`, () => body);
    },
    decode: jsonEncoder.decode,
  };
}
