import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDockerfile } from './dockerfile.js';

// No Docker engine here: the rules the images must follow are checked on the Dockerfiles themselves.
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const CI = readFileSync(here('../../../.ci/run'), 'utf8');
const SECRETISH = /(PASSWORD|SECRET|TOKEN|PRIVATE|API_?KEY|CREDENTIAL)/i;

for (const [image, file, port] of [
  ['hub', 'hub.Dockerfile', 8081],
  ['agent', 'agent.Dockerfile', 9464],
] as const) {
  describe(`deploy/docker/${file}`, () => {
    const text = readFileSync(here(`../${file}`), 'utf8');
    const { stages } = parseDockerfile(text);
    const final = stages.at(-1)!;
    const ops = (s: typeof final, op: string) => s.instructions.filter((i) => i.op === op);

    it('is multi-stage, and every base image is pinned (exact version or digest, never latest)', () => {
      expect(stages.length).toBeGreaterThanOrEqual(2);
      const named = new Set(stages.map((s) => s.name).filter(Boolean));
      for (const s of stages) {
        if (named.has(s.from)) continue; // FROM an earlier stage
        expect(s.from, s.from).toMatch(/(@sha256:[a-f0-9]{64}$)|(:[a-z-]*\d+\.\d+\.\d+[\w.-]*$)/);
        expect(s.from).not.toMatch(/:latest$/);
      }
      // the final image copies only built output from the build stage
      expect(ops(final, 'COPY').every((c) => /--from=\S+/.test(c.args))).toBe(true);
    });

    it('runs as a fixed non-root user in the final stage', () => {
      const users = ops(final, 'USER');
      expect(users.length).toBeGreaterThan(0);
      const user = users.at(-1)!.args;
      expect(user).toMatch(/^\d+(:\d+)?$/); // numeric: the kubelet can verify runAsNonRoot
      expect(Number(user.split(':')[0])).toBeGreaterThan(0);
      // nothing after USER switches back
      const after = final.instructions.slice(final.instructions.indexOf(users.at(-1)!) + 1);
      expect(after.filter((i) => i.op === 'USER')).toEqual([]);
    });

    it(`has a HEALTHCHECK against its HTTP port (${port})`, () => {
      const hc = ops(final, 'HEALTHCHECK');
      expect(hc).toHaveLength(1);
      expect(hc[0]!.args).toMatch(/--interval=\d+s/);
      expect(hc[0]!.args).toContain(String(port));
      expect(
        ops(final, 'EXPOSE')
          .map((e) => e.args)
          .join(' '),
      ).toContain(String(port));
    });

    it('carries no secret: no ENV/ARG of a secret-looking name, no key files copied', () => {
      for (const s of stages)
        for (const i of s.instructions) {
          if (i.op === 'ENV' || i.op === 'ARG') expect(i.args, `line ${i.line}`).not.toMatch(SECRETISH);
          if (i.op === 'COPY' || i.op === 'ADD')
            expect(i.args, `line ${i.line}`).not.toMatch(/\.env\b|\.pem\b|\.key\b|id_rsa/);
        }
      const ignore = readFileSync(here(`../${file}.dockerignore`), 'utf8');
      for (const p of ['.env', '**/*.pem', '**/*.key', '**/node_modules', '.git'])
        expect(ignore.split('\n')).toContain(p);
    });

    it('is multi-arch ready: TARGETARCH checked, no architecture hard-coded', () => {
      const build = stages[0]!;
      expect(ops(build, 'ARG').map((a) => a.args)).toContain('TARGETARCH');
      expect(build.instructions.some((i) => i.op === 'RUN' && i.args.includes('${TARGETARCH'))).toBe(true);
      expect(text).not.toMatch(/--platform=linux\/(amd64|arm64)|x86_64|aarch64/);
    });

    it('builds with the same npm scripts CI runs (.ci/run)', () => {
      const run = stages[0]!.instructions
        .filter((i) => i.op === 'RUN')
        .map((i) => i.args)
        .join(' && ');
      const ciSteps = [...CI.matchAll(/^(npm (?:ci|run \S+)[^\n]*)$/gm)].map((m) => m[1]!.trim());
      const buildSteps = ciSteps.filter((s) => /^npm (ci|run build)\b/.test(s));
      expect(buildSteps.length).toBe(2);
      for (const s of buildSteps) expect(run).toContain(s);
    });

    it(`starts the ${image} binary of the workspace`, () => {
      const entry = JSON.parse(ops(final, 'ENTRYPOINT')[0]!.args) as string[];
      expect(entry[0]).toBe('node');
      const bin = image === 'hub' ? 'hub/bin/cityflow-hub.js' : 'edge-agent/bin/cityflow-agent.js';
      expect(entry[1]).toBe(bin);
      expect(existsSync(here(`../../../${bin}`))).toBe(true);
      expect(ops(final, 'COPY').some((c) => c.args.includes(bin.split('/')[0]! + '/bin'))).toBe(true);
    });
  });
}

describe('parseDockerfile', () => {
  it('joins continuation lines, skips comments and groups instructions by stage', () => {
    const { args, stages } = parseDockerfile(
      'ARG V=1\nFROM a:1.2.3 AS b\n# c\nRUN x \\\n  y\nFROM b\nUSER 1\n',
    );
    expect(args).toEqual([{ op: 'ARG', args: 'V=1', line: 1 }]);
    expect(stages.map((s) => [s.from, s.name])).toEqual([
      ['a:1.2.3', 'b'],
      ['b', null],
    ]);
    expect(stages[0]!.instructions[0]).toEqual({ op: 'RUN', args: 'x y', line: 4 });
  });
});
