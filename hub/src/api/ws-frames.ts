import { ID_PATTERN, compileValidator } from '@cityflow/protocol';
import { type Static, Type } from '@sinclair/typebox';

/** The largest frame a client may send (the WebSocket's maxPayload is the same). */
export const WS_MAX_FRAME_BYTES = 65_536;

/** What a `/ws/live` client may send: a road subscription (or every road), or an application ping. */
export const ClientFrameSchema = Type.Union([
  Type.Object({
    type: Type.Literal('subscribe'),
    roads: Type.Union([
      Type.Literal('all'),
      Type.Array(Type.String({ pattern: ID_PATTERN }), { maxItems: 5000 }),
    ]),
  }),
  Type.Object({ type: Type.Literal('ping') }),
]);
export type ClientFrame = Static<typeof ClientFrameSchema>;

const check = compileValidator(ClientFrameSchema);

/**
 * Decodes one client frame at the trust boundary: never throws; anything not small, JSON and of a
 * known shape comes back as an error the socket answers with a `CF_INVALID_MESSAGE` frame.
 */
export function decodeClientFrame(
  raw: string | Buffer,
): { ok: true; frame: ClientFrame } | { ok: false; message: string } {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  if (Buffer.byteLength(text) > WS_MAX_FRAME_BYTES)
    return { ok: false, message: `frame over ${WS_MAX_FRAME_BYTES} bytes` };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, message: 'not JSON; expected {"type":"subscribe","roads":[...]|"all"}' };
  }
  const r = check(v);
  return r.ok
    ? { ok: true, frame: r.value }
    : { ok: false, message: `expected {"type":"subscribe","roads":[...]|"all"}: ${r.errors.join('; ')}` };
}
