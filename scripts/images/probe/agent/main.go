// Command pci-probe is the probe agent of the PCI harness's live attack
// suites. It lives in the probe image (/usr/local/bin/pci-probe) and has two
// modes:
//
//	pci-probe serve --tcp PORT[,PORT...] --udp PORT[,PORT...]
//	pci-probe probe --timeout-ms N --targets <base64 JSON array | ->
//
// serve makes a probe pod a target that says who it is: every TCP port
// answers plain HTTP and HTTPS (the first byte decides: 0x16 is a TLS
// handshake record) with 200 and a JSON identity line, and a raw line that is
// not HTTP (e.g. "PCI-PROBE c17") with the same JSON line; every UDP port
// answers each datagram with a JSON identity line echoing the request.
//
// probe is one `kubectl exec` per source pod: it probes all targets at once
// (one goroutine each, bounded), each with its own deadline, and prints one
// JSON result line per target as soon as it completes, then a "done" line.
// DNS probes build the RFC 1035 query themselves and talk to the given server
// over the given transport.
//
// Standard library only; writes nothing to disk (read-only root filesystem,
// any uid).
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// version is printed by `pci-probe version`; bump it when the output format changes.
var version = "pci-probe 1.0.0"

const usage = `usage:
  pci-probe serve --tcp PORT[,PORT...] [--udp PORT[,PORT...]] [--hostname NAME]
  pci-probe probe --timeout-ms N --targets <base64 of a JSON array, or - for stdin> [--parallel 64]
  pci-probe version
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return runServe(args[1:], stderr)
	case "probe":
		return runProbe(args[1:], stdin, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "%s (%s)\n", version, runtime.Version())
		return 0
	case "help", "--help", "-help", "-h":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "pci-probe: unknown mode %q\n%s", args[0], usage)
		return 2
	}
}

// ---------------------------------------------------------------- serve

// listFlag collects repeated and comma-separated values.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

func runServe(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var tcpPorts, udpPorts listFlag
	fs.Var(&tcpPorts, "tcp", "TCP port(s) (or host:port) answering raw lines, HTTP and HTTPS; comma-separated or repeated")
	fs.Var(&udpPorts, "udp", "UDP port(s) (or host:port) answering every datagram; comma-separated or repeated")
	hostname := fs.String("hostname", "", "name to report (default: the kernel hostname, i.e. the pod name)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || len(tcpPorts)+len(udpPorts) == 0 {
		if fs.NArg() > 0 {
			fmt.Fprintf(stderr, "pci-probe serve: unexpected argument %q\n", fs.Arg(0))
		} else {
			fmt.Fprintln(stderr, "pci-probe serve: give at least one --tcp or --udp port")
		}
		fmt.Fprint(stderr, usage)
		return 2
	}
	for _, p := range append(append([]string{}, tcpPorts...), udpPorts...) {
		if _, err := listenAddr(p); err != nil {
			fmt.Fprintf(stderr, "pci-probe serve: %v\n", err)
			return 2
		}
	}
	name := *hostname
	if name == "" {
		name, _ = os.Hostname()
	}
	cert, err := selfSignedCert(name)
	if err != nil {
		fmt.Fprintln(stderr, "pci-probe serve: certificate:", err)
		return 1
	}
	s := newServer(name, cert, log.New(stderr, "pci-probe: ", log.LstdFlags))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	for _, p := range tcpPorts {
		if _, err := s.listenTCP(p); err != nil {
			fmt.Fprintf(stderr, "pci-probe serve: %v\n", err)
			s.close()
			return 1
		}
	}
	for _, p := range udpPorts {
		if _, err := s.listenUDP(p); err != nil {
			fmt.Fprintf(stderr, "pci-probe serve: %v\n", err)
			s.close()
			return 1
		}
	}
	<-ctx.Done()
	s.close()
	return 0
}

// listenAddr turns "8080" into ":8080" and checks host:port forms.
func listenAddr(p string) (string, error) {
	addr := p
	if !strings.Contains(addr, ":") {
		addr = ":" + addr
	}
	_, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("bad port %q: %v", p, err)
	}
	if n, err := strconv.Atoi(portText); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("bad port %q: not a number in 0-65535", p)
	}
	return addr, nil
}

type tcpIdentity struct {
	Hostname string `json:"hostname"`
	Port     int    `json:"port"`
	Proto    string `json:"proto"`
	TLS      bool   `json:"tls"`
	Remote   string `json:"remote"`
}

type udpIdentity struct {
	Hostname string `json:"hostname"`
	Port     int    `json:"port"`
	Proto    string `json:"proto"`
	Remote   string `json:"remote"`
	Echo     string `json:"echo"`
}

type server struct {
	hostname string
	tls      *tls.Config
	// firstLineTimeout: how long a client may stay silent (or send half a
	// line) before the connection is closed.
	firstLineTimeout time.Duration
	log              *log.Logger

	mu        sync.Mutex
	listeners []io.Closer
	https     []*http.Server
	done      chan struct{}
	closeOnce sync.Once
}

func newServer(hostname string, cert tls.Certificate, logger *log.Logger) *server {
	return &server{
		hostname:         hostname,
		tls:              &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}},
		firstLineTimeout: 5 * time.Second,
		log:              logger,
		done:             make(chan struct{}),
	}
}

func portOf(a net.Addr) int {
	_, p, _ := net.SplitHostPort(a.String())
	n, _ := strconv.Atoi(p)
	return n
}

type tlsKey struct{}

// listenTCP binds one TCP port and serves raw identity lines, HTTP and HTTPS on it.
func (s *server) listenTCP(p string) (net.Addr, error) {
	addr, err := listenAddr(p)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on tcp port %s: %v", p, err)
	}
	port := portOf(ln.Addr())
	cl := &chanListener{addr: ln.Addr(), conns: make(chan net.Conn), done: s.done}
	srv := &http.Server{
		Handler:           s.httpHandler(port),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       30 * time.Second,
		ErrorLog:          s.log,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if sc, ok := c.(*sniffedConn); ok {
				return context.WithValue(ctx, tlsKey{}, sc.tls)
			}
			return ctx
		},
	}
	s.mu.Lock()
	s.listeners = append(s.listeners, ln)
	s.https = append(s.https, srv)
	s.mu.Unlock()
	go func() { _ = srv.Serve(cl) }()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				time.Sleep(50 * time.Millisecond) // e.g. EMFILE: back off, keep serving
				continue
			}
			go s.handleTCP(c, port, cl)
		}
	}()
	s.log.Printf("listening on tcp %s (raw line, http, https) as %q", ln.Addr(), s.hostname)
	return ln.Addr(), nil
}

var httpRequestLine = regexp.MustCompile(`^[A-Z]+ \S+ HTTP/1\.[01]\r?\n$`)

// handleTCP sniffs a connection: TLS or not by its first byte, then HTTP or a
// raw line by its first line. HTTP goes to the http.Server; a raw line gets
// the JSON identity line back and the connection is closed; silence is
// accepted and closed after firstLineTimeout.
func (s *server) handleTCP(c net.Conn, port int, cl *chanListener) {
	_ = c.SetReadDeadline(time.Now().Add(s.firstLineTimeout))
	br := bufio.NewReaderSize(c, 4096)
	first, err := br.Peek(1)
	if err != nil { // connected and sent nothing (nc -z, port scan)
		_ = c.Close()
		return
	}
	var conn net.Conn = c
	isTLS := first[0] == 0x16
	if isTLS {
		tc := tls.Server(&peekedConn{Conn: c, r: br}, s.tls)
		if err := tc.Handshake(); err != nil {
			_ = c.Close()
			return
		}
		conn = tc
		br = bufio.NewReaderSize(tc, 4096)
	}
	line, err := br.ReadSlice('\n')
	if err != nil && len(line) == 0 {
		_ = conn.Close()
		return
	}
	line = append([]byte(nil), line...)
	if err == nil && httpRequestLine.Match(line) {
		_ = c.SetReadDeadline(time.Time{})
		sc := &sniffedConn{Conn: conn, r: io.MultiReader(bytes.NewReader(line), br), tls: isTLS}
		select {
		case cl.conns <- sc:
		case <-s.done:
			_ = conn.Close()
		}
		return
	}
	// Raw line (or a partial line when the client stopped sending): identity reply.
	_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	out, _ := json.Marshal(tcpIdentity{Hostname: s.hostname, Port: port, Proto: "tcp", TLS: isTLS, Remote: c.RemoteAddr().String()})
	_, _ = conn.Write(append(out, '\n'))
	_ = conn.Close()
}

func (s *server) httpHandler(port int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		isTLS, _ := r.Context().Value(tlsKey{}).(bool)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_ = json.NewEncoder(w).Encode(tcpIdentity{Hostname: s.hostname, Port: port, Proto: "tcp", TLS: isTLS, Remote: r.RemoteAddr})
	})
}

// listenUDP binds one UDP port and answers every datagram.
func (s *server) listenUDP(p string) (net.Addr, error) {
	addr, err := listenAddr(p)
	if err != nil {
		return nil, err
	}
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on udp port %s: %v", p, err)
	}
	port := portOf(pc.LocalAddr())
	s.mu.Lock()
	s.listeners = append(s.listeners, pc)
	s.mu.Unlock()
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue // e.g. a queued ICMP error: keep serving
			}
			echo := buf[:min(n, 64)]
			out, _ := json.Marshal(udpIdentity{Hostname: s.hostname, Port: port, Proto: "udp", Remote: from.String(), Echo: string(echo)})
			_, _ = pc.WriteTo(append(out, '\n'), from)
		}
	}()
	s.log.Printf("listening on udp %s as %q", pc.LocalAddr(), s.hostname)
	return pc.LocalAddr(), nil
}

// close stops every listener; open HTTP connections get up to 2 s to finish.
func (s *server) close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, l := range s.listeners {
			_ = l.Close()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		for _, h := range s.https {
			if err := h.Shutdown(ctx); err != nil {
				_ = h.Close()
			}
		}
	})
}

// chanListener hands the http.Server the connections handleTCP found to be HTTP.
type chanListener struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}
func (l *chanListener) Close() error   { return nil }
func (l *chanListener) Addr() net.Addr { return l.addr }

type peekedConn struct {
	net.Conn
	r io.Reader
}

func (p *peekedConn) Read(b []byte) (int, error) { return p.r.Read(b) }

// sniffedConn replays the first line already read; tls says whether the
// embedded conn is a *tls.Conn (http.Server cannot see through the wrapper).
type sniffedConn struct {
	net.Conn
	r   io.Reader
	tls bool
}

func (c *sniffedConn) Read(b []byte) (int, error) { return c.r.Read(b) }

func selfSignedCert(hostname string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	names := []string{"localhost"}
	if hostname != "" {
		names = append([]string{hostname}, names...)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: hostname},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     names,
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// ---------------------------------------------------------------- probe

// Outcomes (see the package README for how the harness maps them).
const (
	outAnswered      = "connected-answered"
	outSilent        = "connected-silent"
	outTimeout       = "timeout"
	outRefused       = "refused"
	outUnreachable   = "unreachable"
	outResolveFailed = "resolve-failed"
	outError         = "error"
)

// Stages: where a probe stopped.
const (
	stageResolve = "resolve"
	stageConnect = "connect"
	stageReply   = "reply"
	stageDone    = "done"
)

const replyLimit = 300

type target struct {
	ID    string `json:"id"`
	Proto string `json:"proto"`
	Host  string `json:"host"`
	Port  int    `json:"port"`
	Query string `json:"query,omitempty"`
}

type result struct {
	ID         string    `json:"id"`
	Stage      string    `json:"stage"`
	Outcome    string    `json:"outcome"`
	Error      string    `json:"error"`
	AnsweredBy string    `json:"answeredBy"`
	Reply      string    `json:"reply"`
	Addr       string    `json:"addr"`
	MS         int64     `json:"ms"`
	HTTPStatus *int      `json:"httpStatus,omitempty"`
	Rcode      *int      `json:"rcode,omitempty"`
	Answers    *[]string `json:"answers,omitempty"`
}

type doneLine struct {
	Done  bool  `json:"done"`
	Count int   `json:"count"`
	MS    int64 `json:"ms"`
}

// dialFunc is net.Dialer.DialContext; tests inject their own.
type dialFunc func(ctx context.Context, network, address string) (net.Conn, error)

type prober struct {
	dial     dialFunc
	resolver *net.Resolver
}

func newProber() *prober {
	d := &net.Dialer{}
	return &prober{dial: d.DialContext, resolver: net.DefaultResolver}
}

func runProbe(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	timeoutMS := fs.Int("timeout-ms", 2000, "deadline of each target (resolve + connect + reply), milliseconds")
	targetsArg := fs.String("targets", "", "base64 of a JSON array of targets, or - to read the JSON from stdin")
	parallel := fs.Int("parallel", 64, "targets probed at once")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "pci-probe probe: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q", fs.Arg(0))
	}
	if *timeoutMS <= 0 {
		return fail("--timeout-ms must be > 0")
	}
	if *parallel <= 0 {
		return fail("--parallel must be > 0")
	}
	if *targetsArg == "" {
		return fail("--targets is required (base64 of a JSON array, or - for stdin)")
	}
	var raw []byte
	if *targetsArg == "-" {
		b, err := io.ReadAll(stdin)
		if err != nil {
			return fail("read stdin: %v", err)
		}
		raw = b
	} else {
		b, err := decodeBase64(*targetsArg)
		if err != nil {
			return fail("--targets is not base64: %v", err)
		}
		raw = b
	}
	targets, err := parseTargets(raw)
	if err != nil {
		return fail("%v", err)
	}
	newProber().probeAll(context.Background(), targets, time.Duration(*timeoutMS)*time.Millisecond, *parallel, stdout)
	return 0
}

func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	var firstErr error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err == nil {
			return b, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

func parseTargets(raw []byte) ([]target, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '[' {
		return nil, errors.New("targets must be a JSON array")
	}
	var targets []target
	if err := json.Unmarshal(raw, &targets); err != nil {
		return nil, fmt.Errorf("targets JSON: %v", err)
	}
	return targets, nil
}

// probeAll probes every target concurrently (at most parallel at once), writes
// one JSON line per target as it completes, then the done line.
func (p *prober) probeAll(ctx context.Context, targets []target, timeout time.Duration, parallel int, out io.Writer) {
	start := time.Now()
	var mu sync.Mutex
	emit := func(v any) {
		b, _ := json.Marshal(v)
		mu.Lock()
		defer mu.Unlock()
		_, _ = out.Write(append(b, '\n'))
	}
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for _, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			emit(p.probe(ctx, t, timeout))
		}()
	}
	wg.Wait()
	emit(doneLine{Done: true, Count: len(targets), MS: time.Since(start).Milliseconds()})
}

func validate(t target) error {
	switch t.Proto {
	case "tcp", "http", "https", "udp":
	case "dns-udp", "dns-tcp":
		if t.Query == "" {
			return fmt.Errorf("%s target needs a query name", t.Proto)
		}
		if _, err := encodeName(t.Query); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown proto %q (tcp, http, https, udp, dns-udp, dns-tcp)", t.Proto)
	}
	if strings.TrimSpace(t.Host) == "" {
		return errors.New("empty host")
	}
	if t.Port < 1 || t.Port > 65535 {
		return fmt.Errorf("port %d out of range", t.Port)
	}
	return nil
}

// probe runs one target under its own deadline. Never panics on bad input:
// a bad target is outcome "error" at stage "resolve".
func (p *prober) probe(parent context.Context, t target, timeout time.Duration) (r result) {
	start := time.Now()
	r = result{ID: t.ID}
	defer func() { r.MS = time.Since(start).Milliseconds() }()
	if err := validate(t); err != nil {
		r.Stage, r.Outcome, r.Error = stageResolve, outError, "bad target: "+err.Error()
		return r
	}
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	ip, err := p.resolve(ctx, t.Host)
	if err != nil {
		r.Stage, r.Outcome, r.Error = stageResolve, outResolveFailed, err.Error()
		return r
	}
	r.Addr = ip.String()
	hostport := net.JoinHostPort(ip.String(), strconv.Itoa(t.Port))
	switch t.Proto {
	case "tcp":
		p.probeTCP(ctx, t, hostport, &r)
	case "http", "https":
		p.probeHTTP(ctx, t, hostport, &r)
	case "udp":
		p.probeUDP(ctx, t, hostport, &r)
	case "dns-udp":
		p.probeDNSUDP(ctx, t, hostport, &r)
	case "dns-tcp":
		p.probeDNSTCP(ctx, t, hostport, &r)
	}
	return r
}

// resolve returns the IP to dial: the host itself when it is an IP, else the
// first IPv4 address of the lookup (the first IPv6 one when there is none).
// Errors start with "NXDOMAIN: ", "lookup timeout: " or "lookup failed: ".
func (p *prober) resolve(ctx context.Context, host string) (net.IP, error) {
	h := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if ip := net.ParseIP(h); ip != nil {
		return ip, nil
	}
	addrs, err := p.resolver.LookupIPAddr(ctx, host)
	if err == nil && len(addrs) == 0 {
		err = &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	if err != nil {
		var de *net.DNSError
		switch {
		case errors.As(err, &de) && de.IsNotFound:
			return nil, fmt.Errorf("NXDOMAIN: %v", err)
		case errors.As(err, &de) && de.IsTimeout, errors.Is(err, context.DeadlineExceeded), isTimeout(err):
			return nil, fmt.Errorf("lookup timeout: %v", err)
		default:
			return nil, fmt.Errorf("lookup failed: %v", err)
		}
	}
	for _, a := range addrs {
		if v4 := a.IP.To4(); v4 != nil {
			return v4, nil
		}
	}
	return addrs[0].IP, nil
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// classify maps a dial/read error to an outcome: timeout, refused,
// unreachable or error.
func classify(err error) string {
	switch {
	case err == nil:
		return outError
	case errors.Is(err, syscall.ECONNREFUSED):
		return outRefused
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return outUnreachable
	case isTimeout(err):
		return outTimeout
	}
	msg := strings.ToLower(err.Error())
	switch {
	case strings.Contains(msg, "connection refused"):
		return outRefused
	case strings.Contains(msg, "no route to host"), strings.Contains(msg, "network is unreachable"), strings.Contains(msg, "host is unreachable"):
		return outUnreachable
	case strings.Contains(msg, "i/o timeout"), strings.Contains(msg, "deadline exceeded"):
		return outTimeout
	}
	return outError
}

// connectFailed records a failed dial.
func connectFailed(r *result, err error) {
	r.Stage, r.Outcome, r.Error = stageConnect, classify(err), err.Error()
}

func silent(r *result, why string) {
	r.Stage, r.Outcome, r.Error = stageReply, outSilent, why
}

func answered(r *result) {
	r.Stage, r.Outcome, r.Error = stageDone, outAnswered, ""
}

func clip(b []byte) string {
	if len(b) > replyLimit {
		b = b[:replyLimit]
	}
	return string(b)
}

// identityOf returns the hostname of a JSON identity reply.
func identityOf(b []byte) (string, bool) {
	var id struct {
		Hostname *string `json:"hostname"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(b), &id); err != nil || id.Hostname == nil {
		return "", false
	}
	return *id.Hostname, true
}

