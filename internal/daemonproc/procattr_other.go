//go:build !linux

package daemonproc

import "syscall"

// DieWithParent has no portable equivalent outside Linux, where it
// returns nil: callers still stop every child when they end normally.
func DieWithParent() *syscall.SysProcAttr { return nil }
