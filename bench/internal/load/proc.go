//go:build linux

package load

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat
// (100 on every Linux architecture Go supports).
const clockTicks = 100

// procCPU returns the user+system CPU seconds of process pid ("self" for
// this one) from /proc/PID/stat fields 14 and 15 (proc(5)).
func procCPU(pid string) (float64, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, fmt.Errorf("load: %v", err)
	}
	// The command name (field 2) may hold spaces and parentheses: fields
	// after it start past the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("load: malformed /proc/%s/stat %q", pid, b)
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("load: short /proc/%s/stat %q", pid, b)
	}
	ut, err1 := strconv.ParseUint(string(f[11]), 10, 64)
	st, err2 := strconv.ParseUint(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("load: malformed /proc/%s/stat times %q %q", pid, f[11], f[12])
	}
	return float64(ut+st) / clockTicks, nil
}

// procRSS returns VmRSS of process pid in KiB from /proc/PID/status.
func procRSS(pid string) (int64, error) {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0, fmt.Errorf("load: %v", err)
	}
	for line := range bytes.Lines(b) {
		v, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		v = bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(v), []byte("kB")))
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("load: malformed VmRSS %q in /proc/%s/status", line, pid)
		}
		return n, nil
	}
	return 0, fmt.Errorf("load: no VmRSS in /proc/%s/status", pid)
}

// procSample is one reading of a process's CPU time (and RSS).
type procSample struct {
	cpu float64
	rss int64
	err error
}

func sampleProc(pid string) procSample {
	var s procSample
	s.cpu, s.err = procCPU(pid)
	if s.err == nil {
		s.rss, s.err = procRSS(pid)
	}
	return s
}
