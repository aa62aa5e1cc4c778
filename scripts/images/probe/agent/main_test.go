package main

// Every test talks to 127.0.0.1 only. Connect timeouts and unreachable
// routes are exercised through an injected dial function, never by sending
// traffic to a real blackhole address.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMain doubles as the real program when PCI_PROBE_TEST_ARGS is set, so
// CLI tests run `main` in a child process (exit codes, signals).
func TestMain(m *testing.M) {
	if v := os.Getenv("PCI_PROBE_TEST_ARGS"); v != "" {
		var args []string
		if err := json.Unmarshal([]byte(v), &args); err != nil {
			fmt.Fprintln(os.Stderr, "bad PCI_PROBE_TEST_ARGS:", err)
			os.Exit(99)
		}
		os.Exit(run(args, os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

const testHost = "test-host"

// startServe runs serve mode in-process on one TCP and one UDP port of 127.0.0.1.
func startServe(t *testing.T) (tcpPort, udpPort int, s *server) {
	t.Helper()
	cert, err := selfSignedCert(testHost)
	if err != nil {
		t.Fatal(err)
	}
	s = newServer(testHost, cert, log.New(io.Discard, "", 0))
	s.firstLineTimeout = 300 * time.Millisecond
	ta, err := s.listenTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ua, err := s.listenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	return portOf(ta), portOf(ua), s
}

func localHTTPClient() *http.Client {
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			Proxy:           nil,
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		},
	}
}

func decodeIdentity(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("reply %q is not JSON: %v", b, err)
	}
	if m["hostname"] != testHost {
		t.Fatalf("reply %q: hostname %v, want %s", b, m["hostname"], testHost)
	}
	return m
}

func TestServeTCPRawLine(t *testing.T) {
	port, _, _ := startServe(t)
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write([]byte("PCI-PROBE c1\n")); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadBytes('\n')
	if err != nil {
		t.Fatalf("read: %v (got %q)", err, line)
	}
	m := decodeIdentity(t, line)
	if m["proto"] != "tcp" || m["tls"] != false || m["port"] != float64(port) || !strings.HasPrefix(m["remote"].(string), "127.0.0.1:") {
		t.Fatalf("raw identity %s", line)
	}
	// ... and then the server closes.
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("after the identity line: %v, want EOF", err)
	}
}

func TestServeHTTPAndHTTPS(t *testing.T) {
	port, _, _ := startServe(t)
	client := localHTTPClient()
	for _, scheme := range []string{"http", "https"} {
		resp, err := client.Get(fmt.Sprintf("%s://127.0.0.1:%d/anything", scheme, port))
		if err != nil {
			t.Fatalf("%s: %v", scheme, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.HasSuffix(body, []byte("\n")) {
			t.Fatalf("%s: status %d body %q", scheme, resp.StatusCode, body)
		}
		m := decodeIdentity(t, body)
		if m["tls"] != (scheme == "https") || m["proto"] != "tcp" || m["port"] != float64(port) {
			t.Fatalf("%s: %s", scheme, body)
		}
	}
}

func TestServeTLSRawLine(t *testing.T) {
	port, _, _ := startServe(t)
	c, err := tls.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	_, _ = c.Write([]byte("PCI-PROBE tls\n"))
	line, err := bufio.NewReader(c).ReadBytes('\n')
	if err != nil {
		t.Fatal(err)
	}
	if m := decodeIdentity(t, line); m["tls"] != true {
		t.Fatalf("%s", line)
	}
}

func TestServeSilentClientIsClosed(t *testing.T) {
	port, _, _ := startServe(t) // firstLineTimeout 300 ms
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	start := time.Now()
	n, err := c.Read(make([]byte, 16))
	if n != 0 || err != io.EOF {
		t.Fatalf("silent client: n=%d err=%v, want EOF", n, err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatalf("closed after %v", time.Since(start))
	}
}

func TestServeUDP(t *testing.T) {
	_, port, _ := startServe(t)
	c, err := net.Dial("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	req := "PCI-PROBE u1 " + strings.Repeat("x", 100)
	_, _ = c.Write([]byte(req))
	buf := make([]byte, 2048)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	m := decodeIdentity(t, buf[:n])
	if m["proto"] != "udp" || m["echo"] != req[:64] || m["port"] != float64(port) {
		t.Fatalf("udp identity %s", buf[:n])
	}
}

// ---------------------------------------------------------------- fake DNS

type fakeDNS struct {
	udp     net.PacketConn
	tcp     net.Listener
	records map[string][]string // lower-case FQDN with trailing dot -> IPv4s
}

func startFakeDNS(t *testing.T) *fakeDNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeDNS{udp: pc, tcp: ln, records: map[string][]string{
		"ok.test.":    {"127.0.0.1"},
		"multi.test.": {"10.1.2.3", "10.1.2.4"},
	}}
	t.Cleanup(func() { pc.Close(); ln.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := f.answer(buf[:n]); resp != nil {
				_, _ = pc.WriteTo(resp, from)
			}
		}
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				var l [2]byte
				if _, err := io.ReadFull(c, l[:]); err != nil {
					return
				}
				q := make([]byte, binary.BigEndian.Uint16(l[:]))
				if _, err := io.ReadFull(c, q); err != nil {
					return
				}
				resp := f.answer(q)
				_, _ = c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(resp))), resp...))
			}()
		}
	}()
	return f
}

