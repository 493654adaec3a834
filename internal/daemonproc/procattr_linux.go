package daemonproc

import "syscall"

// DieWithParent makes a child receive SIGKILL if this process (a test
// binary, the benchmark) dies before it stops the child, so that no
// daemon outlives a crashed run.
func DieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