// connect dials and bounds every read and write by the target's deadline; on
// failure it records why (connectFailed) and returns nil.
func (p *prober) connect(ctx context.Context, network, hostport string, r *result) net.Conn {
	conn, err := p.dial(ctx, network, hostport)
	if err != nil {
		connectFailed(r, err)
		return nil
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	return conn
}

func (p *prober) probeTCP(ctx context.Context, t target, hostport string, r *result) {
	conn := p.connect(ctx, "tcp", hostport, r)
	if conn == nil {
		return
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("PCI-PROBE " + t.ID + "\n")); err != nil {
		silent(r, "write: "+err.Error())
		return
	}
	br := bufio.NewReaderSize(conn, 4096)
	line, err := br.ReadSlice('\n')
	r.Reply = clip(bytes.TrimRight(line, "\r\n"))
	if name, ok := identityOf(line); ok {
		answered(r)
		r.AnsweredBy = name
		return
	}
	switch {
	case err != nil && len(line) == 0:
		silent(r, err.Error())
	case err != nil:
		silent(r, fmt.Sprintf("reply is not a pci-probe identity line (%v)", err))
	default:
		silent(r, "reply is not a pci-probe identity line")
	}
}

func (p *prober) probeHTTP(ctx context.Context, t target, hostport string, r *result) {
	var connected atomic.Bool
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			c, err := p.dial(ctx, "tcp", hostport)
			if err == nil {
				connected.Store(true)
			}
			return c, err
		},
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // probes test reachability, not identity
		TLSNextProto:      map[string]func(string, *tls.Conn) http.RoundTripper{},
		DisableKeepAlives: true,
		ForceAttemptHTTP2: false,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	url := fmt.Sprintf("%s://%s/", t.Proto, net.JoinHostPort(strings.Trim(t.Host, "[]"), strconv.Itoa(t.Port)))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		r.Stage, r.Outcome, r.Error = stageConnect, outError, err.Error()
		return
	}
	req.Header.Set("User-Agent", "pci-probe/"+t.ID)
	req.Close = true
	resp, err := client.Do(req)
	if err != nil {
		if connected.Load() {
			silent(r, err.Error())
		} else {
			connectFailed(r, err)
		}
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	answered(r)
	status := resp.StatusCode
	r.HTTPStatus = &status
	r.Reply = clip(bytes.TrimRight(body, "\r\n"))
	if name, ok := identityOf(body); ok {
		r.AnsweredBy = name
	}
}

