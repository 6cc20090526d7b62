package haproxy

// End to end behind HAProxy: the shipped configuration (deploy/haproxy)
// terminates TLS for wss:// in front of three real wsreactor instances
// with -proxy-protocol; Python's websockets library is the client.

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/csv"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsreactor/wsreactor/internal/testkit"
)

// haproxyNeeds skips (fails under CI) when haproxy or Python's websockets
// is missing.
func haproxyNeeds(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("haproxy"); err != nil {
		testkit.SkipMissing(t, "haproxy not installed: apt-get install haproxy (or run ./test.sh)")
	}
	if err := exec.Command(testkit.Python, "-c", "import websockets").Run(); err != nil {
		testkit.SkipMissing(t, "python3-websockets not installed: apt-get install python3-websockets (or run ./test.sh)")
	}
}

// writeTestCert writes a self-signed ECDSA certificate for localhost and
// 127.0.0.1, valid for an hour: cert.pem (what the client trusts) and
// wss.pem (certificate then key: what HAProxy's "crt" takes).
func writeTestCert(t *testing.T, dir string) (certFile, bundleFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "localhost"},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	certFile, bundleFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "wss.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bundleFile, append(certPEM, keyPEM...), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, bundleFile
}

// freePort returns a loopback address with a port that was free a moment
// ago (HAProxy binds it itself).
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// balancer is HAProxy running the shipped configuration.
type balancer struct {
	cmd   *exec.Cmd
	wss   string               // the wss:// listener's address
	stats string               // the stats listener's address
	log   testkit.LockedBuffer // HAProxy's stdout and stderr
}

// startBalancer lists instances in HAProxy's environment with
// deploy/haproxy/servers.sh, checks the configuration with haproxy -c, and
// runs HAProxy in the foreground in front of them, with readiness checks
// every checkInter.
func startBalancer(t *testing.T, bundle string, checkInter time.Duration, instances []*testkit.Proc) *balancer {
	t.Helper()
	var specs []string
	for _, p := range instances {
		_, adminPort, err := net.SplitHostPort(p.Admin)
		if err != nil {
			t.Fatalf("admin address %q: %v", p.Admin, err)
		}
		specs = append(specs, p.Addr+"/"+adminPort)
	}
	servers, err := exec.Command("../../deploy/haproxy/servers.sh", specs...).Output()
	if err != nil {
		t.Fatalf("servers.sh %q: %v", specs, err)
	}
	b := &balancer{wss: freePort(t), stats: freePort(t)}
	env := append(os.Environ(), strings.Fields(string(servers))...)
	env = append(env, "WSLB_BIND="+b.wss, "WSLB_STATS="+b.stats, "WSLB_CERT="+bundle,
		"WSLB_MAXCONN=2000", "WSLB_CHECK_INTER="+strconv.Itoa(int(checkInter/time.Millisecond))+"ms")
	args := []string{"-f", "../../deploy/haproxy/haproxy.cfg"}

	check := exec.Command("haproxy", append([]string{"-c"}, args...)...)
	check.Env = env
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s", err, out)
	}
	b.cmd = exec.Command("haproxy", append([]string{"-db"}, args...)...)
	b.cmd.Env = env
	b.cmd.Stdout, b.cmd.Stderr = &b.log, &b.log
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.cmd.Process.Kill()
		b.cmd.Wait()
		if t.Failed() {
			t.Logf("haproxy log:\n%s", b.log.String())
		}
	})
	return b
}