// answer: A records for known names (answers use a compression pointer to
// the question), NOERROR/empty for other types of known names, NXDOMAIN else.
func (f *fakeDNS) answer(q []byte) []byte {
	if len(q) < 12 {
		return nil
	}
	off := 12
	var labels []string
	for off < len(q) && q[off] != 0 {
		l := int(q[off])
		if off+1+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[off+1:off+1+l]))
		off += 1 + l
	}
	off++
	if off+4 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[off:])
	question := q[12 : off+4]
	name := strings.ToLower(strings.Join(labels, ".")) + "."
	ips, known := f.records[name]
	rcode := uint16(0)
	if !known {
		rcode = 3
	}
	var answers []string
	if qtype == dnsTypeA {
		answers = ips
	}
	resp := append([]byte(nil), q[0:2]...)
	resp = binary.BigEndian.AppendUint16(resp, 0x8000|0x0100|0x0080|rcode) // QR RD RA
	resp = binary.BigEndian.AppendUint16(resp, 1)
	resp = binary.BigEndian.AppendUint16(resp, uint16(len(answers)))
	resp = binary.BigEndian.AppendUint16(resp, 0)
	resp = binary.BigEndian.AppendUint16(resp, 0)
	resp = append(resp, question...)
	for _, ip := range answers {
		resp = append(resp, 0xc0, 12) // pointer to the question name
		resp = binary.BigEndian.AppendUint16(resp, dnsTypeA)
		resp = binary.BigEndian.AppendUint16(resp, dnsClassIN)
		resp = binary.BigEndian.AppendUint32(resp, 30)
		resp = binary.BigEndian.AppendUint16(resp, 4)
		resp = append(resp, net.ParseIP(ip).To4()...)
	}
	return resp
}

func (f *fakeDNS) udpPort() int { return portOf(f.udp.LocalAddr()) }
func (f *fakeDNS) tcpPort() int { return portOf(f.tcp.Addr()) }

// resolverVia sends every lookup to one UDP DNS server on 127.0.0.1.
func resolverVia(addr string) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
}

// testProber dials for real (127.0.0.1 only) and resolves through the fake DNS.
func testProber(t *testing.T, dns *fakeDNS) *prober {
	t.Helper()
	p := newProber()
	if dns != nil {
		p.resolver = resolverVia(dns.udp.LocalAddr().String())
	} else {
		p.resolver = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
			return nil, errors.New("test: no DNS configured")
		}}
	}
	return p
}