func (p *prober) probeUDP(ctx context.Context, t target, hostport string, r *result) {
	conn := p.connect(ctx, "udp", hostport, r)
	if conn == nil {
		return
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("PCI-PROBE " + t.ID + "\n")); err != nil {
		connectFailed(r, err)
		return
	}
	buf := make([]byte, 65536)
	n, err := conn.Read(buf)
	if err != nil {
		udpReadFailed(r, err)
		return
	}
	answered(r)
	r.Reply = clip(bytes.TrimRight(buf[:n], "\r\n"))
	if name, ok := identityOf(buf[:n]); ok {
		r.AnsweredBy = name
	}
}

// udpReadFailed: ICMP errors (refused/unreachable) count as stage connect,
// a reply timeout as stage reply.
func udpReadFailed(r *result, err error) {
	r.Error = err.Error()
	switch o := classify(err); o {
	case outRefused, outUnreachable:
		r.Stage, r.Outcome = stageConnect, o
	case outTimeout:
		r.Stage, r.Outcome = stageReply, outTimeout
	default:
		r.Stage, r.Outcome = stageReply, outError
	}
}

func (p *prober) probeDNSUDP(ctx context.Context, t target, hostport string, r *result) {
	id, query, err := dnsQuery(t.Query)
	if err != nil {
		r.Stage, r.Outcome, r.Error = stageConnect, outError, err.Error()
		return
	}
	conn := p.connect(ctx, "udp", hostport, r)
	if conn == nil {
		return
	}
	defer conn.Close()
	if _, err := conn.Write(query); err != nil {
		connectFailed(r, err)
		return
	}
	buf := make([]byte, 65536)
	var junk error
	for {
		n, err := conn.Read(buf)
		if err != nil {
			if junk != nil && isTimeout(err) {
				r.Stage, r.Outcome, r.Error = stageReply, outError, "no valid DNS reply before the deadline; last datagram: "+junk.Error()
				return
			}
			udpReadFailed(r, err)
			return
		}
		reply, perr := parseDNSReply(buf[:n], id)
		if perr != nil {
			junk = perr // not our answer (or not DNS): keep waiting
			r.Reply = clip(bytes.TrimRight(buf[:n], "\r\n"))
			continue
		}
		dnsAnswered(r, reply)
		return
	}
}

