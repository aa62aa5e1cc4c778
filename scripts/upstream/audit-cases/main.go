// Command audit-cases prints, as JSON, the audit-policy test cases of the
// k8s.io/apiserver module this module requires:
//
//   - pkg/audit/policy/checker_test.go: every test(t, request, level,
//     policyStages, omitStages, rules...) call reached from TestChecker and
//     TestCheckerPolicyOmitStages (rules × requests → level and omitted stages);
//   - pkg/apis/audit/validation/validation_test.go: every policy of
//     TestValidatePolicy with whether upstream expects it valid.
//
// The test tables are unexported, so nothing is copied: the test files are
// parsed from the module cache with go/parser and their statements are
// interpreted (composite literals, :=, append, range, calls into the file's
// own helpers; constants such as audit.LevelMetadata are read from the
// upstream package source). Every extracted case is then run through the
// upstream code itself (policy.NewPolicyRuleEvaluator, validation.ValidatePolicy)
// and must agree with the expectation the test file states, so a mistake in
// this extraction fails here, before the harness is compared with it.
// Policies are printed converted to audit.k8s.io/v1 (the upstream generated
// conversion), i.e. in the form a policy file takes.
//
// Usage: go run . > cases.json   (exit 1 on an extraction problem)
package main

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apiserver/pkg/apis/audit"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
	"k8s.io/apiserver/pkg/apis/audit/validation"
	"k8s.io/apiserver/pkg/audit/policy"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

const module = "k8s.io/apiserver"

// ---------- output ----------

type request struct {
	User           *string  `json:"user,omitempty"`
	Groups         []string `json:"groups,omitempty"`
	Verb           string   `json:"verb"`
	APIGroup       string   `json:"apiGroup,omitempty"`
	Resource       string   `json:"resource,omitempty"`
	Subresource    string   `json:"subresource,omitempty"`
	Namespace      string   `json:"namespace,omitempty"`
	Name           string   `json:"name,omitempty"`
	NonResourceURL string   `json:"nonResourceURL,omitempty"`
}

type checkerCase struct {
	Name             string          `json:"name"`
	Line             int             `json:"line"`
	RequestName      string          `json:"requestName"`
	Rules            []string        `json:"rules"`
	Request          request         `json:"request"`
	Policy           json.RawMessage `json:"policy"`
	ExpectLevel      string          `json:"expectLevel"`
	ExpectOmitStages []string        `json:"expectOmitStages"`
}

type validationCase struct {
	Name           string          `json:"name"`
	Line           int             `json:"line"`
	Policy         json.RawMessage `json:"policy"`
	ExpectValid    bool            `json:"expectValid"`
	UpstreamErrors []string        `json:"upstreamErrors"`
}

type output struct {
	Module       string           `json:"module"`
	Version      string           `json:"version"`
	Dir          string           `json:"dir"`
	Checker      []checkerCase    `json:"checker"`
	Validation   []validationCase `json:"validation"`
	NotExtracted []string         `json:"notExtracted"`
}

// ---------- a tiny interpreter over the test files ----------

type value = any // string | bool | nil | []any | map[string]any

type interp struct {
	fset    *token.FileSet
	file    *ast.File
	modDir  string
	imports map[string]string // alias → import path
	consts  map[string]map[string]string
	globals map[string]value
	funcs   map[string]*ast.FuncDecl
	// hooks
	onCall func(in *interp, call *ast.CallExpr, env map[string]value) (handled bool, err error)
	onIf   func(in *interp, s *ast.IfStmt, env map[string]value) (handled bool, err error)
}

func newInterp(modDir, rel string) (*interp, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(modDir, rel), nil, 0)
	if err != nil {
		return nil, err
	}
	in := &interp{fset: fset, file: f, modDir: modDir, imports: map[string]string{}, consts: map[string]map[string]string{}, globals: map[string]value{}, funcs: map[string]*ast.FuncDecl{}}
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		alias := filepath.Base(p)
		if imp.Name != nil {
			alias = imp.Name.Name
		}
		in.imports[alias] = p
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			in.funcs[d.Name.Name] = d
		case *ast.GenDecl:
			if d.Tok != token.VAR {
				continue
			}
			for _, s := range d.Specs {
				vs := s.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if i < len(vs.Values) {
						v, err := in.eval(vs.Values[i], nil)
						if err != nil {
							return nil, fmt.Errorf("%s: var %s: %w", rel, n.Name, err)
						}
						in.globals[n.Name] = v
					}
				}
			}
		}
	}
	return in, nil
}

func (in *interp) line(n ast.Node) int { return in.fset.Position(n.Pos()).Line }