// servers reads HAProxy's CSV stats: per server of the wsreactor backend,
// its status (UP, DOWN...) and current sessions.
func (b *balancer) servers() (map[string]string, map[string]int, error) {
	code, body, err := testkit.HTTPGet("http://" + b.stats + "/stats;csv")
	if err != nil || code != 200 {
		return nil, nil, fmt.Errorf("stats: %d %v", code, err)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "# "))).ReadAll()
	if err != nil || len(rows) == 0 {
		return nil, nil, fmt.Errorf("stats csv: %v", err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	status, scur := map[string]string{}, map[string]int{}
	for _, r := range rows[1:] {
		if r[col["pxname"]] == "wsreactor" && strings.HasPrefix(r[col["svname"]], "ws") {
			status[r[col["svname"]]] = r[col["status"]]
			scur[r[col["svname"]]], _ = strconv.Atoi(r[col["scur"]])
		}
	}
	return status, scur, nil
}

// waitUp waits until all n servers are UP in HAProxy's view.
func (b *balancer) waitUp(t *testing.T, n int) {
	t.Helper()
	var status map[string]string
	if !testkit.Eventually(20*time.Second, func() bool {
		status, _, _ = b.servers()
		up := 0
		for _, s := range status {
			if s == "UP" {
				up++
			}
		}
		return up == n
	}) {
		t.Fatalf("HAProxy does not see %d servers UP: %v", n, status)
	}
}

// proxiedLine is how an instance logs a connection whose PROXY header named
// client (the debug line of proxy.go).
func proxiedLine(client string) string { return `msg="proxied connection" client=` + client + " " }

// drainClient is one client of client.py's drain mode.
type drainClient []struct {
	Local    string       `json:"local"`
	Error    string       `json:"error"`
	Sent     [][2]float64 `json:"sent"` // sequence number, unix time
	Echoed   []int        `json:"echoed"`
	Bad      []string     `json:"bad"`
	Close    int          `json:"close"`
	ClosedAt float64      `json:"closed_at"`
	Left     []int        `json:"unanswered"`
}

// TestHAProxyConfig: the shipped configuration passes haproxy -c as it is
// (given a certificate: without one it says so) and with instances listed
// by servers.sh, which refuses malformed instances and more than 16.
func TestHAProxyConfig(t *testing.T) {
	if _, err := exec.LookPath("haproxy"); err != nil {
		testkit.SkipMissing(t, "haproxy not installed: apt-get install haproxy (or run ./test.sh)")
	}
	_, bundle := writeTestCert(t, t.TempDir())
	servers, err := exec.Command("../../deploy/haproxy/servers.sh", "10.0.0.11:8080/9090", "10.0.0.12:8080/10.0.1.12:9191", "[2001:db8::1]:8080/9090").Output()
	if err != nil {
		t.Fatal(err)
	}
	const want = "WSLB_SERVER1=10.0.0.11:8080\nWSLB_ADMIN1=9090\n" +
		"WSLB_SERVER2=10.0.0.12:8080\nWSLB_ADMIN2=9191\nWSLB_CHECKADDR2=10.0.1.12\n" +
		"WSLB_SERVER3=ipv6@2001:db8::1:8080\nWSLB_ADMIN3=9090\n"
	if string(servers) != want {
		t.Errorf("servers.sh wrote\n%s\nwant\n%s", servers, want)
	}
	for _, c := range []struct {
		env  []string
		want string
	}{
		{[]string{"WSLB_CERT=" + bundle}, "Configuration file is valid"},
		{append([]string{"WSLB_CERT=" + bundle}, strings.Fields(string(servers))...), "Configuration file is valid"},
		{nil, "WSLB_CERT is not set"},
	} {
		check := exec.Command("haproxy", "-c", "-f", "../../deploy/haproxy/haproxy.cfg")
		check.Env = append(append(os.Environ(), "WSLB_MAXCONN=2000"), c.env...)
		out, err := check.CombinedOutput()
		if ok := c.want == "Configuration file is valid"; (err == nil) != ok || !strings.Contains(string(out), c.want) {
			t.Errorf("haproxy -c with %q: %v\n%s\nwant %q", c.env, err, out, c.want)
		}
	}
	var seventeen []string
	for i := range 17 {
		seventeen = append(seventeen, "10.0.0."+strconv.Itoa(i+1)+":8080/9090")
	}
	for _, bad := range [][]string{nil, seventeen, {"10.0.0.11:8080"}, {"10.0.0.11:8080/"}, {"10.0.0.11/9090"}, {"10.0.0.11:8080/x"}, {"/9090"}, {"a;b:1/2"}} {
		out, err := exec.Command("../../deploy/haproxy/servers.sh", bad...).Output()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || len(out) != 0 {
			t.Errorf("servers.sh %q = %q, %v; want exit 2 and no output", bad, out, err)
		}
	}
}

// TestHAProxyEndToEnd: HAProxy (deploy/haproxy/haproxy.cfg, checked with
// haproxy -c) terminates TLS in front of three instances with
// -proxy-protocol. A Python websockets client over wss:// (ALPN http/1.1)
// echoes text and 16 MiB byte-exact, and the instance that serves it logs
// the client's own address, not HAProxy's. Then six clients stream
// messages while the busiest instance is drained with SIGTERM: its clients
// get every echo for what they sent before the drain began and close 1001
// (not before -drain-delay), reconnect through HAProxy to the other
// instances, and in the end every message has been echoed exactly once.
func TestHAProxyEndToEnd(t *testing.T) {
	haproxyNeeds(t)
	const (
		drainDelay = 2 * time.Second
		checkInter = 200 * time.Millisecond // fall 2: out of rotation 400ms after /readyz turns 503
	)
	dir := t.TempDir()
	certFile, bundle := writeTestCert(t, dir)
	var instances []*testkit.Proc
	for range 3 {
		instances = append(instances, testkit.StartProc(t, "-proxy-protocol", "-admin-addr", "127.0.0.1:0",
			"-drain-delay", drainDelay.String(), "-shutdown-timeout", "5s", "-loops", "1", "-log-level", "debug"))
	}
	lb := startBalancer(t, bundle, checkInter, instances)
	lb.waitUp(t, len(instances))
	_, port, _ := net.SplitHostPort(lb.wss)
	uri := "wss://localhost:" + port + "/chat"
	script := "testdata/client.py"

	// Echo, and the client's address as the server sees it.
	out, err := exec.Command(testkit.Python, script, "echo", uri, certFile).Output()
	if err != nil {
		t.Fatalf("client.py echo: %v\n%s", err, exitStderr(err))
	}
	var echo struct {
		Local, TLS, Cipher, ALPN, Subprotocol string
		Errors                                []string
	}
	if err := json.Unmarshal(out, &echo); err != nil {
		t.Fatalf("client.py echo printed %q: %v", out, err)
	}
	if len(echo.Errors) > 0 || echo.ALPN != "http/1.1" || (echo.TLS != "TLSv1.3" && echo.TLS != "TLSv1.2") {
		t.Fatalf("echo over wss://: %+v; want no errors, ALPN http/1.1, TLS 1.2 or 1.3", echo)
	}
	t.Logf("echo over wss:// from %s: %s %s, ALPN %s", echo.Local, echo.TLS, echo.Cipher, echo.ALPN)
	if !testkit.Eventually(3*time.Second, func() bool { return servedBy(instances, echo.Local) >= 0 }) {
		t.Fatalf("no instance logged %q: the client's address did not reach the server", proxiedLine(echo.Local))
	}
	if p := instances[servedBy(instances, echo.Local)]; strings.Contains(p.LogText(), "proxy="+echo.Local) {
		t.Fatalf("the client's address is also the proxy's: the server did not tell them apart")
	}

	// HAProxy's connections all carried valid PROXY headers.
	for i, p := range instances {
		_, body, err := testkit.HTTPGet("http://" + p.Admin + "/metrics")
		for _, reason := range []string{"peer_not_allowed", "not_proxy", "invalid_header"} {
			if want := `wsreactor_proxy_refused_total{reason="` + reason + `"} 0` + "\n"; err != nil || !strings.Contains(body, want) {
				t.Errorf("instance %d /metrics: no %q (%v)", i, want, err)
			}
		}
	}

	// Drain the busiest instance while six clients stream through HAProxy.
	cmd := exec.Command(testkit.Python, script, "drain", uri, certFile, "6", "5")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	sc := bufio.NewScanner(stdout)
	sc.Buffer(nil, 16<<20)
	if !sc.Scan() || sc.Text() != "READY" {
		t.Fatalf("client.py drain did not connect its clients: %q %v", sc.Text(), sc.Err())
	}
	time.Sleep(time.Second) // traffic flows on every connection
	_, scur, err := lb.servers()
	if err != nil {
		t.Fatal(err)
	}
	busiest, most := -1, 0
	for i := range instances {
		if n := scur["ws"+strconv.Itoa(i+1)]; n > most {
			busiest, most = i, n
		}
	}
	if busiest < 0 {
		t.Fatalf("HAProxy shows no sessions on any instance: %v", scur)
	}
	drained := instances[busiest]
	sigterm := time.Now()
	if err := drained.SignalAndWait(t, syscall.SIGTERM, drainDelay+20*time.Second); err != nil {
		t.Fatalf("drained instance exited with %v", err)
	}
	t.Logf("drained ws%d (%d sessions) in %v", busiest+1, most, time.Since(sigterm))

	if !sc.Scan() {
		t.Fatalf("client.py drain printed no result: %v", sc.Err())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("client.py drain: %v", err)
	}
	var res struct{ Clients []drainClient }
	if err := json.Unmarshal(sc.Bytes(), &res); err != nil {
		t.Fatalf("client.py drain printed %q: %v", sc.Bytes(), err)
	}
	checkDrain(t, res.Clients, instances, busiest, sigterm, drainDelay, most)
}

// checkDrain checks client.py's drain report; see TestHAProxyEndToEnd.
func checkDrain(t *testing.T, clients []drainClient, instances []*testkit.Proc, drained int, sigterm time.Time,
	drainDelay time.Duration, sessions int) {
	t.Helper()
	// A message sent this long before the instance starts closing (at
	// SIGTERM + -drain-delay) has reached it through HAProxy, however busy
	// the machine.
	const margin = time.Second
	goingAway := float64(sigterm.Add(drainDelay).UnixNano()) / 1e9
	mustHaveEcho := goingAway - margin.Seconds()
	moved, messages, owed := 0, 0, 0
	for i, conns := range clients {
		echoed := map[int]int{}
		sent := map[int]bool{}
		for j, c := range conns {
			if c.Error != "" || len(c.Bad) > 0 {
				t.Fatalf("client %d connection %d: error %q, wrong echoes %q", i, j, c.Error, c.Bad)
			}
			for _, s := range c.Sent {
				sent[int(s[0])] = true
			}
			for _, s := range c.Echoed {
				echoed[s]++
			}
			switch {
			case c.Close == 1001:
				if c.ClosedAt < goingAway-0.1 {
					t.Errorf("client %d got 1001 %.2fs after SIGTERM, before -drain-delay %v", i, c.ClosedAt-float64(sigterm.UnixNano())/1e9, drainDelay)
				}
				got := map[int]bool{}
				for _, s := range c.Echoed {
					got[s] = true
				}
				for _, s := range c.Sent {
					if s[1] < mustHaveEcho {
						owed++
					}
					if s[1] < mustHaveEcho && !got[int(s[0])] {
						t.Errorf("client %d: message %d, sent %.2fs before the drain closed its instance, got no echo before 1001",
							i, int(s[0]), goingAway-s[1])
					}
				}
				if j+1 >= len(conns) {
					t.Fatalf("client %d did not reconnect after 1001", i)
				}
				next := conns[j+1].Local
				if k := servedBy(instances, next); k < 0 || k == drained {
					t.Errorf("client %d reconnected as %s, served by instance %d; want another than the drained %d", i, next, k, drained)
				}
				moved++
			case c.Close != 1000:
				t.Errorf("client %d connection %d ended with %d; want 1000, or 1001 from the drain", i, j, c.Close)
			}
		}
		if last := conns[len(conns)-1]; len(last.Left) > 0 {
			t.Errorf("client %d: messages %v never echoed", i, last.Left)
		}
		messages += len(sent)
		for s := range sent {
			if echoed[s] != 1 {
				t.Errorf("client %d: message %d echoed %d times; want once", i, s, echoed[s])
			}
		}
	}
	t.Logf("%d clients, %d messages each echoed once; %d clients moved after 1001, having had the echoes of all %d messages they sent to the drained instance before it closed",
		len(clients), messages, moved, owed)
	if moved == 0 || moved != sessions {
		t.Errorf("%d clients got 1001 and moved; HAProxy showed %d sessions on the drained instance", moved, sessions)
	}
}

// servedBy returns the index of the instance that logged a proxied
// connection from client, or -1.
func servedBy(instances []*testkit.Proc, client string) int {
	for i, p := range instances {
		if strings.Contains(p.LogText(), proxiedLine(client)) {
			return i
		}
	}
	return -1
}

// exitStderr is the stderr of a failed exec.Command(...).Output().
func exitStderr(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
