// The Kubernetes recipe (deploy/kubernetes/) and the image (deploy/docker/Dockerfile), checked without a cluster or
// a container runtime (none runs here): every manifest is valid against the Kubernetes API schemas (kubernetes-models),
// the containers' arguments are ones regsweep takes, the sweep file in the ConfigMap is one it runs, and the image is
// built by the same install script as CI.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, tempDir, writeFile } from '../helpers.js';

const K8S = join(ROOT, 'deploy', 'kubernetes');
const models: Record<string, new (data: never) => { validate(): void }> = { 'batch/v1 Job': Job, 'v1 ConfigMap': ConfigMap, 'v1 Secret': Secret };
const manifests = readdirSync(K8S)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((file) => parseAllDocuments(readFileSync(join(K8S, file), 'utf8')).map((d) => ({ file, object: d.toJS() as { apiVersion: string; kind: string; metadata: { name: string }; spec?: unknown; data?: Record<string, string> } })));
type Container = { args: string[]; env?: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[]; resources: { requests: Record<string, string>; limits: Record<string, string> } };
type PodSpec = { restartPolicy: string; terminationGracePeriodSeconds: number; securityContext: { runAsNonRoot: boolean; runAsUser: number }; containers: Container[] };
const job = (name: string) => manifests.find((m) => m.object.kind === 'Job' && m.object.metadata.name === name)!.object as unknown as { spec: { parallelism?: number; completions?: number; template: { spec: PodSpec } } };

describe('deploy/kubernetes', () => {
  it('every manifest is valid against the Kubernetes API schema of its kind', () => {
    expect(manifests.map((m) => `${m.file}: ${m.object.kind}`).sort()).toEqual(['run-job.yaml: Job', 'secret.example.yaml: Secret', 'sweep-configmap.yaml: ConfigMap', 'worker-job.yaml: Job']);
    for (const { file, object } of manifests) {
      const Model = models[`${object.apiVersion} ${object.kind}`];
      expect(Model, file).toBeDefined();
      expect(() => new Model(object as never).validate(), file).not.toThrow();
    }
    // The schema check catches what a typo would make.
    const broken = structuredClone(job('regsweep-workers'));
    (broken.spec.template.spec as unknown as { restartPolicy: number }).restartPolicy = 42;
    expect(() => new Job({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'x' }, ...broken } as never).validate()).toThrow();
  });

  it('the worker pool is a work-queue Job of non-root pods that read the URL from the Secret and stop in time to give their tasks back', () => {
    const workers = job('regsweep-workers');
    expect(workers.spec.parallelism).toBeGreaterThan(1);
    expect(workers.spec.completions).toBeUndefined();
    const pod = workers.spec.template.spec;
    expect(pod.restartPolicy).toBe('OnFailure');
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(10);
    const [container] = pod.containers;
    expect(container.args.slice(0, 2)).toEqual(['worker', '$(REGSWEEP_STORE)']);
    expect(container.env).toContainEqual({ name: 'REGSWEEP_STORE', valueFrom: { secretKeyRef: { name: 'regsweep-store', key: 'url' } } });
    // Threads as many as the CPUs the pod is given.
    expect(container.args[container.args.indexOf('--workers') + 1]).toBe(container.resources.limits.cpu);
    expect(JSON.stringify(manifests)).not.toMatch(/postgres:\/\/[^"]*:(?!CHANGE-ME)[^@"]+@/);
  });

  it("the containers' arguments are regsweep's: the worker waits for its server, the run takes the ConfigMap's sweep file", () => {
    const dir = tempDir('regsweep-deploy-');
    const nowhere = 'postgres://sweeper@127.0.0.1:1/regsweep';
    const withStore = (args: string[]) => args.map((a) => (a === '$(REGSWEEP_STORE)' ? nowhere : a));
    const worker = job('regsweep-workers').spec.template.spec.containers[0];
    const w = spawnSync(process.execPath, [BIN, ...withStore(worker.args), '--reconnect-timeout', '2'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    expect(w.stderr).toMatch(/waiting for the database: .*connection refused.*\(up to --reconnect-timeout 2 s\)/);
    expect(w.stderr.trim().split('\n').at(-1)).toMatch(/^regsweep: postgres:\/\/sweeper@127\.0\.0\.1:1\/regsweep: cannot connect to 127\.0\.0\.1:1 \(connection refused\)/);
    expect(w.status).toBe(1);
    const configMap = manifests.find((m) => m.object.kind === 'ConfigMap')!.object;
    writeFile(dir, 'sweep.yaml', configMap.data!['sweep.yaml']);
    const run = job('regsweep-run').spec.template.spec.containers[0];
    const r = spawnSync(process.execPath, [BIN, ...withStore(run.args).map((a) => (a === '/sweeps/sweep.yaml' ? 'sweep.yaml' : a))], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    // The sweep file is read and its data made; only the database is missing.
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/cannot connect to 127\.0\.0\.1:1 \(connection refused\)/);
    expect(r.status).toBe(1);
  });
});

describe('deploy/docker/Dockerfile', () => {
  it('builds with the install script CI runs, on Node 20, and runs as a non-root user', () => {
    const docker = readFileSync(join(ROOT, 'deploy', 'docker', 'Dockerfile'), 'utf8');
    const ci = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
    expect(docker).toMatch(/^FROM node:20-/m);
    expect(docker).toMatch(/^RUN scripts\/install\.sh/m);
    expect(ci).toMatch(/^scripts\/install\.sh$/m);
    expect(docker.match(/^USER (\S+)$/m)?.[1]).toBe('node');
    expect(docker).toMatch(/^ENTRYPOINT \["node", "\/app\/bin\/regsweep\.js"\]$/m);
  });
});
