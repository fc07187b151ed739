import { connect, type Socket } from 'node:net';
import { command, message, Reader, T, type TraciValue, Writer } from './traci-wire.js';

/** Command and variable ids used here (SUMO tools/traci/constants.py). */
export const CMD = {
  getVersion: 0x00,
  simStep: 0x02,
  close: 0x7f,
  getLoop: 0xa0,
  getEdge: 0xaa,
  getVehicle: 0xa4,
  setVehicle: 0xc4,
  getSim: 0xab,
  subscribeLoop: 0xd0,
  subscribeSim: 0xdb,
} as const;
export const VAR = {
  idList: 0x00,
  lastStepVehicleNumber: 0x10,
  lastStepMeanSpeed: 0x11,
  lastStepVehicleIds: 0x12,
  lastStepOccupancy: 0x13,
  roadId: 0x50,
  route: 0x57,
  edges: 0x54,
  edgeTravelTime: 0x58,
  routeIndex: 0x69,
  time: 0x66,
  departedIds: 0x74,
  arrivedIds: 0x7a,
  findRoute: 0x86,
  rerouteTravelTime: 0x90,
  currentTravelTime: 0x5a,
} as const;
const RTYPE_OK = 0x00;

/** What a subscription result holds: object id -> variable id -> value. */
export type SubscriptionResults = Map<string, Map<number, TraciValue>>;

export class TraciError extends Error {
  constructor(
    readonly commandId: number,
    description: string,
  ) {
    super(`TraCI command 0x${commandId.toString(16)} failed: ${description}`);
  }
}

/** A request inside a batch: the command id and its payload. GETs expect a value back. */
interface Request {
  id: number;
  payload: Buffer;
  expectsValue: boolean;
}

/**
 * A small TraCI client for the commands the closed loop needs: step, subscriptions, vehicle routes,
 * per-vehicle travel times, rerouting and SUMO's router. Every call may batch many commands into one
 * TCP message, which is what keeps a minute of 1,500 vehicles' routes to one round trip.
 */
export class TraciClient {
  private socket: Socket | null = null;
  private buf: Buffer = Buffer.alloc(0);
  private waiting: { resolve(b: Buffer): void; reject(e: Error): void } | null = null;
  private closedError: Error | null = null;