func silentUDP(t *testing.T) int {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() { // read and drop everything
		buf := make([]byte, 4096)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	return portOf(pc.LocalAddr())
}

// silentTCP accepts connections and never writes; it closes them at test end.
func silentTCP(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() { _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	return portOf(ln.Addr())
}

func closedPort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := portOf(pc.LocalAddr())
		pc.Close()
		return p
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := portOf(ln.Addr())
	ln.Close()
	return p
}

func expect(t *testing.T, r result, outcome, stage string) {
	t.Helper()
	if r.Outcome != outcome || r.Stage != stage {
		b, _ := json.Marshal(r)
		t.Fatalf("%s: got outcome %s stage %s, want %s/%s: %s", r.ID, r.Outcome, r.Stage, outcome, stage, b)
	}
}

// ---------------------------------------------------------------- probe outcomes

func TestProbeAnsweredAgainstServe(t *testing.T) {
	tcpPort, udpPort, _ := startServe(t)
	dns := startFakeDNS(t)
	p := testProber(t, dns)
	for _, tg := range []target{
		{ID: "tcp", Proto: "tcp", Host: "127.0.0.1", Port: tcpPort},
		{ID: "http", Proto: "http", Host: "127.0.0.1", Port: tcpPort},
		{ID: "https", Proto: "https", Host: "127.0.0.1", Port: tcpPort},
		{ID: "udp", Proto: "udp", Host: "127.0.0.1", Port: udpPort},
		{ID: "byname", Proto: "http", Host: "ok.test", Port: tcpPort},
	} {
		r := p.probe(context.Background(), tg, 3*time.Second)
		expect(t, r, outAnswered, stageDone)
		if r.AnsweredBy != testHost || r.Addr != "127.0.0.1" || r.Error != "" || r.Reply == "" {
			t.Fatalf("%s: %+v", tg.ID, r)
		}
		if (tg.Proto == "http" || tg.Proto == "https") && (r.HTTPStatus == nil || *r.HTTPStatus != 200) {
			t.Fatalf("%s: httpStatus %v", tg.ID, r.HTTPStatus)
		}
		if tg.Proto == "https" && !strings.Contains(r.Reply, `"tls":true`) {
			t.Fatalf("https reply %q", r.Reply)
		}
	}
}

func TestProbeHTTPAnyStatusIsAnswered(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusFound) // must not be followed
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	r := testProber(t, nil).probe(context.Background(), target{ID: "h", Proto: "http", Host: "127.0.0.1", Port: portOf(ln.Addr())}, 2*time.Second)
	expect(t, r, outAnswered, stageDone)
	if r.HTTPStatus == nil || *r.HTTPStatus != 302 || r.AnsweredBy != "" {
		t.Fatalf("%+v", r)
	}
}

func TestProbeRefused(t *testing.T) {
	p := testProber(t, nil)
	tp, up := closedPort(t, "tcp"), closedPort(t, "udp")
	for _, tg := range []target{
		{ID: "tcp", Proto: "tcp", Host: "127.0.0.1", Port: tp},
		{ID: "http", Proto: "http", Host: "127.0.0.1", Port: tp},
		{ID: "https", Proto: "https", Host: "127.0.0.1", Port: tp},
		{ID: "dns-tcp", Proto: "dns-tcp", Host: "127.0.0.1", Port: tp, Query: "ok.test"},
		{ID: "udp", Proto: "udp", Host: "127.0.0.1", Port: up}, // ICMP port unreachable
		{ID: "dns-udp", Proto: "dns-udp", Host: "127.0.0.1", Port: up, Query: "ok.test"},
	} {
		r := p.probe(context.Background(), tg, 2*time.Second)
		expect(t, r, outRefused, stageConnect)
		if !strings.Contains(r.Error, "refused") {
			t.Fatalf("%s: error %q", tg.ID, r.Error)
		}
	}
}

func TestProbeUDPTimeout(t *testing.T) {
	p := testProber(t, nil)
	port := silentUDP(t)
	for _, tg := range []target{
		{ID: "udp", Proto: "udp", Host: "127.0.0.1", Port: port},
		{ID: "dns", Proto: "dns-udp", Host: "127.0.0.1", Port: port, Query: "ok.test"},
	} {
		start := time.Now()
		r := p.probe(context.Background(), tg, 300*time.Millisecond)
		expect(t, r, outTimeout, stageReply)
		if d := time.Since(start); d < 250*time.Millisecond || d > 2*time.Second {
			t.Fatalf("%s: took %v", tg.ID, d)
		}
	}
}

func TestProbeConnectedSilent(t *testing.T) {
	p := testProber(t, nil)
	port := silentTCP(t)
	for _, proto := range []string{"tcp", "http", "https", "dns-tcp"} {
		r := p.probe(context.Background(), target{ID: proto, Proto: proto, Host: "127.0.0.1", Port: port, Query: "ok.test"}, 300*time.Millisecond)
		expect(t, r, outSilent, stageReply)
		if r.Error == "" || r.Addr != "127.0.0.1" {
			t.Fatalf("%s: %+v", proto, r)
		}
	}
}

func TestProbeTCPNonIdentityReplyIsSilent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("SSH-2.0-banner\r\n"))
			c.Close()
		}
	}()
	r := testProber(t, nil).probe(context.Background(), target{ID: "b", Proto: "tcp", Host: "127.0.0.1", Port: portOf(ln.Addr())}, 2*time.Second)
	expect(t, r, outSilent, stageReply)
	if r.Reply != "SSH-2.0-banner" {
		t.Fatalf("%+v", r)
	}
}

