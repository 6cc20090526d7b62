// Package osprobe reads what the operating system allows this process:
// the open-file limit (RLIMIT_NOFILE), which it can raise to the hard
// limit, and the memory of the machine or of the process's cgroup. The
// server derives its default connection cap and memory budget from them
// (package service); the command raises the limit at start.
//
// Every reader degrades instead of failing: a value that cannot be read is
// reported as 0 (memory) or as the largest value (open files), and the
// caller falls back to a documented default.
package osprobe