// constant X of an imported upstream package, read from its source.
func (in *interp) constant(pkgAlias, name string) (string, error) {
	path, ok := in.imports[pkgAlias]
	if !ok || !strings.HasPrefix(path, module+"/") {
		return "", fmt.Errorf("%s.%s: not an upstream %s package", pkgAlias, name, module)
	}
	if in.consts[path] == nil {
		m := map[string]string{}
		dir := filepath.Join(in.modDir, strings.TrimPrefix(path, module+"/"))
		pkgs, err := parser.ParseDir(token.NewFileSet(), dir, func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
		if err != nil {
			return "", err
		}
		for _, p := range pkgs {
			for _, f := range p.Files {
				for _, d := range f.Decls {
					g, ok := d.(*ast.GenDecl)
					if !ok || g.Tok != token.CONST {
						continue
					}
					for _, s := range g.Specs {
						vs := s.(*ast.ValueSpec)
						for i, n := range vs.Names {
							if i < len(vs.Values) {
								if bl, ok := vs.Values[i].(*ast.BasicLit); ok && bl.Kind == token.STRING {
									m[n.Name], _ = strconv.Unquote(bl.Value)
								}
							}
						}
					}
				}
			}
		}
		in.consts[path] = m
	}
	v, ok := in.consts[path][name]
	if !ok {
		return "", fmt.Errorf("constant %s.%s not found", pkgAlias, name)
	}
	return v, nil
}

func lookup(env map[string]value, in *interp, name string) (value, bool) {
	if env != nil {
		if v, ok := env[name]; ok {
			return v, true
		}
	}
	v, ok := in.globals[name]
	return v, ok
}

func (in *interp) eval(e ast.Expr, env map[string]value) (value, error) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind == token.STRING {
			return strconv.Unquote(e.Value)
		}
		return nil, fmt.Errorf("line %d: unsupported literal %s", in.line(e), e.Value)
	case *ast.Ident:
		switch e.Name {
		case "nil":
			return nil, nil
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		if v, ok := lookup(env, in, e.Name); ok {
			return v, nil
		}
		return nil, fmt.Errorf("line %d: unknown identifier %s", in.line(e), e.Name)
	case *ast.ParenExpr:
		return in.eval(e.X, env)
	case *ast.UnaryExpr:
		if e.Op == token.AND {
			return in.eval(e.X, env)
		}
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok {
			if _, isImport := in.imports[x.Name]; isImport {
				return in.constant(x.Name, e.Sel.Name)
			}
		}
	case *ast.CompositeLit:
		return in.composite(e, e.Type, env)
	case *ast.CallExpr:
		// conversions audit.Stage("x"), ptr.To(x), append(xs, ys...)
		if id, ok := e.Fun.(*ast.Ident); ok && id.Name == "append" {
			base, err := in.eval(e.Args[0], env)
			if err != nil {
				return nil, err
			}
			out := append([]value{}, asList(base)...)
			for i, a := range e.Args[1:] {
				v, err := in.eval(a, env)
				if err != nil {
					return nil, err
				}
				if e.Ellipsis.IsValid() && i == len(e.Args)-2 {
					out = append(out, asList(v)...)
				} else {
					out = append(out, v)
				}
			}
			return out, nil
		}
		if sel, ok := e.Fun.(*ast.SelectorExpr); ok && len(e.Args) == 1 {
			if x, ok := sel.X.(*ast.Ident); ok && (in.imports[x.Name] == "k8s.io/apiserver/pkg/apis/audit" || sel.Sel.Name == "To") {
				return in.eval(e.Args[0], env)
			}
		}
	}
	return nil, fmt.Errorf("line %d: cannot evaluate %T", in.line(e), e)
}

func asList(v value) []value {
	if l, ok := v.([]value); ok {
		return l
	}
	return nil
}

