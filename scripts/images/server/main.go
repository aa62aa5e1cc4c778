// Command server is the test workload of the PCI harness: it listens on every
// port given with --listen and answers any HTTP request with 200 and a JSON
// line naming the host, port and transport, so a probe can tell "allowed"
// (200) from "blocked" (timeout/refused) from "broken" (anything else).
//
// Each port speaks plain HTTP and HTTPS at once: the first byte of a
// connection decides (0x16 is a TLS handshake record). Clients that connect
// and send nothing (nc -z) are simply accepted and closed. The TLS certificate
// comes from --tls-cert/--tls-key, or is a self-signed ECDSA key made at
// start. Standard library only; writes nothing to disk, so it runs with a
// read-only root filesystem as any uid.
package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var ports, sans listFlag
	flag.Var(&ports, "listen", "port (or host:port) to listen on; repeat for several")
	flag.Var(&sans, "san", "extra DNS name or IP for the self-signed certificate; repeatable")
	certFile := flag.String("tls-cert", "", "PEM certificate for HTTPS (default: self-signed at start)")
	keyFile := flag.String("tls-key", "", "PEM private key matching --tls-cert")
	flag.Parse()
	if len(ports) == 0 {
		fmt.Fprintln(os.Stderr, "server: give at least one --listen PORT")
		os.Exit(2)
	}
	hostname, _ := os.Hostname()
	cert, err := loadOrMakeCert(*certFile, *keyFile, hostname, sans)
	if err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(2)
	}
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	var servers []*http.Server
	var wg sync.WaitGroup
	for _, p := range ports {
		addr := p
		if !strings.Contains(addr, ":") {
			addr = ":" + addr
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			fmt.Fprintf(os.Stderr, "server: listen %s: %v\n", addr, err)
			os.Exit(1)
		}
		_, portText, _ := net.SplitHostPort(ln.Addr().String())
		port, _ := strconv.Atoi(portText)
		srv := &http.Server{Handler: handler(hostname, port), ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, srv)
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := srv.Serve(newSniffListener(ln, tlsConfig))
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Printf("port %d: %v", port, err)
			}
		}()
		log.Printf("listening on %s (http and https)", ln.Addr())
	}
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range servers {
		_ = s.Shutdown(shutdown)
	}
	wg.Wait()
}

type reply struct {
	Hostname string `json:"hostname"`
	Port     int    `json:"port"`
	TLS      bool   `json:"tls"`
	Remote   string `json:"remote"`
	Method   string `json:"method"`
	Path     string `json:"path"`
}

func handler(hostname string, port int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_ = json.NewEncoder(w).Encode(reply{
			Hostname: hostname, Port: port, TLS: r.TLS != nil, Remote: r.RemoteAddr, Method: r.Method, Path: r.URL.Path,
		})
	})
}

// sniffListener hands out each connection as plain or TLS depending on its
// first byte. The peek runs in a goroutine per connection so a silent client
// never holds up Accept.
type sniffListener struct {
	net.Listener
	conns chan net.Conn
	errs  chan error
}

func newSniffListener(ln net.Listener, cfg *tls.Config) net.Listener {
	s := &sniffListener{Listener: ln, conns: make(chan net.Conn), errs: make(chan error, 1)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				s.errs <- err
				return
			}
			go s.classify(c, cfg)
		}
	}()
	return s
}

func (s *sniffListener) classify(c net.Conn, cfg *tls.Config) {
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	first, err := br.Peek(1)
	if err != nil { // connected and sent nothing (port scan, nc -z): accepted, now closed
		_ = c.Close()
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	var conn net.Conn = &peekedConn{Conn: c, r: br}
	if first[0] == 0x16 { // TLS handshake record
		conn = tls.Server(conn, cfg)
	}
	s.conns <- conn
}

func (s *sniffListener) Accept() (net.Conn, error) {
	select {
	case c := <-s.conns:
		return c, nil
	case err := <-s.errs:
		return nil, err
	}
}

type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (p *peekedConn) Read(b []byte) (int, error) { return p.r.Read(b) }

func loadOrMakeCert(certFile, keyFile, hostname string, sans []string) (tls.Certificate, error) {
	if certFile != "" || keyFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return cert, fmt.Errorf("load --tls-cert/--tls-key: %w", err)
		}
		return cert, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: hostname},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{hostname, "localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	for _, san := range sans {
		if ip := net.ParseIP(san); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, san)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