func (p *prober) probeDNSTCP(ctx context.Context, t target, hostport string, r *result) {
	id, query, err := dnsQuery(t.Query)
	if err != nil {
		r.Stage, r.Outcome, r.Error = stageConnect, outError, err.Error()
		return
	}
	conn := p.connect(ctx, "tcp", hostport, r)
	if conn == nil {
		return
	}
	defer conn.Close()
	msg := binary.BigEndian.AppendUint16(nil, uint16(len(query)))
	if _, err := conn.Write(append(msg, query...)); err != nil {
		silent(r, "write: "+err.Error())
		return
	}
	var lenBuf [2]byte
	if _, err := io.ReadFull(conn, lenBuf[:]); err != nil {
		silent(r, err.Error())
		return
	}
	resp := make([]byte, binary.BigEndian.Uint16(lenBuf[:]))
	if _, err := io.ReadFull(conn, resp); err != nil {
		silent(r, err.Error())
		return
	}
	reply, err := parseDNSReply(resp, id)
	if err != nil {
		silent(r, err.Error())
		return
	}
	dnsAnswered(r, reply)
}

func dnsAnswered(r *result, reply dnsReply) {
	answered(r)
	rcode := reply.rcode
	answers := reply.answers
	if answers == nil {
		answers = []string{}
	}
	r.Rcode, r.Answers = &rcode, &answers
	r.Reply = clip([]byte(reply.summary()))
	if reply.parseErr != nil {
		r.Error = "answer section: " + reply.parseErr.Error()
	}
}

