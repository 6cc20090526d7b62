package osprobe

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"strconv"
)

// MemTotal is the machine's physical memory in bytes: MemTotal from
// /proc/meminfo, else (macOS, FreeBSD: no /proc) the kernel's sysctl
// (hw.memsize, hw.physmem); 0 when neither can be read.
func MemTotal() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return sysctlMemTotal()
	}
	return ParseMemTotal(b)
}

// ParseMemTotal finds "MemTotal: N kB" in the text of /proc/meminfo.
func ParseMemTotal(meminfo []byte) int64 {
	sc := bufio.NewScanner(bytes.NewReader(meminfo))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) == 3 && string(f[0]) == "MemTotal:" && string(f[2]) == "kB" {
			kb, err := strconv.ParseInt(string(f[1]), 10, 64)
			if err != nil || kb <= 0 || kb > math.MaxInt64>>10 {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// CgroupMemoryLimit is the memory limit of the process's cgroup (v2
// memory.max, else v1 memory.limit_in_bytes), in bytes; 0 when there is
// none or it cannot be read.
func CgroupMemoryLimit() int64 {
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if b, err := os.ReadFile(path); err == nil {
			return ParseCgroupLimit(b)
		}
	}
	return 0
}

// ParseCgroupLimit reads a cgroup memory limit file: a number of bytes, or
// "max" (v2) or a huge number (v1) for none.
func ParseCgroupLimit(b []byte) int64 {
	n, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
	if err != nil || n <= 0 || n >= 1<<60 {
		return 0
	}
	return n
}

// UsableMemory is the memory this process may use: physical memory, or
// the cgroup's limit when it is lower (a container); 0 when neither can be
// read.
func UsableMemory() int64 {
	total := MemTotal()
	if lim := CgroupMemoryLimit(); lim > 0 && (total == 0 || lim < total) {
		total = lim
	}
	return total
}