func TestProbeDNS(t *testing.T) {
	dns := startFakeDNS(t)
	p := testProber(t, nil)
	for _, c := range []struct {
		proto, query string
		port, rcode  int
		answers      []string
	}{
		{"dns-udp", "multi.test", dns.udpPort(), 0, []string{"10.1.2.3", "10.1.2.4"}},
		{"dns-tcp", "multi.test.", dns.tcpPort(), 0, []string{"10.1.2.3", "10.1.2.4"}},
		{"dns-udp", "nope.invalid", dns.udpPort(), 3, []string{}},
		{"dns-tcp", "nope.invalid", dns.tcpPort(), 3, []string{}},
	} {
		r := p.probe(context.Background(), target{ID: c.proto + "/" + c.query, Proto: c.proto, Host: "127.0.0.1", Port: c.port, Query: c.query}, 2*time.Second)
		expect(t, r, outAnswered, stageDone)
		if r.Rcode == nil || *r.Rcode != c.rcode || r.Answers == nil || strings.Join(*r.Answers, ",") != strings.Join(c.answers, ",") {
			b, _ := json.Marshal(r)
			t.Fatalf("%s %s: %s", c.proto, c.query, b)
		}
		b, _ := json.Marshal(r)
		if !bytes.Contains(b, []byte(`"rcode":`)) || !bytes.Contains(b, []byte(`"answers":[`)) {
			t.Fatalf("rcode/answers not serialised: %s", b)
		}
	}
}

func TestProbeResolveFailed(t *testing.T) {
	dns := startFakeDNS(t)
	p := testProber(t, dns)
	r := p.probe(context.Background(), target{ID: "nx", Proto: "tcp", Host: "nothing.here.invalid", Port: 80}, 2*time.Second)
	expect(t, r, outResolveFailed, stageResolve)
	if !strings.HasPrefix(r.Error, "NXDOMAIN: ") || r.Addr != "" {
		t.Fatalf("%+v", r)
	}
	// A DNS server that never answers: lookup timeout.
	p.resolver = resolverVia(net.JoinHostPort("127.0.0.1", strconv.Itoa(silentUDP(t))))
	r = p.probe(context.Background(), target{ID: "slow", Proto: "tcp", Host: "slow.test", Port: 80}, 300*time.Millisecond)
	expect(t, r, outResolveFailed, stageResolve)
	if !strings.HasPrefix(r.Error, "lookup timeout: ") {
		t.Fatalf("%+v", r)
	}
}

// blockingDial behaves like a dial into a dropping firewall: nothing until the deadline.
func blockingDial(ctx context.Context, network, address string) (net.Conn, error) {
	<-ctx.Done()
	return nil, &net.OpError{Op: "dial", Net: network, Err: os.ErrDeadlineExceeded}
}

func errDial(errno syscall.Errno) dialFunc {
	return func(_ context.Context, network, address string) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("connect", errno)}
	}
}

func TestProbeConnectTimeoutAndUnreachableInjected(t *testing.T) {
	p := testProber(t, nil)
	for _, c := range []struct {
		dial    dialFunc
		outcome string
	}{
		{blockingDial, outTimeout},
		{errDial(syscall.EHOSTUNREACH), outUnreachable},
		{errDial(syscall.ENETUNREACH), outUnreachable},
		{errDial(syscall.ECONNREFUSED), outRefused},
		{errDial(syscall.EPERM), outError},
	} {
		p.dial = c.dial
		for _, proto := range []string{"tcp", "http", "https", "dns-tcp", "udp"} {
			start := time.Now()
			r := p.probe(context.Background(), target{ID: proto, Proto: proto, Host: "127.0.0.1", Port: 9, Query: "x.test"}, 200*time.Millisecond)
			expect(t, r, c.outcome, stageConnect)
			if time.Since(start) > 2*time.Second {
				t.Fatalf("%s took %v", proto, time.Since(start))
			}
		}
	}
}