// ---------------------------------------------------------------- DNS (RFC 1035)

const (
	dnsTypeA   = 1
	dnsClassIN = 1
)

var rcodeNames = map[int]string{0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}

// encodeName encodes a domain name as RFC 1035 labels (the name is taken as
// absolute: no search domains).
func encodeName(name string) ([]byte, error) {
	n := strings.TrimSuffix(name, ".")
	if n == "" {
		return []byte{0}, nil
	}
	var out []byte
	for _, label := range strings.Split(n, ".") {
		if len(label) == 0 || len(label) > 63 {
			return nil, fmt.Errorf("bad DNS name %q: label %q", name, label)
		}
		out = append(out, byte(len(label)))
		out = append(out, label...)
	}
	out = append(out, 0)
	if len(out) > 255 {
		return nil, fmt.Errorf("bad DNS name %q: longer than 255 bytes", name)
	}
	return out, nil
}

// dnsQuery builds a standard query (RD set) for one A/IN question.
func dnsQuery(name string) (uint16, []byte, error) {
	qname, err := encodeName(name)
	if err != nil {
		return 0, nil, err
	}
	var idb [2]byte
	_, _ = rand.Read(idb[:])
	id := binary.BigEndian.Uint16(idb[:])
	msg := make([]byte, 12, 12+len(qname)+4)
	binary.BigEndian.PutUint16(msg[0:], id)
	binary.BigEndian.PutUint16(msg[2:], 0x0100) // RD
	binary.BigEndian.PutUint16(msg[4:], 1)      // QDCOUNT
	msg = append(msg, qname...)
	msg = binary.BigEndian.AppendUint16(msg, dnsTypeA)
	msg = binary.BigEndian.AppendUint16(msg, dnsClassIN)
	return id, msg, nil
}

