import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ChildGroup } from '../src/demo/children.js';

const log = pino({ level: 'silent' });
const node = (code: string) => ({ command: process.execPath, args: ['-e', code] });

function capture() {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += d));
  return { out, text: () => text };
}

describe('demo child processes', () => {
  it("prefixes every line of a child's stdout and stderr with its name", async () => {
    const { out, text } = capture();
    const group = new ChildGroup(log, () => {}, out);
    const child = group.start({ name: 'hub', ...node("console.log('one\\ntwo'); console.error('oops')") });
    await new Promise((r) => child.once('close', r));
    expect(text().split('\n').sort()).toEqual(['', '[hub] one', '[hub] oops', '[hub] two']);
  });

  it('reports a child that exits on its own, with its code', async () => {
    const died = new Promise<[string, number | null]>((resolve) => {
      const group = new ChildGroup(log, (name, code) => resolve([name, code]), new PassThrough());
      group.start({ name: 'agent-1', ...node('setTimeout(() => process.exit(3), 20)') });
    });
    expect(await died).toEqual(['agent-1', 3]);
  });

  it('stops children in order with SIGTERM, killing one that ignores it after the grace period', async () => {
    const unexpected: string[] = [];
    const group = new ChildGroup(log, (n) => unexpected.push(n), new PassThrough());
    const ready = (c: ReturnType<ChildGroup['start']>) => new Promise((r) => c.stdout!.once('data', r));
    const stubborn = group.start({
      name: 'stubborn',
      ...node("process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)"),
    });
    const polite = group.start({ name: 'polite', ...node("console.log('up'); setInterval(() => {}, 1000)") });
    await Promise.all([ready(stubborn), ready(polite)]);
    const order: string[] = [];
    stubborn.once('exit', (_c, sig) => order.push(`stubborn:${sig}`));
    polite.once('exit', (_c, sig) => order.push(`polite:${sig}`));
    await group.stop([['polite'], ['stubborn']], 300);
    expect(order).toEqual(['polite:SIGTERM', 'stubborn:SIGKILL']);
    expect(group.running).toEqual([]);
    expect(unexpected).toEqual([]);
  });
});
