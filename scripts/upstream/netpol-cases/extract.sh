#!/bin/sh
# Replays upstream's NetworkPolicy validation and defaulting table tests
# (k8s.io/kubernetes@$VERSION, from the Go module cache / module proxy) with a
# recorder overlaid (go test -overlay; the module cache stays read-only) and
# writes every case with upstream's verdict: $OUT/validation.json, $OUT/defaults.json.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:?usage: extract.sh OUTDIR}
VERSION=${K8S_VERSION:-v1.34.12}
mkdir -p "$OUT"
cd "$HERE"
# K8S_DIR: the module directory when the caller resolved it (scripts/upstream-testdata.ts moduleDir).
DIR=${K8S_DIR:-$(go mod download -json "k8s.io/kubernetes@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')}
[ -n "$DIR" ] || { echo "k8s.io/kubernetes@$VERSION: no module directory" >&2; exit 3; }
V="$DIR/pkg/apis/networking/validation"
D="$DIR/pkg/apis/networking/v1"
# The module cache is read-only and go test -overlay may not replace files in
# it, so the two upstream packages are copied, unchanged but for the recorder
# hook, into a scratch module with this module's go.mod/go.sum.
W="$OUT/mod"
rm -rf "$W" && mkdir -p "$W/validation" "$W/defaults"
cp go.mod go.sum "$W/"
cp "$V/validation.go" "$W/validation/"
sed 's/\bValidateNetworkPolicy(/pciRecord(t, /g' "$V/validation_test.go" > "$W/validation/validation_test.go"
grep -q 'pciRecord(t, ' "$W/validation/validation_test.go" || { echo "no ValidateNetworkPolicy( call left to record in $V/validation_test.go" >&2; exit 3; }
cp "$HERE/record_validation_test.go.txt" "$W/validation/zz_pci_record_test.go"
sed '/^func TestSetDefaultNetworkPolicy(/,/^}/ s/^\([[:space:]]*\)obj2 := roundTrip(t, runtime.Object(original))/\1pciDefaults(t, i, original)\n&/' "$D/defaults_test.go" > "$W/defaults/defaults_test.go"
grep -q 'pciDefaults(t, i, original)' "$W/defaults/defaults_test.go" || { echo "no roundTrip call to record in $D/defaults_test.go" >&2; exit 3; }
cp "$HERE/record_defaults_test.go.txt" "$W/defaults/zz_pci_record_test.go"
cd "$W"
PCI_NETPOL_CASES_OUT="$OUT/validation.json" go test -count=1 -run '^(TestValidateNetworkPolicy|TestPCIHarnessSelectorCases)$' ./validation >&2
PCI_NETPOL_DEFAULTS_OUT="$OUT/defaults.json" go test -count=1 -run '^TestSetDefaultNetworkPolicy$' ./defaults >&2