func TestClassify(t *testing.T) {
	op := func(err error) error { return &net.OpError{Op: "dial", Net: "tcp", Err: err} }
	for _, c := range []struct {
		err  error
		want string
	}{
		{op(os.NewSyscallError("connect", syscall.ECONNREFUSED)), outRefused},
		{op(os.NewSyscallError("connect", syscall.EHOSTUNREACH)), outUnreachable},
		{op(os.NewSyscallError("connect", syscall.ENETUNREACH)), outUnreachable},
		{op(os.NewSyscallError("read", syscall.ECONNREFUSED)), outRefused},
		{op(os.ErrDeadlineExceeded), outTimeout},
		{context.DeadlineExceeded, outTimeout},
		{fmt.Errorf("Get \"http://x/\": %w", op(os.ErrDeadlineExceeded)), outTimeout},
		{errors.New("dial tcp 10.0.0.1:80: connect: no route to host"), outUnreachable},
		{errors.New("something else"), outError},
		{op(os.NewSyscallError("connect", syscall.EPERM)), outError},
	} {
		if got := classify(c.err); got != c.want {
			t.Errorf("classify(%v) = %s, want %s", c.err, got, c.want)
		}
	}
}

func TestBadTargets(t *testing.T) {
	p := testProber(t, nil)
	for _, tg := range []target{
		{ID: "p", Proto: "sctp", Host: "127.0.0.1", Port: 1},
		{ID: "port", Proto: "tcp", Host: "127.0.0.1", Port: 0},
		{ID: "host", Proto: "tcp", Host: "", Port: 1},
		{ID: "q", Proto: "dns-udp", Host: "127.0.0.1", Port: 53},
		{ID: "label", Proto: "dns-tcp", Host: "127.0.0.1", Port: 53, Query: "a..b"},
	} {
		r := p.probe(context.Background(), tg, time.Second)
		expect(t, r, outError, stageResolve)
		if !strings.HasPrefix(r.Error, "bad target: ") {
			t.Fatalf("%+v", r)
		}
	}
}

func TestProbeAllConcurrentAndLineFormat(t *testing.T) {
	tcpPort, _, _ := startServe(t)
	silent := silentUDP(t)
	var targets []target
	for i := range 40 { // 40 × 400 ms sequentially would be 16 s
		targets = append(targets, target{ID: fmt.Sprintf("s%d", i), Proto: "udp", Host: "127.0.0.1", Port: silent})
	}
	targets = append(targets, target{ID: "ok", Proto: "tcp", Host: "127.0.0.1", Port: tcpPort})
	var out bytes.Buffer
	start := time.Now()
	testProber(t, nil).probeAll(context.Background(), targets, 400*time.Millisecond, 64, &out)
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("not concurrent: %v", d)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != len(targets)+1 {
		t.Fatalf("%d lines for %d targets:\n%s", len(lines), len(targets), out.String())
	}
	if !strings.Contains(lines[0], `"id":"ok"`) {
		t.Fatalf("the answered target should finish first, got %s", lines[0])
	}
	seen := map[string]bool{}
	for _, l := range lines[:len(lines)-1] {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		for _, k := range []string{"id", "stage", "outcome", "error", "answeredBy", "reply", "addr", "ms"} {
			if _, ok := m[k]; !ok {
				t.Fatalf("line %s lacks %s", l, k)
			}
		}
		seen[m["id"].(string)] = true
	}
	if len(seen) != len(targets) {
		t.Fatalf("ids seen %d", len(seen))
	}
	var done doneLine
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &done); err != nil || !done.Done || done.Count != len(targets) {
		t.Fatalf("done line %q", lines[len(lines)-1])
	}
}

func TestParallelBound(t *testing.T) {
	port := silentUDP(t)
	targets := []target{}
	for i := range 4 {
		targets = append(targets, target{ID: strconv.Itoa(i), Proto: "udp", Host: "127.0.0.1", Port: port})
	}
	start := time.Now()
	testProber(t, nil).probeAll(context.Background(), targets, 200*time.Millisecond, 2, io.Discard)
	if d := time.Since(start); d < 380*time.Millisecond {
		t.Fatalf("4 targets with 2 at once finished in %v, want >= 2 rounds", d)
	}
}

func TestDNSQueryEncoding(t *testing.T) {
	id, q, err := dnsQuery("kubernetes.default.svc.cluster.local.")
	if err != nil {
		t.Fatal(err)
	}
	if binary.BigEndian.Uint16(q) != id || binary.BigEndian.Uint16(q[2:]) != 0x0100 || binary.BigEndian.Uint16(q[4:]) != 1 {
		t.Fatalf("header % x", q[:12])
	}
	want := "\x0akubernetes\x07default\x03svc\x07cluster\x05local\x00\x00\x01\x00\x01"
	if string(q[12:]) != want {
		t.Fatalf("question %q", q[12:])
	}
	if _, err := parseDNSReply(q, id); err == nil {
		t.Fatal("a query (QR=0) must not parse as a reply")
	}
	if _, err := parseDNSReply(q[:5], id); err == nil {
		t.Fatal("short reply accepted")
	}
}

