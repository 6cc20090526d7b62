package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/wsreactor/wsreactor/internal/testkit"
)

// The parts of the Kubernetes objects the test checks.
type (
	k8sMeta struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   struct {
			Name   string            `yaml:"name"`
			Labels map[string]string `yaml:"labels"`
		} `yaml:"metadata"`
	}
	k8sProbe struct {
		HTTPGet *struct {
			Path string `yaml:"path"`
			Port any    `yaml:"port"`
		} `yaml:"httpGet"`
		PeriodSeconds    int `yaml:"periodSeconds"`
		FailureThreshold int `yaml:"failureThreshold"`
	}
	k8sContainer struct {
		Name  string `yaml:"name"`
		Image string `yaml:"image"`
		Env   []struct {
			Name  string `yaml:"name"`
			Value string `yaml:"value"`
		} `yaml:"env"`
		Ports []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		} `yaml:"ports"`
		ReadinessProbe *k8sProbe `yaml:"readinessProbe"`
		LivenessProbe  *k8sProbe `yaml:"livenessProbe"`
		Lifecycle      struct {
			PreStop struct {
				Sleep *struct {
					Seconds int `yaml:"seconds"`
				} `yaml:"sleep"`
			} `yaml:"preStop"`
		} `yaml:"lifecycle"`
		Resources struct {
			Requests map[string]string `yaml:"requests"`
			Limits   map[string]string `yaml:"limits"`
		} `yaml:"resources"`
		SecurityContext struct {
			ReadOnlyRootFilesystem bool `yaml:"readOnlyRootFilesystem"`
		} `yaml:"securityContext"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
		} `yaml:"volumeMounts"`
	}
	k8sDeployment struct {
		Spec struct {
			Replicas int `yaml:"replicas"`
			Selector struct {
				MatchLabels map[string]string `yaml:"matchLabels"`
			} `yaml:"selector"`
			Template struct {
				Metadata struct {
					Labels map[string]string `yaml:"labels"`
				} `yaml:"metadata"`
				Spec struct {
					TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
					SecurityContext               struct {
						RunAsNonRoot bool `yaml:"runAsNonRoot"`
						RunAsUser    int  `yaml:"runAsUser"`
					} `yaml:"securityContext"`
					Containers []k8sContainer `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	k8sService struct {
		Spec struct {
			Selector map[string]string `yaml:"selector"`
			Ports    []struct {
				Port       int `yaml:"port"`
				TargetPort any `yaml:"targetPort"`
			} `yaml:"ports"`
		} `yaml:"spec"`
	}
	k8sPDB struct {
		Spec struct {
			MaxUnavailable any `yaml:"maxUnavailable"`
			MinAvailable   any `yaml:"minAvailable"`
			Selector       struct {
				MatchLabels map[string]string `yaml:"matchLabels"`
			} `yaml:"selector"`
		} `yaml:"spec"`
	}
	k8sHPA struct {
		Spec struct {
			ScaleTargetRef struct {
				APIVersion string `yaml:"apiVersion"`
				Kind       string `yaml:"kind"`
				Name       string `yaml:"name"`
			} `yaml:"scaleTargetRef"`
			MinReplicas int `yaml:"minReplicas"`
			MaxReplicas int `yaml:"maxReplicas"`
			Metrics     []struct {
				Type string `yaml:"type"`
				Pods *struct {
					Metric struct {
						Name string `yaml:"name"`
					} `yaml:"metric"`
					Target struct {
						Type         string `yaml:"type"`
						AverageValue string `yaml:"averageValue"`
					} `yaml:"target"`
				} `yaml:"pods"`
			} `yaml:"metrics"`
		} `yaml:"spec"`
	}
)

// k8sDoc is one YAML document of the manifests: its header and its bytes.
type k8sDoc struct {
	k8sMeta
	file string
	node yaml.Node
}

// decode decodes the document into v (fields v lacks are ignored).
func (d *k8sDoc) decode(t testing.TB, v any) {
	t.Helper()
	if err := d.node.Decode(v); err != nil {
		t.Fatalf("%s: %s %s: %v", d.file, d.Kind, d.Metadata.Name, err)
	}
}

