/**
 * TraCI wire format (SUMO's TCP control protocol, https://sumo.dlr.de/docs/TraCI/Protocol.html):
 * a message is `int32 total length` + commands; a command is `ubyte length` (or `0` + `int32 length`
 * when longer than 255) + `ubyte id` + payload. Values are tagged with a type byte. Only the types the
 * closed loop needs are written; every type SUMO can answer with is read.
 */
export const T = {
  ubyte: 0x07,
  byte: 0x08,
  int: 0x09,
  double: 0x0b,
  string: 0x0c,
  stringList: 0x0e,
  compound: 0x0f,
  doubleList: 0x10,
  color: 0x11,
  position2d: 0x01,
  position3d: 0x03,
  roadPosition: 0x04,
  lonLat: 0x00,
  lonLatAlt: 0x02,
  polygon: 0x06,
} as const;

export type TraciValue = number | string | string[] | number[] | TraciValue[] | null;

/** Growable byte writer. */
export class Writer {
  private buf = Buffer.alloc(256);
  private n = 0;

  private room(k: number) {
    if (this.n + k <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.n + k));
    this.buf.copy(next, 0, 0, this.n);
    this.buf = next;
  }
  ubyte(v: number) {
    this.room(1);
    this.buf.writeUInt8(v, this.n++);
    return this;
  }
  int(v: number) {
    this.room(4);
    this.buf.writeInt32BE(v, this.n);
    this.n += 4;
    return this;
  }
  double(v: number) {
    this.room(8);
    this.buf.writeDoubleBE(v, this.n);
    this.n += 8;
    return this;
  }
  string(s: string) {
    const b = Buffer.from(s, 'utf8');
    this.int(b.length);
    this.room(b.length);
    b.copy(this.buf, this.n);
    this.n += b.length;
    return this;
  }
  stringList(l: string[]) {
    this.int(l.length);
    for (const s of l) this.string(s);
    return this;
  }
  bytes(): Buffer {
    return this.buf.subarray(0, this.n);
  }
}

/** One command with its length header (short form up to 255 bytes, long form above). */
export function command(id: number, payload: Buffer): Buffer {
  const short = payload.length + 2 <= 255;
  const head = short ? Buffer.from([payload.length + 2, id]) : Buffer.alloc(6);
  if (!short) {
    head.writeUInt8(0, 0);
    head.writeInt32BE(payload.length + 6, 1);
    head.writeUInt8(id, 5);
  }
  return Buffer.concat([head, payload]);
}

/** A message: total length (including its own 4 bytes) + commands. */
export function message(commands: Buffer[]): Buffer {
  const body = Buffer.concat(commands);
  const head = Buffer.alloc(4);
  head.writeInt32BE(body.length + 4, 0);
  return Buffer.concat([head, body]);
}

/** Sequential reader over one response message. */
export class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  ubyte(): number {
    return this.buf.readUInt8(this.pos++);
  }
  byte(): number {
    return this.buf.readInt8(this.pos++);
  }
  int(): number {
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  double(): number {
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }
  string(): string {
    const n = this.int();
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  stringList(): string[] {
    const n = this.int();
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.string());
    return out;
  }
  /** A command header: returns its id and the offset where the command ends. */
  commandHead(): { id: number; end: number } {
    const start = this.pos;
    let len = this.ubyte();
    if (len === 0) len = this.int();
    return { id: this.ubyte(), end: start + len };
  }
  /** A value preceded by its type byte. */
  typed(): TraciValue {
    const t = this.ubyte();
    switch (t) {
      case T.ubyte:
        return this.ubyte();
      case T.byte:
        return this.byte();
      case T.int:
        return this.int();
      case T.double:
        return this.double();
      case T.string:
        return this.string();
      case T.stringList:
        return this.stringList();
      case T.doubleList: {
        const n = this.int();
        return Array.from({ length: n }, () => this.double());
      }
      case T.compound: {
        const n = this.int();
        return Array.from({ length: n }, () => this.typed());
      }
      case T.color:
        this.pos += 4;
        return null;
      case T.position2d:
        return [this.double(), this.double()];
      case T.position3d:
        return [this.double(), this.double(), this.double()];
      case T.roadPosition: {
        const edge = this.string();
        const pos = this.double();
        this.ubyte();
        return [edge, pos];
      }
      case T.polygon: {
        const n = this.ubyte();
        return Array.from({ length: n * 2 }, () => this.double());
      }
      default:
        throw new Error(`TraCI: unknown value type 0x${t.toString(16)} at byte ${this.pos - 1}`);
    }
  }
}
