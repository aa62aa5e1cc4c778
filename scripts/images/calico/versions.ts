/**
 * Calico pins. github.com/projectcalico/calico has no semver tags usable as
 * module versions (its tags are v3.x on a v0/v1 path), so releases are
 * addressed by commit pseudo-version. v3.30.1 = commit 393b14e729a6 (the
 * release tag's revision, as packagers record it). Its nested modules are not
 * in the module zip: `api/` comes from the github.com/projectcalico/api mirror
 * at its v3.30.1 commit, `lib/std` from the proxy at the same calico commit.
 * The checksum database mirror serves none of these records, so the h1: hashes
 * here (from `go mod download -json`) are what verify them; every other
 * dependency is verified by calico's go.sum.
 */
import type { PinnedModule } from '../kyverno/gomodule.ts';

export const CALICO_VERSION = 'v3.30.1';
export const CALICO_COMMIT = '393b14e729a67f9bc9a96eba65ff0be5f2f7b94a';

export const CALICO: PinnedModule = {
  module: 'github.com/projectcalico/calico',
  version: 'v0.0.0-20250529224300-393b14e729a6',
  sum: 'h1:iUTtfUaoPN0CZvo8XyFvnIcaXll+F98p4RdI3FUyLuI=',
};

export const CALICO_API: PinnedModule = {
  module: 'github.com/projectcalico/api',
  version: 'v0.0.0-20250617202239-c3be7477438e',
  sum: 'h1:4SCkF1NTnx/1PcioHSBt6IJiq88eZTxoNxTufxMRT9s=',
};

export const CALICO_LIB_STD: PinnedModule = {
  module: 'github.com/projectcalico/calico/lib/std',
  version: 'v0.0.0-20250529224300-393b14e729a6',
  sum: 'h1:r7wAQL8yqaj8YflttSSzstG911IWYzZWU90kQbvaPQU=',
};