type dnsReply struct {
	rcode     int
	truncated bool
	answers   []string
	parseErr  error
}

func (d dnsReply) summary() string {
	name := rcodeNames[d.rcode]
	if name == "" {
		name = "RCODE" + strconv.Itoa(d.rcode)
	}
	s := fmt.Sprintf("rcode=%d (%s) answers=[%s]", d.rcode, name, strings.Join(d.answers, ","))
	if d.truncated {
		s += " truncated"
	}
	return s
}

// parseDNSReply checks the header (a response to query id) and collects the
// A/IN records of the answer section. An error means "not a DNS response to
// our query"; a malformed answer section is reported in parseErr.
func parseDNSReply(msg []byte, id uint16) (dnsReply, error) {
	if len(msg) < 12 {
		return dnsReply{}, fmt.Errorf("reply of %d bytes is shorter than a DNS header", len(msg))
	}
	if got := binary.BigEndian.Uint16(msg[0:]); got != id {
		return dnsReply{}, fmt.Errorf("reply id %d does not match query id %d", got, id)
	}
	flags := binary.BigEndian.Uint16(msg[2:])
	if flags&0x8000 == 0 {
		return dnsReply{}, errors.New("reply has QR=0 (a query, not a response)")
	}
	d := dnsReply{rcode: int(flags & 0x000f), truncated: flags&0x0200 != 0}
	qd := int(binary.BigEndian.Uint16(msg[4:]))
	an := int(binary.BigEndian.Uint16(msg[6:]))
	off := 12
	var err error
	for range qd {
		if off, err = skipName(msg, off); err != nil {
			d.parseErr = err
			return d, nil
		}
		off += 4
	}
	for range an {
		if off, err = skipName(msg, off); err != nil {
			d.parseErr = err
			return d, nil
		}
		if off+10 > len(msg) {
			d.parseErr = errors.New("truncated resource record")
			return d, nil
		}
		typ := binary.BigEndian.Uint16(msg[off:])
		class := binary.BigEndian.Uint16(msg[off+2:])
		rdlen := int(binary.BigEndian.Uint16(msg[off+8:]))
		off += 10
		if off+rdlen > len(msg) {
			d.parseErr = errors.New("truncated rdata")
			return d, nil
		}
		if typ == dnsTypeA && class == dnsClassIN && rdlen == 4 {
			d.answers = append(d.answers, net.IP(msg[off:off+4]).String())
		}
		off += rdlen
	}
	return d, nil
}

// skipName returns the offset after the (possibly compressed) name at off.
func skipName(msg []byte, off int) (int, error) {
	for {
		if off >= len(msg) {
			return 0, errors.New("name runs past the message")
		}
		l := int(msg[off])
		switch {
		case l == 0:
			return off + 1, nil
		case l&0xc0 == 0xc0:
			if off+2 > len(msg) {
				return 0, errors.New("truncated name pointer")
			}
			return off + 2, nil
		case l&0xc0 != 0:
			return 0, fmt.Errorf("bad label type 0x%x", l)
		default:
			off += 1 + l
		}
	}
}
