import { GUEST_TOKEN_PREFIX, TOKEN_PREFIX } from '@inkboard/protocol';

/**
 * What must never reach a log line, with what replaces it: a share code in a `/join/<code>` path
 * (the web app's link; Fastify logs every request's URL and the default 404 names it), a credential
 * or code in a query string, and an API token anywhere (an error message quoting it, a mistaken
 * `?token=`). Cookies and the Authorization header are never logged (Fastify's request serializer
 * leaves headers out).
 */
const SECRETS: readonly [RegExp, string][] = [
  // (and the public links of issue 18: `/g/<code>` for guests, `/embed/<code>` for embeds)
  [/(\/(?:join|g|embed)\/)[^/?#\s"'\\]+/g, '$1[redacted]'],
  [/([?&;](?:token|access_token|code|session|password)=)[^&#;\s"'\\]+/gi, '$1[redacted]'],
  [new RegExp(`\\b${TOKEN_PREFIX}[A-Za-z0-9_-]{8,}`, 'g'), `${TOKEN_PREFIX}[redacted]`],
  [new RegExp(`\\b${GUEST_TOKEN_PREFIX}[A-Za-z0-9_-]{8,}`, 'g'), `${GUEST_TOKEN_PREFIX}[redacted]`],
  // A tRPC call sent as GET carries its input in the URL (`?input={"code":"..."}`): a share code or a
  // password there, URL-encoded or raw (then JSON-escaped in the log line).
  [/(%22(?:code|password|currentPassword|newPassword|token)%22(?:%3A|:)%22)(?:%5C%22|(?!%22)[^\s"&#])*/gi, '$1[redacted]'],
  // (raw: the value ends at an unescaped quote, `\"` in the log line; `\\\"` is a quote inside it)
  [/(\\"(?:code|password|currentPassword|newPassword|token)\\":\\")(?:\\\\\\"|\\\\\\\\|[^"\\])*/g, '$1[redacted]'],
];
const MAYBE_SECRET = new RegExp(`/join/|/g/|/embed/|=|${TOKEN_PREFIX}|${GUEST_TOKEN_PREFIX}|%22|\\\\"`);

/** A serialized log line without share codes or tokens (pino's `hooks.streamWrite`). */
export function redactLogLine(line: string): string {
  if (!MAYBE_SECRET.test(line)) return line;
  for (const [pattern, replacement] of SECRETS) line = line.replace(pattern, replacement);
  return line;
}
