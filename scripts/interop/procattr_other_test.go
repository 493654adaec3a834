//go:build !linux

package interop

import "syscall"

// dieWithParent has no portable equivalent outside Linux; t.Cleanup still
// stops every process when the test ends normally.
func dieWithParent() *syscall.SysProcAttr { return nil }
