package deploy_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsreactor/wsreactor/internal/testkit"
)

// selfSignedPEM writes a certificate for 127.0.0.1 and its key, in one
// PEM file as HAProxy's crt wants them.
func selfSignedPEM(t testing.TB) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "wss.pem")
	b := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})...)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// haproxyEnv is the environment without any WSLB_* variable of the
// caller's, plus vars.
func haproxyEnv(vars ...string) []string {
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "WSLB_") {
			env = append(env, e)
		}
	}
	return append(env, vars...)
}

// haproxyMetric reads one value from HAProxy's Prometheus exporter.
func haproxyMetric(stats, name string) (float64, error) {
	resp, err := http.Get("http://" + stats + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == name {
			return strconv.ParseFloat(f[1], 64)
		}
	}
	return 0, fmt.Errorf("%s not on %s/metrics", name, stats)
}

// TestHAProxyStartsUnderDescriptorLimit: the shipped haproxy.cfg, with
// WSLB_MAXCONN unset, starts under an open-file limit of 20,000 (prlimit)
// with a maxconn HAProxy derived from that limit, and relays a wss://
// client to a wsreactor instance; with WSLB_MAXCONN=100000 (the old
// default) it refuses to start and says why.
func TestHAProxyStartsUnderDescriptorLimit(t *testing.T) {
	haproxy := needTool(t, "haproxy", "haproxy")
	prlimit := needTool(t, "prlimit", "util-linux")
	cfg := deployPath(t, "haproxy", "haproxy.cfg")
	cert := selfSignedPEM(t)
	const limit = 20000

	srv := startServer(t, testkit.Binary(t), nil, "-proxy-protocol", "-addr", "127.0.0.1:0", "-admin-addr", freeAddr(t))
	bind, stats := freeAddr(t), freeAddr(t)
	_, adminPort, _ := net.SplitHostPort(srv.Admin)
	cmd := exec.Command(prlimit, "--nofile="+strconv.Itoa(limit), haproxy, "-f", cfg)
	cmd.Env = haproxyEnv("WSLB_CERT="+cert, "WSLB_BIND="+bind, "WSLB_STATS="+stats,
		"WSLB_SERVER1="+srv.WS, "WSLB_ADMIN1="+adminPort, "WSLB_CHECK_INTER=200ms")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})

	var maxconn, maxFDs float64
	eventually(t, "HAProxy's exporter answers", func() error {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("haproxy under a limit of %d exited: %v\n%s", limit, err, out.String())
		default:
		}
		var err error
		if maxconn, err = haproxyMetric(stats, "haproxy_process_max_connections"); err != nil {
			return err
		}
		maxFDs, err = haproxyMetric(stats, "haproxy_process_max_fds")
		return err
	})
	if maxFDs != limit || maxconn < limit/2*0.9 || 2*maxconn > limit {
		t.Errorf("under a limit of %d: maxconn %v, max fds %v; want maxconn near half the limit and two descriptors each within it", limit, maxconn, maxFDs)
	}
	t.Logf("HAProxy under nofile %d: maxconn %v", limit, maxconn)

	// A wss:// client through HAProxy (PROXY v2 to the instance) echoes,
	// once the readiness checks put the instance in rotation.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	eventually(t, "a wss:// echo through HAProxy", func() error {
		c, _, err := websocket.Dial(ctx, "wss://"+bind+"/", &websocket.DialOptions{HTTPClient: client})
		if err != nil {
			return err
		}
		defer c.CloseNow()
		if err := c.Write(ctx, websocket.MessageText, []byte("through haproxy")); err != nil {
			return err
		}
		_, got, err := c.Read(ctx)
		if err == nil && string(got) != "through haproxy" {
			err = fmt.Errorf("echo %q", got)
		}
		return err
	})

	// The old default, set explicitly: HAProxy stops at once and names the
	// limit.
	bad := exec.Command(prlimit, "--nofile="+strconv.Itoa(limit), haproxy, "-f", cfg)
	bad.Env = haproxyEnv("WSLB_CERT="+cert, "WSLB_BIND="+freeAddr(t), "WSLB_STATS="+freeAddr(t), "WSLB_MAXCONN=100000")
	badOut, err := bad.CombinedOutput()
	if err == nil || !strings.Contains(string(badOut), "limit is 20000") {
		t.Errorf("WSLB_MAXCONN=100000 under a limit of %d: %v\n%s\nwant a refusal naming the limit", limit, err, badOut)
	}
}