// composite literal: slice, map or struct (a struct is a map of its field names).
func (in *interp) composite(c *ast.CompositeLit, typ ast.Expr, env map[string]value) (value, error) {
	var elemType ast.Expr
	switch t := typ.(type) {
	case *ast.ArrayType:
		elemType = t.Elt
		out := []value{}
		for _, el := range c.Elts {
			v, err := in.elem(el, elemType, env)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case *ast.MapType:
		out := map[string]value{}
		for _, el := range c.Elts {
			kv := el.(*ast.KeyValueExpr)
			k, err := in.eval(kv.Key, env)
			if err != nil {
				return nil, err
			}
			v, err := in.elem(kv.Value, t.Value, env)
			if err != nil {
				return nil, err
			}
			out[k.(string)] = v
		}
		return out, nil
	case *ast.StarExpr:
		return in.composite(c, t.X, env)
	default: // a named struct type
		out := map[string]value{}
		for _, el := range c.Elts {
			kv, ok := el.(*ast.KeyValueExpr)
			if !ok {
				return nil, fmt.Errorf("line %d: positional struct literal", in.line(el))
			}
			var fieldType ast.Expr
			v, err := in.elem(kv.Value, fieldType, env)
			if err != nil {
				return nil, err
			}
			out[kv.Key.(*ast.Ident).Name] = v
		}
		return out, nil
	}
}

// an element whose literal may elide its type.
func (in *interp) elem(e ast.Expr, typ ast.Expr, env map[string]value) (value, error) {
	if c, ok := e.(*ast.CompositeLit); ok && c.Type == nil {
		if typ == nil {
			return nil, fmt.Errorf("line %d: composite literal of unknown type", in.line(e))
		}
		return in.composite(c, typ, env)
	}
	if c, ok := e.(*ast.CompositeLit); ok {
		return in.composite(c, c.Type, env)
	}
	return in.eval(e, env)
}

func (in *interp) run(stmts []ast.Stmt, env map[string]value) error {
	for _, s := range stmts {
		switch s := s.(type) {
		case *ast.AssignStmt:
			if len(s.Lhs) != 1 || len(s.Rhs) != 1 {
				continue
			}
			id, ok := s.Lhs[0].(*ast.Ident)
			if !ok {
				continue
			}
			v, err := in.eval(s.Rhs[0], env)
			if err != nil {
				// a value the cases do not use (e.g. a func literal): leave it unknown
				delete(env, id.Name)
				continue
			}
			env[id.Name] = v
		case *ast.DeclStmt:
			g, ok := s.Decl.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, sp := range g.Specs {
				vs := sp.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if i < len(vs.Values) {
						if v, err := in.eval(vs.Values[i], env); err == nil {
							env[n.Name] = v
						}
					}
				}
			}
		case *ast.ExprStmt:
			call, ok := s.X.(*ast.CallExpr)
			if !ok {
				continue
			}
			if in.onCall != nil {
				handled, err := in.onCall(in, call, env)
				if err != nil {
					return err
				}
				if handled {
					continue
				}
			}
			if id, ok := call.Fun.(*ast.Ident); ok {
				if fn, ok := in.funcs[id.Name]; ok {
					callee := map[string]value{}
					params := paramNames(fn)
					for i, a := range call.Args {
						if i >= len(params) {
							break
						}
						if v, err := in.eval(a, env); err == nil {
							callee[params[i]] = v
						}
					}
					if err := in.run(fn.Body.List, callee); err != nil {
						return err
					}
				}
			}
		case *ast.RangeStmt:
			coll, err := in.eval(s.X, env)
			if err != nil {
				return fmt.Errorf("line %d: range over %w", in.line(s), err)
			}
			// the body shares the enclosing scope (assignments to outer variables, as
			// `cases = append(cases, ...)`, must persist); loop variables are restored after
			saved := map[string]value{}
			for _, k := range []string{"$index", "$rangeLine", "$rangeOver"} {
				saved[k] = env[k]
			}
			for _, e := range []ast.Expr{s.Key, s.Value} {
				if k, ok := e.(*ast.Ident); ok && k.Name != "_" {
					saved[k.Name] = env[k.Name]
				}
			}
			for i, v := range asList(coll) {
				inner := env
				if k, ok := s.Key.(*ast.Ident); ok && k.Name != "_" {
					inner[k.Name] = strconv.Itoa(i)
				}
				if vv, ok := s.Value.(*ast.Ident); ok && vv.Name != "_" {
					inner[vv.Name] = v
				}
				inner["$index"] = strconv.Itoa(i)
				inner["$rangeLine"] = strconv.Itoa(in.line(s))
				inner["$rangeOver"] = exprString(s.X)
				if err := in.run(s.Body.List, inner); err != nil {
					return err
				}
			}
			for k, v := range saved {
				if v == nil {
					delete(env, k)
				} else {
					env[k] = v
				}
			}
		case *ast.IfStmt:
			if in.onIf != nil {
				if _, err := in.onIf(in, s, env); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func paramNames(fn *ast.FuncDecl) []string {
	var out []string
	for _, f := range fn.Type.Params.List {
		for _, n := range f.Names {
			out = append(out, n.Name)
		}
	}
	return out
}

func exprString(e ast.Expr) string {
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return fmt.Sprintf("%T", e)
}

// ---------- values → upstream types ----------

func toStruct(v value, out any) error {
	b, err := json.Marshal(v) // field names as in Go; encoding/json matches them to untagged fields
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

func strs(v value) []string {
	var out []string
	for _, x := range asList(v) {
		out = append(out, x.(string))
	}
	return out
}

func stages(v value) []audit.Stage {
	var out []audit.Stage
	for _, s := range strs(v) {
		out = append(out, audit.Stage(s))
	}
	return out
}

func v1JSON(p *audit.Policy) (json.RawMessage, error) {
	var out auditv1.Policy
	if err := auditv1.Convert_audit_Policy_To_v1_Policy(p.DeepCopy(), &out, nil); err != nil {
		return nil, err
	}
	out.APIVersion, out.Kind = "audit.k8s.io/v1", "Policy"
	return json.Marshal(out)
}

func attributes(v value) (*authorizer.AttributesRecord, request, error) {
	m, ok := v.(map[string]value)
	if !ok {
		return nil, request{}, fmt.Errorf("request is not a struct literal")
	}
	get := func(k string) string { s, _ := m[k].(string); return s }
	a := &authorizer.AttributesRecord{
		Verb: get("Verb"), Namespace: get("Namespace"), APIGroup: get("APIGroup"), APIVersion: get("APIVersion"),
		Resource: get("Resource"), Subresource: get("Subresource"), Name: get("Name"), Path: get("Path"),
	}
	a.ResourceRequest, _ = m["ResourceRequest"].(bool)
	r := request{Verb: a.Verb, APIGroup: a.APIGroup, Resource: a.Resource, Subresource: a.Subresource, Namespace: a.Namespace, Name: a.Name}
	if !a.ResourceRequest {
		r = request{Verb: a.Verb, NonResourceURL: a.Path}
	}
	if u, ok := m["User"].(map[string]value); ok {
		info := &user.DefaultInfo{}
		if err := toStruct(u, info); err != nil {
			return nil, request{}, err
		}
		a.User = info
		name := info.Name
		r.User, r.Groups = &name, info.Groups
	}
	return a, r, nil
}

func stageNames(s []audit.Stage) []string {
	out := []string{}
	for _, x := range s {
		out = append(out, string(x))
	}
	sort.Strings(out)
	return out
}

// ---------- checker_test.go ----------

func checkerCases(modDir string) ([]checkerCase, error) {
	const rel = "pkg/audit/policy/checker_test.go"
	in, err := newInterp(modDir, rel)
	if err != nil {
		return nil, err
	}
	testFn, ok := in.funcs["test"]
	if !ok || strings.Join(paramNames(testFn), ",") != "t,req,expLevel,policyStages,expOmitStages,ruleNames" {
		return nil, fmt.Errorf("%s: helper test(t, req, expLevel, policyStages, expOmitStages, ruleNames...) not found or changed: update this extractor", rel)
	}
	rulesV, _ := in.globals["rules"].(map[string]value)
	attrsV, _ := in.globals["attrs"].(map[string]value)
	if rulesV == nil || attrsV == nil {
		return nil, fmt.Errorf("%s: package-level rules/attrs tables not found", rel)
	}
	var out []checkerCase
	var top string
	in.onCall = func(in *interp, call *ast.CallExpr, env map[string]value) (bool, error) {
		id, ok := call.Fun.(*ast.Ident)
		if !ok || id.Name != "test" {
			return false, nil
		}
		args := make([]value, len(call.Args))
		for i, a := range call.Args[1:] {
			v, err := in.eval(a, env)
			if err != nil {
				return true, err
			}
			args[i+1] = v
		}
		reqName, level := args[1].(string), args[2].(string)
		names := []string{}
		p := audit.Policy{OmitStages: stages(args[3])}
		for _, a := range args[5:] {
			n := a.(string)
			names = append(names, n)
			rv, ok := rulesV[n]
			if !ok {
				return true, fmt.Errorf("line %d: unknown rule %q", in.line(call), n)
			}
			var r audit.PolicyRule
			if err := toStruct(rv, &r); err != nil {
				return true, err
			}
			p.Rules = append(p.Rules, r)
		}
		attrs, req, err := attributes(attrsV[reqName])
		if err != nil {
			return true, fmt.Errorf("line %d: %w", in.line(call), err)
		}
		pj, err := v1JSON(&p)
		if err != nil {
			return true, err
		}
		expOmit := stageNames(stages(args[4]))
		name := fmt.Sprintf("%s:%d %s(policyStages=%v) request %q rules [%s]", top, in.line(call), rel, stageNames(p.OmitStages), reqName, strings.Join(names, ", "))
		// upstream itself must agree with the expectation the test states
		got := policy.NewPolicyRuleEvaluator(p.DeepCopy()).EvaluatePolicyRule(attrs)
		if string(got.Level) != level || strings.Join(stageNames(got.OmitStages), ",") != strings.Join(expOmit, ",") {
			return true, fmt.Errorf("extraction error at %s: upstream evaluates %s %v, the test expects %s %v", name, got.Level, stageNames(got.OmitStages), level, expOmit)
		}
		out = append(out, checkerCase{Name: name, Line: in.line(call), RequestName: reqName, Rules: names, Request: req, Policy: pj, ExpectLevel: level, ExpectOmitStages: expOmit})
		return true, nil
	}
	for _, fn := range []string{"TestChecker", "TestCheckerPolicyOmitStages"} {
		f, ok := in.funcs[fn]
		if !ok {
			return nil, fmt.Errorf("%s: %s not found", rel, fn)
		}
		top = fn
		if err := in.run(f.Body.List, map[string]value{}); err != nil {
			return nil, fmt.Errorf("%s %s: %w", rel, fn, err)
		}
	}
	return out, nil
}

// ---------- validation_test.go ----------

func validationCases(modDir string) ([]validationCase, error) {
	const rel = "pkg/apis/audit/validation/validation_test.go"
	in, err := newInterp(modDir, rel)
	if err != nil {
		return nil, err
	}
	var out []validationCase
	// `if errs := ValidatePolicy(&policy); len(errs) != 0 { t.Errorf(...) }` inside a range:
	// `!= 0` reports an error when invalid → the cases are expected valid; `== 0` the reverse.
	in.onIf = func(in *interp, s *ast.IfStmt, env map[string]value) (bool, error) {
		as, ok := s.Init.(*ast.AssignStmt)
		if !ok || len(as.Rhs) != 1 {
			return false, nil
		}
		call, ok := as.Rhs[0].(*ast.CallExpr)
		if !ok || exprString(call.Fun) != "ValidatePolicy" {
			return false, nil
		}
		cond, ok := s.Cond.(*ast.BinaryExpr)
		if !ok || (cond.Op != token.NEQ && cond.Op != token.EQL) {
			return true, fmt.Errorf("line %d: unexpected condition on ValidatePolicy", in.line(s))
		}
		expectValid := cond.Op == token.NEQ
		pv, err := in.eval(call.Args[0], env)
		if err != nil {
			return true, err
		}
		var p audit.Policy
		if err := toStruct(pv, &p); err != nil {
			return true, err
		}
		pj, err := v1JSON(&p)
		if err != nil {
			return true, err
		}
		name := fmt.Sprintf("TestValidatePolicy:%s %s[%s]", env["$rangeLine"], env["$rangeOver"], env["$index"])
		errs := validation.ValidatePolicy(&p)
		msgs := []string{}
		for _, e := range errs {
			msgs = append(msgs, e.Error())
		}
		if (len(errs) == 0) != expectValid {
			return true, fmt.Errorf("extraction error at %s: upstream ValidatePolicy gives %v, the test expects valid=%v", name, msgs, expectValid)
		}
		line, _ := strconv.Atoi(fmt.Sprint(env["$rangeLine"]))
		out = append(out, validationCase{Name: name, Line: line, Policy: pj, ExpectValid: expectValid, UpstreamErrors: msgs})
		return true, nil
	}
	f, ok := in.funcs["TestValidatePolicy"]
	if !ok {
		return nil, fmt.Errorf("%s: TestValidatePolicy not found", rel)
	}
	if err := in.run(f.Body.List, map[string]value{}); err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	return out, nil
}

func main() {
	info, err := exec.Command("go", "list", "-m", "-json", module).Output()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go list -m %s: %v\n", module, err)
		os.Exit(1)
	}
	var m struct{ Version, Dir string }
	if err := json.Unmarshal(info, &m); err != nil || m.Dir == "" {
		fmt.Fprintf(os.Stderr, "%s: no module directory (%v)\n", module, err)
		os.Exit(1)
	}
	o := output{Module: module, Version: m.Version, Dir: m.Dir, NotExtracted: []string{
		"pkg/audit/policy/checker_test.go TestUnionStages: tests the unexported unionStages directly; the union is exercised by every checker case with policy and rule omitStages",
		"pkg/audit/policy/checker_test.go TestOmitManagedFields: the harness does not model omitManagedFields (it changes what an event contains, not whether or at which level it is logged)",
	}}
	if o.Checker, err = checkerCases(m.Dir); err == nil {
		o.Validation, err = validationCases(m.Dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(o); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