  static async connect(port: number, host = '127.0.0.1', timeoutMs = 30_000): Promise<TraciClient> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const c = new TraciClient();
        await c.open(port, host);
        return c;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private open(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host });
      s.setNoDelay(true);
      s.once('connect', () => {
        this.socket = s;
        s.off('error', reject);
        s.on('error', (e) => this.fail(e));
        s.on('close', () => this.fail(new Error('TraCI connection closed')));
        s.on('data', (d) => this.onData(d));
        resolve();
      });
      s.once('error', reject);
    });
  }

  private fail(e: Error) {
    this.closedError ??= e;
    const w = this.waiting;
    this.waiting = null;
    w?.reject(e);
  }

  private onData(d: Buffer) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    if (this.buf.length < 4) return;
    const len = this.buf.readInt32BE(0);
    if (this.buf.length < len) return;
    const msg = this.buf.subarray(4, len);
    this.buf = this.buf.subarray(len);
    const w = this.waiting;
    this.waiting = null;
    w?.resolve(msg);
  }

  private exchange(reqs: Request[]): Promise<Buffer> {
    if (this.closedError) return Promise.reject(this.closedError);
    if (this.waiting) return Promise.reject(new Error('TraCI: one request at a time'));
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket!.write(message(reqs.map((r) => command(r.id, r.payload))));
    });
  }

  /** Sends the requests in one message; throws on the first failed command. */
  async batch(reqs: Request[]): Promise<TraciValue[]> {
    const out = await this.batchSettled(reqs);
    for (const v of out) if (v instanceof TraciError) throw v;
    return out as TraciValue[];
  }

  /**
   * Sends the requests in one message; one value per request (null for SETs), or the TraciError of a
   * command SUMO refused (it goes on with the next command of the message).
   */
  async batchSettled(reqs: Request[]): Promise<Array<TraciValue | TraciError>> {
    if (!reqs.length) return [];
    const r = new Reader(await this.exchange(reqs));
    const out: Array<TraciValue | TraciError> = [];
    for (const req of reqs) {
      const status = r.commandHead();
      const result = r.ubyte();
      const description = r.string();
      r.pos = status.end;
      if (result !== RTYPE_OK) {
        out.push(new TraciError(req.id, description));
        continue;
      }
      if (!req.expectsValue) {
        out.push(null);
        continue;
      }
      const resp = r.commandHead();
      r.ubyte(); // variable id
      r.string(); // object id
      out.push(r.typed());
      r.pos = resp.end;
    }
    return out;
  }

  static get(domain: number, variable: number, objectId: string, params?: (w: Writer) => void): Request {
    const w = new Writer().ubyte(variable).string(objectId);
    params?.(w);
    return { id: domain, payload: w.bytes(), expectsValue: true };
  }

  static set(domain: number, variable: number, objectId: string, value: (w: Writer) => void): Request {
    const w = new Writer().ubyte(variable).string(objectId);
    value(w);
    return { id: domain, payload: w.bytes(), expectsValue: false };
  }

  async version(): Promise<{ api: number; name: string }> {
    const r = new Reader(
      await this.exchange([{ id: CMD.getVersion, payload: Buffer.alloc(0), expectsValue: true }]),
    );
    const st = r.commandHead();
    r.pos = st.end;
    r.commandHead();
    return { api: r.int(), name: r.string() };
  }

  /** Subscribes to variables of one object; their values come back with every step. */
  async subscribe(domain: number, objectId: string, vars: number[]): Promise<void> {
    const w = new Writer().double(0).double(1e9).string(objectId).ubyte(vars.length);
    for (const v of vars) w.ubyte(v);
    const r = new Reader(await this.exchange([{ id: domain, payload: w.bytes(), expectsValue: false }]));
    const st = r.commandHead();
    const result = r.ubyte();
    const description = r.string();
    r.pos = st.end;
    if (result !== RTYPE_OK) throw new TraciError(domain, description);
  }

  /** Advances the simulation to `targetS` (simulated seconds); returns the subscription results. */
  async step(targetS: number): Promise<SubscriptionResults> {
    const r = new Reader(
      await this.exchange([
        { id: CMD.simStep, payload: new Writer().double(targetS).bytes(), expectsValue: false },
      ]),
    );
    const st = r.commandHead();
    const result = r.ubyte();
    const description = r.string();
    r.pos = st.end;
    if (result !== RTYPE_OK) throw new TraciError(CMD.simStep, description);
    const out: SubscriptionResults = new Map();
    const n = r.int();
    for (let i = 0; i < n; i++) {
      const head = r.commandHead();
      const objectId = r.string();
      const count = r.ubyte();
      const vars = new Map<number, TraciValue>();
      for (let k = 0; k < count; k++) {
        const varId = r.ubyte();
        const ok = r.ubyte() === RTYPE_OK;
        const v = r.typed();
        vars.set(varId, ok ? v : null);
      }
      out.set(objectId, vars);
      r.pos = head.end;
    }
    return out;
  }

  async close(): Promise<void> {
    if (!this.socket || this.closedError) return;
    try {
      await this.exchange([{ id: CMD.close, payload: Buffer.alloc(0), expectsValue: false }]);
    } catch {
      /* SUMO may close first */
    }
    this.socket.destroy();
  }
}

/** Typed writers for SET payloads. */
export const put = {
  stringList: (l: string[]) => (w: Writer) => w.ubyte(T.stringList).stringList(l),
  /** vehicle.setAdaptedTraveltime(veh, edge, seconds) for the whole simulation: compound(edge, time). */
  edgeTime: (edge: string, seconds: number) => (w: Writer) =>
    w.ubyte(T.compound).int(2).ubyte(T.string).string(edge).ubyte(T.double).double(seconds),
  emptyCompound: () => (w: Writer) => w.ubyte(T.compound).int(0),
  /** simulation.findRoute(from, to, vType, depart, routingMode) */
  findRoute: (from: string, to: string) => (w: Writer) =>
    w
      .ubyte(T.compound)
      .int(5)
      .ubyte(T.string)
      .string(from)
      .ubyte(T.string)
      .string(to)
      .ubyte(T.string)
      .string('')
      .ubyte(T.double)
      .double(-1)
      .ubyte(T.int)
      .int(0),
};
