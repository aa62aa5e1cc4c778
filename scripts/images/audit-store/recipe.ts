/**
 * audit-store: the S3-compatible, Object Lock capable store the live lane
 * ships the audit log to (a stand-in for the user's S3 Object Lock bucket).
 *
 * MinIO, not versitygw v1.8.0 (the smaller first choice): versitygw applies a
 * bucket's default retention as a bucket-wide window counted from the
 * configuration's own time and never stamps it on the object
 * (auth/object_lock.go loadObjectLockState; posix PutObject stores retention
 * only from request headers). So an object stored under a COMPLIANCE default
 * carries no retention of its own, and PutObjectRetention with an earlier date
 * is accepted (IsObjectLockRetentionPutAllowed: "if object lock configuration
 * is not set allow the retention modification without any checks"), as is a
 * shorter bucket default, which re-times every stored object. S3 (and MinIO,
 * cmd/bucket-object-lock.go checkPutObjectLockAllowed) stamps the default on
 * each object at write time, and a COMPLIANCE retention can then only be
 * extended — what 10.5.1 needs.
 *
 * MinIO's repository says it is no longer maintained, and it is AGPLv3: it is
 * used only as a test stand-in beside the cluster, never shipped in the set.
 * Built from the pinned pseudo-version (the h1: hash below is the only check
 * the module zip gets: the checksum-database mirror serves no record for it),
 * inside the module so its own go.sum verifies every dependency; version
 * ldflags as buildscripts/gen-ldflags.go.
 */
import { cp, mkdir } from 'node:fs/promises';
import type { BuildContext, Recipe, RecipeOutput } from '../recipe.ts';
import { buildImage, debianPackagesIn, freshContext } from '../kyverno/docker.ts';
import { downloadModule, goBuild, goToolchain, modulesInBinary, writableCopy, type PinnedModule } from '../kyverno/gomodule.ts';
import { fileContents } from '../kyverno/recipe-files.ts';

export const MINIO: PinnedModule = {
  module: 'github.com/minio/minio',
  version: 'v0.0.0-20260212201848-7aac2a2c5b7c',
  sum: 'h1:/qdoYujxF5MBLDMVLeiYJ/7fBa1HikX39Dvzb9Ji8pA=',
};
/** The commit time of the pseudo-version, as MinIO's release tags write it. */
const RELEASE_TIME = '2026-02-12T20-18-48Z';
const COMMIT = '7aac2a2c5b7c';
export const AUDIT_STORE_REF = 'localhost/pci-harness/audit-store:minio-20260212';
/** MinIO's S3 port. */
export const AUDIT_STORE_PORT = 9000;
/** Non-root inside the container; /data is its only writable path. */
const UID = 65532;

export const auditStore: Recipe = {
  name: 'audit-store',
  dependsOn: ['debian-base'],
  inputs: async () => [
    await goToolchain(),
    `${MINIO.module}@${MINIO.version} ${MINIO.sum}`,
    ...(await fileContents(import.meta.url, ['recipe.ts', '../kyverno/docker.ts', '../kyverno/gomodule.ts'])),
  ],
  async build(ctx: BuildContext): Promise<RecipeOutput> {
    const baseRef = ctx.deps['debian-base']?.images[0]?.ref;
    if (!baseRef) throw new Error('audit-store needs the debian-base image');
    const mod = await downloadModule(ctx, MINIO);
    const src = await writableCopy(mod.dir, `${ctx.workDir}/src`);
    const bin = `${ctx.workDir}/bin/minio`;
    await mkdir(`${ctx.workDir}/bin`, { recursive: true });
    ctx.log(`building minio ${MINIO.version}`);
    await goBuild(ctx, {
      cwd: src,
      packages: ['.'],
      output: bin,
      // The Makefile's `-tags kqueue` (a no-op on Linux, kept for the same build).
      tags: ['kqueue'],
      ldflags: [
        '-s -w',
        `-X github.com/minio/minio/cmd.Version=${RELEASE_TIME}`,
        '-X github.com/minio/minio/cmd.CopyrightYear=2026',
        `-X github.com/minio/minio/cmd.ReleaseTag=DEVELOPMENT.${RELEASE_TIME}`,
        `-X github.com/minio/minio/cmd.CommitID=${COMMIT}`,
        `-X github.com/minio/minio/cmd.ShortCommitID=${COMMIT}`,
      ].join(' '),
    });
    const dir = await freshContext(`${ctx.workDir}/image`);
    await cp(bin, `${dir}/minio`);
    const digest = await buildImage(ctx, {
      refs: [AUDIT_STORE_REF],
      contextDir: dir,
      dockerfile: [
        `FROM ${baseRef}`,
        'COPY minio /usr/local/bin/minio',
        `RUN chmod 0755 /usr/local/bin/minio && mkdir -p /data && chown ${UID}:${UID} /data && /usr/local/bin/minio --version`,
        `USER ${UID}:${UID}`,
        `EXPOSE ${AUDIT_STORE_PORT}`,
        'ENTRYPOINT ["/usr/local/bin/minio"]',
        'CMD ["server", "/data"]',
        `LABEL version=${MINIO.version}`,
        '',
      ].join('\n'),
    });
    const goModules = [
      { module: MINIO.module, version: MINIO.version },
      ...(await modulesInBinary(ctx, bin)).filter((m) => m.version !== '(devel)'),
    ];
    return {
      images: [{ role: 'audit-store', ref: AUDIT_STORE_REF, digest, goModules, debianPackages: await debianPackagesIn(ctx, AUDIT_STORE_REF) }],
      files: {},
    };
  },
};
