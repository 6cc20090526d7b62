//go:build !darwin && !freebsd

package osprobe

// sysctlMemTotal is 0: here /proc/meminfo is the only source.
func sysctlMemTotal() int64 { return 0 }
