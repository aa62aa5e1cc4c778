// Package main only pins the upstream packages (and their test imports) that
// extract.sh copies into a scratch module and runs; see README.md.
package main

import (
	_ "k8s.io/apimachinery/pkg/api/equality"
	_ "k8s.io/component-base/featuregate/testing"
	_ "k8s.io/kubernetes/pkg/api/legacyscheme"
	_ "k8s.io/kubernetes/pkg/apis/core/install"
	_ "k8s.io/kubernetes/pkg/apis/networking/install"
	_ "k8s.io/kubernetes/pkg/apis/networking/v1"
	_ "k8s.io/kubernetes/pkg/apis/networking/validation"
)

func main() {}