// k8sDocs parses every document of every deploy/kubernetes/*.yaml.
func k8sDocs(t testing.TB) []*k8sDoc {
	t.Helper()
	files, err := filepath.Glob(deployPath(t, "kubernetes", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no deploy/kubernetes/*.yaml: %v", err)
	}
	var docs []*k8sDoc
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			d := &k8sDoc{file: filepath.Base(f)}
			if err := dec.Decode(&d.node); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			d.decode(t, &d.k8sMeta)
			docs = append(docs, d)
		}
	}
	return docs
}

// subset reports whether every label of sel is in labels.
func subset(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return len(sel) > 0
}

// portOf is the port number of a listen address such as ":8080".
func portOf(t testing.TB, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	n, perr := strconv.Atoi(p)
	if err != nil || perr != nil {
		t.Fatalf("address %q: no port", addr)
	}
	return n
}

// TestKubernetesManifests: every document of deploy/kubernetes parses and
// has its required fields; the objects refer to each other (selectors,
// ports, the HPA's target); and the Deployment's numbers agree with the
// server's settings it passes in the environment, which a real server
// started with that environment accepts and whose admin server answers the
// probes' paths.
func TestKubernetesManifests(t *testing.T) {
	bin := testkit.Binary(t)
	vars := flagEnv(t, bin)
	byKind := map[string]*k8sDoc{}
	want := map[string]string{"Deployment": "apps/v1", "Service": "v1", "PodDisruptionBudget": "policy/v1",
		"HorizontalPodAutoscaler": "autoscaling/v2"}
	for _, d := range k8sDocs(t) {
		if d.APIVersion == "" || d.Kind == "" || d.Metadata.Name == "" {
			t.Errorf("%s: document without apiVersion, kind or metadata.name: %+v", d.file, d.k8sMeta)
			continue
		}
		if want[d.Kind] != d.APIVersion {
			t.Errorf("%s: %s %s; want one of %v", d.file, d.APIVersion, d.Kind, want)
		}
		if byKind[d.Kind] != nil {
			t.Errorf("%s: a second %s", d.file, d.Kind)
		}
		byKind[d.Kind] = d
	}
	for kind := range want {
		if byKind[kind] == nil {
			t.Fatalf("no %s in deploy/kubernetes", kind)
		}
	}

	var dep k8sDeployment
	byKind["Deployment"].decode(t, &dep)
	pod := dep.Spec.Template
	if !subset(dep.Spec.Selector.MatchLabels, pod.Metadata.Labels) {
		t.Errorf("Deployment selector %v does not select its pods' labels %v", dep.Spec.Selector.MatchLabels, pod.Metadata.Labels)
	}
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("Deployment has %d containers; want wsreactor's", len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]
	env := map[string]string{}
	var names, envList []string
	for _, e := range c.Env {
		env[e.Name] = e.Value
		names = append(names, e.Name)
	}
	checkEnvNames(t, "deployment.yaml", names, vars)
	ports := map[string]int{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if got := portOf(t, env["WSREACTOR_ADDR"]); ports["ws"] != got {
		t.Errorf("containerPort ws = %d; WSREACTOR_ADDR %q listens on %d", ports["ws"], env["WSREACTOR_ADDR"], got)
	}
	adminPort := portOf(t, env["WSREACTOR_ADMIN_ADDR"])
	if host, _, _ := net.SplitHostPort(env["WSREACTOR_ADMIN_ADDR"]); host != "" && host != "0.0.0.0" && host != "::" {
		t.Errorf("WSREACTOR_ADMIN_ADDR %q: the kubelet's probes cannot reach %s", env["WSREACTOR_ADMIN_ADDR"], host)
	}
	if ports["admin"] != adminPort {
		t.Errorf("containerPort admin = %d; WSREACTOR_ADMIN_ADDR listens on %d", ports["admin"], adminPort)
	}
	probePort := func(name string, p *k8sProbe, path string) {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("%s: none, or not httpGet", name)
			return
		}
		port := 0
		switch v := p.HTTPGet.Port.(type) {
		case int:
			port = v
		case string:
			port = ports[v]
		}
		if p.HTTPGet.Path != path || port != adminPort {
			t.Errorf("%s: GET %s on port %v (%d); want %s on the admin port %d", name, p.HTTPGet.Path, p.HTTPGet.Port, port, path, adminPort)
		}
	}
	probePort("readinessProbe", c.ReadinessProbe, "/readyz")
	probePort("livenessProbe", c.LivenessProbe, "/healthz")

	secs := func(name string) int {
		if _, ok := env[name]; !ok && name == "WSREACTOR_CLOSE_SPREAD" {
			return 0 // the flag's default
		}
		d, err := time.ParseDuration(env[name])
		if err != nil || d%time.Second != 0 {
			t.Fatalf("%s=%q: want whole seconds (%v)", name, env[name], err)
		}
		return int(d / time.Second)
	}
	drain, spread, shutdown := secs("WSREACTOR_DRAIN_DELAY"), secs("WSREACTOR_CLOSE_SPREAD"), secs("WSREACTOR_SHUTDOWN_TIMEOUT")
	sleep := c.Lifecycle.PreStop.Sleep
	if sleep == nil || sleep.Seconds != drain {
		t.Errorf("preStop sleep %+v; want %d s, as -drain-delay", sleep, drain)
	} else if g := pod.Spec.TerminationGracePeriodSeconds; g <= sleep.Seconds+drain+spread+shutdown {
		t.Errorf("terminationGracePeriodSeconds %d; want more than preStop %d + drain %d + close spread %d + shutdown %d", g, sleep.Seconds, drain, spread, shutdown)
	}
	if cpu := c.Resources.Limits["cpu"]; env["WSREACTOR_LOOPS"] != cpu {
		t.Errorf("WSREACTOR_LOOPS %q; want an event loop per CPU of the limit (%q)", env["WSREACTOR_LOOPS"], cpu)
	}
	if c.Resources.Limits["memory"] == "" || c.Resources.Requests["memory"] == "" {
		t.Errorf("resources %+v: want memory requests and limits (the server sizes -memory-budget from the cgroup's)", c.Resources)
	}
	// The pod runs as the image's user, read-only, with /tmp writable.
	dockerfile, err := os.ReadFile(deployPath(t, "container", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	user := regexp.MustCompile(`(?m)^USER (\d+)`).FindSubmatch(dockerfile)
	if user == nil || !pod.Spec.SecurityContext.RunAsNonRoot || strconv.Itoa(pod.Spec.SecurityContext.RunAsUser) != string(user[1]) {
		t.Errorf("pod securityContext %+v; want runAsNonRoot and the image's USER %s", pod.Spec.SecurityContext, user)
	}
	tmp := false
	for _, m := range c.VolumeMounts {
		tmp = tmp || m.MountPath == "/tmp"
	}
	if c.SecurityContext.ReadOnlyRootFilesystem && !tmp {
		t.Errorf("read-only root without a /tmp volume: -procs keeps its workers' sockets there")
	}

	var svc k8sService
	byKind["Service"].decode(t, &svc)
	if !subset(svc.Spec.Selector, pod.Metadata.Labels) {
		t.Errorf("Service selector %v does not select the pods %v", svc.Spec.Selector, pod.Metadata.Labels)
	}
	for _, p := range svc.Spec.Ports {
		name, _ := p.TargetPort.(string)
		if ports[name] == 0 || ports[name] == adminPort {
			t.Errorf("Service port %d → %v: want the container's WebSocket port by name (not the admin port)", p.Port, p.TargetPort)
		}
	}
	var pdb k8sPDB
	byKind["PodDisruptionBudget"].decode(t, &pdb)
	if !subset(pdb.Spec.Selector.MatchLabels, pod.Metadata.Labels) || (pdb.Spec.MaxUnavailable == nil) == (pdb.Spec.MinAvailable == nil) {
		t.Errorf("PodDisruptionBudget %+v: want one of maxUnavailable/minAvailable over the Deployment's pods", pdb.Spec)
	}
	var hpa k8sHPA
	byKind["HorizontalPodAutoscaler"].decode(t, &hpa)
	ref := hpa.Spec.ScaleTargetRef
	if ref.Kind != "Deployment" || ref.Name != byKind["Deployment"].Metadata.Name || ref.APIVersion != "apps/v1" {
		t.Errorf("HPA scales %+v; want the Deployment %s", ref, byKind["Deployment"].Metadata.Name)
	}
	if hpa.Spec.MinReplicas < 2 || hpa.Spec.MaxReplicas < hpa.Spec.MinReplicas || len(hpa.Spec.Metrics) != 1 || hpa.Spec.Metrics[0].Pods == nil {
		t.Fatalf("HPA spec %+v: want 2 ≤ min ≤ max and one Pods metric", hpa.Spec)
	}

	// A server with the Deployment's environment (addresses on loopback)
	// starts, answers the probes' paths, and exports the HPA's metric.
	for k, v := range env {
		switch k {
		case "WSREACTOR_ADDR":
			v = "127.0.0.1:0"
		case "WSREACTOR_ADMIN_ADDR":
			v = freeAddr(t)
		}
		envList = append(envList, k+"="+v)
	}
	srv := startServer(t, bin, envList)
	for _, path := range []string{c.ReadinessProbe.HTTPGet.Path, c.LivenessProbe.HTTPGet.Path} {
		resp, err := http.Get("http://" + srv.Admin + path)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s on the admin server: %v %v; want 200", path, resp, err)
		}
		if resp != nil {
			resp.Body.Close()
		}
	}
	m := hpa.Spec.Metrics[0].Pods
	if exported := scrape(t, srv.Admin); !exported[m.Metric.Name] {
		t.Errorf("HPA metric %s: not on /metrics", m.Metric.Name)
	}
	if n, err := strconv.Atoi(m.Target.AverageValue); err != nil || n < 1 || !strings.EqualFold(m.Target.Type, "AverageValue") {
		t.Errorf("HPA target %+v: want an AverageValue of connections per pod", m.Target)
	}
}
