package interop

import "syscall"

// dieWithParent makes a child process receive SIGKILL if the test binary
// dies before its cleanups run, so no daemon outlives a crashed test.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