// ---------------------------------------------------------------- CLI (child process)

func child(t *testing.T, stdin string, args ...string) *exec.Cmd {
	t.Helper()
	b, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PCI_PROBE_TEST_ARGS="+string(b))
	cmd.Stdin = strings.NewReader(stdin)
	return cmd
}

func runChild(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := child(t, stdin, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), o.String(), e.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, o.String(), e.String()
}

func TestCLIExitCodes(t *testing.T) {
	tcpPort, _, _ := startServe(t)
	targets := fmt.Sprintf(`[{"id":"a","proto":"tcp","host":"127.0.0.1","port":%d},{"id":"b","proto":"http","host":"127.0.0.1","port":%d}]`, tcpPort, tcpPort)
	cases := []struct {
		name, stdin string
		args        []string
		code        int
		out, err    string
	}{
		{"version", "", []string{"version"}, 0, "pci-probe ", ""},
		{"no mode", "", nil, 2, "", "usage"},
		{"serve without ports", "", []string{"serve"}, 2, "", "usage"},
		{"serve bad port", "", []string{"serve", "--tcp", "99999"}, 2, "", "99999"},
		{"probe bad base64", "", []string{"probe", "--targets", "%%%"}, 2, "", "base64"},
		{"probe not an array", "", []string{"probe", "--targets", base64.StdEncoding.EncodeToString([]byte(`{"id":"x"}`))}, 2, "", "JSON array"},
		{"probe no targets", "", []string{"probe"}, 2, "", "--targets"},
		{"probe bad timeout", "", []string{"probe", "--timeout-ms", "0", "--targets", "-"}, 2, "", "timeout"},
		{"probe base64", "", []string{"probe", "--timeout-ms", "2000", "--targets", base64.StdEncoding.EncodeToString([]byte(targets))}, 0, `"done":true,"count":2`, ""},
		{"probe stdin", targets, []string{"probe", "--targets", "-"}, 0, `"answeredBy":"test-host"`, ""},
		{"probe empty", "[]", []string{"probe", "--targets", "-"}, 0, `{"done":true,"count":0,`, ""},
	}
	for _, c := range cases {
		code, out, errText := runChild(t, c.stdin, c.args...)
		if code != c.code || !strings.Contains(out, c.out) || !strings.Contains(errText, c.err) {
			t.Errorf("%s: exit %d (want %d)\nstdout: %s\nstderr: %s", c.name, code, c.code, out, errText)
		}
	}
}

func TestCLIServeBindFailureNamesPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := ln.Addr().String()
	code, _, errText := runChild(t, "", "serve", "--tcp", busy)
	if code != 1 || !strings.Contains(errText, "cannot listen on tcp port "+busy) {
		t.Fatalf("exit %d, stderr %q", code, errText)
	}
}

func TestCLIServeStopsOnSIGTERM(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		cmd := child(t, "", "serve", "--tcp", "127.0.0.1:0", "--udp", "127.0.0.1:0,127.0.0.1:0", "--hostname", "child")
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stderr)
		var tcpAddr string
		for n := 0; n < 3 && sc.Scan(); n++ { // one log line per listener
			line := sc.Text()
			if !strings.Contains(line, "listening on") {
				t.Fatalf("log line %q", line)
			}
			if f := strings.Fields(line); strings.Contains(line, "on tcp") {
				for i, w := range f {
					if w == "tcp" {
						tcpAddr = f[i+1]
					}
				}
			}
		}
		// It serves: one raw identity exchange.
		c, err := net.DialTimeout("tcp", tcpAddr, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(3 * time.Second))
		_, _ = c.Write([]byte("PCI-PROBE x\n"))
		line, _ := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if !strings.Contains(line, `"hostname":"child"`) {
			t.Fatalf("identity %q", line)
		}
		go func() { _, _ = io.Copy(io.Discard, stderr) }()
		start := time.Now()
		_ = cmd.Process.Signal(sig)
		waited := make(chan error, 1)
		go func() { waited <- cmd.Wait() }()
		select {
		case err := <-waited:
			if err != nil {
				t.Fatalf("%v: exit %v", sig, err)
			}
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("%v: still running after 5 s", sig)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("%v: took %v to exit", sig, d)
		}
	}
}
